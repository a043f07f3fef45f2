namespace NeuralStyle.Weights;

/// <summary>One known pretrained weights file.</summary>
/// <param name="Name">Registry name users type (e.g. "vgg19").</param>
/// <param name="Url">Where to download it.</param>
/// <param name="FileName">File name in the cache folder.</param>
/// <param name="Flavor">Input convention the weights expect: "caffe" (BGR, 0–255, mean-subtracted), "torchvision" (RGB, 0–1, ImageNet mean/std) or "rgb255" (RGB, 0–255; MatConvNet subtracts its file's mean pixel).</param>
/// <param name="Architecture">"vgg19", "vgg16", "resnet50", "transformer-zip" (an archive of fast-style networks),
/// "transformer" (a pytorch/examples TransformerNet .pth) or "transformer-onnx" (an ONNX TransformerNet).</param>
/// <param name="Sha256Prefix">Leading hex digits of the file's SHA-256 (lower case), from torchvision's file-name convention; empty when unknown (then not verified).</param>
/// <param name="ApproxBytes">Approximate size in bytes (from the parameter count), for progress display when the server sends no length; null when unknown.</param>
/// <param name="Notes">One line for users.</param>
public sealed record ModelEntry(string Name, string Url, string FileName, string Flavor, string Architecture, string Sha256Prefix, long? ApproxBytes, string Notes)
{
    /// <summary>The registry entry of the archive this file is unpacked from (null: downloaded directly from <see cref="Url"/>).</summary>
    public string? Archive { get; init; }

    /// <summary>The file's path inside <see cref="Archive"/> (e.g. <c>saved_models/candy.pth</c>).</summary>
    public string? ArchiveMember { get; init; }

    /// <summary>
    /// The file's published MD5 (lower-case hex; Keras' <c>get_file(file_hash=…)</c>), checked after a download, or null.
    /// Such files publish no SHA-256: theirs is recorded at the first download and later downloads are held to it.
    /// </summary>
    public string? Md5 { get; init; }
}

/// <summary>The table of known weights files (see spec/weights.md). <c>vgg19</c> (the Caffe VGG-19) is the default.</summary>
public static class ModelRegistry
{
    public const string DefaultName = "vgg19";

    public static IReadOnlyList<ModelEntry> All { get; } =
    [
        new("vgg19", "https://web.eecs.umich.edu/~justincj/models/vgg19-d01eb7cb.pth", "vgg19-d01eb7cb.pth",
            "caffe", "vgg19", "d01eb7cb", 574_700_000,
            "Default. The Caffe VGG-19 of jcjohnson/neural-style converted to PyTorch (classifier keys classifier.1/4/6)."),
        new("vgg16-caffe", "https://web.eecs.umich.edu/~justincj/models/vgg16-00b39a1b.pth", "vgg16-00b39a1b.pth",
            "caffe", "vgg16", "00b39a1b", 553_400_000,
            "The Caffe VGG-16 converted to PyTorch."),
        new("vgg19-torchvision", "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth", "vgg19-dcbb9e9d.pth",
            "torchvision", "vgg19", "dcbb9e9d", 574_700_000,
            "torchvision's ImageNet VGG-19 (legacy torch.save format)."),
        new("vgg16-torchvision", "https://download.pytorch.org/models/vgg16-397923af.pth", "vgg16-397923af.pth",
            "torchvision", "vgg16", "397923af", 553_400_000,
            "torchvision's ImageNet VGG-16 (legacy torch.save format)."),
        new("resnet50", "https://download.pytorch.org/models/resnet50-0676ba61.pth", "resnet50-0676ba61.pth",
            "torchvision", "resnet50", "0676ba61", 102_500_000,
            "torchvision's ImageNet ResNet-50 (V1 weights)."),
        new("fast-style-models", "https://www.dropbox.com/s/lrvwfehqdcxoza8/saved_models.zip?dl=1", "saved_models.zip",
            "torchvision", "transformer-zip", "", null,
            "pytorch/examples' candy, mosaic, rain_princess and udnie TransformerNet state dicts in one zip (no published hash: its SHA-256 is recorded at the first download)."),
        new("matconvnet-vgg19", "https://www.vlfeat.org/matconvnet/models/beta16/imagenet-vgg-verydeep-19.mat", "imagenet-vgg-verydeep-19.mat",
            Rgb255, "vgg19", "", 534_900_000,
            "Seed 003's MatConvNet VGG-19 (beta16, MAT-file); RGB 0-255 minus the file's mean pixel.")
        {
            Md5 = "8ee3263992981a1d26e73b3ca028a123",
        },
        new("caffe-vgg19", "https://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/VGG_ILSVRC_19_layers.caffemodel", "VGG_ILSVRC_19_layers.caffemodel",
            "caffe", "vgg19", "", 574_700_000,
            "The original Caffe VGG-19 of jcjohnson/neural-style (Lua), protobuf .caffemodel."),
        Keras("keras-vgg19", "vgg19", "vgg19", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", "253f8cb515780f3b799900260a226db6", 80_134_624,
            "keras.applications' VGG19 without the classifier (the Keras neural-style example's file; Keras 2 HDF5)."),
        Keras("keras-vgg16", "vgg16", "vgg16", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "6d6bbae143d832006294945121d1f1fc", 58_889_256,
            "keras.applications' VGG16 without the classifier (Keras 2 HDF5)."),
        Keras("keras-resnet50", "resnet50", "resnet", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", "4d473c1dd8becc155b73f8504c6f6626", 94_765_736,
            "keras.applications' ResNet50 (V1: stride on the first 1x1 conv) without the classifier (Keras 2 HDF5)."),
        FastStyle("candy"), FastStyle("mosaic"), FastStyle("rain-princess", "rain_princess"), FastStyle("udnie"),
        ZooOnnx("mosaic"), ZooOnnx("candy"), ZooOnnx("rain-princess"), ZooOnnx("udnie"), ZooOnnx("pointilism"),
    ];

