using PureHDF;
using PureHDF.VOL.Native;

namespace NeuralStyle.Weights.Keras;

/// <summary>
/// The layout logic of <see cref="KerasWeights"/> on top of PureHDF, with the guards a hostile file needs: every size is
/// checked against the file's length before anything is allocated, the stream refuses to be read far more than the file
/// holds (a corrupt structure that loops runs out of that budget), and the parse runs on a thread with a large stack so
/// a deep (cyclic) structure is stopped by the budget, never by a stack overflow.
/// </summary>
internal static class KerasHdf5Reader
{
    /// <summary>Deflate cannot expand data more than about 1032:1, so no chunked dataset holds more than this per file byte.</summary>
    private const long MaxExpansion = 1100;

    public static IReadOnlyList<KerasLayer> Run(Stream stream, Func<string, IReadOnlyList<int[]>, bool> include)
    {
        long length = stream.Length;
        var head = new byte[8];
        stream.Position = 0;
        if (stream.ReadAtLeast(head, 8, throwOnEndOfStream: false) < 8 || !KerasWeights.IsHdf5(head))
            throw new WeightFormatException("The file is not an HDF5 (Keras .h5) file: it does not start with the HDF5 signature.");
        stream.Position = 0;
        var budgeted = new BudgetStream(stream, ReadBudget(length));

        IReadOnlyList<KerasLayer>? layers = null;
        Exception? error = null;
        var worker = new Thread(() =>
        {
            try
            {
                layers = ReadLayers(budgeted, length, include);
            }
            catch (Exception e)
            {
                error = e;
            }
        }, maxStackSize: 256 << 20)
        {
            Name = "Keras HDF5 reader",
            IsBackground = true,
        };
        worker.Start();
        worker.Join();
        if (error is not null) throw Explain(error);
        return layers!;
    }

    /// <summary>Bytes the reader may pull from the stream: the data once plus generous room for metadata re-reads.</summary>
    internal static long ReadBudget(long fileLength) => 4 * fileLength + (64L << 20);

    private static WeightFormatException Explain(Exception e) => e switch
    {
        WeightFormatException w => w,
        ReadBudgetExceededException => new WeightFormatException(
            "The HDF5 file is corrupt: reading its structure did not end within the file's size (a loop or an absurd size)."),
        EndOfStreamException => new WeightFormatException("The HDF5 file is truncated or corrupt: a structure points past its end.", e),
        OutOfMemoryException or InsufficientExecutionStackException => new WeightFormatException(
            "The HDF5 file is corrupt: it claims structures too large to read.", e),
        _ => new WeightFormatException($"The HDF5 file is corrupt or uses a feature this reader does not support ({OneLine(e.Message)}).", e),
    };

    private static string OneLine(string message)
    {
        string m = message.ReplaceLineEndings(" ").Trim().TrimEnd('.');
        return m.Length > 200 ? m[..200] + "…" : m;
    }

    private static IReadOnlyList<KerasLayer> ReadLayers(Stream stream, long length, Func<string, IReadOnlyList<int[]>, bool> include)
    {
        using NativeFile file = H5File.Open(stream, leaveOpen: true);
        var ctx = new Context(length, include);
        if (HasNameList(file, "layer_names")) return ReadLegacy(ctx, file);
        if (file.LinkExists("model_weights") && file.Get("model_weights") is NativeGroup model && HasNameList(model, "layer_names"))
            return ReadLegacy(ctx, model);
        foreach (string root in (ReadOnlySpan<string>)["layers", "_layer_checkpoint_dependencies"])
        {
            if (file.LinkExists(root) && file.Get(root) is NativeGroup layers) return ReadKeras3(ctx, layers, root);
        }
        throw new WeightFormatException(
            "The HDF5 file holds no Keras weights: it has no 'layer_names' attribute, 'model_weights' group or 'layers' group.");
    }

    private sealed record Context(long FileLength, Func<string, IReadOnlyList<int[]>, bool> Include);

    // ---- Keras 2 / Keras 3 legacy layout -------------------------------------------------------------------------

    private static IReadOnlyList<KerasLayer> ReadLegacy(Context ctx, NativeGroup root)
    {
        List<string> names = ReadNameList(root, "layer_names", "layer");
        var result = new List<KerasLayer>();
        foreach (string layerName in names)
        {
            if (!root.LinkExists(layerName) || root.Get(layerName) is not NativeGroup layer)
                throw new WeightFormatException($"The Keras file lists the layer '{layerName}' but has no group of that name.");
            if (!HasNameList(layer, "weight_names"))
                throw new WeightFormatException($"The Keras layer '{layerName}' has no 'weight_names' attribute.");
            List<string> weightNames = ReadNameList(layer, "weight_names", "weight");
            var datasets = new List<(string Name, NativeDataset Data, int[] Shape)>(weightNames.Count);
            foreach (string weightName in weightNames)
            {
                if (!layer.LinkExists(weightName) || layer.Get(weightName) is not NativeDataset ds)
                    throw new WeightFormatException($"The Keras layer '{layerName}' lists the weight '{weightName}' but has no dataset of that name.");
                string name = weightName.EndsWith(":0", StringComparison.Ordinal) ? weightName[..^2] : weightName;
                datasets.Add((name, ds, Shape(ds, $"{layerName}/{weightName}")));
            }
            AddLayer(ctx, result, layerName, datasets);
        }
        return result;
    }

