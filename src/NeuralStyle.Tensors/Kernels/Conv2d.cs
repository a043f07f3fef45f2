// General 2-D convolution (any k, any stride), NHWC activations, PyTorch OIHW weights.
// Forward:         x (N,H,W,Ci), w (Co,Ci,k,k), b (Co) -> y (N,Ho,Wo,Co)        (overwritten)
// BackwardInput:   dy (N,Ho,Wo,Co), w (Co,Ci,k,k)      -> dx (N,H,W,Ci)         (overwritten)
// BackwardWeights: x (N,H,W,Ci), dy (N,Ho,Wo,Co)       -> dw (Co,Ci,k,k), db (Co)  (accumulated, +=)
// Padding p = k/2 on every side for Zero/Reflect/Circular, 0 for Valid; Ho = ⌊(H + 2p − k)/stride⌋ + 1, as
// PyTorch's Conv2d(padding=p), ReflectionPad2d(p)+Conv2d and padding_mode='circular'.
// y[b, oy, ox, o] = bias[o] + Σ_{ky,kx,i} x[b, src(oy·s − p + ky), src(ox·s − p + kx), i] · w[o, i, ky, kx]
// where src maps a padded coordinate to the input coordinate it reads (or to nothing, a zero).
namespace NeuralStyle.Tensors.Kernels;

/// <summary>General k×k, stride-s convolution kernels (fast im2col + GEMM paths and slow direct references).</summary>
public static partial class Conv2d
{
    /// <summary>The padding amount on each side: k/2, or 0 for Valid.</summary>
    public static int PadAmount(int kernel, ConvPadding padding) => padding == ConvPadding.Valid ? 0 : kernel / 2;

    /// <summary>Output size ⌊(size + 2p − k)/stride⌋ + 1 (may be ≤ 0 when the input is too small).</summary>
    public static int OutSize(int size, int kernel, int stride, ConvPadding padding)
        => FloorDiv(size + (2 * PadAmount(kernel, padding)) - kernel, stride) + 1;

    /// <summary>x (N,H,W,Ci), weights (Co,Ci,k,k), bias (Co) or null -> y (N,Ho,Wo,Co); y is overwritten; ReLU fused.</summary>
    public static void Forward(float[] x, int n, int h, int w, int inChannels, int outChannels, int kernel, int stride,
                               float[] weightOihw, float[]? bias, float[] y, ConvPadding padding, bool relu)
    {
        CheckForward(x, n, h, w, inChannels, outChannels, kernel, stride, weightOihw, bias, y, padding);
        ForwardFast(x, n, h, w, inChannels, outChannels, kernel, stride, weightOihw, bias, y, padding, relu);
    }

    /// <summary>dy (N,Ho,Wo,Co) -> dx (N,H,W,Ci), overwritten; h, w are the INPUT sizes.</summary>
    public static void BackwardInput(float[] dy, int n, int h, int w, int inChannels, int outChannels, int kernel, int stride,
                                     float[] weightOihw, float[] dx, ConvPadding padding)
    {
        CheckBackwardInput(dy, n, h, w, inChannels, outChannels, kernel, stride, weightOihw, dx, padding);
        BackwardInputFast(dy, n, h, w, inChannels, outChannels, kernel, stride, weightOihw, dx, padding);
    }

    /// <summary>x (N,H,W,Ci), dy (N,Ho,Wo,Co) -> dw (Co,Ci,k,k) and db (Co) accumulated (+=); db may be null.</summary>
    public static void BackwardWeights(float[] x, float[] dy, int n, int h, int w, int inChannels, int outChannels, int kernel, int stride,
                                       float[] dw, float[]? db, ConvPadding padding)
    {
        CheckBackwardWeights(x, dy, n, h, w, inChannels, outChannels, kernel, stride, dw, db, padding);
        BackwardWeightsFast(x, dy, n, h, w, inChannels, outChannels, kernel, stride, dw, db, padding);
    }

