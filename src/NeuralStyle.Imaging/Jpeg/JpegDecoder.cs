namespace NeuralStyle.Imaging.Jpeg;

/// <summary>
/// JPEG decoding facade: baseline and progressive Huffman JPEG, 8-bit, 1/3/4 components, any sampling factors
/// up to 2×2, restart intervals, JFIF/Adobe colour transforms, CMYK/YCCK, EXIF orientation.
/// Output matches libjpeg-turbo's <c>djpeg</c> defaults (islow IDCT, "fancy" triangular chroma upsampling).
/// </summary>
public static class JpegDecoder
{
    /// <summary>Decodes a JPEG file. Returns 1 channel for greyscale files, 3 (RGB) otherwise, upright per EXIF.</summary>
    /// <exception cref="ImageFormatException">The data is not a JPEG this decoder can read, is corrupt, or is too large.</exception>
    public static Image Decode(ReadOnlySpan<byte> data, DecoderOptions? options = null)
    {
        var core = new JpegDecoderCore(options ?? DecoderOptions.Default);
        return core.Decode(data);
    }

    /// <summary>Decodes a JPEG file into 8-bit interleaved samples (what djpeg writes), upright per EXIF.</summary>
    public static byte[] DecodeToBytes(ReadOnlySpan<byte> data, out int width, out int height, out int channels, DecoderOptions? options = null)
    {
        var core = new JpegDecoderCore(options ?? DecoderOptions.Default);
        return core.DecodeBytes(data, out width, out height, out channels);
    }

    /// <summary>True when the data starts with the JPEG SOI marker.</summary>
    public static bool IsJpeg(ReadOnlySpan<byte> data) => data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
}
