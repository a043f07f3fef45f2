// 3×3 convolution, stride 1, NHWC activations, PyTorch OIHW weights.
// Forward:         x (N,H,W,Ci), w (Co,Ci,3,3), b (Co) -> y (N,Ho,Wo,Co)
// BackwardInput:   dy (N,Ho,Wo,Co), w (Co,Ci,3,3)     -> dx (N,H,W,Ci)   (overwritten)
// BackwardWeights: x (N,H,W,Ci), dy (N,Ho,Wo,Co)      -> dw (Co,Ci,3,3), db (Co)   (accumulated)
// Ho, Wo = H, W for Zero and Circular padding, H−2, W−2 for Valid. Inputs and outputs must not overlap.
namespace NeuralStyle.Tensors.Kernels;

/// <summary>3×3 stride-1 convolution kernels (fast paths and slow references with the same contracts).</summary>
public static partial class Conv3x3
{
    /// <summary>x (N,H,W,Ci), weights (Co,Ci,3,3), bias (Co) or null -> y (N,Ho,Wo,Co); y is overwritten; relu fused.</summary>
    public static void Forward(float[] x, int n, int h, int w, Conv3x3Weights weights, float[]? bias, float[] y, ConvPadding padding, bool relu)
    {
        ArgumentNullException.ThrowIfNull(weights);
        int ci = weights.InChannels, co = weights.OutChannels;
        CheckForward(x, n, h, w, ci, co, bias, y, padding);
        ForwardFast(x, n, h, w, weights, bias, y, padding, relu);
    }

    /// <summary>dy (N,Ho,Wo,Co) -> dx (N,H,W,Ci), overwritten; h, w are the INPUT sizes.</summary>
    public static void BackwardInput(float[] dy, int n, int h, int w, Conv3x3Weights weights, float[] dx, ConvPadding padding)
    {
        ArgumentNullException.ThrowIfNull(weights);
        int ci = weights.InChannels, co = weights.OutChannels;
        CheckBackwardInput(dy, n, h, w, ci, co, dx, padding);
        BackwardInputFast(dy, n, h, w, weights, dx, padding);
    }

    /// <summary>x (N,H,W,Ci), dy (N,Ho,Wo,Co) -> dw (Co,Ci,3,3) and db (Co) accumulated (+=); db may be null.</summary>
    public static void BackwardWeights(float[] x, float[] dy, int n, int h, int w, int inChannels, int outChannels, float[] dw, float[]? db, ConvPadding padding)
    {
        CheckBackwardWeights(x, dy, n, h, w, inChannels, outChannels, dw, db, padding);
        BackwardWeightsFast(x, dy, n, h, w, inChannels, outChannels, dw, db, padding);
    }

