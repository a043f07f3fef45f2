// Max pooling with any square window, stride and padding (torch MaxPool2d, floor mode), NHWC.
// Forward:  x (N,H,W,C) -> y (N,Ho,Wo,C), Ho = ⌊(H + 2p − k)/s⌋ + 1; padded positions never win (padding is −∞).
//           The fast path also writes the winner of every output element (its window offset ky·k + kx) for Backward.
// Backward: dy (N,Ho,Wo,C) -> dx (N,H,W,C) (overwritten): each output's gradient goes to its window's winner.
// The winner is the first element in row-major window order not beaten by a later one (v > max, or v is NaN while
// max is not), as in Pool2x2: ties and the gradient go to the first, as torch does.
using System.Numerics;

namespace NeuralStyle.Tensors.Kernels;

/// <summary>k×k max pooling with stride and −∞ padding (fast paths and references).</summary>
public static class MaxPool
{
    public static int OutSize(int size, int kernel, int stride, int padding) => ((size + (2 * padding) - kernel) / stride) + 1;

    /// <summary>y and the window offset of each output's winner (same length as y).</summary>
    public static void Forward(float[] x, int n, int h, int w, int c, int kernel, int stride, int padding, float[] y, int[] winner)
    {
        Check(x, n, h, w, c, kernel, stride, padding, y, nameof(y));
        int ho = OutSize(h, kernel, stride, padding), wo = OutSize(w, kernel, stride, padding);
        CheckWinner(winner, (long)n * ho * wo * c);
        KernelThreading.For(n * ho, Math.Max(1, 16384 / (wo * c * kernel * kernel)), (start, end) =>
        {
            for (int row = start; row < end; row++)
            {
                int b = row / ho, oy = row % ho;
                int y0 = (oy * stride) - padding;
                int ky0 = Math.Max(0, -y0), ky1 = Math.Min(kernel, h - y0);
                for (int ox = 0; ox < wo; ox++)
                {
                    int x0 = (ox * stride) - padding;
                    int kx0 = Math.Max(0, -x0), kx1 = Math.Min(kernel, w - x0);
                    int o = ((row * wo) + ox) * c;
                    int first = (((b * h) + y0 + ky0) * w + x0 + kx0) * c;
                    x.AsSpan(first, c).CopyTo(y.AsSpan(o, c));
                    winner.AsSpan(o, c).Fill((ky0 * kernel) + kx0);
                    for (int ky = ky0; ky < ky1; ky++)
                    {
                        for (int kx = ky == ky0 ? kx0 + 1 : kx0; kx < kx1; kx++)
                        {
                            MaxInto(x.AsSpan((((b * h) + y0 + ky) * w + x0 + kx) * c, c), (ky * kernel) + kx, y.AsSpan(o, c), winner.AsSpan(o, c));
                        }
                    }
                }
            }
        });
    }

    /// <summary>The backward pass from the winners <see cref="Forward"/> wrote.</summary>
    public static void Backward(int[] winner, float[] dy, int n, int h, int w, int c, int kernel, int stride, int padding, float[] dx)
    {
        Check(dx, n, h, w, c, kernel, stride, padding, dy, nameof(dy));
        int ho = OutSize(h, kernel, stride, padding), wo = OutSize(w, kernel, stride, padding);
        CheckWinner(winner, (long)n * ho * wo * c);
        // Windows overlap (stride < kernel), so threads split the channels, never the positions.
        KernelThreading.For(c, (long)n * ho * wo * c >= 65536 ? 1 : c, (c0, c1) =>
        {
            for (int b = 0; b < n; b++)
            {
                for (int p = 0; p < h * w; p++) Array.Clear(dx, (((b * h * w) + p) * c) + c0, c1 - c0);
                for (int oy = 0; oy < ho; oy++)
                {
                    for (int ox = 0; ox < wo; ox++)
                    {
                        int o = ((((b * ho) + oy) * wo) + ox) * c;
                        int origin = (((b * h) + (oy * stride) - padding) * w + (ox * stride) - padding) * c;
                        for (int ch = c0; ch < c1; ch++)
                        {
                            int t = winner[o + ch];
                            dx[origin + ((((t / kernel) * w) + (t % kernel)) * c) + ch] += dy[o + ch];
                        }
                    }
                }
            }
        });
    }

