using System.IO.Compression;

namespace NeuralStyle.Imaging;

/// <summary>How <see cref="ImageIO.Save"/> writes a file; the format itself follows the file extension.</summary>
public sealed record SaveOptions
{
    /// <summary>Bits per sample: 8, or 16 (PNG only).</summary>
    public int BitDepth { get; init; } = 8;

    /// <summary>JPEG quality, 1–100.</summary>
    public int JpegQuality { get; init; } = 95;

    /// <summary>zlib effort for PNG.</summary>
    public CompressionLevel PngCompression { get; init; } = CompressionLevel.Optimal;

    public static SaveOptions Default { get; } = new();
}
