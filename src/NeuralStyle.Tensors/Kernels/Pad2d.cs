// Explicit spatial padding of NHWC tensors.
// Forward:  x (N,H,W,C) -> y (N, top+H+bottom, left+W+right, C), y[b, oy, ox] = x[b, src(oy − top), src(ox − left)]
//           (Zero: 0 outside; Reflect: mirror without repeating the edge; Circular: wrap-around).
// Backward: dy -> dx (N,H,W,C), overwritten: every dy element is added to the x element it was read from.
// Valid is not a padding mode here. Reflect needs each amount < the size, Circular ≤ the size (as PyTorch).
namespace NeuralStyle.Tensors.Kernels;

/// <summary>Zero / reflect / circular padding of NHWC tensors and its adjoint (fast paths and references).</summary>
public static class Pad2d
{
    /// <summary>x (N,H,W,C) -> y (N,H+top+bottom,W+left+right,C), overwritten.</summary>
    public static void Forward(float[] x, int n, int h, int w, int c, int top, int bottom, int left, int right, ConvPadding mode, float[] y)
    {
        Check(n, h, w, c, top, bottom, left, right, mode);
        int ho = h + top + bottom, wo = w + left + right;
        KernelChecks.Length(x, (long)n * h * w * c, nameof(x));
        KernelChecks.Length(y, (long)n * ho * wo * c, nameof(y));
        int[] cols = SourceMap(wo, left, w, mode);
        KernelThreading.For(n * ho, Math.Max(1, 65536 / Math.Max(1, wo * c)), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int b = r / ho, oy = r % ho;
                Span<float> dst = y.AsSpan(r * wo * c, wo * c);
                int iy = Conv2d.Source(oy - top, h, mode);
                if (iy < 0)
                {
                    dst.Clear();
                    continue;
                }

                ReadOnlySpan<float> src = x.AsSpan(((b * h) + iy) * w * c, w * c);
                src.CopyTo(dst.Slice(left * c, w * c));
                for (int ox = 0; ox < left; ox++)
                {
                    CopyPixel(src, cols[ox], dst, ox, c);
                }

                for (int ox = left + w; ox < wo; ox++)
                {
                    CopyPixel(src, cols[ox], dst, ox, c);
                }
            }
        });
    }

    /// <summary>dy (N,H+top+bottom,W+left+right,C) -> dx (N,H,W,C), overwritten.</summary>
    public static void Backward(float[] dy, int n, int h, int w, int c, int top, int bottom, int left, int right, ConvPadding mode, float[] dx)
    {
        Check(n, h, w, c, top, bottom, left, right, mode);
        int ho = h + top + bottom, wo = w + left + right;
        KernelChecks.Length(dy, (long)n * ho * wo * c, nameof(dy));
        KernelChecks.Length(dx, (long)n * h * w * c, nameof(dx));
        int[] cols = SourceMap(wo, left, w, mode);
        int[] rows = SourceMap(ho, top, h, mode);

        // Each dx row gathers the (few) dy rows that read it, so threads never write the same row.
        KernelThreading.For(n * h, Math.Max(1, 65536 / Math.Max(1, wo * c)), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int b = r / h, iy = r % h;
                Span<float> dst = dx.AsSpan(r * w * c, w * c);
                dst.Clear();
                for (int oy = 0; oy < ho; oy++)
                {
                    if (rows[oy] != iy)
                    {
                        continue;
                    }

                    ReadOnlySpan<float> src = dy.AsSpan(((b * ho) + oy) * wo * c, wo * c);
                    System.Numerics.Tensors.TensorPrimitives.Add(dst, src.Slice(left * c, w * c), dst);
                    for (int ox = 0; ox < wo; ox++)
                    {
                        if ((ox < left || ox >= left + w) && cols[ox] >= 0)
                        {
                            Span<float> d = dst.Slice(cols[ox] * c, c);
                            System.Numerics.Tensors.TensorPrimitives.Add(d, src.Slice(ox * c, c), d);
                        }
                    }
                }
            }
        });
    }

    /// <summary>Reference of <see cref="Forward"/>.</summary>
    public static void ForwardReference(float[] x, int n, int h, int w, int c, int top, int bottom, int left, int right, ConvPadding mode, float[] y)
    {
        Check(n, h, w, c, top, bottom, left, right, mode);
        int ho = h + top + bottom, wo = w + left + right;
        for (int b = 0; b < n; b++)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                for (int ox = 0; ox < wo; ox++)
                {
                    int iy = Conv2d.Source(oy - top, h, mode), ix = Conv2d.Source(ox - left, w, mode);
                    for (int ch = 0; ch < c; ch++)
                    {
                        y[((((b * ho) + oy) * wo) + ox) * c + ch] = iy < 0 || ix < 0 ? 0f : x[((((b * h) + iy) * w) + ix) * c + ch];
                    }
                }
            }
        }
    }

    /// <summary>Reference of <see cref="Backward"/>: scatter-add in double.</summary>
    public static void BackwardReference(float[] dy, int n, int h, int w, int c, int top, int bottom, int left, int right, ConvPadding mode, float[] dx)
    {
        Check(n, h, w, c, top, bottom, left, right, mode);
        int ho = h + top + bottom, wo = w + left + right;
        var acc = new double[n * h * w * c];
        for (int b = 0; b < n; b++)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                for (int ox = 0; ox < wo; ox++)
                {
                    int iy = Conv2d.Source(oy - top, h, mode), ix = Conv2d.Source(ox - left, w, mode);
                    if (iy < 0 || ix < 0)
                    {
                        continue;
                    }

                    for (int ch = 0; ch < c; ch++)
                    {
                        acc[((((b * h) + iy) * w) + ix) * c + ch] += dy[((((b * ho) + oy) * wo) + ox) * c + ch];
                    }
                }
            }
        }

        for (int i = 0; i < acc.Length; i++)
        {
            dx[i] = (float)acc[i];
        }
    }

    private static void CopyPixel(ReadOnlySpan<float> row, int ix, Span<float> dst, int ox, int c)
    {
        if (ix < 0)
        {
            dst.Slice(ox * c, c).Clear();
        }
        else
        {
            row.Slice(ix * c, c).CopyTo(dst.Slice(ox * c, c));
        }
    }

    private static int[] SourceMap(int outSize, int before, int size, ConvPadding mode)
    {
        var map = new int[outSize];
        for (int o = 0; o < outSize; o++)
        {
            map[o] = Conv2d.Source(o - before, size, mode);
        }

        return map;
    }

    private static void Check(int n, int h, int w, int c, int top, int bottom, int left, int right, ConvPadding mode)
    {
        if (n < 0 || h < 1 || w < 1 || c < 1 || top < 0 || bottom < 0 || left < 0 || right < 0)
        {
            KernelChecks.Throw($"Pad2d needs positive sizes and non-negative amounts (got n={n}, h={h}, w={w}, c={c}, pads {top},{bottom},{left},{right}).");
        }

        if (mode is not (ConvPadding.Zero or ConvPadding.Reflect or ConvPadding.Circular))
        {
            KernelChecks.Throw($"Pad2d pads with Zero, Reflect or Circular, not {mode}.");
        }

        int maxRows = Math.Max(top, bottom), maxCols = Math.Max(left, right);
        if (mode == ConvPadding.Reflect && (maxRows >= h || maxCols >= w))
        {
            KernelChecks.Throw($"Reflect padding ({top},{bottom},{left},{right}) must be smaller than the {h}×{w} input.");
        }

        if (mode == ConvPadding.Circular && (maxRows > h || maxCols > w))
        {
            KernelChecks.Throw($"Circular padding ({top},{bottom},{left},{right}) must not exceed the {h}×{w} input.");
        }
    }
}
