// Winograd F(2×2, 3×3) for stride-1 3×3 convolutions with zero or reflect padding 1 (the Johnson network's residual
// convolutions at inference): 16 multiplies per 2×2 output tile instead of 36, i.e. 2.25× fewer multiply-adds.
// Per block of tiles: V[ξ][tile][ci] = Bᵀ d B (d the 4×4 input patch, read through padded row/column tables, so no
// padded copy), then 16 GEMMs M[ξ] = V[ξ] · U[ξ] with U[ξ][ci][co] = G g Gᵀ (transformed once per frozen weight),
// then y = Aᵀ M A + bias per tile. The transforms only add and halve, so the error stays near direct convolution's.
// Reference: Conv2d.ForwardReference (k = 3, stride 1).
using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralStyle.Tensors.Kernels;

public static unsafe class Winograd2x2
{
    private const int TilesPerBlock = 32;

    /// <summary>U[ξ][ci][co] (16·Ci·Co floats) from OIHW 3×3 weights: G g Gᵀ with G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].</summary>
    public static float[] TransformWeights(float[] weightOihw, int co, int ci)
    {
        if (weightOihw.Length < co * ci * 9) throw new ArgumentException($"The weight holds {weightOihw.Length} values; (Co,Ci,3,3) needs {co * ci * 9}.");
        var u = new float[16 * ci * co];
        Span<double> gg = stackalloc double[12];
        for (int o = 0; o < co; o++)
        {
            for (int i = 0; i < ci; i++)
            {
                int at = ((o * ci) + i) * 9;
                for (int c = 0; c < 3; c++)
                {
                    double g0 = weightOihw[at + c], g1 = weightOihw[at + 3 + c], g2 = weightOihw[at + 6 + c];
                    gg[c] = g0;
                    gg[3 + c] = 0.5 * (g0 + g1 + g2);
                    gg[6 + c] = 0.5 * (g0 - g1 + g2);
                    gg[9 + c] = g2;
                }

                for (int r = 0; r < 4; r++)
                {
                    double a = gg[3 * r], b = gg[(3 * r) + 1], c = gg[(3 * r) + 2];
                    u[((((r * 4) + 0) * ci) + i) * co + o] = (float)a;
                    u[((((r * 4) + 1) * ci) + i) * co + o] = (float)(0.5 * (a + b + c));
                    u[((((r * 4) + 2) * ci) + i) * co + o] = (float)(0.5 * (a - b + c));
                    u[((((r * 4) + 3) * ci) + i) * co + o] = (float)c;
                }
            }
        }

        return u;
    }

