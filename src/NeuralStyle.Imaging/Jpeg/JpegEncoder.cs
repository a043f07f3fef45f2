namespace NeuralStyle.Imaging.Jpeg;

/// <summary>
/// JPEG encoding facade: baseline sequential Huffman JPEG with a JFIF header. Images with 1 or 2 channels are written
/// greyscale, 3 or 4 as YCbCr (alpha is dropped). Samples are clamped to [0, 1] and rounded to 8 bits.
/// </summary>
public static class JpegEncoder
{
    /// <summary>Encodes with the given quality (1-100), 4:4:4 sampling and optimised Huffman tables.</summary>
    public static void Encode(Image image, Stream output, int quality = 95)
        => Encode(image, output, new JpegEncoderOptions { Quality = quality });

    /// <summary>Encodes with explicit options (quality, chroma subsampling, Huffman table choice).</summary>
    public static void Encode(Image image, Stream output, JpegEncoderOptions options)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Quality is < 1 or > 100)
            throw new ArgumentOutOfRangeException(nameof(options), options.Quality, "JPEG quality must be between 1 and 100.");
        if (image.Width > 65535 || image.Height > 65535)
            throw new ImageFormatException($"A JPEG can be at most 65535×65535 pixels; this image is {image.Width}×{image.Height}.");
        byte[] bytes = new JpegEncoderCore(options).Encode(image);
        output.Write(bytes);
    }

    /// <summary>Encodes to a new byte array.</summary>
    public static byte[] EncodeToArray(Image image, JpegEncoderOptions? options = null)
    {
        using var ms = new MemoryStream();
        Encode(image, ms, options ?? JpegEncoderOptions.Default);
        return ms.ToArray();
    }
}
