// Softmax over the channels of every position (torch nn.Softmax2d(x / T)), NHWC: x (P,C) with P = N·H·W.
// Forward:  y = exp(z − max z) / Σ exp(z − max z), z = x / T (the max subtracted: no overflow).
// Backward: dx = y ⊙ (g − Σ g·y) / T (overwritten).
using System.Numerics.Tensors;

namespace NeuralStyle.Tensors.Kernels;

/// <summary>Per-position softmax over channels with a temperature (fast paths and references).</summary>
public static class SoftmaxChannels
{
    public static void Forward(float[] x, int positions, int c, float temperature, float[] y)
    {
        Check(x, positions, c, temperature, y, nameof(y));
        float inverse = 1f / temperature;
        KernelThreading.For(positions, MinPositions(c), (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var src = x.AsSpan(p * c, c);
                var dst = y.AsSpan(p * c, c);
                TensorPrimitives.Multiply(src, inverse, dst);
                TensorPrimitives.Subtract(dst, TensorPrimitives.Max(dst), dst);
                TensorPrimitives.Exp(dst, dst);
                TensorPrimitives.Multiply(dst, 1f / TensorPrimitives.Sum(dst), dst);
            }
        });
    }

    public static void Backward(float[] y, float[] dy, int positions, int c, float temperature, float[] dx)
    {
        Check(y, positions, c, temperature, dx, nameof(dx));
        KernelChecks.Length(dy, (long)positions * c, nameof(dy));
        float inverse = 1f / temperature;
        KernelThreading.For(positions, MinPositions(c), (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var yp = y.AsSpan(p * c, c);
                var dst = dx.AsSpan(p * c, c);
                float dot = TensorPrimitives.Dot(dy.AsSpan(p * c, c), yp);
                TensorPrimitives.Subtract(dy.AsSpan(p * c, c), dot, dst);
                TensorPrimitives.Multiply(dst, yp, dst);
                TensorPrimitives.Multiply(dst, inverse, dst);
            }
        });
    }

    public static void ForwardReference(float[] x, int positions, int c, float temperature, float[] y)
    {
        Check(x, positions, c, temperature, y, nameof(y));
        for (int p = 0; p < positions; p++)
        {
            double max = double.NegativeInfinity;
            for (int ch = 0; ch < c; ch++) max = Math.Max(max, (double)x[(p * c) + ch] / temperature);
            double sum = 0;
            for (int ch = 0; ch < c; ch++) sum += Math.Exp(((double)x[(p * c) + ch] / temperature) - max);
            for (int ch = 0; ch < c; ch++) y[(p * c) + ch] = (float)(Math.Exp(((double)x[(p * c) + ch] / temperature) - max) / sum);
        }
    }

    public static void BackwardReference(float[] y, float[] dy, int positions, int c, float temperature, float[] dx)
    {
        Check(y, positions, c, temperature, dx, nameof(dx));
        for (int p = 0; p < positions; p++)
        {
            double dot = 0;
            for (int ch = 0; ch < c; ch++) dot += (double)dy[(p * c) + ch] * y[(p * c) + ch];
            for (int ch = 0; ch < c; ch++) dx[(p * c) + ch] = (float)(y[(p * c) + ch] * (dy[(p * c) + ch] - dot) / temperature);
        }
    }

    private static int MinPositions(int c) => Math.Max(1, 16384 / c);

    private static void Check(float[] x, int positions, int c, float temperature, float[] y, string yName)
    {
        if (positions < 0 || c < 1)
        {
            KernelChecks.Throw($"SoftmaxChannels needs positions ≥ 0 and c ≥ 1 (got positions={positions}, c={c}).");
        }

        if (!(temperature > 0) || float.IsInfinity(temperature))
        {
            KernelChecks.Throw($"SoftmaxChannels needs a positive finite temperature (got {temperature}).");
        }

        KernelChecks.Length(x, (long)positions * c, "x");
        KernelChecks.Length(y, (long)positions * c, yName);
    }
}
