// Nearest-neighbour upsampling by an integer factor f (torch F.interpolate(mode='nearest', scale_factor=f)), NHWC.
// Forward:  x (N,H,W,C) -> y (N,fH,fW,C), y[n, i, j, c] = x[n, i/f, j/f, c]
// Backward: dy (N,fH,fW,C) -> dx (N,H,W,C), the sum of each f×f block (overwritten).
using System.Numerics.Tensors;

namespace NeuralStyle.Tensors.Kernels;

/// <summary>Integer-factor nearest-neighbour upsampling (fast paths and references).</summary>
public static class UpsampleNearest
{
    public static void Forward(float[] x, int n, int h, int w, int c, int factor, float[] y)
    {
        Check(x, n, h, w, c, factor, y, nameof(y));
        int rowOut = w * factor * c;
        KernelThreading.For(n * h, MinRows(w * factor * factor, c), (start, end) =>
        {
            for (int row = start; row < end; row++)
            {
                // Input row `row` becomes output rows row·f … row·f + f − 1: build the first, copy it.
                var src = x.AsSpan(row * w * c, w * c);
                var first = y.AsSpan(row * factor * rowOut, rowOut);
                for (int ix = 0; ix < w; ix++)
                {
                    var pixel = src.Slice(ix * c, c);
                    for (int k = 0; k < factor; k++) pixel.CopyTo(first.Slice(((ix * factor) + k) * c, c));
                }

                for (int k = 1; k < factor; k++) first.CopyTo(y.AsSpan(((row * factor) + k) * rowOut, rowOut));
            }
        });
    }

    public static void Backward(float[] dy, int n, int h, int w, int c, int factor, float[] dx)
    {
        Check(dx, n, h, w, c, factor, dy, nameof(dy));
        int rowOut = w * factor * c;
        KernelThreading.For(n * h, MinRows(w * factor * factor, c), (start, end) =>
        {
            for (int row = start; row < end; row++)
            {
                var dst = dx.AsSpan(row * w * c, w * c);
                // The f output rows of this input row, summed in order (k = 0 first), then each block's f columns.
                for (int ix = 0; ix < w; ix++)
                {
                    var d = dst.Slice(ix * c, c);
                    bool first = true;
                    for (int ky = 0; ky < factor; ky++)
                    {
                        var outRow = dy.AsSpan(((row * factor) + ky) * rowOut, rowOut);
                        for (int kx = 0; kx < factor; kx++)
                        {
                            var g = outRow.Slice(((ix * factor) + kx) * c, c);
                            if (first) g.CopyTo(d);
                            else TensorPrimitives.Add(d, g, d);
                            first = false;
                        }
                    }
                }
            }
        });
    }

    public static void ForwardReference(float[] x, int n, int h, int w, int c, int factor, float[] y)
    {
        Check(x, n, h, w, c, factor, y, nameof(y));
        int ho = h * factor, wo = w * factor;
        for (int b = 0; b < n; b++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                    for (int ch = 0; ch < c; ch++)
                        y[(((b * ho) + oy) * wo + ox) * c + ch] = x[(((b * h) + (oy / factor)) * w + (ox / factor)) * c + ch];
    }

    public static void BackwardReference(float[] dy, int n, int h, int w, int c, int factor, float[] dx)
    {
        Check(dx, n, h, w, c, factor, dy, nameof(dy));
        int ho = h * factor, wo = w * factor;
        Array.Clear(dx, 0, n * h * w * c);
        for (int b = 0; b < n; b++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                    for (int ch = 0; ch < c; ch++)
                        dx[(((b * h) + (oy / factor)) * w + (ox / factor)) * c + ch] += dy[(((b * ho) + oy) * wo + ox) * c + ch];
    }

    private static int MinRows(int perRow, int c) => Math.Max(1, 32768 / Math.Max(1, perRow * c));

    private static void Check(float[] small, int n, int h, int w, int c, int factor, float[] large, string largeName)
    {
        if (n < 0 || h < 0 || w < 0 || c < 1 || factor < 1)
        {
            KernelChecks.Throw($"UpsampleNearest needs non-negative sizes, c ≥ 1 and factor ≥ 1 (got n={n}, h={h}, w={w}, c={c}, factor={factor}).");
        }

        KernelChecks.Length(small, (long)n * h * w * c, "x");
        KernelChecks.Length(large, (long)n * h * w * c * factor * factor, largeName);
    }
}
