using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Weights;
using NeuralStyle.Weights.Keras;

namespace NeuralStyle.Core;

/// <summary>Thrown when no usable weights can be had; the message is one sentence for the user.</summary>
public sealed class WeightsUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Turns the Model / Weights / Flavor options of any method into a <see cref="Backbone"/>: a file path, a registry name (cached or
/// downloaded), or the embedded random network.
/// </summary>
public sealed partial class BackboneLoader
{
    private readonly WeightCache _cache;
    private readonly Func<ModelEntry, string> _download;

    public BackboneLoader(WeightCache cache, Func<ModelEntry, string> download)
    {
        _cache = cache;
        _download = download;
    }

    /// <summary>Messages for the user (fallbacks, warnings).</summary>
    public Action<string>? Info { get; set; }

    /// <summary>True when the last <see cref="Load"/> fell back to the embedded random network.</summary>
    public bool FellBack { get; private set; }

    /// <summary>Where loads are remembered across loaders (a server's jobs); null: every load reads afresh.</summary>
    public BackboneMemo? Memo { get; init; }

    public static VggArchitecture ParseArchitecture(string model) => model.Trim().ToLowerInvariant() switch
    {
        "vgg19" => VggArchitecture.Vgg19,
        "vgg16" => VggArchitecture.Vgg16,
        _ => throw new OptionException("Model", $"Unknown {{Model}} '{model}'; use vgg19, vgg16, resnet50, resnet50-keras or random."),
    };

    /// <param name="weightsExplicit">The user named the weights (no silent fallback then).</param>
    public Backbone Load(string model, string? weights, InputFlavor? flavor, bool weightsExplicit)
    {
        FellBack = false;
        if (Memo is null) return LoadAfresh(model, weights, flavor, weightsExplicit);
        return Memo.GetOrLoad(MemoKey(model, weights, flavor, weightsExplicit),
            () => LoadAfresh(model, weights, flavor, weightsExplicit), keep: () => !FellBack);
    }

    // Everything a load depends on: the arguments, this loader's settings, and the identity of a weights file.
    private string MemoKey(string model, string? weights, InputFlavor? flavor, bool weightsExplicit)
    {
        string file = "";
        if (weights is not null && File.Exists(weights))
        {
            var info = new FileInfo(weights);
            file = $"|{info.FullName}|{info.Length}|{info.LastWriteTimeUtc.Ticks}";
        }
        return $"{model.Trim().ToLowerInvariant()}|{weights}|{flavor}|{weightsExplicit}|{MatConvNetTranspose}{file}";
    }

    private Backbone LoadAfresh(string model, string? weights, InputFlavor? flavor, bool weightsExplicit)
    {
        if (model.Equals("random", StringComparison.OrdinalIgnoreCase))
        {
            if (weights is not null) throw new OptionException("Weights", "{Model} random takes no {Weights}.");
            return Backbone.Random() with { Flavor = flavor ?? InputFlavor.Torchvision };
        }
        if (IsResNet(model, out var resnetLayout)) return LoadResNet(resnetLayout, weights, flavor, weightsExplicit);
        VggArchitecture arch = ParseArchitecture(model);
        string archName = arch == VggArchitecture.Vgg19 ? "vgg19" : "vgg16";

        if (weights is { } w && (File.Exists(w) || w.Contains('/') || w.Contains('\\') || Path.HasExtension(w)))
        {
            if (!File.Exists(w)) throw new WeightsUnavailableException($"The weights file '{w}' does not exist.");
            return FromFile(w, arch, flavor, registryEntry: null, cacheFeaturesTo: null);
        }

        string name = weights ?? (arch == VggArchitecture.Vgg19 ? ModelRegistry.DefaultName : "vgg16-caffe");
        ModelEntry entry = ModelRegistry.Find(name) ?? throw new WeightsUnavailableException(
            $"'{name}' is neither a file nor a known weights name; see 'neuralstyle weights list'.");
        if (!entry.Architecture.Equals(archName, StringComparison.OrdinalIgnoreCase))
            throw new WeightsUnavailableException($"The weights '{entry.Name}' are for {entry.Architecture}, not {{Model}} {archName}.");
        // A converted copy of just the features (~80 MB of a ~550 MB file) loads much faster next time.
        string features = _cache.DerivedPathFor(entry, "features.safetensors");
        if (File.Exists(features))
        {
            try
            {
                return FromFile(features, arch, flavor, entry, cacheFeaturesTo: null);
            }
            catch (WeightsUnavailableException)
            {
                File.Delete(features); // a damaged conversion: fall back to the original file
            }
        }
        string path;
        if (_cache.IsCached(entry))
        {
            path = _cache.PathFor(entry);
        }
        else
        {
            try
            {
                path = _download(entry);
            }
            catch (Exception e) when (!weightsExplicit && e is DownloadException or HttpRequestException or IOException or TaskCanceledException)
            {
                Info?.Invoke($"No pretrained weights ({entry.Name} is not cached and could not be downloaded: {e.Message.TrimEnd('.')}); " +
                             "using the embedded random VGG-19 instead.");
                FellBack = true;
                // Fed as the missing weights would be (caffe for the default VGG-19): the presets' loss weights assume
                // that input scale, and on [0,1]-normalised input the random network's terms are so small that the
                // non-smooth TV term dominates and L-BFGS without a line search diverges.
                return Backbone.Random() with { Flavor = flavor ?? InputFlavors.Parse(entry.Flavor) };
            }
        }
        return FromFile(path, arch, flavor, entry, cacheFeaturesTo: features);
    }

    private Backbone FromFile(string path, VggArchitecture arch, InputFlavor? flavorOverride, ModelEntry? registryEntry, string? cacheFeaturesTo)
    {
        if (TryMatConvNetOrCaffe(path, arch, flavorOverride, registryEntry) is { } imported) return imported; // BackboneLoader.Imported.cs
        ModelEntry? entry = registryEntry ?? ModelRegistry.Identify(path);
        bool keras = KerasWeights.IsHdf5(path); // by content: Keras .h5 files are HDF5, whatever their name
        InputFlavor flavor;
        if (flavorOverride is { } f) flavor = f;
        else if (entry is not null) flavor = InputFlavors.Parse(entry.Flavor);
        else if (keras)
        {
            // keras.applications' VGG16/VGG19 weights all expect its "caffe" preprocessing.
            flavor = InputFlavor.Caffe;
            Info?.Invoke($"Unknown Keras weights file '{Path.GetFileName(path)}': assuming the caffe input flavour of keras.applications (set {{Flavor}} otherwise).");
        }
        else
        {
            flavor = InputFlavor.Torchvision;
            Info?.Invoke($"Unknown weights file '{Path.GetFileName(path)}': assuming the torchvision input flavour (set {{Flavor}} if it is caffe).");
        }
        IReadOnlyDictionary<string, WeightTensor> sd;
        try
        {
            sd = keras
                ? FromKeras(path, arch)
                : WeightFile.Load(path, k => k.StartsWith("features.", StringComparison.Ordinal) || !k.Contains('.'));
        }
        catch (WeightFormatException e)
        {
            throw new WeightsUnavailableException($"Cannot read '{path}': {e.Message}", e);
        }
        catch (ModelWeightsException e)
        {
            throw new WeightsUnavailableException($"'{Path.GetFileName(path)}' does not fit {(arch == VggArchitecture.Vgg19 ? "VGG-19" : "VGG-16")}: {e.Message}", e);
        }
        VggNet net;
        try
        {
            net = VggNet.FromStateDict(arch, sd);
        }
        catch (ModelWeightsException e)
        {
            throw new WeightsUnavailableException($"'{Path.GetFileName(path)}' does not fit {(arch == VggArchitecture.Vgg19 ? "VGG-19" : "VGG-16")}: {e.Message}", e);
        }
        if (cacheFeaturesTo is not null)
        {
            try
            {
                SafeTensors.Write(cacheFeaturesTo, sd.Values.Where(t => t.Name.StartsWith("features.", StringComparison.Ordinal)));
            }
            catch (IOException e)
            {
                Info?.Invoke($"Could not keep a converted copy of the features in the cache ({e.Message}).");
            }
            catch (UnauthorizedAccessException) { }
        }
        return new Backbone(net, flavor, $"{(entry?.Name ?? Path.GetFileName(path))} ({flavor.Name()} flavour)");
    }

    /// <summary>
    /// The VGG state dict of a Keras HDF5 file, matched by layer order as Keras loads it. A ResNet-50 file (keras.applications'
    /// layer names) is refused with a pointer to ResNet-50.
    /// </summary>
    private static Dictionary<string, WeightTensor> FromKeras(string path, VggArchitecture arch)
    {
        // First the layer names only (no data is read), to tell a ResNet-50 file from a VGG one.
        var names = new List<string>();
        KerasWeights.Read(path, (name, _) =>
        {
            names.Add(name);
            return false;
        });
        if (LooksLikeKerasResNet50(names)) FromKerasResNet50(path);
        return KerasVgg.ToStateDict(arch, KerasWeights.Read(path, KerasVgg.IsConvLayer));
    }

    /// <summary>
    /// keras.applications' ResNet50 names its stem <c>conv1_conv</c> and its blocks <c>conv2_block1_1_conv</c>, …; a Keras 3
    /// <c>.weights.h5</c> names layers by class, where batch norm (which no VGG has) gives it away.
    /// </summary>
    internal static bool LooksLikeKerasResNet50(IReadOnlyList<string> layerNames) =>
        layerNames.Any(n => n is "conv1_conv" or "conv1_bn" or "batch_normalization" || n.StartsWith("conv2_block1_", StringComparison.Ordinal));

    /// <summary>A Keras ResNet-50 file asked to be a VGG: say which model it fits.</summary>
    private static void FromKerasResNet50(string path) =>
        throw new WeightsUnavailableException(
            $"'{Path.GetFileName(path)}' holds Keras ResNet-50 weights, not VGG; use {{Model}} resnet50.");

}
