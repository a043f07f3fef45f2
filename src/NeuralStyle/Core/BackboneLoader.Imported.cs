using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Weights;

namespace NeuralStyle.Core;

/// <summary>MatConvNet <c>.mat</c> and Caffe <c>.caffemodel</c> files, recognised by their content.</summary>
public sealed partial class BackboneLoader
{
    /// <summary>
    /// Read MatConvNet kernels as seed 003 does, with their two spatial axes swapped (it takes MatConvNet's H×W
    /// filters for W×H), which mirrors every kernel about its diagonal; only for reproducing that seed's results.
    /// </summary>
    public bool MatConvNetTranspose { get; set; }

    /// <summary>The backbone of a MatConvNet or Caffe file; null for any other file (read as PyTorch or safetensors).</summary>
    private Backbone? TryMatConvNetOrCaffe(string path, VggArchitecture arch, InputFlavor? flavorOverride, ModelEntry? entry)
    {
        ImportedVgg? vgg;
        try
        {
            vgg = ImportedVgg.TryLoad(path, MatConvNetTranspose);
        }
        catch (WeightFormatException e)
        {
            throw new WeightsUnavailableException($"Cannot read '{path}': {e.Message}", e);
        }
        if (vgg is null) return null;

        string file = Path.GetFileName(path);
        string want = arch == VggArchitecture.Vgg19 ? "vgg19" : "vgg16";
        if (vgg.Architecture != want)
            throw new WeightsUnavailableException($"'{file}' is a {vgg.Format} {Pretty(vgg.Architecture)}, not a {Pretty(want)}: use {{Model}} {vgg.Architecture}.");
        VggNet net;
        try
        {
            net = VggNet.FromStateDict(arch, vgg.Features);
        }
        catch (ModelWeightsException e)
        {
            throw new WeightsUnavailableException($"'{file}' does not fit {Pretty(want)}: {e.Message}", e);
        }
        InputFlavor flavor = flavorOverride ?? InputFlavors.Parse(vgg.Flavor);
        IReadOnlyList<double>? mean = flavor == InputFlavor.Rgb255 ? vgg.MeanRgb : null;
        if (flavor == InputFlavor.Rgb255 && flavorOverride is null && mean is null)
            Info?.Invoke($"'{file}' gives no averageImage: using ImageNet's mean pixel (123.68, 116.779, 103.939).");
        string meanText = mean is null ? "" : FormattableString.Invariant($", mean {mean[0]:0.###}/{mean[1]:0.###}/{mean[2]:0.###}");
        string transposed = MatConvNetTranspose && vgg.Format == "MatConvNet" ? ", kernels transposed as the TensorFlow course's code does" : "";
        return new Backbone(net, flavor, $"{entry?.Name ?? file} ({vgg.Format}, {flavor.Name()} flavour{meanText}{transposed})") { MeanPixel = mean };
    }

    private static string Pretty(string arch) => arch == "vgg19" ? "VGG-19" : "VGG-16";
}
