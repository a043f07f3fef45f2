namespace NeuralStyle.Weights.Pickle;

/// <summary>The whitelisted Python globals a weights pickle may name. Nothing else can ever be resolved.</summary>
internal enum GlobalKind
{
    OrderedDict,
    RebuildTensorV2,
    RebuildTensor,
    RebuildParameter,
    RebuildParameterWithState,
    StorageType,
}

/// <summary>A resolved, whitelisted global such as <c>torch._utils._rebuild_tensor_v2</c> or <c>torch.FloatStorage</c>.</summary>
internal sealed record PyGlobal(GlobalKind Kind, string QualifiedName, DType StorageDType = DType.Float32);

/// <summary>A Python dict / OrderedDict: insertion-ordered key/value pairs.</summary>
internal sealed class PyDict
{
    private readonly Dictionary<object, int> _index = new();
    public List<KeyValuePair<object?, object?>> Items { get; } = new();

    public void Set(object? key, object? value)
    {
        if (key is null)
        {
            Items.Add(new(key, value));
            return;
        }
        if (_index.TryGetValue(key, out int i)) Items[i] = new(key, value);
        else
        {
            _index[key] = Items.Count;
            Items.Add(new(key, value));
        }
    }
}

/// <summary>A storage handed back by the persistent-id loader: which raw buffer, its element type and element count.</summary>
/// <remarks>
/// Very old legacy files (torch &lt; 0.4) can hand out views: <see cref="Numel"/> elements starting at
/// <see cref="ViewOffset"/> of a root storage of <see cref="RootNumel"/> elements. Otherwise the storage is its own root.
/// </remarks>
internal sealed record StorageRef(string Key, DType DType, long Numel, long ViewOffset = 0, long RootNumel = -1)
{
    /// <summary>The whole underlying storage, as stored in the file.</summary>
    public StorageRef Root => RootNumel < 0 ? this : new StorageRef(Key, DType, RootNumel);
}

/// <summary>What <c>_rebuild_tensor(_v2)</c> produced: a (possibly strided) view of a storage, not yet materialised.</summary>
internal sealed record TensorRef(StorageRef Storage, long Offset, int[] Size, long[] Stride);