    private const string KerasBase = "https://storage.googleapis.com/tensorflow/keras-applications/";

    /// <summary>A keras.applications file (caffe flavour): only an MD5 is published, so no SHA-256 prefix.</summary>
    private static ModelEntry Keras(string name, string architecture, string folder, string file, string md5, long bytes, string notes) =>
        new(name, $"{KerasBase}{folder}/{file}", file, "caffe", architecture, "", bytes, notes + " MD5-checked; its SHA-256 is recorded at the first download.")
        {
            Md5 = md5,
        };

    /// <summary>RGB on a 0–255 scale: fast-style networks in and out; MatConvNet's VGG minus the file's mean pixel.</summary>
    public const string Rgb255 = "rgb255";

    private const string ZooBase = "https://github.com/onnx/models/raw/main/validated/vision/style_transfer/fast_neural_style/model/";

    private static ModelEntry FastStyle(string name, string? member = null) =>
        new(name, "https://www.dropbox.com/s/lrvwfehqdcxoza8/saved_models.zip?dl=1", $"{member ?? name}.pth", Rgb255, "transformer", "", 6_700_000,
            $"pytorch/examples' fast-style network '{member ?? name}' (unpacked from fast-style-models; 0-255 RGB).")
        {
            Archive = "fast-style-models",
            ArchiveMember = $"saved_models/{member ?? name}.pth",
        };

    private static ModelEntry ZooOnnx(string name) =>
        new($"{name}-onnx", $"{ZooBase}{name}-9.onnx", $"{name}-9.onnx", Rgb255, "transformer-onnx", "", 6_700_000,
            $"The ONNX model zoo's fast-style '{name}' (opset 9; its fixed 224x224 input does not limit the size we run at).");

    /// <summary>Finds an entry by name (case-insensitive), or null.</summary>
    public static ModelEntry? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var e in All)
        {
            if (string.Equals(e.Name, name.Trim(), StringComparison.OrdinalIgnoreCase)) return e;
        }
        return null;
    }

    /// <summary>
    /// Finds the entry whose hash prefix matches <paramref name="sha256Prefix"/> (case-insensitive): either the 8-digit
    /// prefix itself or any longer hex string (such as a full SHA-256) that starts with it. Needs at least 8 digits.
    /// </summary>
    public static ModelEntry? FindByHashPrefix(string sha256Prefix)
    {
        ArgumentNullException.ThrowIfNull(sha256Prefix);
        string h = sha256Prefix.Trim().ToLowerInvariant();
        if (h.Length < 8) return null;
        foreach (var e in All)
        {
            if (e.Sha256Prefix.Length >= 8 && h.StartsWith(e.Sha256Prefix, StringComparison.Ordinal)) return e;
        }
        return null;
    }

    /// <summary>
    /// Identifies a weights file given by path (<c>--weights PATH</c>): by its file name when it is a registry file
    /// name (torchvision's <c>name-xxxxxxxx.pth</c>), else, when <paramref name="hashContent"/> is true, by the SHA-256
    /// of its content (reads the whole file). Returns null for an unknown file; the caller then asks for the flavour.
    /// </summary>
    public static ModelEntry? Identify(string path, bool hashContent = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        string name = Path.GetFileName(path);
        foreach (var e in All)
        {
            if (string.Equals(e.FileName, name, StringComparison.OrdinalIgnoreCase)) return e;
        }
        if (!hashContent || !File.Exists(path)) return null;
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return FindByHashPrefix(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(f)));
    }
}
