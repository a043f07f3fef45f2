namespace NeuralStyle.Weights.Mat;

/// <summary>
/// Reads a MatConvNet SimpleNN VGG file (<c>imagenet-vgg-verydeep-19.mat</c>, seed 003's weights): <c>layers</c> is a
/// cell of structs with <c>type</c> (<c>conv</c>, <c>relu</c>, <c>pool</c>, …) and, for convolutions, either
/// <c>weights</c> = {filters, biases} (beta releases) or <c>filters</c>/<c>biases</c> (older ones); the mean pixel is
/// <c>normalization.averageImage</c> (beta16: a 224×224×3 image) or <c>meta.normalization.averageImage</c> (newer
/// files: 1×1×3). The convolutions before the last pooling are the <c>features</c>, mapped by order.
/// </summary>
public static class MatConvNetVgg
{
    /// <param name="path">The .mat file.</param>
    /// <param name="transposeKernels">
    /// Reproduce seed 003, which swaps the first two kernel axes (it takes MatConvNet's H×W filters for W×H, as
    /// anishathalye/neural-style's vgg.py does): every 3×3 kernel comes out mirrored about its diagonal. Off by default,
    /// which reads the filters as MatConvNet writes them.
    /// </param>
    public static ImportedVgg Load(string path, bool transposeKernels = false)
    {
        var vars = MatFile.Read(path, static name => name is "layers" or "normalization" or "meta");
        return FromVariables(vars, transposeKernels);
    }

    /// <summary>Maps already-read variables (<c>layers</c> and <c>normalization</c> or <c>meta</c>).</summary>
    public static ImportedVgg FromVariables(IReadOnlyDictionary<string, MatValue> vars, bool transposeKernels = false)
    {
        ArgumentNullException.ThrowIfNull(vars);
        if (!vars.TryGetValue("layers", out MatValue? layersValue))
            throw Fail("it has no 'layers' variable (it is not a MatConvNet network)");
        if (layersValue is MatStruct dag && dag.FieldNames.Contains("block"))
            throw Fail("it is a DagNN network; only SimpleNN files (a 'layers' cell, as the VGG downloads) are supported");
        if (layersValue is not MatCell layers) throw Fail($"its 'layers' is not a cell array");

        // The features are everything up to the last pooling; what follows (fc6–fc8 as convolutions, softmax) is the classifier.
        var types = new string[layers.Items.Count];
        int lastPool = -1;
        for (int i = 0; i < types.Length; i++)
        {
            if (layers.Items[i] is not MatStruct layer) throw Fail($"layer {i + 1} is not a struct");
            types[i] = (layer.Field("type") as MatChar)?.Text.Trim().ToLowerInvariant() ?? throw Fail($"layer {i + 1} has no 'type'");
            if (types[i] == "pool") lastPool = i;
        }
        if (lastPool < 0) throw Fail("it has no pooling layer, so it is not a VGG network");

        var blocks = new List<int> { 0 };
        var convs = new List<MatStruct>();
        for (int i = 0; i < lastPool; i++)
        {
            var layer = (MatStruct)layers.Items[i];
            switch (types[i])
            {
                case "conv":
                    convs.Add(layer);
                    blocks[^1]++;
                    break;
                case "pool": blocks.Add(0); break;
                case "relu" or "dropout": break;
                default: throw Fail($"its layer {i + 1} ('{LayerName(layer)}') is of type '{types[i]}', which plain VGG does not have");
            }
        }
        string arch = ImportedVgg.ArchitectureFor(blocks, "MatConvNet");
        int[] indices = ImportedVgg.ConvIndices(arch);
        var features = new Dictionary<string, WeightTensor>(StringComparer.Ordinal);
        for (int c = 0; c < convs.Count; c++)
        {
            (WeightTensor w, WeightTensor b) = ConvTensors(convs[c], indices[c], transposeKernels);
            features[w.Name] = w;
            features[b.Name] = b;
        }
        return new ImportedVgg(arch, features, "rgb255", MeanPixel(vars), "MatConvNet");
    }