    /// <summary>Reference of <see cref="Forward"/> taking the raw (Co,Ci,3,3) weights.</summary>
    public static void ForwardReference(float[] x, int n, int h, int w, int inChannels, int outChannels, float[] weightOihw, float[]? bias, float[] y, ConvPadding padding, bool relu)
    {
        CheckForward(x, n, h, w, inChannels, outChannels, bias, y, padding);
        KernelChecks.Length(weightOihw, outChannels * inChannels * 9, nameof(weightOihw));
        int ho = KernelChecks.ConvOutSize(h, padding), wo = KernelChecks.ConvOutSize(w, padding);
        for (int b = 0; b < n; b++)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                for (int ox = 0; ox < wo; ox++)
                {
                    for (int o = 0; o < outChannels; o++)
                    {
                        double sum = bias is null ? 0 : bias[o];
                        for (int ky = 0; ky < 3; ky++)
                        {
                            int iy = Source(oy + ky, h, padding);
                            if (iy < 0)
                            {
                                continue;
                            }

                            for (int kx = 0; kx < 3; kx++)
                            {
                                int ix = Source(ox + kx, w, padding);
                                if (ix < 0)
                                {
                                    continue;
                                }

                                int xBase = (((b * h) + iy) * w + ix) * inChannels;
                                for (int i = 0; i < inChannels; i++)
                                {
                                    sum += (double)x[xBase + i] * weightOihw[((((o * inChannels) + i) * 3) + ky) * 3 + kx];
                                }
                            }
                        }

                        float v = (float)sum;
                        y[(((b * ho) + oy) * wo + ox) * outChannels + o] = relu ? Math.Max(0f, v) : v;
                    }
                }
            }
        }
    }

    /// <summary>Reference of <see cref="BackwardInput"/> taking the raw (Co,Ci,3,3) weights.</summary>
    public static void BackwardInputReference(float[] dy, int n, int h, int w, int inChannels, int outChannels, float[] weightOihw, float[] dx, ConvPadding padding)
    {
        CheckBackwardInput(dy, n, h, w, inChannels, outChannels, dx, padding);
        KernelChecks.Length(weightOihw, outChannels * inChannels * 9, nameof(weightOihw));
        int ho = KernelChecks.ConvOutSize(h, padding), wo = KernelChecks.ConvOutSize(w, padding);
        var acc = new double[n * h * w * inChannels];
        for (int b = 0; b < n; b++)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                for (int ox = 0; ox < wo; ox++)
                {
                    for (int ky = 0; ky < 3; ky++)
                    {
                        int iy = Source(oy + ky, h, padding);
                        if (iy < 0)
                        {
                            continue;
                        }

                        for (int kx = 0; kx < 3; kx++)
                        {
                            int ix = Source(ox + kx, w, padding);
                            if (ix < 0)
                            {
                                continue;
                            }

                            int xBase = (((b * h) + iy) * w + ix) * inChannels;
                            for (int o = 0; o < outChannels; o++)
                            {
                                double g = dy[(((b * ho) + oy) * wo + ox) * outChannels + o];
                                for (int i = 0; i < inChannels; i++)
                                {
                                    acc[xBase + i] += g * weightOihw[((((o * inChannels) + i) * 3) + ky) * 3 + kx];
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
    public static void BackwardWeightsReference(float[] x, float[] dy, int n, int h, int w, int inChannels, int outChannels, float[] dw, float[]? db, ConvPadding padding)
    {
        CheckBackwardWeights(x, dy, n, h, w, inChannels, outChannels, dw, db, padding);
        int ho = KernelChecks.ConvOutSize(h, padding), wo = KernelChecks.ConvOutSize(w, padding);
        var acc = new double[outChannels * inChannels * 9];
        var accBias = new double[outChannels];
        for (int b = 0; b < n; b++)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                for (int ox = 0; ox < wo; ox++)
                {
                    int dyBase = (((b * ho) + oy) * wo + ox) * outChannels;
                    for (int o = 0; o < outChannels; o++)
                    {
                        accBias[o] += dy[dyBase + o];
                    }

                    for (int ky = 0; ky < 3; ky++)
                    {
                        int iy = Source(oy + ky, h, padding);
                        if (iy < 0)
                        {
                            continue;
                        }

                        for (int kx = 0; kx < 3; kx++)
                        {
                            int ix = Source(ox + kx, w, padding);
                            if (ix < 0)
                            {
                                continue;
                            }

                            int xBase = (((b * h) + iy) * w + ix) * inChannels;
                            for (int o = 0; o < outChannels; o++)
                            {
                                double g = dy[dyBase + o];
                                for (int i = 0; i < inChannels; i++)
                                {
                                    acc[((((o * inChannels) + i) * 3) + ky) * 3 + kx] += g * x[xBase + i];
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

    /// <summary>Input coordinate read by output coordinate + tap <paramref name="t"/> (0…size+1), or −1 for a zero.</summary>
    private static int Source(int t, int size, ConvPadding padding)
    {
        if (padding == ConvPadding.Valid)
        {
            return t;
        }

        int i = t - 1;
        if (i >= 0 && i < size)
        {
            return i;
        }

        if (padding == ConvPadding.Zero)
        {
            return -1;
        }

        return ((i % size) + size) % size;
    }

    private static void CheckForward(float[] x, int n, int h, int w, int ci, int co, float[]? bias, float[] y, ConvPadding padding)
    {
        KernelChecks.ConvShapes(n, h, w, ci, co, padding);
        int ho = KernelChecks.ConvOutSize(h, padding), wo = KernelChecks.ConvOutSize(w, padding);
        KernelChecks.Length(x, (long)n * h * w * ci, nameof(x));
        KernelChecks.Length(y, (long)n * ho * wo * co, nameof(y));
        if (bias is not null)
        {
            KernelChecks.Length(bias, co, nameof(bias));
        }
    }

    private static void CheckBackwardInput(float[] dy, int n, int h, int w, int ci, int co, float[] dx, ConvPadding padding)
    {
        KernelChecks.ConvShapes(n, h, w, ci, co, padding);
        int ho = KernelChecks.ConvOutSize(h, padding), wo = KernelChecks.ConvOutSize(w, padding);
        KernelChecks.Length(dy, (long)n * ho * wo * co, nameof(dy));
        KernelChecks.Length(dx, (long)n * h * w * ci, nameof(dx));
    }

    private static void CheckBackwardWeights(float[] x, float[] dy, int n, int h, int w, int ci, int co, float[] dw, float[]? db, ConvPadding padding)
    {
        KernelChecks.ConvShapes(n, h, w, ci, co, padding);
        int ho = KernelChecks.ConvOutSize(h, padding), wo = KernelChecks.ConvOutSize(w, padding);
        KernelChecks.Length(x, (long)n * h * w * ci, nameof(x));
        KernelChecks.Length(dy, (long)n * ho * wo * co, nameof(dy));
        KernelChecks.Length(dw, (long)co * ci * 9, nameof(dw));
        if (db is not null)
        {
            KernelChecks.Length(db, co, nameof(db));
        }
    }
}
