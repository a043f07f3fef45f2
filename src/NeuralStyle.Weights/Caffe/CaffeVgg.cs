namespace NeuralStyle.Weights.Caffe;

/// <summary>
/// Maps a Caffe VGG-16/19 (<c>VGG_ILSVRC_19_layers.caffemodel</c>, jcjohnson/neural-style's original weights) to
/// torchvision's <c>features</c> keys: the convolutions before the last pooling, by order; Caffe's blobs are already
/// OIHW. The architecture follows from the number of convolutions per block; the input flavour is caffe (BGR).
/// </summary>
public static class CaffeVgg
{
    public static ImportedVgg Load(string path) => FromLayers(CaffeModel.ReadLayers(path));

    public static ImportedVgg FromLayers(IReadOnlyList<CaffeLayer> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        int lastPool = -1;
        for (int i = 0; i < layers.Count; i++)
            if (layers[i].Type == "Pooling") lastPool = i;
        if (lastPool < 0) throw Fail("it has no Pooling layer, so it is not a VGG network");

        var blocks = new List<int> { 0 };
        var convs = new List<CaffeLayer>();
        for (int i = 0; i < lastPool; i++)
        {
            CaffeLayer layer = layers[i];
            switch (layer.Type)
            {
                case "Convolution":
                    convs.Add(layer);
                    blocks[^1]++;
                    break;
                case "Pooling": blocks.Add(0); break;
                case "ReLU" or "Dropout" or "Data" or "Input" or "ImageData" or "Split": break;
                default: throw Fail($"its layer '{layer.Name}' is of type '{layer.Type}', which plain VGG does not have before its last pooling");
            }
        }
        string arch = ImportedVgg.ArchitectureFor(blocks, "Caffe");
        int[] indices = ImportedVgg.ConvIndices(arch);
        var features = new Dictionary<string, WeightTensor>(StringComparer.Ordinal);
        for (int c = 0; c < convs.Count; c++)
        {
            CaffeLayer conv = convs[c];
            if (conv.Pad is { } pad && pad != 1) throw Fail($"the convolution '{conv.Name}' has padding {pad}; VGG's is 1");
            if (conv.Stride is { } stride && stride != 1) throw Fail($"the convolution '{conv.Name}' has stride {stride}; VGG's is 1");
            if (conv.Blobs.Count < 2) throw Fail($"the convolution '{conv.Name}' has {conv.Blobs.Count} blobs, not weights and biases");
            CaffeBlob w = conv.Blobs[0], b = conv.Blobs[1];
            if (w.Data is null || b.Data is null) throw Fail($"the convolution '{conv.Name}' is too large for a VGG feature layer");
            if (w.Shape.Length != 4) throw Fail($"the weights of '{conv.Name}' have shape [{string.Join(",", w.Shape)}], not 4-D");
            int outC = w.Shape[0];
            // Legacy biases are 1×1×1×Out; shaped ones are (Out).
            if (b.Data.Length != outC) throw Fail($"the convolution '{conv.Name}' has {b.Data.Length} biases for {outC} filters");
            features[$"features.{indices[c]}.weight"] = new WeightTensor($"features.{indices[c]}.weight", [.. w.Shape], w.Data);
            features[$"features.{indices[c]}.bias"] = new WeightTensor($"features.{indices[c]}.bias", [outC], b.Data);
        }
        return new ImportedVgg(arch, features, "caffe", null, "Caffe");
    }

    private static WeightFormatException Fail(string why) => new($"The Caffe model cannot be used: {why}.");
}
