// Fast drivers of Conv2d: im2col + Gemm. A block of output pixels is unfolded into col (pixels × K, K = k·k·Ci, one
// row per pixel laid out [ky][kx][ci], so each (pixel, ky) is one contiguous run of k·Ci floats of an x row when it
// is inside the image), then
//   forward:          y[block]  = col · Wt                  Wt (K × Co)  = w[o, i, ky, kx] at [(ky·k + kx)·Ci + i][o]
//                     (with ≤ 8 output channels: dot products of col rows with weight rows, no GEMM)
//   backward-weights: dW       += dy[block]ᵀ · col         (per-thread Co × K partials, added to dw at the end)
//   backward-input, stride 1: a forward correlation of dy with the flipped, transposed kernel (zero padding k−1−p);
//                    for Reflect/Circular into the gradient of the padded input, then folded back by Pad2d.Backward;
//   backward-input, stride > 1: dcol = dy[block] · W (Co × K), scattered back (col2im) into dx. Threads take chunks
//                    of output rows of at least k rows, even chunks first, then odd ones, so no two threads add
//                    to the same dx row at the same time.
// Blocks are sized so col stays in L2; every scratch buffer comes from ArrayPool and is returned.
using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralStyle.Tensors.Kernels;

public static partial class Conv2d
{
    private const int ColFloats = 1 << 17;   // target size of one im2col block (512 KB)
    private const int NarrowOutput = 8;       // at most this many output channels: dot products instead of a GEMM

    private static void ForwardFast(float[] x, int n, int h, int w, int ci, int co, int k, int stride, float[] weight, float[]? bias, float[] y, ConvPadding padding, bool relu)
    {
        if (ConvLargeKernel.Applies(ci, co, k, stride, padding))
        {
            // The Johnson network's 9×9 and stride-2 convolutions (ConvLargeKernel.cs).
            ConvLargeKernel.Forward(x, n, h, w, ci, co, k, stride, weight, bias, y, padding, relu);
            return;
        }

        int ho = OutSize(h, k, stride, padding), wo = OutSize(w, k, stride, padding);
        float[] wt = ArrayPool<float>.Shared.Rent(k * k * ci * co);
        try
        {
            PackColumns(weight, co, ci, k, flip: false, wt);
            Correlate(x, n, h, w, ci, co, k, stride, PadAmount(k, padding), padding, ho, wo, wt, bias, y, relu);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(wt);
        }
    }

