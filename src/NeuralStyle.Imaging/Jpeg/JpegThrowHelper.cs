using System.Diagnostics.CodeAnalysis;

namespace NeuralStyle.Imaging.Jpeg;

/// <summary>Throw helpers kept out of line so the entropy-decoding hot paths stay small.</summary>
internal static class JpegThrowHelper
{
    [DoesNotReturn]
    public static void ThrowInvalid(string message) => throw new ImageFormatException("Invalid JPEG: " + message);

    [DoesNotReturn]
    public static void ThrowUnsupported(string message) => throw new ImageFormatException("Unsupported JPEG: " + message);

    [DoesNotReturn]
    public static void ThrowTruncated() =>
        throw new ImageFormatException("Invalid JPEG: the data ends before the image is complete (the file is truncated).");

    [DoesNotReturn]
    public static void ThrowBadHuffmanCode() =>
        throw new ImageFormatException("Invalid JPEG: the entropy-coded data holds a Huffman code that the table does not define.");

    [DoesNotReturn]
    public static void ThrowTooLarge(long pixels, long max) =>
        throw new ImageFormatException(
            $"JPEG image has {pixels} pixels, more than the limit of {max}; raise DecoderOptions.MaxPixels to decode it.");
}
