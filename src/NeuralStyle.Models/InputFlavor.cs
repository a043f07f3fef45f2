namespace NeuralStyle.Models;

/// <summary>How pixels are fed to a backbone (spec §1). Decided by the weights.</summary>
public enum InputFlavor
{
    /// <summary>RGB in [0,1], then (x − mean)/std with ImageNet statistics.</summary>
    Torchvision,
    /// <summary>BGR, x·255 − (103.939, 116.779, 123.68) in B, G, R order.</summary>
    Caffe,
    /// <summary>
    /// RGB, x·255 − a mean pixel in R, G, B order (MatConvNet). The mean comes from the weights file; without one it is
    /// ImageNet's (123.68, 116.779, 103.939), the mean of MatConvNet's VGG files.
    /// </summary>
    Rgb255,
}

/// <summary>The per-channel affine map from an RGB [0,1] pixel to the backbone's input space and back.</summary>
public sealed record FlavorTransform(int[] Permutation, float[] Scale, float[] Shift)
{
    /// <summary>ImageNet's mean pixel on a 0–255 scale in R, G, B order (the mean of MatConvNet's VGG files).</summary>
    public static IReadOnlyList<double> ImageNetRgbMean { get; } = [123.68, 116.779, 103.939];

    public static FlavorTransform For(InputFlavor flavor) => For(flavor, meanRgb: null);

    /// <summary>
    /// The transform of <paramref name="flavor"/>; <paramref name="meanRgb"/> (three values, 0–255, R, G, B) is the
    /// file-given mean pixel of <see cref="InputFlavor.Rgb255"/> and is ignored by the other flavours, whose means are fixed.
    /// </summary>
    public static FlavorTransform For(InputFlavor flavor, IReadOnlyList<double>? meanRgb) => flavor switch
    {
        InputFlavor.Caffe => new([2, 1, 0], [255f, 255f, 255f], [-103.939f, -116.779f, -123.68f]),
        InputFlavor.Rgb255 => Rgb255Minus(meanRgb ?? ImageNetRgbMean),
        _ => new([0, 1, 2],
            [1f / 0.229f, 1f / 0.224f, 1f / 0.225f],
            [-0.485f / 0.229f, -0.456f / 0.224f, -0.406f / 0.225f]),
    };

    private static FlavorTransform Rgb255Minus(IReadOnlyList<double> mean)
    {
        if (mean.Count != 3 || mean.Any(m => !double.IsFinite(m)))
            throw new ArgumentException("The mean pixel must be three finite numbers (R, G, B on a 0-255 scale).", nameof(mean));
        return new([0, 1, 2], [255f, 255f, 255f], [(float)-mean[0], (float)-mean[1], (float)-mean[2]]);
    }

    /// <summary>Interleaved RGB pixels (…, 3) -> input space (…, 3): y[c] = x[perm[c]] · scale[c] + shift[c].</summary>
    public void Forward(ReadOnlySpan<float> rgb, Span<float> input)
    {
        for (int i = 0; i < rgb.Length; i += 3)
            for (int c = 0; c < 3; c++)
                input[i + c] = rgb[i + Permutation[c]] * Scale[c] + Shift[c];
    }

    /// <summary>Input space -> interleaved RGB pixels (not clamped).</summary>
    public void Inverse(ReadOnlySpan<float> input, Span<float> rgb)
    {
        for (int i = 0; i < input.Length; i += 3)
            for (int c = 0; c < 3; c++)
                rgb[i + Permutation[c]] = (input[i + c] - Shift[c]) / Scale[c];
    }

    /// <summary>How many input-space units one pixel unit (1.0 = full range) is in channel c.</summary>
    public float UnitsPerPixel(int c) => Scale[c];
}

public static class InputFlavors
{
    public static InputFlavor Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "caffe" => InputFlavor.Caffe,
        "torchvision" or "pytorch" => InputFlavor.Torchvision,
        "rgb255" or "matconvnet" => InputFlavor.Rgb255,
        _ => throw new ArgumentException($"Unknown input flavour '{text}'; use caffe, torchvision or rgb255."),
    };

    public static string Name(this InputFlavor f) => f switch
    {
        InputFlavor.Caffe => "caffe",
        InputFlavor.Rgb255 => "rgb255",
        _ => "torchvision",
    };
}
