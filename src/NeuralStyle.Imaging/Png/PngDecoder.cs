namespace NeuralStyle.Imaging.Png;

/// <summary>
/// PNG decoding facade. Every colour type and bit depth, Adam7, all filters; CRCs checked; ancillary chunks
/// skipped (gAMA/iCCP/sRGB only noted, samples are taken as sRGB). Output channels: grey 1 (2 with tRNS),
/// grey+alpha 2, RGB 3 (4 with tRNS), palette 3 (4 with tRNS), RGBA 4; samples are value / (2^depth − 1).
/// Out-of-range palette indices decode as opaque black. Any bad input ends in <see cref="ImageFormatException"/>.
/// </summary>
public static class PngDecoder
{
    /// <summary>True when <paramref name="data"/> starts with the 8-byte PNG signature.</summary>
    public static bool IsPng(ReadOnlySpan<byte> data) => PngDecoderCore.IsPng(data);

    public static Image Decode(ReadOnlySpan<byte> data, DecoderOptions? options = null)
        => PngDecoderCore.Decode(data, options ?? DecoderOptions.Default, out _);

    /// <summary>Decodes and also reports what the header and colour chunks said.</summary>
    public static Image Decode(ReadOnlySpan<byte> data, DecoderOptions? options, out PngInfo info)
        => PngDecoderCore.Decode(data, options ?? DecoderOptions.Default, out info);
}
