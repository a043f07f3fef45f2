// Winograd F(4×4, 3×3) for stride-1 3×3 convolutions with zero or reflect padding 1 (the Johnson network's residual
// convolutions at inference on AVX-512): 36 multiplies per 4×4 output tile instead of 144, i.e. 4× fewer multiply-adds
// than direct convolution and 1.78× fewer than F(2×2, 3×3) (Winograd2x2). Same structure as Winograd2x2: per block of
// tiles, V[ξ][tile][ci] = Bᵀ d B (d the 6×6 input patch read through padded row/column tables), 36 GEMMs
// M[ξ] = V[ξ] · U[ξ] with U = G g Gᵀ transformed once per frozen weight (in double), then y = Aᵀ M A + bias per tile.
// Interpolation points 0, ±1, ±2, ∞ (Lavin & Gray): the transforms scale by up to 8, so the rounding error is a few
// times direct convolution's (still ~1e-6 relative on unit-scale data; compared against Conv2d.ForwardReference).
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralStyle.Tensors.Kernels;

public static unsafe partial class Winograd4x4
{
    private const int TilesPerBlock = 32;

    /// <summary>U[ξ][ci][co] (36·Ci·Co floats, ξ = 6·row + column) from OIHW 3×3 weights: G g Gᵀ.</summary>
    public static float[] TransformWeights(float[] weightOihw, int co, int ci)
    {
        if (weightOihw.Length < co * ci * 9) throw new ArgumentException($"The weight holds {weightOihw.Length} values; (Co,Ci,3,3) needs {co * ci * 9}.");
        var u = new float[36 * ci * co];
        Span<double> out36 = stackalloc double[36];
        for (int o = 0; o < co; o++)
        {
            for (int i = 0; i < ci; i++)
            {
                TransformKernel(weightOihw.AsSpan(((o * ci) + i) * 9, 9), flip: false, out36);
                for (int xi = 0; xi < 36; xi++) u[(((xi * ci) + i) * co) + o] = (float)out36[xi];
            }
        }

        return u;
    }

    /// <summary>G g Gᵀ (6×6, row-major) of one 3×3 kernel g, or of g flipped in both directions; in double.</summary>
    private static void TransformKernel(ReadOnlySpan<float> g9, bool flip, Span<double> out36)
    {
        ReadOnlySpan<double> g = [1 / 4.0, 0, 0, -1 / 6.0, -1 / 6.0, -1 / 6.0, -1 / 6.0, 1 / 6.0, -1 / 6.0, 1 / 24.0, 1 / 12.0, 1 / 6.0, 1 / 24.0, -1 / 12.0, 1 / 6.0, 0, 0, 1];
        Span<double> t = stackalloc double[18]; // G g, 6×3
        for (int r = 0; r < 6; r++)
        {
            for (int c = 0; c < 3; c++)
            {
                double s = 0;
                for (int k = 0; k < 3; k++) s += g[(r * 3) + k] * g9[flip ? 8 - ((k * 3) + c) : (k * 3) + c];
                t[(r * 3) + c] = s;
            }
        }

        for (int r = 0; r < 6; r++)
        {
            for (int c = 0; c < 6; c++)
            {
                double s = 0;
                for (int k = 0; k < 3; k++) s += t[(r * 3) + k] * g[(c * 3) + k];
                out36[(r * 6) + c] = s;
            }
        }
    }

