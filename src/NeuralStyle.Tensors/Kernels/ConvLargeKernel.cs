// Dedicated direct forward paths for the Johnson network's convolutions that im2col + GEMM serves badly: the 9×9
// first (3→32, K = 243: the GEMM's packing dominates) and last (32→3: three outputs leave a 32-wide GEMM tile nearly
// empty), and the 3×3 stride-2 downsampling ones (32→64, 64→128). All read x in place through padded row/column
// index tables (no padded copy, no im2col buffer) and split output rows over the threads.
//  - Broadcast (Co a multiple of 32; Ci ≤ 4 with k ≥ 5 at stride 1, or any Ci at stride 2): per block of 32
//    outputs, 8 output pixels × 32 outputs in 16 Vector512 accumulators, each input value broadcast against two
//    weight vectors (weights packed [co/32][ky][kx][ci][32]).
//  - FewOutputs (Ci a multiple of 32, Co = 3): 4 pixels × 3 outputs × 32 input channels in 24 Vector512
//    accumulators: the products run along the channels (weights packed [ky][kx][o][ci]) and are summed across lanes
//    once per output at the end.
// The reference of both is Conv2d.ForwardReference (Conv2d.cs); Conv2d.ForwardFast routes here when Applies.
using System.Buffers;
using System.Runtime.Intrinsics;

namespace NeuralStyle.Tensors.Kernels;

internal static unsafe class ConvLargeKernel
{
    /// <summary>Whether one of the dedicated paths takes this convolution.</summary>
    public static bool Applies(int ci, int co, int k, int stride, ConvPadding padding)
        => Vector512.IsHardwareAccelerated
           && padding is ConvPadding.Reflect or ConvPadding.Circular or ConvPadding.Valid
           && ((stride == 1 && k >= 5 && ((ci <= 4 && co == 32) || (ci % 32 == 0 && co == 3)))
               || (stride == 2 && co % 32 == 0));

