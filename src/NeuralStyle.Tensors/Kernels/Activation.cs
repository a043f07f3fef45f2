using System.Numerics;

namespace NeuralStyle.Tensors.Kernels;

/// <summary>Element-wise activation kernels.</summary>
public static class Activation
{
    // g (n), y (n) -> dst (n): dst = y > 0 ? g : 0 — the ReLU backward given the ReLU's OUTPUT y (dst may be g).
    public static void ReluMask(ReadOnlySpan<float> g, ReadOnlySpan<float> y, Span<float> dst)
    {
        if (y.Length != g.Length || dst.Length < g.Length) throw new ArgumentException("ReluMask needs spans of equal length.");
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int width = Vector<float>.Count;
            for (; i <= g.Length - width; i += width)
            {
                var yv = new Vector<float>(y[i..]);
                var gv = new Vector<float>(g[i..]);
                Vector.ConditionalSelect(Vector.GreaterThan(yv, Vector<float>.Zero), gv, Vector<float>.Zero).CopyTo(dst[i..]);
            }
        }
        for (; i < g.Length; i++) dst[i] = y[i] > 0f ? g[i] : 0f;
    }

    /// <summary>The obviously correct scalar version of <see cref="ReluMask"/>.</summary>
    public static void ReluMaskReference(ReadOnlySpan<float> g, ReadOnlySpan<float> y, Span<float> dst)
    {
        for (int i = 0; i < g.Length; i++) dst[i] = y[i] > 0f ? g[i] : 0f;
    }
}
