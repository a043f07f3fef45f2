// 2×2 pooling, stride 2, floor (PyTorch ceil_mode=False), NHWC.
// MaxForward / AvgForward:  x (N,H,W,C)              -> y (N,H/2,W/2,C)
// MaxBackward:              x (N,H,W,C), dy (N,H/2,W/2,C) -> dx (N,H,W,C)   (overwritten)
// AvgBackward:              dy (N,H/2,W/2,C)         -> dx (N,H,W,C)   (overwritten)
// The max of a window is its first element in row-major order that is not beaten by a later one
// (v > max, or v is NaN while max is not): ties and the gradient go to the first, NaN propagates.
using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralStyle.Tensors.Kernels;

/// <summary>2×2 stride-2 max and average pooling (fast paths and references).</summary>
public static class Pool2x2
{
    public static void MaxForward(float[] x, int n, int h, int w, int c, float[] y)
    {
        Check(x, n, h, w, c, y, nameof(y));
        int ho = h / 2, wo = w / 2;
        KernelThreading.For(n * ho, MinRows(wo, c), (start, end) =>
        {
            for (int row = start; row < end; row++)
            {
                int b = row / ho, oy = row % ho;
                for (int ox = 0; ox < wo; ox++)
                {
                    int i00 = (((b * h) + (2 * oy)) * w + (2 * ox)) * c;
                    int i10 = i00 + (w * c);
                    var dst = y.AsSpan(((row * wo) + ox) * c, c);
                    MaxOfFour(x.AsSpan(i00, c), x.AsSpan(i00 + c, c), x.AsSpan(i10, c), x.AsSpan(i10 + c, c), dst);
                }
            }
        });
    }

    public static void MaxBackward(float[] x, float[] dy, int n, int h, int w, int c, float[] dx)
    {
        Check(x, n, h, w, c, dy, nameof(dy));
        KernelChecks.Length(dx, (long)n * h * w * c, nameof(dx));
        int ho = h / 2, wo = w / 2;
        KernelThreading.For(n * h, MinRows(w, c) * 2, (start, end) =>
        {
            for (int inRow = start; inRow < end; inRow++)
            {
                int b = inRow / h, iy = inRow % h;
                int rowBase = inRow * w * c;
                if (iy / 2 >= ho || (iy & 1) == 1)
                {
                    // Odd rows are written together with the even row above; a dropped last row gets zeros.
                    if (iy / 2 >= ho)
                    {
                        Array.Clear(dx, rowBase, w * c);
                    }

                    continue;
                }

                int oy = iy / 2;
                for (int ox = 0; ox < wo; ox++)
                {
                    int i00 = rowBase + (2 * ox * c);
                    int i01 = i00 + c, i10 = i00 + (w * c), i11 = i10 + c;
                    int o = (((b * ho) + oy) * wo + ox) * c;
                    RouteToMax(x.AsSpan(i00, c), x.AsSpan(i01, c), x.AsSpan(i10, c), x.AsSpan(i11, c), dy.AsSpan(o, c),
                               dx.AsSpan(i00, c), dx.AsSpan(i01, c), dx.AsSpan(i10, c), dx.AsSpan(i11, c));
                }

                if ((w & 1) == 1)
                {
                    Array.Clear(dx, rowBase + ((w - 1) * c), c);
                    Array.Clear(dx, rowBase + (w * c) + ((w - 1) * c), c);
                }
            }
        });
    }

    public static void AvgForward(float[] x, int n, int h, int w, int c, float[] y)
    {
        Check(x, n, h, w, c, y, nameof(y));
        int ho = h / 2, wo = w / 2;
        KernelThreading.For(n * ho, MinRows(wo, c), (start, end) =>
        {
            for (int row = start; row < end; row++)
            {
                int b = row / ho, oy = row % ho;
                for (int ox = 0; ox < wo; ox++)
                {
                    int i00 = (((b * h) + (2 * oy)) * w + (2 * ox)) * c;
                    int i10 = i00 + (w * c);
                    var dst = y.AsSpan(((row * wo) + ox) * c, c);
                    TensorPrimitives.Add(x.AsSpan(i00, c), x.AsSpan(i00 + c, c), dst);
                    TensorPrimitives.Add(dst, x.AsSpan(i10, c), dst);
                    TensorPrimitives.Add(dst, x.AsSpan(i10 + c, c), dst);
                    TensorPrimitives.Multiply(dst, 0.25f, dst);
                }
            }
        });
    }

