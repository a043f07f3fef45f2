using NeuralStyle.Weights;
using NeuralStyle.Weights.Keras;

namespace NeuralStyle.Models.Vgg;

/// <summary>
/// VGG-16/19 from the layers of a Keras weight file (keras.applications' VGG16/VGG19, <c>_notop</c> or full), matched
/// by order as Keras itself loads them: the k-th layer that has weights is the k-th convolution. Kernels are stored
/// H×W×In×Out (TensorFlow) and become torchvision's <c>features.N.weight</c> Out×In×H×W; the fully connected layers
/// of a full file come after the convolutions and are ignored.
/// </summary>
public static class KerasVgg
{
    /// <summary>
    /// A filter for <see cref="KerasWeights.Read(string, Func{string, IReadOnlyList{int[]}, bool})"/> that keeps the layers
    /// a VGG needs (a 4-D kernel and a bias) and skips the rest, so a full file's ~470 MB of dense weights is never read.
    /// </summary>
    public static bool IsConvLayer(string layerName, IReadOnlyList<int[]> shapes) =>
        shapes.Count == 2 && shapes[0].Length == 4 && shapes[1].Length == 1;

    /// <summary>The architecture the file's convolution count implies (13: VGG-16, 16: VGG-19), or null.</summary>
    public static VggArchitecture? Detect(IReadOnlyList<KerasLayer> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        int convs = layers.Count(l => l.Weights.Count > 0 && l.Weights[0].Shape.Length == 4);
        return convs switch
        {
            16 => VggArchitecture.Vgg19,
            13 => VggArchitecture.Vgg16,
            _ => null,
        };
    }

    /// <summary>The torchvision state dict (<c>features.N.weight</c> OIHW, <c>features.N.bias</c>) of the file's convolutions.</summary>
    /// <exception cref="ModelWeightsException">The layers do not form the convolutions of <paramref name="arch"/> (one sentence).</exception>
    public static Dictionary<string, WeightTensor> ToStateDict(VggArchitecture arch, IReadOnlyList<KerasLayer> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        VggLayers vgg = VggLayers.For(arch);
        int[] convIndices = vgg.ConvIndices.ToArray();
        string archName = arch == VggArchitecture.Vgg19 ? "VGG-19" : "VGG-16";
        var withWeights = layers.Where(l => l.Weights.Count > 0).ToList();
        int convCount = withWeights.TakeWhile(l => l.Weights[0].Shape.Length == 4).Count();
        if (convCount != convIndices.Length)
        {
            string hint = layers.Any(l => l.Name is "conv1_conv" or "conv1_bn") ? " (this is a ResNet file)"
                : convCount == 16 ? ": use {Model} vgg19" : convCount == 13 ? ": use {Model} vgg16" : "";
            throw new ModelWeightsException(
                $"The Keras file starts with {convCount} convolution layers but {archName} has {convIndices.Length}{hint}.");
        }
        var sd = new Dictionary<string, WeightTensor>(StringComparer.Ordinal);
        for (int k = 0; k < convIndices.Length; k++)
        {
            KerasLayer layer = withWeights[k];
            if (layer.Weights.Count != 2 || layer.Weights[1].Shape.Length != 1)
                throw new ModelWeightsException(
                    $"The Keras layer '{layer.Name}' has {layer.Weights.Count} weights; a {archName} convolution has a kernel and a bias.");
            WeightTensor kernel = layer.Weights[0], bias = layer.Weights[1];
            int n = convIndices[k];
            sd[$"features.{n}.weight"] = HwioToOihw(kernel, $"features.{n}.weight");
            sd[$"features.{n}.bias"] = bias with { Name = $"features.{n}.bias" };
        }
        return sd;
    }

    /// <summary>The network of <paramref name="arch"/> from the file's layers (shapes checked by <see cref="VggNet.FromStateDict"/>).</summary>
    public static VggNet FromKerasLayers(VggArchitecture arch, IReadOnlyList<KerasLayer> layers) =>
        VggNet.FromStateDict(arch, ToStateDict(arch, layers));

    /// <summary>H×W×In×Out (TensorFlow) to Out×In×H×W (PyTorch).</summary>
    public static WeightTensor HwioToOihw(WeightTensor kernel, string name)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (kernel.Shape.Length != 4)
            throw new ModelWeightsException($"The Keras kernel '{kernel.Name}' has shape [{string.Join(",", kernel.Shape)}], not H×W×In×Out.");
        int h = kernel.Shape[0], w = kernel.Shape[1], ci = kernel.Shape[2], co = kernel.Shape[3];
        float[] src = kernel.Data, dst = new float[src.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int i = 0; i < ci; i++)
                {
                    int from = ((y * w + x) * ci + i) * co;
                    for (int o = 0; o < co; o++) dst[((o * ci + i) * h + y) * w + x] = src[from + o];
                }
        return new WeightTensor(name, [co, ci, h, w], dst);
    }
}
