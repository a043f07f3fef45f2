using NeuralStyle.Models;
using NeuralStyle.Models.ResNet;
using NeuralStyle.Weights;
using NeuralStyle.Weights.Keras;

namespace NeuralStyle.Core;

public sealed partial class BackboneLoader
{
    /// <summary>
    /// True for the ResNet models: <c>resnet50</c> (<paramref name="layout"/> null: it follows the weights, a Keras file
    /// is V1, anything else torchvision V1.5) and <c>resnet50-keras</c> (Keras V1).
    /// </summary>
    public static bool IsResNet(string model, out ResNetLayout? layout)
    {
        string m = model.Trim().ToLowerInvariant();
        layout = m == "resnet50-keras" ? ResNetLayout.Keras : null;
        return m is "resnet50" or "resnet50-keras";
    }

    /// <summary>The registry name of the Keras ResNet-50 file (spec weights.md).</summary>
    public const string KerasResNetName = "keras-resnet50";

    private Backbone LoadResNet(ResNetLayout? layout, string? weights, InputFlavor? flavor, bool weightsExplicit)
    {
        if (weights is { } w && (File.Exists(w) || w.Contains('/') || w.Contains('\\') || Path.HasExtension(w)))
        {
            if (!File.Exists(w)) throw new WeightsUnavailableException($"The weights file '{w}' does not exist.");
            return ResNetFromFile(w, layout, flavor, registryEntry: null);
        }
        string name = weights ?? (layout == ResNetLayout.Keras ? KerasResNetName : "resnet50");
        ModelEntry? entry = ModelRegistry.Find(name);
        if (entry is null)
        {
            if (weights is null) return RandomResNet(layout ?? ResNetLayout.Torchvision, flavor, $"{name} is not in this build's registry");
            throw new WeightsUnavailableException($"'{name}' is neither a file nor a known weights name; see 'neuralstyle weights list'.");
        }
        if (!entry.Architecture.Equals("resnet50", StringComparison.OrdinalIgnoreCase))
            throw new WeightsUnavailableException($"The weights '{entry.Name}' are for {entry.Architecture}, not {{Model}} resnet50.");
        string path;
        if (_cache.IsCached(entry)) path = _cache.PathFor(entry);
        else
        {
            try
            {
                path = _download(entry);
            }
            catch (Exception e) when (!weightsExplicit && e is DownloadException or HttpRequestException or IOException or TaskCanceledException)
            {
                return RandomResNet(layout ?? LayoutOf(entry.FileName), flavor,
                    $"{entry.Name} is not cached and could not be downloaded: {e.Message.TrimEnd('.')}");
            }
        }
        return ResNetFromFile(path, layout, flavor, entry);
    }

    private Backbone RandomResNet(ResNetLayout layout, InputFlavor? flavor, string why)
    {
        Info?.Invoke($"No pretrained ResNet-50 weights ({why}); using a seeded random ResNet-50 instead.");
        FellBack = true;
        return new Backbone(ResNet50.Random(layout, Backbone.RandomSeed),
            flavor ?? (layout == ResNetLayout.Keras ? InputFlavor.Caffe : InputFlavor.Torchvision),
            $"seeded random {(layout == ResNetLayout.Keras ? "Keras V1" : "torchvision V1.5")} ResNet-50");
    }

    /// <summary>A file on disk by its content (an HDF5 file is Keras'); a registry file name not yet downloaded by its extension.</summary>
    private static ResNetLayout LayoutOf(string path)
        => File.Exists(path) ? (KerasWeights.IsHdf5(path) ? ResNetLayout.Keras : ResNetLayout.Torchvision)
        : Path.GetExtension(path).Equals(".h5", StringComparison.OrdinalIgnoreCase) || Path.GetExtension(path).Equals(".hdf5", StringComparison.OrdinalIgnoreCase)
            ? ResNetLayout.Keras : ResNetLayout.Torchvision;

    private Backbone ResNetFromFile(string path, ResNetLayout? requested, InputFlavor? flavorOverride, ModelEntry? registryEntry)
    {
        ResNetLayout layout = LayoutOf(path);
        if (requested is { } r && r != layout)
            throw new WeightsUnavailableException(
                $"'{Path.GetFileName(path)}' holds torchvision's ResNet-50 (V1.5), which does not fit {{Model}} resnet50-keras; use {{Model}} resnet50.");
        ModelEntry? entry = registryEntry ?? ModelRegistry.Identify(path);
        // Keras' ResNet-50 takes caffe-flavoured input (keras.applications.resnet50.preprocess_input).
        InputFlavor flavor = flavorOverride
                             ?? (entry is not null ? InputFlavors.Parse(entry.Flavor) : layout == ResNetLayout.Keras ? InputFlavor.Caffe : InputFlavor.Torchvision);
        if (flavorOverride is null && entry is null && layout == ResNetLayout.Torchvision)
            Info?.Invoke($"Unknown weights file '{Path.GetFileName(path)}': assuming the torchvision input flavour (set {{Flavor}} if it is caffe).");
        ResNet50 net;
        try
        {
            net = layout == ResNetLayout.Keras
                ? ResNet50.FromKerasLayers(ReadKerasLayers(path))
                : ResNet50.FromStateDict(WeightFile.Load(path, k => !k.StartsWith("fc.", StringComparison.Ordinal) && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)));
        }
        catch (WeightFormatException e)
        {
            throw new WeightsUnavailableException($"Cannot read '{path}': {e.Message}", e);
        }
        catch (ModelWeightsException e)
        {
            throw new WeightsUnavailableException($"'{Path.GetFileName(path)}' does not fit {(layout == ResNetLayout.Keras ? "Keras'" : "torchvision's")} ResNet-50: {e.Message}", e);
        }
        return new Backbone(net, flavor, $"{entry?.Name ?? Path.GetFileName(path)} ({net.DisplayName}, {flavor.Name()} flavour)");
    }

    /// <summary>The layers of a Keras HDF5 weight file in file order (Keras loads by order).</summary>
    private static IReadOnlyList<KerasLayer> ReadKerasLayers(string path) => KerasWeights.Read(path);
}