    /// <summary>y (N,H,W,Co) = 3×3 convolution of x (N,H,W,Ci), padding 1 (Zero or Reflect), U from <see cref="TransformWeights"/>.</summary>
    public static void Forward(float[] x, int n, int h, int w, int ci, int co, float[] u, float[]? bias, float[] y, ConvPadding padding, bool relu)
    {
        if (padding is not (ConvPadding.Zero or ConvPadding.Reflect))
            throw new ArgumentException($"Winograd4x4 takes Zero or Reflect padding, not {padding}.");
        if (padding == ConvPadding.Reflect && (h < 2 || w < 2))
            throw new ArgumentException($"Reflect padding needs an input of at least 2×2, got {h}×{w}.");
        if (x.Length < (long)n * h * w * ci || y.Length < (long)n * h * w * co || u.Length < 36 * ci * co || (bias is not null && bias.Length < co))
            throw new ArgumentException("Winograd4x4: an operand is shorter than its shape.");
        int th = (h + 3) / 4, tw = (w + 3) / 4, tiles = n * th * tw;
        // Source row of padded coordinate t − 1 for t in [0, 4·th + 2); −1 = a zero row. Rows past the input's own
        // padding feed only outputs that are not stored.
        int[] rows = new int[(4 * th) + 2], cols = new int[(4 * tw) + 2];
        for (int t = 0; t < rows.Length; t++) rows[t] = t - 1 <= h ? Conv2d.Source(t - 1, h, padding) : -1;
        for (int t = 0; t < cols.Length; t++) cols[t] = t - 1 <= w ? Conv2d.Source(t - 1, w, padding) : -1;
        int blocks = (tiles + TilesPerBlock - 1) / TilesPerBlock;
        double flopsPerBlock = 2.0 * 36 * TilesPerBlock * ci * co;
        int minBlocks = (int)Math.Clamp(Math.Ceiling(2e6 / flopsPerBlock), 1, int.MaxValue);
        KernelThreading.For(blocks, minBlocks, (b0, b1) =>
        {
            float[] v = ArrayPool<float>.Shared.Rent(36 * TilesPerBlock * ci);
            float[] m = ArrayPool<float>.Shared.Rent(36 * TilesPerBlock * co);
            float[] zeros = ArrayPool<float>.Shared.Rent(ci);
            Array.Clear(zeros, 0, ci);
            try
            {
                fixed (float* xp = x, vp = v, mp = m, zp = zeros, yp = y, bp = bias)
                {
                    nint* src = stackalloc nint[36];
                    for (int blk = b0; blk < b1; blk++)
                    {
                        int t0 = blk * TilesPerBlock, count = Math.Min(TilesPerBlock, tiles - t0);
                        for (int j = 0; j < count; j++)
                        {
                            int tile = t0 + j, b = tile / (th * tw), rest = tile % (th * tw), ty = rest / tw, tx = rest % tw;
                            for (int r = 0; r < 6; r++)
                            {
                                int iy = rows[(4 * ty) + r];
                                for (int c = 0; c < 6; c++)
                                {
                                    int ix = cols[(4 * tx) + c];
                                    src[(r * 6) + c] = iy < 0 || ix < 0 ? (nint)zp : (nint)(xp + ((((((long)b * h) + iy) * w) + ix) * ci));
                                }
                            }

                            InputTile<Unmasked>(src, null, ci, vp + (j * ci), (nint)count * ci);
                        }

                        for (int xi = 0; xi < 36; xi++)
                            Gemm.SgemmSerial(false, false, count, co, ci, 1f, v, xi * count * ci, ci, u, xi * ci * co, co, 0f, m, xi * count * co, co);
                        for (int j = 0; j < count; j++)
                        {
                            int tile = t0 + j, b = tile / (th * tw), rest = tile % (th * tw), ty = rest / tw, tx = rest % tw;
                            int oy = 4 * ty, ox = 4 * tx;
                            float* y0 = yp + ((((((long)b * h) + oy) * w) + ox) * co);
                            OutputTile(mp + (j * co), (nint)count * co, co, bp, y0, (nint)w * co, Math.Min(4, h - oy), Math.Min(4, w - ox), relu);
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(zeros);
                ArrayPool<float>.Shared.Return(m);
                ArrayPool<float>.Shared.Return(v);
            }
        });
    }

    /// <summary>
    /// V[ξ] row of one tile = Bᵀ d B; src[6r + c] points at channel 0 of d[r][c]; v at the tile's row of V[0]. With
    /// <see cref="Masked"/> (mask: pointers like src), d counts as 0 where the mask is not positive; the mode is a type
    /// argument so that the unmasked instantiation (the Johnson path) has no test in its loads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputTile<TMask>(nint* src, nint* mask, int ci, float* v, nint stride)
        where TMask : struct, IMaskMode
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float>* t = stackalloc Vector512<float>[36];
            for (; i + 16 <= ci; i += 16)
            {
                for (int c = 0; c < 6; c++)
                {
                    InputColumn(
                        Load<TMask>(src, mask, c, i), Load<TMask>(src, mask, 6 + c, i), Load<TMask>(src, mask, 12 + c, i),
                        Load<TMask>(src, mask, 18 + c, i), Load<TMask>(src, mask, 24 + c, i), Load<TMask>(src, mask, 30 + c, i),
                        out t[c], out t[6 + c], out t[12 + c], out t[18 + c], out t[24 + c], out t[30 + c]);
                }

                for (int r = 0; r < 6; r++)
                {
                    float* o = v + (6 * r * stride) + i;
                    InputColumn(t[6 * r], t[(6 * r) + 1], t[(6 * r) + 2], t[(6 * r) + 3], t[(6 * r) + 4], t[(6 * r) + 5],
                                out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3, out Vector512<float> o4, out Vector512<float> o5);
                    o0.Store(o);
                    o1.Store(o + stride);
                    o2.Store(o + (2 * stride));
                    o3.Store(o + (3 * stride));
                    o4.Store(o + (4 * stride));
                    o5.Store(o + (5 * stride));
                }
            }
        }

        float* s = stackalloc float[36];
        for (; i < ci; i++)
        {
            for (int c = 0; c < 6; c++)
            {
                InputColumn(Load1<TMask>(src, mask, c, i), Load1<TMask>(src, mask, 6 + c, i), Load1<TMask>(src, mask, 12 + c, i), Load1<TMask>(src, mask, 18 + c, i), Load1<TMask>(src, mask, 24 + c, i), Load1<TMask>(src, mask, 30 + c, i),
                            out s[c], out s[6 + c], out s[12 + c], out s[18 + c], out s[24 + c], out s[30 + c]);
            }

            for (int r = 0; r < 6; r++)
            {
                float* o = v + (6 * r * stride) + i;
                InputColumn(s[6 * r], s[(6 * r) + 1], s[(6 * r) + 2], s[(6 * r) + 3], s[(6 * r) + 4], s[(6 * r) + 5],
                            out o[0], out o[stride], out o[2 * stride], out o[3 * stride], out o[4 * stride], out o[5 * stride]);
            }
        }
    }

    // Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1] applied to one column.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputColumn(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3, Vector512<float> d4, Vector512<float> d5,
                                    out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3, out Vector512<float> o4, out Vector512<float> o5)
    {
        Vector512<float> a = d4 - (d2 * 4f), b = d3 - (d1 * 4f), c = d4 - d2, e = (d3 - d1) * 2f;
        o0 = (d0 * 4f) - (d2 * 5f) + d4;
        o1 = a + b;
        o2 = a - b;
        o3 = c + e;
        o4 = c - e;
        o5 = (d1 * 4f) - (d3 * 5f) + d5;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputColumn(float d0, float d1, float d2, float d3, float d4, float d5, out float o0, out float o1, out float o2, out float o3, out float o4, out float o5)
    {
        float a = d4 - (d2 * 4f), b = d3 - (d1 * 4f), c = d4 - d2, e = (d3 - d1) * 2f;
        o0 = (d0 * 4f) - (d2 * 5f) + d4;
        o1 = a + b;
        o2 = a - b;
        o3 = c + e;
        o4 = c - e;
        o5 = (d1 * 4f) - (d3 * 5f) + d5;
    }

    /// <summary>y tile = Aᵀ M A + bias (ReLU), the first rows × cols outputs stored (the rest fall outside the image).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputTile(float* m, nint stride, int co, float* bias, float* y, nint rowStride, int rows, int cols, bool relu)
    {
        int o = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float>* t = stackalloc Vector512<float>[24];
            for (; o + 16 <= co; o += 16)
            {
                float* q = m + o;
                for (int c = 0; c < 6; c++)
                {
                    OutputColumn(Vector512.Load(q + (c * stride)), Vector512.Load(q + ((6 + c) * stride)), Vector512.Load(q + ((12 + c) * stride)),
                                 Vector512.Load(q + ((18 + c) * stride)), Vector512.Load(q + ((24 + c) * stride)), Vector512.Load(q + ((30 + c) * stride)),
                                 out t[c], out t[6 + c], out t[12 + c], out t[18 + c]);
                }

                Vector512<float> bv = bias is null ? Vector512<float>.Zero : Vector512.Load(bias + o);
                for (int r = 0; r < rows; r++)
                {
                    OutputColumn(t[6 * r], t[(6 * r) + 1], t[(6 * r) + 2], t[(6 * r) + 3], t[(6 * r) + 4], t[(6 * r) + 5],
                                 out Vector512<float> y0, out Vector512<float> y1, out Vector512<float> y2, out Vector512<float> y3);
                    y0 += bv; y1 += bv; y2 += bv; y3 += bv;
                    if (relu)
                    {
                        y0 = Vector512.Max(y0, Vector512<float>.Zero);
                        y1 = Vector512.Max(y1, Vector512<float>.Zero);
                        y2 = Vector512.Max(y2, Vector512<float>.Zero);
                        y3 = Vector512.Max(y3, Vector512<float>.Zero);
                    }

                    float* dst = y + (r * rowStride) + o;
                    y0.Store(dst);
                    if (cols > 1) y1.Store(dst + co);
                    if (cols > 2) y2.Store(dst + (2 * co));
                    if (cols > 3) y3.Store(dst + (3 * co));
                }
            }
        }

        float* s = stackalloc float[24];
        float* f = stackalloc float[4];
        for (; o < co; o++)
        {
            float* q = m + o;
            for (int c = 0; c < 6; c++)
            {
                OutputColumn(q[c * stride], q[(6 + c) * stride], q[(12 + c) * stride], q[(18 + c) * stride], q[(24 + c) * stride], q[(30 + c) * stride],
                             out s[c], out s[6 + c], out s[12 + c], out s[18 + c]);
            }

            float bv = bias is null ? 0f : bias[o];
            for (int r = 0; r < rows; r++)
            {
                OutputColumn(s[6 * r], s[(6 * r) + 1], s[(6 * r) + 2], s[(6 * r) + 3], s[(6 * r) + 4], s[(6 * r) + 5], out f[0], out f[1], out f[2], out f[3]);
                for (int c = 0; c < cols; c++)
                {
                    float val = f[c] + bv;
                    y[(r * rowStride) + (c * co) + o] = relu ? Math.Max(val, 0f) : val;
                }
            }
        }
    }

    // Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1] applied to one column.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputColumn(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4, Vector512<float> m5,
                                     out Vector512<float> y0, out Vector512<float> y1, out Vector512<float> y2, out Vector512<float> y3)
    {
        Vector512<float> a = m1 + m2, b = m1 - m2, c = m3 + m4, e = m3 - m4;
        y0 = m0 + a + c;
        y1 = b + (e * 2f);
        y2 = a + (c * 4f);
        y3 = b + (e * 8f) + m5;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputColumn(float m0, float m1, float m2, float m3, float m4, float m5, out float y0, out float y1, out float y2, out float y3)
    {
        float a = m1 + m2, b = m1 - m2, c = m3 + m4, e = m3 - m4;
        y0 = m0 + a + c;
        y1 = b + (e * 2f);
        y2 = a + (c * 4f);
        y3 = b + (e * 8f) + m5;
    }
}