    /// <summary>Reference of <see cref="Forward"/>: direct loops, double accumulator.</summary>
    public static void ForwardReference(float[] x, int n, int h, int w, int inChannels, int outChannels, int kernel, int stride,
                                        float[] weightOihw, float[]? bias, float[] y, ConvPadding padding, bool relu)
    {
        CheckForward(x, n, h, w, inChannels, outChannels, kernel, stride, weightOihw, bias, y, padding);
        int k = kernel, p = PadAmount(k, padding);
        int ho = OutSize(h, k, stride, padding), wo = OutSize(w, k, stride, padding);
        for (int b = 0; b < n; b++)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                for (int ox = 0; ox < wo; ox++)
                {
                    for (int o = 0; o < outChannels; o++)
                    {
                        double sum = bias is null ? 0 : bias[o];
                        for (int ky = 0; ky < k; ky++)
                        {
                            int iy = Source((oy * stride) - p + ky, h, padding);
                            for (int kx = 0; kx < k && iy >= 0; kx++)
                            {
                                int ix = Source((ox * stride) - p + kx, w, padding);
                                if (ix < 0)
                                {
                                    continue;
                                }

                                int xBase = ((((b * h) + iy) * w) + ix) * inChannels;
                                for (int i = 0; i < inChannels; i++)
                                {
                                    sum += (double)x[xBase + i] * weightOihw[((((o * inChannels) + i) * k) + ky) * k + kx];
                                }
                            }
                        }

                        float v = (float)sum;
                        y[((((b * ho) + oy) * wo) + ox) * outChannels + o] = relu ? Math.Max(0f, v) : v;
                    }
                }
            }
        }
    }

    /// <summary>Reference of <see cref="BackwardInput"/>: the adjoint of the direct loops, double accumulator.</summary>
    public static void BackwardInputReference(float[] dy, int n, int h, int w, int inChannels, int outChannels, int kernel, int stride,
                                              float[] weightOihw, float[] dx, ConvPadding padding)
    {
        CheckBackwardInput(dy, n, h, w, inChannels, outChannels, kernel, stride, weightOihw, dx, padding);
        int k = kernel, p = PadAmount(k, padding);
        int ho = OutSize(h, k, stride, padding), wo = OutSize(w, k, stride, padding);
        var acc = new double[n * h * w * inChannels];
        for (int b = 0; b < n; b++)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                for (int ox = 0; ox < wo; ox++)
                {
                    for (int ky = 0; ky < k; ky++)
                    {
                        int iy = Source((oy * stride) - p + ky, h, padding);
                        for (int kx = 0; kx < k && iy >= 0; kx++)
                        {
                            int ix = Source((ox * stride) - p + kx, w, padding);
                            if (ix < 0)
                            {
                                continue;
                            }

                            int xBase = ((((b * h) + iy) * w) + ix) * inChannels;
                            for (int o = 0; o < outChannels; o++)
                            {
                                double g = dy[((((b * ho) + oy) * wo) + ox) * outChannels + o];
                                for (int i = 0; i < inChannels; i++)
                                {
                                    acc[xBase + i] += g * weightOihw[((((o * inChannels) + i) * k) + ky) * k + kx];
                                }
                            }
                        }
                    }
                }
            }
        }

        for (int i = 0; i < acc.Length; i++)
        {
            dx[i] = (float)acc[i];
        }
    }

    /// <summary>Reference of <see cref="BackwardWeights"/>.</summary>
    public static void BackwardWeightsReference(float[] x, float[] dy, int n, int h, int w, int inChannels, int outChannels, int kernel, int stride,
                                                float[] dw, float[]? db, ConvPadding padding)
    {
        CheckBackwardWeights(x, dy, n, h, w, inChannels, outChannels, kernel, stride, dw, db, padding);
        int k = kernel, p = PadAmount(k, padding);
        int ho = OutSize(h, k, stride, padding), wo = OutSize(w, k, stride, padding);
        var acc = new double[outChannels * inChannels * k * k];
        var accBias = new double[outChannels];
        for (int b = 0; b < n; b++)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                for (int ox = 0; ox < wo; ox++)
                {
                    int dyBase = ((((b * ho) + oy) * wo) + ox) * outChannels;
                    for (int o = 0; o < outChannels; o++)
                    {
                        accBias[o] += dy[dyBase + o];
                    }

                    for (int ky = 0; ky < k; ky++)
                    {
                        int iy = Source((oy * stride) - p + ky, h, padding);
                        for (int kx = 0; kx < k && iy >= 0; kx++)
                        {
                            int ix = Source((ox * stride) - p + kx, w, padding);
                            if (ix < 0)
                            {
                                continue;
                            }

                            int xBase = ((((b * h) + iy) * w) + ix) * inChannels;
                            for (int o = 0; o < outChannels; o++)
                            {
                                double g = dy[dyBase + o];
                                for (int i = 0; i < inChannels; i++)
                                {
                                    acc[((((o * inChannels) + i) * k) + ky) * k + kx] += g * x[xBase + i];
                                }
                            }
                        }
                    }
                }
            }
        }

        for (int i = 0; i < acc.Length; i++)
        {
            dw[i] += (float)acc[i];
        }

        if (db is not null)
        {
            for (int o = 0; o < outChannels; o++)
            {
                db[o] += (float)accBias[o];
            }
        }
    }

    /// <summary>The input coordinate that padded coordinate <paramref name="t"/> (−p…size+p−1) reads, or −1 for a zero.</summary>
    internal static int Source(int t, int size, ConvPadding padding)
    {
        if ((uint)t < (uint)size)
        {
            return t;
        }

        return padding switch
        {
            ConvPadding.Reflect => t < 0 ? -t : (2 * (size - 1)) - t,
            ConvPadding.Circular => ((t % size) + size) % size,
            _ => -1,
        };
    }

    private static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    private static void CheckShapes(int n, int h, int w, int ci, int co, int k, int stride, ConvPadding padding)
    {
        if (n < 0 || h < 1 || w < 1 || ci < 1 || co < 1 || k < 1 || stride < 1)
        {
            KernelChecks.Throw($"Conv2d needs n ≥ 0 and positive sizes, channels, kernel and stride (got n={n}, h={h}, w={w}, ci={ci}, co={co}, k={k}, stride={stride}).");
        }

        if (padding is not (ConvPadding.Zero or ConvPadding.Valid or ConvPadding.Circular or ConvPadding.Reflect))
        {
            KernelChecks.Throw($"Unknown padding mode {padding}.");
        }

        int p = PadAmount(k, padding);
        if (padding == ConvPadding.Reflect && (p >= h || p >= w))
        {
            KernelChecks.Throw($"Reflect padding {p} needs an input larger than {p}×{p} (got {h}×{w}).");
        }

        if (padding == ConvPadding.Circular && (p > h || p > w))
        {
            KernelChecks.Throw($"Circular padding {p} needs an input of at least {p}×{p} (got {h}×{w}).");
        }

        if (OutSize(h, k, stride, padding) < 1 || OutSize(w, k, stride, padding) < 1)
        {
            KernelChecks.Throw($"A {h}×{w} input is too small for a {k}×{k} {padding} convolution.");
        }
    }

    private static void CheckForward(float[] x, int n, int h, int w, int ci, int co, int k, int stride, float[] weight, float[]? bias, float[] y, ConvPadding padding)
    {
        CheckShapes(n, h, w, ci, co, k, stride, padding);
        int ho = OutSize(h, k, stride, padding), wo = OutSize(w, k, stride, padding);
        KernelChecks.Length(x, (long)n * h * w * ci, nameof(x));
        KernelChecks.Length(weight, (long)co * ci * k * k, nameof(weight));
        KernelChecks.Length(y, (long)n * ho * wo * co, nameof(y));
        if (bias is not null)
        {
            KernelChecks.Length(bias, co, nameof(bias));
        }
    }

    private static void CheckBackwardInput(float[] dy, int n, int h, int w, int ci, int co, int k, int stride, float[] weight, float[] dx, ConvPadding padding)
    {
        CheckShapes(n, h, w, ci, co, k, stride, padding);
        int ho = OutSize(h, k, stride, padding), wo = OutSize(w, k, stride, padding);
        KernelChecks.Length(dy, (long)n * ho * wo * co, nameof(dy));
        KernelChecks.Length(weight, (long)co * ci * k * k, nameof(weight));
        KernelChecks.Length(dx, (long)n * h * w * ci, nameof(dx));
    }

    private static void CheckBackwardWeights(float[] x, float[] dy, int n, int h, int w, int ci, int co, int k, int stride, float[] dw, float[]? db, ConvPadding padding)
    {
        CheckShapes(n, h, w, ci, co, k, stride, padding);
        int ho = OutSize(h, k, stride, padding), wo = OutSize(w, k, stride, padding);
        KernelChecks.Length(x, (long)n * h * w * ci, nameof(x));
        KernelChecks.Length(dy, (long)n * ho * wo * co, nameof(dy));
        KernelChecks.Length(dw, (long)co * ci * k * k, nameof(dw));
        if (db is not null)
        {
            KernelChecks.Length(db, co, nameof(db));
        }
    }
}