    public static void ForwardReference(float[] x, int n, int h, int w, int c, int kernel, int stride, int padding, float[] y)
    {
        Check(x, n, h, w, c, kernel, stride, padding, y, nameof(y));
        int ho = OutSize(h, kernel, stride, padding), wo = OutSize(w, kernel, stride, padding);
        for (int b = 0; b < n; b++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                    for (int ch = 0; ch < c; ch++)
                        y[((((b * ho) + oy) * wo) + ox) * c + ch] = x[ArgMaxReference(x, b, h, w, c, kernel, stride, padding, oy, ox, ch)];
    }

    public static void BackwardReference(float[] x, float[] dy, int n, int h, int w, int c, int kernel, int stride, int padding, float[] dx)
    {
        Check(x, n, h, w, c, kernel, stride, padding, dy, nameof(dy));
        KernelChecks.Length(dx, (long)n * h * w * c, nameof(dx));
        int ho = OutSize(h, kernel, stride, padding), wo = OutSize(w, kernel, stride, padding);
        Array.Clear(dx, 0, n * h * w * c);
        for (int b = 0; b < n; b++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                    for (int ch = 0; ch < c; ch++)
                        dx[ArgMaxReference(x, b, h, w, c, kernel, stride, padding, oy, ox, ch)] += dy[((((b * ho) + oy) * wo) + ox) * c + ch];
    }

    private static int ArgMaxReference(float[] x, int b, int h, int w, int c, int kernel, int stride, int padding, int oy, int ox, int ch)
    {
        int at = -1;
        float best = float.NegativeInfinity;
        for (int ky = 0; ky < kernel; ky++)
        {
            for (int kx = 0; kx < kernel; kx++)
            {
                int iy = (oy * stride) - padding + ky, ix = (ox * stride) - padding + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                int i = ((((b * h) + iy) * w) + ix) * c + ch;
                if (at < 0 || x[i] > best || (float.IsNaN(x[i]) && !float.IsNaN(best)))
                {
                    at = i;
                    best = x[i];
                }
            }
        }

        return at;
    }

    private static void MaxInto(ReadOnlySpan<float> v, int offset, Span<float> best, Span<int> winner)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int width = Vector<float>.Count;
            var t = new Vector<int>(offset);
            for (; i <= v.Length - width; i += width)
            {
                var vv = new Vector<float>(v.Slice(i));
                var bv = new Vector<float>(best.Slice(i));
                var beats = Vector.GreaterThan(vv, bv) | Vector.AndNot(~Vector.Equals(vv, vv), ~Vector.Equals(bv, bv));
                Vector.ConditionalSelect(beats, vv, bv).CopyTo(best.Slice(i));
                Vector.ConditionalSelect(beats, t, new Vector<int>(winner.Slice(i))).CopyTo(winner.Slice(i));
            }
        }

        for (; i < v.Length; i++)
        {
            if (v[i] > best[i] || (float.IsNaN(v[i]) && !float.IsNaN(best[i])))
            {
                best[i] = v[i];
                winner[i] = offset;
            }
        }
    }

    private static void CheckWinner(int[] winner, long needed)
    {
        ArgumentNullException.ThrowIfNull(winner);
        if (winner.Length < needed)
        {
            KernelChecks.Throw($"Array 'winner' holds {winner.Length} entries but {needed} are needed.");
        }
    }

    private static void Check(float[] x, int n, int h, int w, int c, int kernel, int stride, int padding, float[] y, string yName)
    {
        if (n < 0 || h < 1 || w < 1 || c < 1)
        {
            KernelChecks.Throw($"MaxPool needs n ≥ 0 and positive sizes and channels (got n={n}, h={h}, w={w}, c={c}).");
        }

        if (kernel < 1 || stride < 1 || padding < 0 || padding > kernel / 2)
        {
            KernelChecks.Throw($"MaxPool needs kernel ≥ 1, stride ≥ 1 and 0 ≤ padding ≤ kernel/2 (got kernel={kernel}, stride={stride}, padding={padding}).");
        }

        if (h + (2 * padding) < kernel || w + (2 * padding) < kernel)
        {
            KernelChecks.Throw($"MaxPool window {kernel} is larger than the padded input {h + (2 * padding)}×{w + (2 * padding)}.");
        }

        KernelChecks.Length(x, (long)n * h * w * c, "x");
        KernelChecks.Length(y, (long)n * OutSize(h, kernel, stride, padding) * OutSize(w, kernel, stride, padding) * c, yName);
    }
}