    private static void BackwardInputFast(float[] dy, int n, int h, int w, int ci, int co, int k, int stride, float[] weight, float[] dx, ConvPadding padding)
    {
        int ho = OutSize(h, k, stride, padding), wo = OutSize(w, k, stride, padding), p = PadAmount(k, padding);
        if (stride > 1)
        {
            BackwardInputScatter(dy, n, h, w, ci, co, k, stride, p, padding, ho, wo, weight, dx);
            return;
        }

        float[] wt = ArrayPool<float>.Shared.Rent(k * k * ci * co);
        try
        {
            // The flipped kernel with channels swapped: (K' = k·k·Co) × Ci.
            PackColumns(weight, co, ci, k, flip: true, wt);
            if (padding is ConvPadding.Zero or ConvPadding.Valid)
            {
                Correlate(dy, n, ho, wo, co, ci, k, 1, k - 1 - p, ConvPadding.Zero, h, w, wt, null, dx, relu: false);
                return;
            }

            int hp = h + (2 * p), wp = w + (2 * p);
            float[] padded = ArrayPool<float>.Shared.Rent(n * hp * wp * ci);
            try
            {
                Correlate(dy, n, ho, wo, co, ci, k, 1, k - 1, ConvPadding.Zero, hp, wp, wt, null, padded, relu: false);
                Pad2d.Backward(padded, n, h, w, ci, p, p, p, p, padding, dx);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(padded);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(wt);
        }
    }

    private static void BackwardWeightsFast(float[] x, float[] dy, int n, int h, int w, int ci, int co, int k, int stride, float[] dw, float[]? db, ConvPadding padding)
    {
        int ho = OutSize(h, k, stride, padding), wo = OutSize(w, k, stride, padding), p = PadAmount(k, padding);
        int kk = k * k * ci, pixels = n * ho * wo;
        // Longer pixel runs than the forward pass: the GEMM re-reads and re-writes its C (Co × K) once per block.
        int block = Math.Clamp(4 * ColFloats / kk / 8 * 8, 64, 1024);
        int blocks = (pixels + block - 1) / block;
        var gate = new Lock();
        double flopsPerBlock = 2.0 * block * kk * co;
        int minBlocks = (int)Math.Clamp(Math.Ceiling(4e6 / flopsPerBlock), 1, int.MaxValue);
        float[] total = ArrayPool<float>.Shared.Rent(co * kk);
        double[] totalBias = new double[co];
        Array.Clear(total, 0, co * kk);
        try
        {
            KernelThreading.For(blocks, minBlocks, (b0, b1) =>
            {
                float[] col = ArrayPool<float>.Shared.Rent(block * kk);
                float[] partial = ArrayPool<float>.Shared.Rent(co * kk);
                double[]? partialBias = db is null ? null : new double[co];
                try
                {
                    Array.Clear(partial, 0, co * kk);
                    for (int blk = b0; blk < b1; blk++)
                    {
                        int p0 = blk * block, m = Math.Min(block, pixels - p0);
                        Im2Col(x, h, w, ci, k, stride, p, padding, ho, wo, p0, m, col);
                        Gemm.SgemmSerial(true, false, co, kk, m, 1f, dy, p0 * co, co, col, 0, kk, 1f, partial, 0, kk);
                        if (partialBias is not null)
                        {
                            for (int j = 0; j < m; j++)
                            {
                                int row = (p0 + j) * co;
                                for (int o = 0; o < co; o++)
                                {
                                    partialBias[o] += dy[row + o];
                                }
                            }
                        }
                    }

                    lock (gate)
                    {
                        TensorPrimitives.Add(total.AsSpan(0, co * kk), partial.AsSpan(0, co * kk), total.AsSpan(0, co * kk));
                        if (partialBias is not null)
                        {
                            for (int o = 0; o < co; o++)
                            {
                                totalBias[o] += partialBias[o];
                            }
                        }
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(partial);
                    ArrayPool<float>.Shared.Return(col);
                }
            });

            // total is [o][ky][kx][i]; dw is [o][i][ky][kx].
            for (int o = 0; o < co; o++)
            {
                for (int i = 0; i < ci; i++)
                {
                    for (int t = 0; t < k * k; t++)
                    {
                        dw[(((o * ci) + i) * k * k) + t] += total[(o * kk) + (t * ci) + i];
                    }
                }
            }

            if (db is not null)
            {
                for (int o = 0; o < co; o++)
                {
                    db[o] += (float)totalBias[o];
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(total);
        }
    }

    /// <summary>
    /// y (N,ho,wo,co) = correlation of x (N,h,w,ci) with the packed columns wt (k·k·ci × co), top/left padding
    /// <paramref name="pad"/> of kind <paramref name="mode"/>, stride s; bias and ReLU fused.
    /// </summary>
    private static void Correlate(float[] x, int n, int h, int w, int ci, int co, int k, int stride, int pad, ConvPadding mode,
                                  int ho, int wo, float[] wt, float[]? bias, float[] y, bool relu)
    {
        int kk = k * k * ci, pixels = n * ho * wo;
        int block = Math.Clamp(ColFloats / kk / 8 * 8, 32, 512);
        int blocks = (pixels + block - 1) / block;
        double flopsPerBlock = 2.0 * block * kk * co;
        int minBlocks = (int)Math.Clamp(Math.Ceiling(2e6 / flopsPerBlock), 1, int.MaxValue);

        // Few output channels would leave most of the GEMM's 32-wide column tile empty (and a transposed GEMM spends
        // its time packing col): with at most NarrowOutput channels each output is a dot product of a col row with a
        // weight row, four pixels per weight load (NarrowDots).
        bool narrow = co <= NarrowOutput;
        float[]? wmat = null;
        if (narrow)
        {
            wmat = ArrayPool<float>.Shared.Rent(co * kk);
            for (int t = 0; t < kk; t++)
            {
                for (int o = 0; o < co; o++)
                {
                    wmat[(o * kk) + t] = wt[(t * co) + o];
                }
            }
        }

        try
        {
            KernelThreading.For(blocks, minBlocks, (b0, b1) =>
            {
                float[] col = ArrayPool<float>.Shared.Rent(block * kk);
                try
                {
                    for (int blk = b0; blk < b1; blk++)
                    {
                        int p0 = blk * block, m = Math.Min(block, pixels - p0);
                        Im2Col(x, h, w, ci, k, stride, pad, mode, ho, wo, p0, m, col);
                        if (narrow)
                        {
                            NarrowDots(col, m, kk, wmat!, co, y, p0 * co);
                        }
                        else
                        {
                            Gemm.SgemmSerial(false, false, m, co, kk, 1f, col, 0, kk, wt, 0, co, 0f, y, p0 * co, co);
                        }

                        BiasRelu(y, p0, m, co, bias, relu);
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(col);
                }
            });
        }
        finally
        {
            if (wmat is not null)
            {
                ArrayPool<float>.Shared.Return(wmat);
            }
        }
    }

    /// <summary>
    /// y[yOffset + j·co + o] = col row j · wmat row o (length kk) for j &lt; m, o &lt; co: four pixels share each
    /// weight load, and the rows stay in L1/L2 across the o loop.
    /// </summary>
    private static void NarrowDots(float[] col, int m, int kk, float[] wmat, int co, float[] y, int yOffset)
    {
        int lanes = Vector<float>.Count;
        int vecEnd = kk - (kk % lanes);
        ReadOnlySpan<float> cs = col.AsSpan(0, m * kk);
        int j = 0;
        for (; j + 4 <= m; j += 4)
        {
            ReadOnlySpan<float> c0 = cs.Slice(j * kk, kk), c1 = cs.Slice((j + 1) * kk, kk);
            ReadOnlySpan<float> c2 = cs.Slice((j + 2) * kk, kk), c3 = cs.Slice((j + 3) * kk, kk);
            for (int o = 0; o < co; o++)
            {
                ReadOnlySpan<float> wr = wmat.AsSpan(o * kk, kk);
                Vector<float> a0 = Vector<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                for (int t = 0; t < vecEnd; t += lanes)
                {
                    var wv = new Vector<float>(wr.Slice(t));
                    a0 += wv * new Vector<float>(c0.Slice(t));
                    a1 += wv * new Vector<float>(c1.Slice(t));
                    a2 += wv * new Vector<float>(c2.Slice(t));
                    a3 += wv * new Vector<float>(c3.Slice(t));
                }

                float s0 = Vector.Sum(a0), s1 = Vector.Sum(a1), s2 = Vector.Sum(a2), s3 = Vector.Sum(a3);
                for (int t = vecEnd; t < kk; t++)
                {
                    s0 += wr[t] * c0[t];
                    s1 += wr[t] * c1[t];
                    s2 += wr[t] * c2[t];
                    s3 += wr[t] * c3[t];
                }

                int at = yOffset + (j * co) + o;
                y[at] = s0;
                y[at + co] = s1;
                y[at + (2 * co)] = s2;
                y[at + (3 * co)] = s3;
            }
        }

        for (; j < m; j++)
        {
            for (int o = 0; o < co; o++)
            {
                y[yOffset + (j * co) + o] = TensorPrimitives.Dot(cs.Slice(j * kk, kk), wmat.AsSpan(o * kk, kk));
            }
        }
    }

    /// <summary>Adds the bias to, and clamps at zero, the output rows p0…p0+m−1.</summary>
    private static void BiasRelu(float[] y, int p0, int m, int co, float[]? bias, bool relu)
    {
        if (bias is null && !relu)
        {
            return;
        }

        for (int j = 0; j < m; j++)
        {
            Span<float> row = y.AsSpan((p0 + j) * co, co);
            if (bias is not null)
            {
                TensorPrimitives.Add(row, bias.AsSpan(0, co), row);
            }

            if (relu)
            {
                TensorPrimitives.Max(row, 0f, row);
            }
        }
    }

    private static void BackwardInputScatter(float[] dy, int n, int h, int w, int ci, int co, int k, int stride, int pad, ConvPadding mode,
                                             int ho, int wo, float[] weight, float[] dx)
    {
        int kk = k * k * ci;
        float[] wmat = ArrayPool<float>.Shared.Rent(co * kk);
        try
        {
            // W as a (Co × K) matrix, columns [ky][kx][ci].
            for (int o = 0; o < co; o++)
            {
                for (int i = 0; i < ci; i++)
                {
                    for (int t = 0; t < k * k; t++)
                    {
                        wmat[(o * kk) + (t * ci) + i] = weight[(((o * ci) + i) * k * k) + t];
                    }
                }
            }

            Array.Clear(dx, 0, n * h * w * ci);

            // Chunks of ≥ k output rows per image, an even number of them (or one): chunks of the same parity never
            // reach the same dx rows, wrap-around and reflection included.
            int chunks = ho / Math.Max(k, 8);
            chunks = chunks >= 2 ? chunks - (chunks % 2) : 1;
            int phases = chunks == 1 ? 1 : 2, perPhase = chunks / phases;
            int block = Math.Clamp(ColFloats / kk / 8 * 8, 32, 256);
            for (int phase = 0; phase < phases; phase++)
            {
                KernelThreading.For(n * perPhase, 1, (u0, u1) =>
                {
                    float[] dcol = ArrayPool<float>.Shared.Rent(block * kk);
                    try
                    {
                        for (int u = u0; u < u1; u++)
                        {
                            int b = u / perPhase, chunk = ((u % perPhase) * phases) + phase;
                            int oy0 = (int)((long)ho * chunk / chunks), oy1 = (int)((long)ho * (chunk + 1) / chunks);
                            int first = ((b * ho) + oy0) * wo, end = ((b * ho) + oy1) * wo;
                            for (int p0 = first; p0 < end; p0 += block)
                            {
                                int m = Math.Min(block, end - p0);
                                Gemm.SgemmSerial(false, false, m, kk, co, 1f, dy, p0 * co, co, wmat, 0, kk, 0f, dcol, 0, kk);
                                Col2ImAdd(dcol, h, w, ci, k, stride, pad, mode, ho, wo, p0, m, dx);
                            }
                        }
                    }
                    finally
                    {
                        ArrayPool<float>.Shared.Return(dcol);
                    }
                });
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(wmat);
        }
    }

    /// <summary>wt[(ky·k + kx)·ci + i][o] = w[o, i, ky, kx] (K × co); flipped: wt'[(ky·k + kx)·co + o][i] = w[o, i, k−1−ky, k−1−kx] (K' × ci).</summary>
    private static void PackColumns(float[] weight, int co, int ci, int k, bool flip, float[] wt)
    {
        int taps = k * k;
        for (int o = 0; o < co; o++)
        {
            for (int i = 0; i < ci; i++)
            {
                for (int t = 0; t < taps; t++)
                {
                    float v = weight[(((o * ci) + i) * taps) + t];
                    if (flip)
                    {
                        wt[(((((taps - 1 - t) * co) + o)) * ci) + i] = v;
                    }
                    else
                    {
                        wt[(((t * ci) + i) * co) + o] = v;
                    }
                }
            }
        }
    }

    /// <summary>col[j] (k·k·ci floats, [ky][kx][ci]) = the receptive field of output pixel p0 + j.</summary>
    private static void Im2Col(float[] x, int h, int w, int ci, int k, int stride, int pad, ConvPadding mode, int ho, int wo, int p0, int count, float[] col)
    {
        int kk = k * k * ci, run = k * ci;
        Span<float> all = col.AsSpan(0, count * kk);
        for (int j = 0; j < count; j++)
        {
            int pix = p0 + j, ox = pix % wo, rest = pix / wo, oy = rest % ho, b = rest / ho;
            int ix0 = (ox * stride) - pad;
            bool inside = ix0 >= 0 && ix0 + k <= w;
            for (int ky = 0; ky < k; ky++)
            {
                Span<float> dst = all.Slice((j * kk) + (ky * run), run);
                int iy = Source((oy * stride) - pad + ky, h, mode);
                if (iy < 0)
                {
                    dst.Clear();
                    continue;
                }

                int rowBase = ((b * h) + iy) * w;
                if (inside)
                {
                    x.AsSpan(((rowBase + ix0) * ci), run).CopyTo(dst);
                    continue;
                }

                for (int kx = 0; kx < k; kx++)
                {
                    int ix = Source(ix0 + kx, w, mode);
                    if (ix < 0)
                    {
                        dst.Slice(kx * ci, ci).Clear();
                    }
                    else
                    {
                        x.AsSpan((rowBase + ix) * ci, ci).CopyTo(dst.Slice(kx * ci, ci));
                    }
                }
            }
        }
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: adds col[j] back into the input pixels it was read from.</summary>
    private static void Col2ImAdd(float[] col, int h, int w, int ci, int k, int stride, int pad, ConvPadding mode, int ho, int wo, int p0, int count, float[] dx)
    {
        int kk = k * k * ci, run = k * ci;
        for (int j = 0; j < count; j++)
        {
            int pix = p0 + j, ox = pix % wo, rest = pix / wo, oy = rest % ho, b = rest / ho;
            int ix0 = (ox * stride) - pad;
            bool inside = ix0 >= 0 && ix0 + k <= w;
            for (int ky = 0; ky < k; ky++)
            {
                int iy = Source((oy * stride) - pad + ky, h, mode);
                if (iy < 0)
                {
                    continue;
                }

                ReadOnlySpan<float> src = col.AsSpan((j * kk) + (ky * run), run);
                int rowBase = ((b * h) + iy) * w;
                if (inside)
                {
                    Span<float> dst = dx.AsSpan((rowBase + ix0) * ci, run);
                    TensorPrimitives.Add(dst, src, dst);
                    continue;
                }

                for (int kx = 0; kx < k; kx++)
                {
                    int ix = Source(ix0 + kx, w, mode);
                    if (ix >= 0)
                    {
                        Span<float> dst = dx.AsSpan((rowBase + ix) * ci, ci);
                        TensorPrimitives.Add(dst, src.Slice(kx * ci, ci), dst);
                    }
                }
            }
        }
    }
}
