using NeuralStyle.Weights.Caffe;
using NeuralStyle.Weights.Mat;

namespace NeuralStyle.Weights;

/// <summary>
/// The <c>features</c> part of a VGG network read from another framework's file (MatConvNet, Caffe), renamed to
/// torchvision's keys (<c>features.N.weight</c> in OIHW, <c>features.N.bias</c>).
/// </summary>
/// <param name="Architecture">"vgg19" or "vgg16", from the number of convolutions and their blocks.</param>
/// <param name="Features">The convolutions' tensors under torchvision's keys.</param>
/// <param name="Flavor">The input convention the file implies: "caffe" or "rgb255" (MatConvNet).</param>
/// <param name="MeanRgb">The mean pixel (R, G, B, 0–255) the file gives, averaged in double precision; null when it gives none.</param>
/// <param name="Format">"MatConvNet" or "Caffe", for messages.</param>
public sealed record ImportedVgg(string Architecture, IReadOnlyDictionary<string, WeightTensor> Features, string Flavor,
    IReadOnlyList<double>? MeanRgb, string Format)
{
    /// <summary>
    /// Reads <paramref name="path"/> when its content is a MatConvNet <c>.mat</c> (the MAT-file header) or a Caffe
    /// <c>.caffemodel</c> (no other format's magic number, and the start of a protobuf NetParameter); returns null for
    /// any other file, which the caller then reads as PyTorch or safetensors. The extension plays no part.
    /// </summary>
    /// <param name="transposeMatConvNetKernels">See <see cref="MatConvNetVgg.Load"/>: seed 003's mirrored kernels.</param>
    public static ImportedVgg? TryLoad(string path, bool transposeMatConvNetKernels = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        var head = new byte[128];
        long length;
        int n;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
            length = file.Length;
            n = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WeightFormatException($"The weights file '{path}' cannot be read ({e.Message}).", e);
        }
        ReadOnlySpan<byte> h = head.AsSpan(0, n);
        if (MatFile.HasHeader(h) || h.StartsWith("MATLAB 7.3 MAT-file"u8)) return MatConvNetVgg.Load(path, transposeMatConvNetKernels);
        if (HasOtherMagic(h)) return null;
        return CaffeModel.LooksLikeCaffe(h, length) ? CaffeVgg.Load(path) : null;
    }

    /// <summary>The starts of the formats <see cref="WeightFile"/> reads (zip, pickle, safetensors) and of HDF5.</summary>
    private static bool HasOtherMagic(ReadOnlySpan<byte> h) =>
        h.Length == 0
        || h.StartsWith("PK"u8)
        || h[0] == 0x80
        || (h.Length >= 9 && h[8] == (byte)'{')
        || (h.Length >= 4 && h[0] == 0x89 && h[1..4].SequenceEqual("HDF"u8));

    /// <summary>Convolutions per block of VGG-16 and VGG-19 (each block ends in a pool).</summary>
    private static readonly int[] Vgg16Blocks = [2, 2, 3, 3, 3], Vgg19Blocks = [2, 2, 4, 4, 4];

    /// <summary>
    /// The architecture whose blocks have <paramref name="convsPerBlock"/> convolutions (the convolutions between
    /// consecutive pools), or a sentence saying why none fits.
    /// </summary>
    internal static string ArchitectureFor(IReadOnlyList<int> convsPerBlock, string format)
    {
        if (convsPerBlock.SequenceEqual(Vgg19Blocks)) return "vgg19";
        if (convsPerBlock.SequenceEqual(Vgg16Blocks)) return "vgg16";
        throw new WeightFormatException(
            $"The {format} network is not VGG-16 or VGG-19: its {convsPerBlock.Sum()} convolutions form blocks of " +
            $"[{string.Join(",", convsPerBlock)}] between poolings, expected [2,2,3,3,3] or [2,2,4,4,4].");
    }

    /// <summary>torchvision's <c>features</c> index of each convolution of <paramref name="architecture"/>, in order.</summary>
    internal static int[] ConvIndices(string architecture)
    {
        int[] blocks = architecture == "vgg19" ? Vgg19Blocks : Vgg16Blocks;
        var indices = new List<int>();
        int index = 0;
        foreach (int convs in blocks)
        {
            for (int c = 0; c < convs; c++)
            {
                indices.Add(index);
                index += 2; // conv, relu
            }
            index++; // pool
        }
        return [.. indices];
    }
}
