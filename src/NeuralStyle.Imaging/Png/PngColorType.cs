namespace NeuralStyle.Imaging.Png;

/// <summary>The colour types of the PNG IHDR chunk.</summary>
public enum PngColorType : byte
{
    Grayscale = 0,
    Rgb = 2,
    Palette = 3,
    GrayscaleAlpha = 4,
    Rgba = 6,
}

/// <summary>
/// What the header and the ancillary chunks of a decoded PNG said. Colour-management chunks are only noted:
/// the decoder always assumes sRGB and never converts samples.
/// </summary>
public sealed record PngInfo(
    int Width,
    int Height,
    int BitDepth,
    PngColorType ColorType,
    bool Interlaced,
    bool HasTransparencyChunk,
    double? Gamma,
    string? IccProfileName,
    bool HasSrgbChunk);
