namespace NeuralStyle.Tensors.Kernels;

/// <summary>Weights of one 3×3 conv packed for the fast kernels (forward and backward-input layouts); re-pack after the weights change.</summary>
/// <remarks>
/// Forward layout: [co/32][ky][kx][ci][32] (output channels zero-padded to a multiple of 32).
/// Backward-input layout: the same with the roles of ci and co swapped and the kernel flipped in space,
/// [ci/32][ky][kx][co][32] holding w[co, ci, 2−ky, 2−kx], so that backward-input is a forward conv of dy.
/// Columns layout (for few input channels): [co][ky][kx][ci].
/// </remarks>
public sealed class Conv3x3Weights
{
    internal const int Block = 32;

    public Conv3x3Weights(int outChannels, int inChannels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        OutChannels = outChannels;
        InChannels = inChannels;
        Oihw = new float[outChannels * inChannels * 9];
        Forward = new float[RoundUp(outChannels) * 9 * inChannels];
        Backward = new float[RoundUp(inChannels) * 9 * outChannels];
        Columns = new float[outChannels * ColumnsStride];
    }

    /// <summary>Bytes one packing of a (Co, Ci, 3, 3) weight holds.</summary>
    public static long PackedBytes(int outChannels, int inChannels)
        => 4L * (outChannels * inChannels * 9 + RoundUp(outChannels) * 9 * inChannels + RoundUp(inChannels) * 9 * outChannels + outChannels * (long)RoundUp(9 * inChannels));

    /// <summary>
    /// Bytes the convolution kernels hold for one frozen zero-padded (Co, Ci, 3, 3) weight, the form a graph routes it
    /// through: a copy of the weights plus the Winograd F(4×4) transforms for the forward and the backward to the input
    /// where <see cref="Winograd4x4.Wins"/> (a copy and 8× the weights' own size; the direct packing holds about 4×), else
    /// <see cref="PackedBytes"/>. Assumes the layer is large enough for Winograd (≥ 8 tiles of 4×4); a layer that also
    /// runs smaller (a coarse scale) packs the direct form beside it.
    /// </summary>
    public static long FrozenBytes(int outChannels, int inChannels)
        => Winograd4x4.Wins(inChannels, outChannels, 16, 16)
            ? 4L * ((9L * outChannels * inChannels) + Winograd4x4.PackedLength(outChannels, inChannels) + Winograd4x4.PackedLength(inChannels, outChannels))
            : PackedBytes(outChannels, inChannels);

    public int OutChannels { get; }

    public int InChannels { get; }

    /// <summary>A copy of the last packed weights in PyTorch's (Co, Ci, 3, 3) layout.</summary>
    internal float[] Oihw { get; }

    /// <summary>[co/32][ky][kx][ci][32].</summary>
    internal float[] Forward { get; }

    /// <summary>[ci/32][ky][kx][co][32], flipped in space.</summary>
    internal float[] Backward { get; }

    /// <summary>[co][ky][kx][ci]: a (Co × 9·Ci) matrix, rows padded with zeros to <see cref="ColumnsStride"/>, for backward-input through a GEMM when Ci is small.</summary>
    internal float[] Columns { get; }

    /// <summary>Row stride of <see cref="Columns"/>: 9·Ci rounded up to a multiple of 32.</summary>
    internal int ColumnsStride => RoundUp(9 * InChannels);

    /// <summary>Packs weights given as (Co, Ci, 3, 3).</summary>
    public void Pack(ReadOnlySpan<float> weightOihw)
    {
        int co = OutChannels, ci = InChannels;
        if (weightOihw.Length != co * ci * 9)
        {
            KernelChecks.Throw($"Conv3x3Weights.Pack expects {co}×{ci}×3×3 = {co * ci * 9} floats, got {weightOihw.Length}.");
        }

        weightOihw.CopyTo(Oihw);
        Array.Clear(Forward);
        Array.Clear(Backward);
        Array.Clear(Columns);
        for (int o = 0; o < co; o++)
        {
            int ob = o / Block, ol = o % Block;
            for (int i = 0; i < ci; i++)
            {
                int ib = i / Block, il = i % Block;
                for (int t = 0; t < 9; t++)
                {
                    float v = weightOihw[((o * ci) + i) * 9 + t];
                    Forward[((((ob * 9) + t) * ci) + i) * Block + ol] = v;
                    int flipped = 8 - t; // (2−ky)*3 + (2−kx)
                    Backward[((((ib * 9) + flipped) * co) + o) * Block + il] = v;
                    Columns[(o * ColumnsStride) + (t * ci) + i] = v;
                }
            }
        }
    }

    internal static int RoundUp(int channels) => (channels + Block - 1) / Block * Block;
}
