namespace NeuralStyle.Imaging.Jpeg;

/// <summary>One colour component of a frame: sampling, tables, decoded coefficients and samples.</summary>
internal sealed class JpegComponent
{
    public int Id;
    public int H;
    public int V;
    public int QuantTableId;
    public int DcTableId;
    public int AcTableId;
    public int DcPred;

    /// <summary>Downsampled size in samples: ceil(imageWidth * H / Hmax) × ceil(imageHeight * V / Vmax).</summary>
    public int Width;
    public int Height;

    /// <summary>Blocks that hold image data (used by non-interleaved scans).</summary>
    public int BlocksPerLine;
    public int BlocksPerColumn;

    /// <summary>Blocks allocated: whole MCUs (interleaved scans may touch these).</summary>
    public int BlocksPerLineAlloc;
    public int BlocksPerColumnAlloc;

    /// <summary>Dequantisation table in natural order, latched at the component's first scan.</summary>
    public ushort[]? Quant;

    /// <summary>Progressive mode: coefficients, 64 per block, zig-zag de-ordered to natural order.</summary>
    public short[]? Coefficients;

    /// <summary>Decoded samples: BlocksPerLineAlloc*8 wide, BlocksPerColumnAlloc*8 high.</summary>
    public byte[] Plane = [];

    public int Stride => BlocksPerLineAlloc * 8;
}