    public static void AvgBackward(float[] dy, int n, int h, int w, int c, float[] dx)
    {
        Check(dx, n, h, w, c, dy, nameof(dy));
        int ho = h / 2, wo = w / 2;
        KernelThreading.For(n * h, MinRows(w, c) * 2, (start, end) =>
        {
            for (int inRow = start; inRow < end; inRow++)
            {
                int b = inRow / h, iy = inRow % h;
                var dst = dx.AsSpan(inRow * w * c, w * c);
                if (iy / 2 >= ho)
                {
                    dst.Clear();
                    continue;
                }

                int o = ((b * ho) + (iy / 2)) * wo * c;
                for (int ox = 0; ox < wo; ox++)
                {
                    var g = dy.AsSpan(o + (ox * c), c);
                    TensorPrimitives.Multiply(g, 0.25f, dst.Slice(2 * ox * c, c));
                    TensorPrimitives.Multiply(g, 0.25f, dst.Slice(((2 * ox) + 1) * c, c));
                }

                if ((w & 1) == 1)
                {
                    dst.Slice((w - 1) * c, c).Clear();
                }
            }
        });
    }

    public static void MaxForwardReference(float[] x, int n, int h, int w, int c, float[] y)
    {
        Check(x, n, h, w, c, y, nameof(y));
        int ho = h / 2, wo = w / 2;
        for (int b = 0; b < n; b++)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                for (int ox = 0; ox < wo; ox++)
                {
                    for (int ch = 0; ch < c; ch++)
                    {
                        float best = float.NaN;
                        int k = -1;
                        for (int t = 0; t < 4; t++)
                        {
                            float v = x[(((b * h) + (2 * oy) + (t / 2)) * w + (2 * ox) + (t % 2)) * c + ch];
                            if (k < 0 || v > best || (float.IsNaN(v) && !float.IsNaN(best)))
                            {
                                best = v;
                                k = t;
                            }
                        }

                        y[(((b * ho) + oy) * wo + ox) * c + ch] = best;
                    }
                }
            }
        }
    }

    public static void MaxBackwardReference(float[] x, float[] dy, int n, int h, int w, int c, float[] dx)
    {
        Check(x, n, h, w, c, dy, nameof(dy));
        KernelChecks.Length(dx, (long)n * h * w * c, nameof(dx));
        int ho = h / 2, wo = w / 2;
        Array.Clear(dx, 0, n * h * w * c);
        for (int b = 0; b < n; b++)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                for (int ox = 0; ox < wo; ox++)
                {
                    for (int ch = 0; ch < c; ch++)
                    {
                        float best = float.NaN;
                        int k = -1, at = -1;
                        for (int t = 0; t < 4; t++)
                        {
                            int idx = (((b * h) + (2 * oy) + (t / 2)) * w + (2 * ox) + (t % 2)) * c + ch;
                            float v = x[idx];
                            if (k < 0 || v > best || (float.IsNaN(v) && !float.IsNaN(best)))
                            {
                                best = v;
                                k = t;
                                at = idx;
                            }
                        }

                        dx[at] += dy[(((b * ho) + oy) * wo + ox) * c + ch];
                    }
                }
            }
        }
    }

    public static void AvgForwardReference(float[] x, int n, int h, int w, int c, float[] y)
    {
        Check(x, n, h, w, c, y, nameof(y));
        int ho = h / 2, wo = w / 2;
        for (int b = 0; b < n; b++)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                for (int ox = 0; ox < wo; ox++)
                {
                    for (int ch = 0; ch < c; ch++)
                    {
                        float sum = 0f;
                        for (int t = 0; t < 4; t++)
                        {
                            float v = x[(((b * h) + (2 * oy) + (t / 2)) * w + (2 * ox) + (t % 2)) * c + ch];
                            sum = t == 0 ? v : sum + v;
                        }

                        y[(((b * ho) + oy) * wo + ox) * c + ch] = sum * 0.25f;
                    }
                }
            }
        }
    }

    public static void AvgBackwardReference(float[] dy, int n, int h, int w, int c, float[] dx)
    {
        Check(dx, n, h, w, c, dy, nameof(dy));
        int ho = h / 2, wo = w / 2;
        Array.Clear(dx, 0, n * h * w * c);
        for (int b = 0; b < n; b++)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                for (int ox = 0; ox < wo; ox++)
                {
                    for (int ch = 0; ch < c; ch++)
                    {
                        float g = dy[(((b * ho) + oy) * wo + ox) * c + ch] * 0.25f;
                        for (int t = 0; t < 4; t++)
                        {
                            dx[(((b * h) + (2 * oy) + (t / 2)) * w + (2 * ox) + (t % 2)) * c + ch] = g;
                        }
                    }
                }
            }
        }
    }

    private static int ArgMax(float a, float b, float c, float d)
    {
        float best = a;
        int k = 0;
        if (b > best || (float.IsNaN(b) && !float.IsNaN(best)))
        {
            best = b;
            k = 1;
        }

        if (c > best || (float.IsNaN(c) && !float.IsNaN(best)))
        {
            best = c;
            k = 2;
        }

        if (d > best || (float.IsNaN(d) && !float.IsNaN(best)))
        {
            k = 3;
        }

        return k;
    }

    private static void MaxOfFour(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, ReadOnlySpan<float> d, Span<float> dst)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int width = Vector<float>.Count;
            for (; i <= dst.Length - width; i += width)
            {
                var best = new Vector<float>(a.Slice(i));
                best = Vector.ConditionalSelect(Beats(new Vector<float>(b.Slice(i)), best), new Vector<float>(b.Slice(i)), best);
                best = Vector.ConditionalSelect(Beats(new Vector<float>(c.Slice(i)), best), new Vector<float>(c.Slice(i)), best);
                best = Vector.ConditionalSelect(Beats(new Vector<float>(d.Slice(i)), best), new Vector<float>(d.Slice(i)), best);
                best.CopyTo(dst.Slice(i));
            }
        }

        for (; i < dst.Length; i++)
        {
            float best = a[i];
            if (b[i] > best || (float.IsNaN(b[i]) && !float.IsNaN(best)))
            {
                best = b[i];
            }

            if (c[i] > best || (float.IsNaN(c[i]) && !float.IsNaN(best)))
            {
                best = c[i];
            }

            if (d[i] > best || (float.IsNaN(d[i]) && !float.IsNaN(best)))
            {
                best = d[i];
            }

            dst[i] = best;
        }
    }

    /// <summary>dx of one window row pair: the gradient goes to the winner of each channel, zeros elsewhere.</summary>
    private static void RouteToMax(ReadOnlySpan<float> x00, ReadOnlySpan<float> x01, ReadOnlySpan<float> x10, ReadOnlySpan<float> x11,
                                   ReadOnlySpan<float> g, Span<float> d00, Span<float> d01, Span<float> d10, Span<float> d11)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int width = Vector<float>.Count;
            for (; i <= g.Length - width; i += width)
            {
                var v0 = new Vector<float>(x00.Slice(i));
                var v1 = new Vector<float>(x01.Slice(i));
                var v2 = new Vector<float>(x10.Slice(i));
                var v3 = new Vector<float>(x11.Slice(i));
                var m1 = Beats(v1, v0);
                var best = Vector.ConditionalSelect(m1, v1, v0);
                var m2 = Beats(v2, best);
                best = Vector.ConditionalSelect(m2, v2, best);
                var m3 = Beats(v3, best);

                // Winner: 3 if m3, else 2 if m2, else 1 if m1, else 0.
                var w3 = m3;
                var w2 = Vector.AndNot(m2, m3);
                var w1 = Vector.AndNot(Vector.AndNot(m1, m2), m3);
                var w0 = ~(m1 | m2 | m3);
                var gv = new Vector<float>(g.Slice(i));
                Vector.ConditionalSelect(w0, gv, Vector<float>.Zero).CopyTo(d00.Slice(i));
                Vector.ConditionalSelect(w1, gv, Vector<float>.Zero).CopyTo(d01.Slice(i));
                Vector.ConditionalSelect(w2, gv, Vector<float>.Zero).CopyTo(d10.Slice(i));
                Vector.ConditionalSelect(w3, gv, Vector<float>.Zero).CopyTo(d11.Slice(i));
            }
        }

        for (; i < g.Length; i++)
        {
            int k = ArgMax(x00[i], x01[i], x10[i], x11[i]);
            d00[i] = k == 0 ? g[i] : 0f;
            d01[i] = k == 1 ? g[i] : 0f;
            d10[i] = k == 2 ? g[i] : 0f;
            d11[i] = k == 3 ? g[i] : 0f;
        }
    }

    /// <summary>Lanes where v replaces the current best: v > best, or v is NaN and best is not.</summary>
    private static Vector<int> Beats(Vector<float> v, Vector<float> best)
    {
        var vNaN = ~Vector.Equals(v, v);
        var bestNaN = ~Vector.Equals(best, best);
        return Vector.GreaterThan(v, best) | Vector.AndNot(vNaN, bestNaN);
    }

    /// <summary>Rows per thread chunk so that a chunk holds at least ~16K elements.</summary>
    private static int MinRows(int width, int c) => Math.Max(1, 16384 / Math.Max(1, width * c));

    private static void Check(float[] full, int n, int h, int w, int c, float[] half, string halfName)
    {
        if (n < 0 || h < 0 || w < 0 || c < 1)
        {
            KernelChecks.Throw($"Pool2x2 needs non-negative sizes and c ≥ 1 (got n={n}, h={h}, w={w}, c={c}).");
        }

        KernelChecks.Length(full, (long)n * h * w * c, "x");
        KernelChecks.Length(half, (long)n * (h / 2) * (w / 2) * c, halfName);
    }
}