    // ---- Keras 3 .weights.h5 layout ------------------------------------------------------------------------------

    private static IReadOnlyList<KerasLayer> ReadKeras3(Context ctx, NativeGroup layersGroup, string rootName)
    {
        var entries = new List<(string Name, NativeGroup Group)>();
        foreach (IH5Object child in layersGroup.Children())
        {
            if (entries.Count >= KerasWeights.MaxNameCount) throw new WeightFormatException("The Keras file lists an absurd number of layers.");
            if (child is NativeGroup g) entries.Add((LastSegment(child.Name), g));
        }
        // Keras 3 names the k-th layer of a class "<class>_k" (the first has no suffix); HDF5 lists links by name, so
        // conv2d_10 would come before conv2d_2: order by class, then by counter.
        entries.Sort((a, b) =>
        {
            var (ba, ka) = KerasWeights.SplitCounter(a.Name);
            var (bb, kb) = KerasWeights.SplitCounter(b.Name);
            int c = string.CompareOrdinal(ba, bb);
            return c != 0 ? c : ka != kb ? ka.CompareTo(kb) : string.CompareOrdinal(a.Name, b.Name);
        });
        var result = new List<KerasLayer>();
        foreach (var (name, group) in entries)
        {
            var vars = new List<(long Index, string Name, NativeDataset Data)>();
            if (group.LinkExists("vars") && group.Get("vars") is NativeGroup varsGroup)
            {
                foreach (IH5Object v in varsGroup.Children())
                {
                    if (vars.Count >= KerasWeights.MaxNameCount) throw new WeightFormatException($"The Keras layer '{name}' lists an absurd number of weights.");
                    string vname = LastSegment(v.Name);
                    if (v is not NativeDataset ds) continue;
                    if (!long.TryParse(vname, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long index))
                        throw new WeightFormatException($"The Keras layer '{rootName}/{name}' has a weight named '{vname}', not a number.");
                    vars.Add((index, vname, ds));
                }
            }
            vars.Sort((a, b) => a.Index.CompareTo(b.Index));
            var datasets = vars.Select(v => ($"{name}/{v.Name}", v.Data, Shape(v.Data, $"{rootName}/{name}/vars/{v.Name}"))).ToList();
            AddLayer(ctx, result, name, datasets);
        }
        return result;
    }

    private static string LastSegment(string? path)
    {
        string p = path ?? "";
        int slash = p.LastIndexOf('/');
        return slash >= 0 ? p[(slash + 1)..] : p;
    }

    // ---- shared ----------------------------------------------------------------------------------------------------

    private static void AddLayer(Context ctx, List<KerasLayer> result, string layerName, List<(string Name, NativeDataset Data, int[] Shape)> datasets)
    {
        if (!ctx.Include(layerName, datasets.Select(d => d.Shape).ToList())) return;
        var weights = new List<WeightTensor>(datasets.Count);
        foreach (var (name, ds, shape) in datasets) weights.Add(new WeightTensor(name, shape, ReadFloats(ctx, ds, shape, $"{layerName}/{name}")));
        result.Add(new KerasLayer(layerName, weights));
    }