    private static (WeightTensor Weight, WeightTensor Bias) ConvTensors(MatStruct layer, int index, bool transpose)
    {
        string name = LayerName(layer);
        MatValue? filters, biases;
        if (layer.Field("weights") is MatCell { Items.Count: >= 2 } wb)
        {
            filters = wb.Items[0];
            biases = wb.Items[1];
        }
        else
        {
            filters = layer.Field("filters");
            biases = layer.Field("biases");
        }
        if (filters is not MatNumeric f || biases is not MatNumeric b)
            throw Fail($"the convolution '{name}' has no numeric filters and biases ('weights' = {{filters, biases}} or 'filters'/'biases')");
        CheckGeometry(layer, name);
        if (f.Dims.Length > 4 || f.Dims.Skip(4).Any(d => d != 1)) throw Fail($"the filters of '{name}' are {f.DimsText}, not H×W×In×Out");
        int kh = f.Dims[0], kw = f.Dims[1], cin = f.Dims.Length > 2 ? f.Dims[2] : 1, cout = f.Dims.Length > 3 ? f.Dims[3] : 1;
        if (f.Skipped || b.Skipped) throw Fail($"the convolution '{name}' is too large for a VGG feature layer ({f.DimsText})");
        if (b.Count != cout) throw Fail($"the convolution '{name}' has {b.Count} biases for {cout} filters");

        // MATLAB is column-major: element (y, x, i, o) of an H×W×In×Out array sits at y + H·(x + W·(i + In·o)).
        // Seed 003 reads the first axis as x instead (its transpose), which mirrors each kernel about its diagonal.
        ReadOnlySpan<double> src = f.Values;
        int oh = transpose ? kw : kh, ow = transpose ? kh : kw;
        var oihw = new float[(long)cout * cin * kh * kw];
        int k = 0;
        for (int o = 0; o < cout; o++)
            for (int i = 0; i < cin; i++)
                for (int y = 0; y < oh; y++)
                    for (int x = 0; x < ow; x++)
                    {
                        (int fy, int fx) = transpose ? (x, y) : (y, x);
                        oihw[k++] = (float)src[fy + kh * (fx + kw * (i + cin * o))];
                    }
        var bias = new float[cout];
        ReadOnlySpan<double> bv = b.Values;
        for (int o = 0; o < cout; o++) bias[o] = (float)bv[o];
        return (new WeightTensor($"features.{index}.weight", [cout, cin, oh, ow], oihw),
                new WeightTensor($"features.{index}.bias", [cout], bias));
    }

    /// <summary>VGG convolutions are stride 1 with padding 1; a file that says otherwise is another network.</summary>
    private static void CheckGeometry(MatStruct layer, string name)
    {
        foreach ((string field, double expected) in new[] { ("pad", 1.0), ("stride", 1.0) })
        {
            if (layer.Field(field) is MatNumeric { Skipped: false } v)
                foreach (double d in v.Values)
                    if (d != expected) throw Fail($"the convolution '{name}' has {field} {d}; VGG's are {expected}");
        }
    }

    /// <summary>
    /// The mean pixel, averaged in double precision: <c>averageImage</c> is either three numbers or an H×W×3 image
    /// (column-major, so each channel is one contiguous run). Null when the file has none.
    /// </summary>
    private static double[]? MeanPixel(IReadOnlyDictionary<string, MatValue> vars)
    {
        MatValue? normalization = vars.GetValueOrDefault("normalization");
        if (normalization is null && vars.GetValueOrDefault("meta") is MatStruct meta) normalization = meta.Field("normalization");
        if (normalization is not MatStruct norm || norm.Field("averageImage") is not MatNumeric { Skipped: false } avg || avg.Count == 0)
            return null;
        long n = avg.Count;
        if (n % 3 != 0 || (n != 3 && avg.Dims.Length >= 3 && avg.Dims[2] != 3))
            throw Fail($"its averageImage is {avg.DimsText}, neither three numbers nor an H×W×3 image");
        long perChannel = n / 3;
        ReadOnlySpan<double> values = avg.Values;
        var mean = new double[3];
        for (int c = 0; c < 3; c++)
        {
            double sum = 0;
            for (long p = 0; p < perChannel; p++) sum += values[(int)(c * perChannel + p)];
            mean[c] = sum / perChannel;
        }
        if (mean.Any(m => !double.IsFinite(m))) throw Fail("its averageImage is not finite");
        return mean;
    }

    private static string LayerName(MatStruct layer) => (layer.Field("name") as MatChar)?.Text ?? "?";

    private static WeightFormatException Fail(string why) => new($"The MatConvNet file cannot be used: {why}.");
}