    /// <summary>y (N,H,W,Co) = 3×3 convolution of x (N,H,W,Ci), padding 1 (Zero or Reflect), U from <see cref="TransformWeights"/>.</summary>
    public static void Forward(float[] x, int n, int h, int w, int ci, int co, float[] u, float[]? bias, float[] y, ConvPadding padding, bool relu)
    {
        if (padding is not (ConvPadding.Zero or ConvPadding.Reflect))
            throw new ArgumentException($"Winograd2x2 takes Zero or Reflect padding, not {padding}.");
        if (padding == ConvPadding.Reflect && (h < 2 || w < 2))
            throw new ArgumentException($"Reflect padding needs an input of at least 2×2, got {h}×{w}.");
        if (x.Length < (long)n * h * w * ci || y.Length < (long)n * h * w * co || u.Length < 16 * ci * co)
            throw new ArgumentException("Winograd2x2: an operand is shorter than its shape.");
        int th = (h + 1) / 2, tw = (w + 1) / 2, tiles = n * th * tw;
        // Source row of padded coordinate t − 1 for t in [0, 2·th + 2); −1 = a zero row. Rows past the input's own
        // padding feed only outputs that are not stored.
        int[] rows = new int[(2 * th) + 2], cols = new int[(2 * tw) + 2];
        for (int t = 0; t < rows.Length; t++) rows[t] = t - 1 <= h ? Conv2d.Source(t - 1, h, padding) : -1;
        for (int t = 0; t < cols.Length; t++) cols[t] = t - 1 <= w ? Conv2d.Source(t - 1, w, padding) : -1;
        int blocks = (tiles + TilesPerBlock - 1) / TilesPerBlock;
        double flopsPerBlock = 2.0 * 16 * TilesPerBlock * ci * co;
        int minBlocks = (int)Math.Clamp(Math.Ceiling(2e6 / flopsPerBlock), 1, int.MaxValue);
        KernelThreading.For(blocks, minBlocks, (b0, b1) =>
        {
            float[] v = ArrayPool<float>.Shared.Rent(16 * TilesPerBlock * ci);
            float[] m = ArrayPool<float>.Shared.Rent(16 * TilesPerBlock * co);
            float[] zeros = ArrayPool<float>.Shared.Rent(ci);
            Array.Clear(zeros, 0, ci);
            try
            {
                for (int blk = b0; blk < b1; blk++)
                {
                    int t0 = blk * TilesPerBlock, count = Math.Min(TilesPerBlock, tiles - t0);
                    for (int j = 0; j < count; j++)
                        InputTile(x, h, w, ci, th, tw, t0 + j, rows, cols, zeros, v, j, count);
                    for (int xi = 0; xi < 16; xi++)
                        Gemm.SgemmSerial(false, false, count, co, ci, 1f, v, xi * count * ci, ci, u, xi * ci * co, co, 0f, m, xi * count * co, co);
                    for (int j = 0; j < count; j++)
                        OutputTile(m, j, count, co, h, w, th, tw, t0 + j, bias, y, relu);
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

    /// <summary>V[ξ][j][·] = Bᵀ d B of tile <paramref name="tile"/>, Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].</summary>
    private static void InputTile(float[] x, int h, int w, int ci, int th, int tw, int tile, int[] rows, int[] cols, float[] zeros,
                                  float[] v, int j, int count)
    {
        int b = tile / (th * tw), rest = tile % (th * tw), ty = rest / tw, tx = rest % tw;
        Span<int> at = stackalloc int[16]; // start of d[r][c] in x, or −1 for zeros
        for (int r = 0; r < 4; r++)
        {
            int iy = rows[(2 * ty) + r];
            for (int c = 0; c < 4; c++)
            {
                int ix = cols[(2 * tx) + c];
                at[(r * 4) + c] = iy < 0 || ix < 0 ? -1 : ((((b * h) + iy) * w) + ix) * ci;
            }
        }

        int lanes = Vector<float>.Count, stride = count * ci;
        int i = 0;
        if (Vector512.IsHardwareAccelerated && ci >= 16)
        {
            fixed (float* xp = x, zp = zeros, vp = v)
            {
                nint* src = stackalloc nint[16];
                for (int k = 0; k < 16; k++) src[k] = at[k] < 0 ? (nint)zp : (nint)(xp + at[k]);
                i = InputChannels512(src, ci, vp + (j * ci), stride);
            }
        }

        Span<Vector<float>> d = stackalloc Vector<float>[16];
        for (; i + lanes <= ci; i += lanes)
        {
            for (int k = 0; k < 16; k++) d[k] = at[k] < 0 ? Vector<float>.Zero : new Vector<float>(x, at[k] + i);
            for (int c = 0; c < 4; c++)
            {
                // t = Bᵀ d, column c
                Vector<float> d0 = d[c], d1 = d[4 + c], d2 = d[8 + c], d3 = d[12 + c];
                d[c] = d0 - d2;
                d[4 + c] = d1 + d2;
                d[8 + c] = d2 - d1;
                d[12 + c] = d1 - d3;
            }

            int baseOffset = (j * ci) + i;
            for (int r = 0; r < 4; r++)
            {
                Vector<float> t0 = d[r * 4], t1 = d[(r * 4) + 1], t2 = d[(r * 4) + 2], t3 = d[(r * 4) + 3];
                (t0 - t2).CopyTo(v, baseOffset + (((r * 4) + 0) * stride));
                (t1 + t2).CopyTo(v, baseOffset + (((r * 4) + 1) * stride));
                (t2 - t1).CopyTo(v, baseOffset + (((r * 4) + 2) * stride));
                (t1 - t3).CopyTo(v, baseOffset + (((r * 4) + 3) * stride));
            }
        }

        Span<float> s = stackalloc float[16];
        for (; i < ci; i++)
        {
            for (int k = 0; k < 16; k++) s[k] = at[k] < 0 ? 0f : x[at[k] + i];
            for (int c = 0; c < 4; c++)
            {
                float d0 = s[c], d1 = s[4 + c], d2 = s[8 + c], d3 = s[12 + c];
                s[c] = d0 - d2;
                s[4 + c] = d1 + d2;
                s[8 + c] = d2 - d1;
                s[12 + c] = d1 - d3;
            }

            int baseOffset = (j * ci) + i;
            for (int r = 0; r < 4; r++)
            {
                float t0 = s[r * 4], t1 = s[(r * 4) + 1], t2 = s[(r * 4) + 2], t3 = s[(r * 4) + 3];
                v[baseOffset + (((r * 4) + 0) * stride)] = t0 - t2;
                v[baseOffset + (((r * 4) + 1) * stride)] = t1 + t2;
                v[baseOffset + (((r * 4) + 2) * stride)] = t2 - t1;
                v[baseOffset + (((r * 4) + 3) * stride)] = t1 - t3;
            }
        }
    }

    /// <summary>y tile = Aᵀ M A + bias (ReLU), Aᵀ = [1 1 1 0; 0 1 −1 −1]; outputs outside H×W are dropped.</summary>
    private static void OutputTile(float[] m, int j, int count, int co, int h, int w, int th, int tw, int tile, float[]? bias, float[] y, bool relu)
    {
        int b = tile / (th * tw), rest = tile % (th * tw), ty = rest / tw, tx = rest % tw;
        int oy = 2 * ty, ox = 2 * tx, stride = count * co;
        bool down = oy + 1 < h, right = ox + 1 < w;
        int y00 = ((((b * h) + oy) * w) + ox) * co, y01 = y00 + co, y10 = y00 + (w * co), y11 = y10 + co;
        int lanes = Vector<float>.Count;
        int o = 0;
        if (Vector512.IsHardwareAccelerated && co >= 16)
        {
            fixed (float* mp = m, yp = y, bp = bias)
            {
                o = OutputChannels512(mp + (j * co), stride, co, bp, yp + y00, right ? yp + y01 : null, down ? yp + y10 : null,
                                      down && right ? yp + y11 : null, relu);
            }
        }

        Span<Vector<float>> q = stackalloc Vector<float>[16];
        for (; o + lanes <= co; o += lanes)
        {
            for (int k = 0; k < 16; k++) q[k] = new Vector<float>(m, (k * stride) + (j * co) + o);
            // s = Aᵀ q (2×4), then s A (2×2)
            Vector<float> s00 = q[0] + q[4] + q[8], s01 = q[1] + q[5] + q[9], s02 = q[2] + q[6] + q[10], s03 = q[3] + q[7] + q[11];
            Vector<float> s10 = q[4] - q[8] - q[12], s11 = q[5] - q[9] - q[13], s12 = q[6] - q[10] - q[14], s13 = q[7] - q[11] - q[15];
            Vector<float> bv = bias is null ? Vector<float>.Zero : new Vector<float>(bias, o);
            Vector<float> r00 = s00 + s01 + s02 + bv, r01 = s01 - s02 - s03 + bv;
            Vector<float> r10 = s10 + s11 + s12 + bv, r11 = s11 - s12 - s13 + bv;
            if (relu)
            {
                r00 = Vector.Max(r00, Vector<float>.Zero);
                r01 = Vector.Max(r01, Vector<float>.Zero);
                r10 = Vector.Max(r10, Vector<float>.Zero);
                r11 = Vector.Max(r11, Vector<float>.Zero);
            }

            r00.CopyTo(y, y00 + o);
            if (right) r01.CopyTo(y, y01 + o);
            if (down) r10.CopyTo(y, y10 + o);
            if (down && right) r11.CopyTo(y, y11 + o);
        }

        Span<float> f = stackalloc float[16];
        for (; o < co; o++)
        {
            for (int k = 0; k < 16; k++) f[k] = m[(k * stride) + (j * co) + o];
            float s00 = f[0] + f[4] + f[8], s01 = f[1] + f[5] + f[9], s02 = f[2] + f[6] + f[10], s03 = f[3] + f[7] + f[11];
            float s10 = f[4] - f[8] - f[12], s11 = f[5] - f[9] - f[13], s12 = f[6] - f[10] - f[14], s13 = f[7] - f[11] - f[15];
            float bv = bias?[o] ?? 0f;
            float r00 = s00 + s01 + s02 + bv, r01 = s01 - s02 - s03 + bv, r10 = s10 + s11 + s12 + bv, r11 = s11 - s12 - s13 + bv;
            if (relu)
            {
                r00 = Math.Max(r00, 0f); r01 = Math.Max(r01, 0f); r10 = Math.Max(r10, 0f); r11 = Math.Max(r11, 0f);
            }

            y[y00 + o] = r00;
            if (right) y[y01 + o] = r01;
            if (down) y[y10 + o] = r10;
            if (down && right) y[y11 + o] = r11;
        }
    }

    /// <summary>The Vector512 body of <see cref="InputTile"/>: channels [0, 16⌊ci/16⌋) of one tile; returns the channels done.</summary>
    /// <remarks>src[k] points at channel 0 of d[k] (zeros for padding); v points at the tile's row of V[0].</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int InputChannels512(nint* src, int ci, float* v, nint stride)
    {
        float* s0 = (float*)src[0], s1 = (float*)src[1], s2 = (float*)src[2], s3 = (float*)src[3];
        float* s4 = (float*)src[4], s5 = (float*)src[5], s6 = (float*)src[6], s7 = (float*)src[7];
        float* s8 = (float*)src[8], s9 = (float*)src[9], s10 = (float*)src[10], s11 = (float*)src[11];
        float* s12 = (float*)src[12], s13 = (float*)src[13], s14 = (float*)src[14], s15 = (float*)src[15];
        int i = 0;
        for (; i + 16 <= ci; i += 16)
        {
            // t = Bᵀ d (rows), then each row r of t times B gives V[4r…4r+3]
            Vector512<float> d0, d1, d2, d3;
            d0 = Vector512.Load(s0 + i); d1 = Vector512.Load(s4 + i); d2 = Vector512.Load(s8 + i); d3 = Vector512.Load(s12 + i);
            Vector512<float> t00 = d0 - d2, t10 = d1 + d2, t20 = d2 - d1, t30 = d1 - d3;
            d0 = Vector512.Load(s1 + i); d1 = Vector512.Load(s5 + i); d2 = Vector512.Load(s9 + i); d3 = Vector512.Load(s13 + i);
            Vector512<float> t01 = d0 - d2, t11 = d1 + d2, t21 = d2 - d1, t31 = d1 - d3;
            d0 = Vector512.Load(s2 + i); d1 = Vector512.Load(s6 + i); d2 = Vector512.Load(s10 + i); d3 = Vector512.Load(s14 + i);
            Vector512<float> t02 = d0 - d2, t12 = d1 + d2, t22 = d2 - d1, t32 = d1 - d3;
            d0 = Vector512.Load(s3 + i); d1 = Vector512.Load(s7 + i); d2 = Vector512.Load(s11 + i); d3 = Vector512.Load(s15 + i);
            Vector512<float> t03 = d0 - d2, t13 = d1 + d2, t23 = d2 - d1, t33 = d1 - d3;
            float* o = v + i;
            StoreRow(t00, t01, t02, t03, o, stride);
            StoreRow(t10, t11, t12, t13, o + (4 * stride), stride);
            StoreRow(t20, t21, t22, t23, o + (8 * stride), stride);
            StoreRow(t30, t31, t32, t33, o + (12 * stride), stride);
        }

        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, Vector512<float> t3, float* o, nint stride)
    {
        (t0 - t2).Store(o);
        (t1 + t2).Store(o + stride);
        (t2 - t1).Store(o + (2 * stride));
        (t1 - t3).Store(o + (3 * stride));
    }

    /// <summary>The Vector512 body of <see cref="OutputTile"/>: channels [0, 16⌊co/16⌋); null outputs are outside the image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int OutputChannels512(float* m, nint stride, int co, float* bias, float* y00, float* y01, float* y10, float* y11, bool relu)
    {
        int o = 0;
        for (; o + 16 <= co; o += 16)
        {
            float* q = m + o;
            Vector512<float> q0 = Vector512.Load(q), q1 = Vector512.Load(q + stride), q2 = Vector512.Load(q + (2 * stride)), q3 = Vector512.Load(q + (3 * stride));
            Vector512<float> q4 = Vector512.Load(q + (4 * stride)), q5 = Vector512.Load(q + (5 * stride)), q6 = Vector512.Load(q + (6 * stride)), q7 = Vector512.Load(q + (7 * stride));
            Vector512<float> q8 = Vector512.Load(q + (8 * stride)), q9 = Vector512.Load(q + (9 * stride)), q10 = Vector512.Load(q + (10 * stride)), q11 = Vector512.Load(q + (11 * stride));
            Vector512<float> q12 = Vector512.Load(q + (12 * stride)), q13 = Vector512.Load(q + (13 * stride)), q14 = Vector512.Load(q + (14 * stride)), q15 = Vector512.Load(q + (15 * stride));
            Vector512<float> s00 = q0 + q4 + q8, s01 = q1 + q5 + q9, s02 = q2 + q6 + q10, s03 = q3 + q7 + q11;
            Vector512<float> s10 = q4 - q8 - q12, s11 = q5 - q9 - q13, s12 = q6 - q10 - q14, s13 = q7 - q11 - q15;
            Vector512<float> bv = bias is null ? Vector512<float>.Zero : Vector512.Load(bias + o);
            Vector512<float> r00 = s00 + s01 + s02 + bv, r01 = s01 - s02 - s03 + bv;
            Vector512<float> r10 = s10 + s11 + s12 + bv, r11 = s11 - s12 - s13 + bv;
            if (relu)
            {
                r00 = Vector512.Max(r00, Vector512<float>.Zero);
                r01 = Vector512.Max(r01, Vector512<float>.Zero);
                r10 = Vector512.Max(r10, Vector512<float>.Zero);
                r11 = Vector512.Max(r11, Vector512<float>.Zero);
            }

            r00.Store(y00 + o);
            if (y01 != null) r01.Store(y01 + o);
            if (y10 != null) r10.Store(y10 + o);
            if (y11 != null) r11.Store(y11 + o);
        }

        return o;
    }
}
