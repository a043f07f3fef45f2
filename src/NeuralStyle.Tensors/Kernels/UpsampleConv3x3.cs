// Nearest ×2 upsampling followed by a reflect-padded 3×3 convolution (the Johnson network's decoder), computed on the
// low-resolution input without the 4× upsampled buffer. Each output phase (a, b) = (row, column) parity sees only a
// 2×2 neighbourhood of the input, so the 3×3 kernel folds into four 2×2 kernels (4/9 of the multiply-adds):
//   rows for a = 0: input rows i−1 (ky 0) and i (ky 1+2); a = 1: rows i (ky 0+1) and i+1 (ky 2); columns alike.
// Reflect padding by 1 of the upsampled image is replicate (clamp) padding of the input: U[−1] = U[1] = X[0] and
// U[2H] = U[2H−2] = X[H−1]. Each phase is an im2col (W pixels × 4·Ci) + GEMM whose output rows land 2·Co apart.
using System.Buffers;
using System.Numerics.Tensors;

namespace NeuralStyle.Tensors.Kernels;

public static class UpsampleConv3x3
{
    private const int ColFloats = 1 << 17;

    /// <summary>
    /// y (N,2H,2W,Co) = Conv2d(ReflectionPad2d(1)(UpsampleNearest(x, 2)), weight (Co,Ci,3,3) OIHW, bias), ReLU fused;
    /// x (N,H,W,Ci); y is overwritten.
    /// </summary>
    public static void Forward(float[] x, int n, int h, int w, int ci, int co, float[] weightOihw, float[]? bias, float[] y, bool relu)
    {
        Check(x, n, h, w, ci, co, weightOihw, bias, y);
        int kk = 4 * ci;
        float[] phases = ArrayPool<float>.Shared.Rent(4 * kk * co);
        try
        {
            PackPhases(weightOihw, ci, co, phases);
            int block = Math.Max(1, Math.Min(w, ColFloats / kk));
            int rows = n * h * 2; // (sample, input row, output-row parity)
            double flopsPerRow = 2.0 * 2 * w * kk * co;
            int minRows = (int)Math.Clamp(Math.Ceiling(2e6 / flopsPerRow), 1, int.MaxValue);
            KernelThreading.For(rows, minRows, (r0, r1) =>
            {
                float[] col = ArrayPool<float>.Shared.Rent(block * kk);
                try
                {
                    for (int r = r0; r < r1; r++)
                    {
                        int a = r & 1, i = (r >> 1) % h, b0 = (r >> 1) / h;
                        int oy = (2 * i) + a;
                        int yRow = ((b0 * 2 * h) + oy) * 2 * w * co;
                        for (int b = 0; b < 2; b++)
                        {
                            for (int j0 = 0; j0 < w; j0 += block)
                            {
                                int m = Math.Min(block, w - j0);
                                Im2Col(x, b0, h, w, ci, i, a, b, j0, m, col);
                                Gemm.SgemmSerial(false, false, m, co, kk, 1f, col, 0, kk, phases, ((a * 2) + b) * kk * co, co,
                                    0f, y, yRow + (((2 * j0) + b) * co), 2 * co);
                            }
                        }

                        if (bias is not null || relu)
                        {
                            for (int ox = 0; ox < 2 * w; ox++)
                            {
                                Span<float> px = y.AsSpan(yRow + (ox * co), co);
                                if (bias is not null) TensorPrimitives.Add(px, bias.AsSpan(0, co), px);
                                if (relu) TensorPrimitives.Max(px, 0f, px);
                            }
                        }
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
            ArrayPool<float>.Shared.Return(phases);
        }
    }

    /// <summary>Reference: upsample into a buffer, then <see cref="Conv2d.ForwardReference"/> with reflect padding.</summary>
    public static void ForwardReference(float[] x, int n, int h, int w, int ci, int co, float[] weightOihw, float[]? bias, float[] y, bool relu)
    {
        Check(x, n, h, w, ci, co, weightOihw, bias, y);
        var up = new float[n * 4 * h * w * ci];
        UpsampleNearest.ForwardReference(x, n, h, w, ci, 2, up);
        Conv2d.ForwardReference(up, n, 2 * h, 2 * w, ci, co, 3, 1, weightOihw, bias, y, ConvPadding.Reflect, relu);
    }

    /// <summary>phases[(a·2 + b)][(r·2 + s)·Ci + i][o] = Σ of w[o, i, ky, kx] over the (ky, kx) that phase tap (r, s) gathers.</summary>
    private static void PackPhases(float[] weight, int ci, int co, float[] phases)
    {
        int kk = 4 * ci;
        Array.Clear(phases, 0, 4 * kk * co);
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                    {
                        int r = Tap(a, ky), s = Tap(b, kx);
                        int baseOffset = (((a * 2) + b) * kk * co) + ((((r * 2) + s) * ci) * co);
                        for (int i = 0; i < ci; i++)
                            for (int o = 0; o < co; o++)
                                phases[baseOffset + (i * co) + o] += weight[((((o * ci) + i) * 3) + ky) * 3 + kx];
                    }
    }

    /// <summary>Which of the phase's two input taps (0: the lower index) kernel index k of parity a falls on.</summary>
    private static int Tap(int a, int k) => a == 0 ? (k == 0 ? 0 : 1) : (k == 2 ? 1 : 0);

    /// <summary>col[j] = the 2×2 clamped neighbourhood of input pixel (i, j0 + j) for phase (a, b), [r][s][ci].</summary>
    private static void Im2Col(float[] x, int b0, int h, int w, int ci, int i, int a, int b, int j0, int m, float[] col)
    {
        int kk = 4 * ci;
        for (int r = 0; r < 2; r++)
        {
            int iy = Math.Clamp(i + r - 1 + a, 0, h - 1);
            int rowBase = ((b0 * h) + iy) * w;
            for (int s = 0; s < 2; s++)
            {
                int dx = s - 1 + b;
                for (int j = 0; j < m; j++)
                {
                    int ix = Math.Clamp(j0 + j + dx, 0, w - 1);
                    Array.Copy(x, (rowBase + ix) * ci, col, (j * kk) + ((((r * 2) + s) * ci)), ci);
                }
            }
        }
    }

    private static void Check(float[] x, int n, int h, int w, int ci, int co, float[] weight, float[]? bias, float[] y)
    {
        if (n < 1 || h < 1 || w < 1 || ci < 1 || co < 1)
            throw new ArgumentException($"UpsampleConv3x3 needs positive sizes (got n={n}, h={h}, w={w}, ci={ci}, co={co}).");
        if (x.Length < (long)n * h * w * ci) throw new ArgumentException($"x holds {x.Length} values; (N,H,W,Ci) needs {(long)n * h * w * ci}.");
        if (weight.Length < co * ci * 9) throw new ArgumentException($"The weight holds {weight.Length} values; (Co,Ci,3,3) needs {co * ci * 9}.");
        if (bias is not null && bias.Length < co) throw new ArgumentException($"The bias holds {bias.Length} values, fewer than the {co} outputs.");
        if (y.Length < (long)n * 4 * h * w * co) throw new ArgumentException($"y holds {y.Length} values; (N,2H,2W,Co) needs {(long)n * 4 * h * w * co}.");
    }
}
