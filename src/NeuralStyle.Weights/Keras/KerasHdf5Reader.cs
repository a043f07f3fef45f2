namespace NeuralStyle.Weights.Keras;

/// <summary>
/// The Keras layouts of <see cref="KerasWeights"/> on top of the bounded <see cref="Hdf5File"/> reader.
/// </summary>
internal static class KerasHdf5Reader
{
    public static IReadOnlyList<KerasLayer> Run(Stream stream, Func<string, IReadOnlyList<int[]>, bool> include)
    {
        try
        {
            return ReadLayers(new Hdf5File(stream), include);
        }
        catch (EndOfStreamException e)
        {
            throw new WeightFormatException("The HDF5 file is truncated or corrupt: a structure points past its end.", e);
        }
    }

    private static IReadOnlyList<KerasLayer> ReadLayers(Hdf5File file, Func<string, IReadOnlyList<int[]>, bool> include)
    {
        Hdf5Object root = file.Root;
        if (!root.IsGroup && root.Attribute("layer_names") is null && root.Attribute("layer_names0") is null)
            throw Hdf5File.Corrupt("its root object is not a group");
        if (HasNameList(root, "layer_names")) return ReadLegacy(root, include);
        if (root.Get("model_weights") is { IsGroup: true } model && HasNameList(model, "layer_names"))
            return ReadLegacy(model, include);
        foreach (string name in (ReadOnlySpan<string>)["layers", "_layer_checkpoint_dependencies"])
        {
            if (root.Get(name) is { IsGroup: true } layers) return ReadKeras3(layers, name, include);
        }
        throw new WeightFormatException(
            "The HDF5 file holds no Keras weights: it has no 'layer_names' attribute, 'model_weights' group or 'layers' group.");
    }

    // ---- Keras 2 / Keras 3 legacy layout -------------------------------------------------------------------------

    private static IReadOnlyList<KerasLayer> ReadLegacy(Hdf5Object root, Func<string, IReadOnlyList<int[]>, bool> include)
    {
        List<string> names = ReadNameList(root, "layer_names");
        var result = new List<KerasLayer>();
        foreach (string layerName in names)
        {
            if (root.Get(layerName) is not { IsGroup: true } layer)
                throw new WeightFormatException($"The Keras file lists the layer '{Show(layerName)}' but has no group of that name.");
            if (!HasNameList(layer, "weight_names"))
                throw new WeightFormatException($"The Keras layer '{Show(layerName)}' has no 'weight_names' attribute.");
            List<string> weightNames = ReadNameList(layer, "weight_names");
            var datasets = new List<Weight>(weightNames.Count);
            foreach (string weightName in weightNames)
            {
                if (layer.Get(weightName) is not { IsDataset: true } ds)
                    throw new WeightFormatException($"The Keras layer '{Show(layerName)}' lists the weight '{Show(weightName)}' but has no dataset of that name.");
                string name = weightName.EndsWith(":0", StringComparison.Ordinal) ? weightName[..^2] : weightName;
                datasets.Add(Describe(ds, name, $"{layerName}/{weightName}"));
            }
            AddLayer(result, layerName, datasets, include);
        }
        return result;
    }

    // ---- Keras 3 .weights.h5 layout ------------------------------------------------------------------------------

    private static IReadOnlyList<KerasLayer> ReadKeras3(Hdf5Object layersGroup, string rootName, Func<string, IReadOnlyList<int[]>, bool> include)
    {
        var entries = new List<(string Name, Hdf5Object Group)>();
        foreach (var (name, address) in layersGroup.Links)
        {
            Hdf5Object child = layersGroup.File.Object(address);
            if (child.IsGroup) entries.Add((name, child));
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
            var vars = new List<(long Index, Weight Weight)>();
            if (group.Get("vars") is { IsGroup: true } varsGroup)
            {
                foreach (var (vname, address) in varsGroup.Links)
                {
                    Hdf5Object v = varsGroup.File.Object(address);
                    if (!v.IsDataset) continue;
                    if (!long.TryParse(vname, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long index))
                        throw new WeightFormatException($"The Keras layer '{rootName}/{Show(name)}' has a weight named '{Show(vname)}', not a number.");
                    vars.Add((index, Describe(v, $"{name}/{vname}", $"{rootName}/{name}/vars/{vname}")));
                }
            }
            vars.Sort((a, b) => a.Index.CompareTo(b.Index));
            AddLayer(result, name, vars.Select(v => v.Weight).ToList(), include);
        }
        return result;
    }

    // ---- shared ----------------------------------------------------------------------------------------------------

    private sealed record Weight(string Name, string Path, Hdf5Object Dataset, Hdf5Space Space, Hdf5Type Type, int[] Shape);

    private static Weight Describe(Hdf5Object ds, string name, string path)
    {
        var (space, type) = Hdf5Dataset.Describe(ds, Show(path));
        if (space.Dims.Length > 8)
            throw new WeightFormatException($"The Keras weight '{Show(path)}' has {space.Dims.Length} dimensions, more than any layer weight.");
        var shape = new int[space.Dims.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            if (space.Dims[i] > int.MaxValue)
                throw new WeightFormatException($"The Keras weight '{Show(path)}' claims an absurd dimension ({space.Dims[i]}).");
            shape[i] = (int)space.Dims[i];
        }
        return new Weight(name, path, ds, space, type, shape);
    }

    private static void AddLayer(List<KerasLayer> result, string layerName, List<Weight> weights, Func<string, IReadOnlyList<int[]>, bool> include)
    {
        if (!include(layerName, weights.Select(w => w.Shape).ToList())) return;
        var tensors = new List<WeightTensor>(weights.Count);
        foreach (Weight w in weights)
            tensors.Add(new WeightTensor(w.Name, w.Shape, Hdf5Dataset.ReadFloats(w.Dataset, w.Space, w.Type, Show(w.Path))));
        result.Add(new KerasLayer(layerName, tensors));
    }

    private static bool HasNameList(Hdf5Object obj, string name) => obj.Attribute(name) is not null || obj.Attribute(name + "0") is not null;

    /// <summary>
    /// A list of names stored as Keras does: one attribute of byte strings, or (when too long for an object header)
    /// chunks <c>name0</c>, <c>name1</c>, …; an empty list is stored as an empty float64 array.
    /// </summary>
    private static List<string> ReadNameList(Hdf5Object obj, string name)
    {
        var result = new List<string>();
        if (obj.Attribute(name) is { } whole)
        {
            Append(whole, result);
            return result;
        }
        for (int chunk = 0; chunk <= KerasWeights.MaxNameCount && obj.Attribute($"{name}{chunk}") is { } part; chunk++) Append(part, result);
        return result;
    }

    private static void Append(Hdf5Attribute attribute, List<string> into)
    {
        if (attribute.Space.Count == 0) return; // Keras writes an empty list as an empty float64 array
        foreach (string s in attribute.ReadStrings(KerasWeights.MaxNameCount - into.Count))
        {
            if (s.Length == 0) throw new WeightFormatException($"The Keras attribute '{attribute.Name}' has an empty name.");
            into.Add(s);
        }
    }

    /// <summary>A name from the file as it may appear in a message: control characters escaped, long names cut.</summary>
    internal static string Show(string name)
    {
        var b = new System.Text.StringBuilder();
        foreach (char c in name.Length > 80 ? name[..80] : name) b.Append(char.IsControl(c) || c == '\uFFFD' ? '?' : c);
        return name.Length > 80 ? b + "…" : b.ToString();
    }
}
