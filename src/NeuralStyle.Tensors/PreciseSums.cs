using System.Numerics.Tensors;

namespace NeuralStyle.Tensors;

/// <summary>
/// Reductions over long float vectors: blocks of 4096 summed in float by SIMD, the blocks added in double, so a
/// 12-million-element loss or dot product keeps about double precision at float speed.
/// </summary>
public static class PreciseSums
{
    private const int Block = 4096;

    public static double Sum(ReadOnlySpan<float> x)
    {
        double total = 0;
        for (int i = 0; i < x.Length; i += Block) total += TensorPrimitives.Sum(x.Slice(i, Math.Min(Block, x.Length - i)));
        return total;
    }

    /// <summary>Σ |xᵢ| (the L1 norm).</summary>
    public static double SumOfMagnitudes(ReadOnlySpan<float> x)
    {
        double total = 0;
        for (int i = 0; i < x.Length; i += Block) total += TensorPrimitives.SumOfMagnitudes(x.Slice(i, Math.Min(Block, x.Length - i)));
        return total;
    }

    /// <summary>
    /// y += alpha·x, then returns Σ zᵢ·yᵢ of the updated y, block by block so each block of y is still in cache when
    /// it is read again (one pass over memory instead of two; long vectors split over the kernel threads by whole
    /// blocks), with the same result, bit for bit, as
    /// <c>TensorPrimitives.MultiplyAdd(x, alpha, y, y)</c> followed by <see cref="Dot"/>(z, y) (the reference the
    /// tests compare it with).
    /// </summary>
    public static double AxpyThenDot(float alpha, float[] x, float[] y, float[] z)
    {
        if (x.Length != y.Length || z.Length != y.Length) throw new ArgumentException("AxpyThenDot needs vectors of equal length.");
        int blocks = (y.Length + Block - 1) / Block;
        if (blocks < 2 * MinBlocksPerThread || Kernels.KernelThreading.MaxDegree < 2)
        {
            double total = 0;
            for (int b = 0; b < blocks; b++) total += AxpyThenDotBlock(alpha, x, y, z, b);
            return total;
        }
        // Threads take runs of blocks; each block's dot is kept and the blocks are added in order afterwards, so the
        // result does not depend on how the blocks were shared out.
        double[] partial = System.Buffers.ArrayPool<double>.Shared.Rent(blocks);
        try
        {
            Kernels.KernelThreading.For(blocks, MinBlocksPerThread, (b0, b1) =>
            {
                for (int b = b0; b < b1; b++) partial[b] = AxpyThenDotBlock(alpha, x, y, z, b);
            });
            double total = 0;
            for (int b = 0; b < blocks; b++) total += partial[b];
            return total;
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(partial);
        }
    }

    // Below 2 × 8 blocks (64k elements) one thread is faster than handing work out.
    private const int MinBlocksPerThread = 8;

    private static double AxpyThenDotBlock(float alpha, float[] x, float[] y, float[] z, int block)
    {
        int i = block * Block, len = Math.Min(Block, y.Length - i);
        Span<float> yb = y.AsSpan(i, len);
        TensorPrimitives.MultiplyAdd(x.AsSpan(i, len), alpha, yb, yb);
        return TensorPrimitives.Dot(z.AsSpan(i, len), yb);
    }

    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException("Dot needs vectors of equal length.");
        double total = 0;
        for (int i = 0; i < a.Length; i += Block)
        {
            int len = Math.Min(Block, a.Length - i);
            total += TensorPrimitives.Dot(a.Slice(i, len), b.Slice(i, len));
        }
        return total;
    }
}
