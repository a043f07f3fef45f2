namespace NeuralStyle.Imaging.Jpeg;

/// <summary>Chroma subsampling of colour JPEG output.</summary>
public enum JpegSubsampling
{
    /// <summary>Full-resolution chroma (no subsampling); best for the fine colour detail of stylised images.</summary>
    Yuv444,

    /// <summary>Chroma halved in both directions (2×2 luma blocks per chroma block): smaller files.</summary>
    Yuv420,
}

/// <summary>Options of <see cref="JpegEncoder"/>. Defaults: quality 95, 4:4:4, optimised Huffman tables.</summary>
public sealed record JpegEncoderOptions
{
    /// <summary>1-100; scales the Annex K quantisation tables with libjpeg's formula.</summary>
    public int Quality { get; init; } = 95;

    public JpegSubsampling Subsampling { get; init; } = JpegSubsampling.Yuv444;

    /// <summary>True: per-image optimal Huffman tables (smaller, two passes); false: the standard Annex K tables.</summary>
    public bool OptimizeHuffman { get; init; } = true;

    public static JpegEncoderOptions Default { get; } = new();
}
