using System.Diagnostics.CodeAnalysis;

namespace NeuralStyle.Imaging.Png;

/// <summary>Cold throw paths of the PNG codec, kept out of the hot loops.</summary>
internal static class PngThrowHelper
{
    [DoesNotReturn]
    public static void ThrowInvalid(string message) => throw new ImageFormatException("Invalid PNG: " + message);

    [DoesNotReturn]
    public static void ThrowInvalid(string message, Exception inner) => throw new ImageFormatException("Invalid PNG: " + message, inner);

    [DoesNotReturn]
    public static void ThrowTruncated(string where) =>
        throw new ImageFormatException($"Invalid PNG: the file is truncated ({where}).");

    [DoesNotReturn]
    public static void ThrowTooLarge(long width, long height, long maxPixels) =>
        throw new ImageFormatException(
            $"PNG image is {width}×{height} = {width * height} pixels, more than the limit of {maxPixels}; " +
            "raise DecoderOptions.MaxPixels if the image is genuine.");
}