    public static void Forward(float[] x, int n, int h, int w, int ci, int co, int k, int stride, float[] weight, float[]? bias, float[] y,
                               ConvPadding padding, bool relu)
    {
        int p = Conv2d.PadAmount(k, padding);
        int ho = Conv2d.OutSize(h, k, stride, padding), wo = Conv2d.OutSize(w, k, stride, padding);
        // Source row/column of padded coordinate t − p, for t in [0, (ho − 1)·s + k) / [0, (wo − 1)·s + k).
        int[] rows = new int[((ho - 1) * stride) + k], cols = new int[((wo - 1) * stride) + k];
        for (int t = 0; t < rows.Length; t++) rows[t] = Conv2d.Source(t - p, h, padding);
        for (int t = 0; t < cols.Length; t++) cols[t] = Conv2d.Source(t - p, w, padding);
        bool broadcast = co % 32 == 0; // otherwise Co = 3 (FewOutputs)
        float[] packed = ArrayPool<float>.Shared.Rent(k * k * ci * co);
        try
        {
            for (int o = 0; o < co; o++)
                for (int i = 0; i < ci; i++)
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++)
                        {
                            int tap = (ky * k) + kx;
                            float v = weight[((((o * ci) + i) * k) + ky) * k + kx];
                            if (broadcast) packed[(((((o / 32) * k * k) + tap) * ci + i) * 32) + (o % 32)] = v;
                            else packed[(((tap * 3) + o) * ci) + i] = v;
                        }

            double flopsPerRow = 2.0 * wo * k * k * ci * co;
            int minRows = (int)Math.Clamp(Math.Ceiling(2e6 / flopsPerRow), 1, int.MaxValue);
            KernelThreading.For(n * ho, minRows, (r0, r1) =>
            {
                fixed (float* xp = x, wp = packed, yp = y)
                fixed (int* rp = rows, cp = cols)
                {
                    for (int r = r0; r < r1; r++)
                    {
                        int b = r / ho, oy = r % ho;
                        float* yRow = yp + ((long)r * wo * co);
                        float* xImage = xp + ((long)b * h * w * ci);
                        if (broadcast)
                        {
                            for (int cb = 0; cb < co / 32; cb++)
                                RowBroadcast(xImage, w, ci, co, cb, k, stride, rp + (oy * stride), cp, wo, p, wp + ((long)cb * k * k * ci * 32), bias, yRow, relu);
                        }
                        else RowFewOutputs(xImage, w, ci, k, rp + oy, cp, wo, p, wp, bias, yRow, relu);
                    }
                }
            });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
        }
    }

    /// <summary>
    /// Outputs 32·cb … 32·cb + 31 of one output row: tiles of 8 pixels (x read at a fixed pixel stride inside the
    /// image, through the column table at the borders).
    /// </summary>
    private static void RowBroadcast(float* x, int w, int ci, int co, int cb, int k, int stride, int* rows, int* cols, int wo, int p, float* wp,
                                     float[]? bias, float* y, bool relu)
    {
        Vector512<float> b0 = Vector512<float>.Zero, b1 = b0;
        if (bias is not null)
        {
            fixed (float* bp = bias)
            {
                b0 = Vector512.Load(bp + (cb * 32));
                b1 = Vector512.Load(bp + (cb * 32) + 16);
            }
        }

        int* off = stackalloc int[8];
        int ox = 0;
        for (; ox < wo; ox += 8)
        {
            int m = Math.Min(8, wo - ox);
            Vector512<float> c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
            Vector512<float> c40 = b0, c41 = b1, c50 = b0, c51 = b1, c60 = b0, c61 = b1, c70 = b0, c71 = b1;
            // Pixels past the row's end read pixel ox (their results are not stored).
            bool contiguous = m == 8 && (ox * stride) - p >= 0 && ((ox + 7) * stride) + k - 1 - p < w;
            for (int ky = 0; ky < k; ky++)
            {
                float* xRow = x + ((long)rows[ky] * w * ci);
                for (int kx = 0; kx < k; kx++)
                {
                    float* wt = wp + ((((ky * k) + kx) * ci) * 32);
                    if (contiguous)
                    {
                        for (int j = 0; j < 8; j++) off[j] = (((ox + j) * stride) - p + kx) * ci;
                    }
                    else
                    {
                        for (int j = 0; j < 8; j++) off[j] = cols[((ox + (j < m ? j : 0)) * stride) + kx] * ci;
                    }

                    for (int c = 0; c < ci; c++)
                    {
                        Vector512<float> w0 = Vector512.Load(wt + (c * 32)), w1 = Vector512.Load(wt + (c * 32) + 16);
                        float* xc = xRow + c;
                        Vector512<float> v = Vector512.Create(xc[off[0]]);
                        c00 = Vector512.FusedMultiplyAdd(v, w0, c00); c01 = Vector512.FusedMultiplyAdd(v, w1, c01);
                        v = Vector512.Create(xc[off[1]]);
                        c10 = Vector512.FusedMultiplyAdd(v, w0, c10); c11 = Vector512.FusedMultiplyAdd(v, w1, c11);
                        v = Vector512.Create(xc[off[2]]);
                        c20 = Vector512.FusedMultiplyAdd(v, w0, c20); c21 = Vector512.FusedMultiplyAdd(v, w1, c21);
                        v = Vector512.Create(xc[off[3]]);
                        c30 = Vector512.FusedMultiplyAdd(v, w0, c30); c31 = Vector512.FusedMultiplyAdd(v, w1, c31);
                        v = Vector512.Create(xc[off[4]]);
                        c40 = Vector512.FusedMultiplyAdd(v, w0, c40); c41 = Vector512.FusedMultiplyAdd(v, w1, c41);
                        v = Vector512.Create(xc[off[5]]);
                        c50 = Vector512.FusedMultiplyAdd(v, w0, c50); c51 = Vector512.FusedMultiplyAdd(v, w1, c51);
                        v = Vector512.Create(xc[off[6]]);
                        c60 = Vector512.FusedMultiplyAdd(v, w0, c60); c61 = Vector512.FusedMultiplyAdd(v, w1, c61);
                        v = Vector512.Create(xc[off[7]]);
                        c70 = Vector512.FusedMultiplyAdd(v, w0, c70); c71 = Vector512.FusedMultiplyAdd(v, w1, c71);
                    }
                }
            }

            float* yo = y + (ox * co) + (cb * 32);
            Store(yo, c00, c01, relu);
            if (m > 1) Store(yo + co, c10, c11, relu);
            if (m > 2) Store(yo + (2 * co), c20, c21, relu);
            if (m > 3) Store(yo + (3 * co), c30, c31, relu);
            if (m > 4) Store(yo + (4 * co), c40, c41, relu);
            if (m > 5) Store(yo + (5 * co), c50, c51, relu);
            if (m > 6) Store(yo + (6 * co), c60, c61, relu);
            if (m > 7) Store(yo + (7 * co), c70, c71, relu);
        }
    }

    private static void Store(float* y, Vector512<float> a, Vector512<float> b, bool relu)
    {
        if (relu)
        {
            a = Vector512.Max(a, Vector512<float>.Zero);
            b = Vector512.Max(b, Vector512<float>.Zero);
        }

        a.Store(y);
        b.Store(y + 16);
    }

    /// <summary>One output row, Ci (a multiple of 32) → 3 outputs: tiles of 4 pixels, products along the channels.</summary>
    private static void RowFewOutputs(float* x, int w, int ci, int k, int* rows, int* cols, int wo, int p, float* wp, float[]? bias,
                                      float* y, bool relu)
    {
        float bias0 = bias?[0] ?? 0f, bias1 = bias?[1] ?? 0f, bias2 = bias?[2] ?? 0f;
        for (int ox = 0; ox < wo; ox += 4)
        {
            int m = Math.Min(4, wo - ox);
            Vector512<float> a00 = Vector512<float>.Zero, a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
            Vector512<float> a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
            Vector512<float> e00 = a00, e01 = a00, e02 = a00, e10 = a00, e11 = a00, e12 = a00;
            Vector512<float> e20 = a00, e21 = a00, e22 = a00, e30 = a00, e31 = a00, e32 = a00;
            for (int ky = 0; ky < k; ky++)
            {
                float* xRow = x + ((long)rows[ky] * w * ci);
                for (int kx = 0; kx < k; kx++)
                {
                    float* wt = wp + ((((ky * k) + kx) * 3) * ci);
                    float* x0 = xRow + ((long)cols[ox + kx] * ci);
                    float* x1 = xRow + ((long)cols[ox + (m > 1 ? 1 : 0) + kx] * ci);
                    float* x2 = xRow + ((long)cols[ox + (m > 2 ? 2 : 0) + kx] * ci);
                    float* x3 = xRow + ((long)cols[ox + (m > 3 ? 3 : 0) + kx] * ci);
                    for (int c = 0; c < ci; c += 32)
                    {
                        Vector512<float> w0a = Vector512.Load(wt + c), w0b = Vector512.Load(wt + c + 16);
                        Vector512<float> w1a = Vector512.Load(wt + ci + c), w1b = Vector512.Load(wt + ci + c + 16);
                        Vector512<float> w2a = Vector512.Load(wt + (2 * ci) + c), w2b = Vector512.Load(wt + (2 * ci) + c + 16);
                        Vector512<float> va = Vector512.Load(x0 + c), vb = Vector512.Load(x0 + c + 16);
                        a00 = Vector512.FusedMultiplyAdd(va, w0a, a00); e00 = Vector512.FusedMultiplyAdd(vb, w0b, e00);
                        a01 = Vector512.FusedMultiplyAdd(va, w1a, a01); e01 = Vector512.FusedMultiplyAdd(vb, w1b, e01);
                        a02 = Vector512.FusedMultiplyAdd(va, w2a, a02); e02 = Vector512.FusedMultiplyAdd(vb, w2b, e02);
                        va = Vector512.Load(x1 + c); vb = Vector512.Load(x1 + c + 16);
                        a10 = Vector512.FusedMultiplyAdd(va, w0a, a10); e10 = Vector512.FusedMultiplyAdd(vb, w0b, e10);
                        a11 = Vector512.FusedMultiplyAdd(va, w1a, a11); e11 = Vector512.FusedMultiplyAdd(vb, w1b, e11);
                        a12 = Vector512.FusedMultiplyAdd(va, w2a, a12); e12 = Vector512.FusedMultiplyAdd(vb, w2b, e12);
                        va = Vector512.Load(x2 + c); vb = Vector512.Load(x2 + c + 16);
                        a20 = Vector512.FusedMultiplyAdd(va, w0a, a20); e20 = Vector512.FusedMultiplyAdd(vb, w0b, e20);
                        a21 = Vector512.FusedMultiplyAdd(va, w1a, a21); e21 = Vector512.FusedMultiplyAdd(vb, w1b, e21);
                        a22 = Vector512.FusedMultiplyAdd(va, w2a, a22); e22 = Vector512.FusedMultiplyAdd(vb, w2b, e22);
                        va = Vector512.Load(x3 + c); vb = Vector512.Load(x3 + c + 16);
                        a30 = Vector512.FusedMultiplyAdd(va, w0a, a30); e30 = Vector512.FusedMultiplyAdd(vb, w0b, e30);
                        a31 = Vector512.FusedMultiplyAdd(va, w1a, a31); e31 = Vector512.FusedMultiplyAdd(vb, w1b, e31);
                        a32 = Vector512.FusedMultiplyAdd(va, w2a, a32); e32 = Vector512.FusedMultiplyAdd(vb, w2b, e32);
                    }
                }
            }

            float* yo = y + (ox * 3);
            Put(yo, a00 + e00, a01 + e01, a02 + e02, bias0, bias1, bias2, relu);
            if (m > 1) Put(yo + 3, a10 + e10, a11 + e11, a12 + e12, bias0, bias1, bias2, relu);
            if (m > 2) Put(yo + 6, a20 + e20, a21 + e21, a22 + e22, bias0, bias1, bias2, relu);
            if (m > 3) Put(yo + 9, a30 + e30, a31 + e31, a32 + e32, bias0, bias1, bias2, relu);
        }
    }

    private static void Put(float* y, Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, float b0, float b1, float b2, bool relu)
    {
        float v0 = Vector512.Sum(s0) + b0, v1 = Vector512.Sum(s1) + b1, v2 = Vector512.Sum(s2) + b2;
        y[0] = relu ? Math.Max(0f, v0) : v0;
        y[1] = relu ? Math.Max(0f, v1) : v1;
        y[2] = relu ? Math.Max(0f, v2) : v2;
    }
}
