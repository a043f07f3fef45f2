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