    /// <summary>The stored shape, checked: a simple or scalar dataspace of at most 8 dimensions that fit an array.</summary>
    private static int[] Shape(NativeDataset ds, string what)
    {
        IH5Dataspace space = ds.Space;
        if (space.Type == H5DataspaceType.Scalar) return [];
        if (space.Type != H5DataspaceType.Simple) throw new WeightFormatException($"The Keras weight '{what}' has no data (a null dataspace).");
        ulong[] dims = space.Dimensions;
        if (dims.Length > 8) throw new WeightFormatException($"The Keras weight '{what}' has {dims.Length} dimensions, more than any layer weight.");
        var shape = new int[dims.Length];
        ulong count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] > int.MaxValue) throw new WeightFormatException($"The Keras weight '{what}' claims an absurd dimension ({dims[i]}).");
            shape[i] = (int)dims[i];
            count = dims[i] == 0 ? 0 : count <= (ulong)Array.MaxLength / dims[i] ? count * dims[i] : ulong.MaxValue;
        }
        if (count > (ulong)Array.MaxLength)
            throw new WeightFormatException($"The Keras weight '{what}' claims {string.Join("×", dims)} elements, more than any layer weight.");
        return shape;
    }

    private static float[] ReadFloats(Context ctx, NativeDataset ds, int[] shape, string what)
    {
        long count = 1;
        foreach (int d in shape) count *= d;
        IH5DataType type = ds.Type;
        if (type.Class != H5DataTypeClass.FloatingPoint || type.Size is not (2 or 4 or 8))
            throw new WeightFormatException($"The Keras weight '{what}' is not floating point ({type.Class}, {type.Size} bytes).");
        long bytes = count * type.Size;
        bool chunked = ds.Layout.Class == H5DataLayoutClass.Chunked;
        // Contiguous and compact data lie in the file; only compressed chunks may hold more than the file's size.
        long limit = chunked ? ctx.FileLength * MaxExpansion : ctx.FileLength;
        if (bytes > limit)
            throw new WeightFormatException($"The Keras weight '{what}' claims {bytes} bytes, more than the {ctx.FileLength}-byte file can hold.");
        var result = new float[count];
        if (count == 0) return result;
        switch (type.Size)
        {
            case 4:
                ds.Read<float>(result.AsSpan());
                break;
            case 8:
            {
                var wide = new double[count];
                ds.Read<double>(wide.AsSpan());
                for (long i = 0; i < count; i++) result[i] = (float)wide[i];
                break;
            }
            default:
            {
                var half = new Half[count];
                ds.Read<Half>(half.AsSpan());
                for (long i = 0; i < count; i++) result[i] = (float)half[i];
                break;
            }
        }
        return result;
    }

    private static bool HasNameList(IH5Object obj, string name) => obj.AttributeExists(name) || obj.AttributeExists(name + "0");

    /// <summary>
    /// A list of names stored as Keras does: one attribute of byte strings, or (when too long for an object header)
    /// chunks <c>name0</c>, <c>name1</c>, …; an empty list is stored as an empty float64 array.
    /// </summary>
    private static List<string> ReadNameList(IH5Object obj, string name, string what)
    {
        var result = new List<string>();
        if (obj.AttributeExists(name))
        {
            AppendStrings(obj.Attribute(name), result, what);
            return result;
        }
        for (int chunk = 0; obj.AttributeExists($"{name}{chunk}"); chunk++)
        {
            AppendStrings(obj.Attribute($"{name}{chunk}"), result, what);
            if (chunk >= KerasWeights.MaxNameCount) break;
        }
        return result;
    }

    private static void AppendStrings(IH5Attribute attribute, List<string> into, string what)
    {
        IH5Dataspace space = attribute.Space;
        if (space.Type == H5DataspaceType.Null) return;
        ulong count = 1;
        foreach (ulong d in space.Dimensions)
            count = d == 0 ? 0 : count <= (ulong)KerasWeights.MaxNameCount / d ? count * d : ulong.MaxValue;
        if (count == 0) return;
        if (count + (ulong)into.Count > (ulong)KerasWeights.MaxNameCount)
            throw new WeightFormatException($"The Keras attribute '{attribute.Name}' lists an absurd number of {what} names.");
        IH5DataType type = attribute.Type;
        bool isString = type.Class == H5DataTypeClass.String
            || type.Class == H5DataTypeClass.VariableLength && type.VariableLength.BaseType.Class == H5DataTypeClass.String;
        if (!isString) throw new WeightFormatException($"The Keras attribute '{attribute.Name}' holds {type.Class} values, not {what} names.");
        if (type.Class == H5DataTypeClass.String && (ulong)type.Size * count > 64UL << 20)
            throw new WeightFormatException($"The Keras attribute '{attribute.Name}' claims an absurd size.");
        string[] values = space.Type == H5DataspaceType.Scalar ? [attribute.Read<string>()] : attribute.Read<string[]>();
        foreach (string v in values)
        {
            string s = (v ?? "").TrimEnd('\0');
            if (s.Length == 0) throw new WeightFormatException($"The Keras attribute '{attribute.Name}' has an empty {what} name.");
            into.Add(s);
        }
    }
}

/// <summary>The read budget of <see cref="BudgetStream"/> ran out.</summary>
internal sealed class ReadBudgetExceededException() : Exception("The read budget was exceeded.");

/// <summary>A read-only view of a stream that throws once more than <c>budget</c> bytes have been read through it.</summary>
internal sealed class BudgetStream(Stream inner, long budget) : Stream
{
    private long _left = budget;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => inner.Position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // Every read, even an empty one at the end of the file, costs something, so a loop of tiny reads ends too.
        _left -= Math.Max(buffer.Length, 64);
        if (_left < 0) throw new ReadBudgetExceededException();
        return inner.Read(buffer);
    }

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
