// Instance normalisation (torch InstanceNorm2d, affine or not, no running statistics), NHWC with the H·W positions
// of a sample flattened: x (N,P,C).
// Forward:  mean, biased var over P per (n, c); y = (x − mean)·rstd·γ + β, rstd = 1/√(var + eps); optional ReLU.
// Backward: g = dy (masked where the fused ReLU was off); dβ += Σ g; dγ += Σ g·x̂;
//           dx = rstd·γ·(g − mean_P(g) − x̂·mean_P(g·x̂))   (dx overwritten, dγ and dβ ADDED into).
// Statistics: two passes (the mean, then the squared deviations around it), each summed in float over blocks of
// 256 positions and the blocks added in double, so a 1024² map keeps about double-sum accuracy at float speed.
using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NeuralStyle.Tensors.Kernels;

/// <summary>Instance normalisation with optional affine map and fused ReLU (fast paths and references).</summary>
public static class InstanceNorm
{
    private const int FlushEvery = 256;      // positions summed in float before the block is added in double
    private const int ItemPositions = 4096;  // positions per work item; threads take contiguous runs of items

    /// <summary>
    /// x (N,P,C) -> y (N,P,C); writes the per-(n,c) mean and rstd = 1/√(var + eps) (N·C each) for the backward pass.
    /// </summary>
    public static void Forward(float[] x, int n, int positions, int c, float[]? gamma, float[]? beta, float eps, bool relu,
                               float[] y, float[] mean, float[] rstd)
    {
        Check(x, n, positions, c, gamma, beta, mean, rstd);
        KernelChecks.Length(y, (long)n * positions * c, nameof(y));
        if (n == 0) return;
        int itemsPerSample = (positions + ItemPositions - 1) / ItemPositions;
        int items = n * itemsPerSample;
        double[] partial = ArrayPool<double>.Shared.Rent(items * c);
        try
        {
            int minItems = MinItems(positions, c);
            // Pass 1: Σ x per (n, c).
            KernelThreading.For(items, minItems, (start, end) =>
            {
                float[] acc = new float[c];
                for (int item = start; item < end; item++)
                {
                    ItemRange(item, itemsPerSample, positions, out int b, out int p0, out int count);
                    SumItem(x, ((b * positions) + p0) * c, count, c, null, acc, partial.AsSpan(item * c, c));
                }
            });
            for (int b = 0; b < n; b++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    double s = 0;
                    for (int i = 0; i < itemsPerSample; i++) s += partial[((b * itemsPerSample) + i) * c + ch];
                    mean[(b * c) + ch] = (float)(s / positions);
                }
            }

            // Pass 2: Σ (x − mean)² per (n, c), centred on the mean, so no cancellation.
            KernelThreading.For(items, minItems, (start, end) =>
            {
                float[] acc = new float[c];
                for (int item = start; item < end; item++)
                {
                    ItemRange(item, itemsPerSample, positions, out int b, out int p0, out int count);
                    SumItem(x, ((b * positions) + p0) * c, count, c, mean.AsSpan(b * c, c), acc, partial.AsSpan(item * c, c));
                }
            });
            for (int b = 0; b < n; b++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    double s = 0;
                    for (int i = 0; i < itemsPerSample; i++) s += partial[((b * itemsPerSample) + i) * c + ch];
                    rstd[(b * c) + ch] = (float)(1.0 / Math.Sqrt((s / positions) + eps));
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partial);
        }

        // Pass 3: y = (x − mean)·scale + β, scale = γ·rstd.
        float[] scale = Scales(gamma, rstd, n, c);
        KernelThreading.For(n * positions, MinPositions(c), (start, end) =>
        {
            for (int p = start; p < end;)
            {
                int b = p / positions;
                int stop = Math.Min(end, (b + 1) * positions);
                for (; p < stop; p++)
                {
                    NormalizeRow(ref At(x, p * c), ref At(y, p * c), ref At(mean, b * c), ref At(scale, b * c), beta, c, relu);
                }
            }
        });
    }

    /// <summary>
    /// The backward pass of <see cref="Forward"/> from its x, mean and rstd: dx (N,P,C) is overwritten when given,
    /// d(gamma) and d(beta) (C) are added into when given.
    /// </summary>
    public static void Backward(float[] x, float[] dy, int n, int positions, int c, float[]? gamma, float[]? beta, bool relu,
                                float[] mean, float[] rstd, float[]? dx, float[]? dgamma, float[]? dbeta)
    {
        Check(x, n, positions, c, gamma, beta, mean, rstd);
        long length = (long)n * positions * c;
        KernelChecks.Length(dy, length, nameof(dy));
        if (dx is not null) KernelChecks.Length(dx, length, nameof(dx));
        if (dgamma is not null) KernelChecks.Length(dgamma, c, nameof(dgamma));
        if (dbeta is not null) KernelChecks.Length(dbeta, c, nameof(dbeta));
        if (n == 0) return;
        float[] scale = Scales(gamma, rstd, n, c);
        int itemsPerSample = (positions + ItemPositions - 1) / ItemPositions;
        int items = n * itemsPerSample;
        double[] partial = ArrayPool<double>.Shared.Rent(items * c * 2);
        double[] sums = new double[n * c * 2]; // per (n, c): Σ g, Σ g·(x − mean)
        try
        {
            KernelThreading.For(items, MinItems(positions, c), (start, end) =>
            {
                float[] acc = new float[2 * c];
                for (int item = start; item < end; item++)
                {
                    ItemRange(item, itemsPerSample, positions, out int b, out int p0, out int count);
                    GradSumsItem(x, dy, ((b * positions) + p0) * c, count, c, mean.AsSpan(b * c, c), scale.AsSpan(b * c, c),
                                 beta, relu, acc, partial.AsSpan(item * 2 * c, 2 * c));
                }
            });
            for (int b = 0; b < n; b++)
            {
                for (int i = 0; i < itemsPerSample; i++)
                {
                    var part = partial.AsSpan(((b * itemsPerSample) + i) * 2 * c, 2 * c);
                    for (int k = 0; k < 2 * c; k++) sums[(b * 2 * c) + k] += part[k];
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partial);
        }

        // dx = kg·g + kd·(x − mean) + k0 per (n, c).
        var kg = new float[n * c];
        var kd = new float[n * c];
        var k0 = new float[n * c];
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                double r = rstd[(b * c) + ch];
                double sumG = sums[(b * 2 * c) + ch];
                double sumGXhat = r * sums[(b * 2 * c) + c + ch];
                if (dbeta is not null) dbeta[ch] += (float)sumG;
                if (dgamma is not null) dgamma[ch] += (float)sumGXhat;
                double a = r * (gamma is null ? 1.0 : gamma[ch]);
                kg[(b * c) + ch] = (float)a;
                kd[(b * c) + ch] = (float)(-a * r * sumGXhat / positions);
                k0[(b * c) + ch] = (float)(-a * sumG / positions);
            }
        }

        if (dx is null) return;
        KernelThreading.For(n * positions, MinPositions(c), (start, end) =>
        {
            for (int p = start; p < end;)
            {
                int b = p / positions;
                int stop = Math.Min(end, (b + 1) * positions);
                for (; p < stop; p++)
                {
                    InputGradRow(ref At(x, p * c), ref At(dy, p * c), ref At(dx, p * c), ref At(mean, b * c), ref At(scale, b * c), beta,
                                 ref At(kg, b * c), ref At(kd, b * c), ref At(k0, b * c), c, relu);
                }
            }
        });
    }

    /// <summary>The obviously correct version of <see cref="Forward"/>, in double.</summary>
    public static void ForwardReference(float[] x, int n, int positions, int c, float[]? gamma, float[]? beta, float eps, bool relu,
                                        float[] y, float[] mean, float[] rstd)
    {
        Check(x, n, positions, c, gamma, beta, mean, rstd);
        KernelChecks.Length(y, (long)n * positions * c, nameof(y));
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                double m = 0;
                for (int p = 0; p < positions; p++) m += x[(((b * positions) + p) * c) + ch];
                m /= positions;
                double v = 0;
                for (int p = 0; p < positions; p++)
                {
                    double d = x[(((b * positions) + p) * c) + ch] - m;
                    v += d * d;
                }

                double r = 1.0 / Math.Sqrt((v / positions) + eps);
                mean[(b * c) + ch] = (float)m;
                rstd[(b * c) + ch] = (float)r;
                for (int p = 0; p < positions; p++)
                {
                    int i = (((b * positions) + p) * c) + ch;
                    double o = ((x[i] - m) * r * (gamma?[ch] ?? 1.0)) + (beta?[ch] ?? 0.0);
                    y[i] = (float)(relu && !(o > 0) ? 0 : o);
                }
            }
        }
    }

    /// <summary>The obviously correct version of <see cref="Backward"/>, in double (statistics recomputed from x).</summary>
    public static void BackwardReference(float[] x, float[] dy, int n, int positions, int c, float[]? gamma, float[]? beta, bool relu,
                                         float eps, float[]? dx, float[]? dgamma, float[]? dbeta)
    {
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                double m = 0, v = 0;
                for (int p = 0; p < positions; p++) m += x[(((b * positions) + p) * c) + ch];
                m /= positions;
                for (int p = 0; p < positions; p++)
                {
                    double d = x[(((b * positions) + p) * c) + ch] - m;
                    v += d * d;
                }

                double r = 1.0 / Math.Sqrt((v / positions) + eps);
                double gam = gamma?[ch] ?? 1.0, bet = beta?[ch] ?? 0.0;
                var g = new double[positions];
                var xhat = new double[positions];
                double sumG = 0, sumGXhat = 0;
                for (int p = 0; p < positions; p++)
                {
                    int i = (((b * positions) + p) * c) + ch;
                    xhat[p] = (x[i] - m) * r;
                    g[p] = relu && !((xhat[p] * gam) + bet > 0) ? 0 : dy[i];
                    sumG += g[p];
                    sumGXhat += g[p] * xhat[p];
                }

                if (dbeta is not null) dbeta[ch] += (float)sumG;
                if (dgamma is not null) dgamma[ch] += (float)sumGXhat;
                if (dx is null) continue;
                for (int p = 0; p < positions; p++)
                {
                    dx[(((b * positions) + p) * c) + ch] = (float)(r * gam * (g[p] - (sumG / positions) - (xhat[p] * sumGXhat / positions)));
                }
            }
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private static float[] Scales(float[]? gamma, float[] rstd, int n, int c)
    {
        // One definition of scale = γ·rstd (in float) for forward and backward, so the recomputed ReLU mask agrees.
        var scale = new float[n * c];
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                scale[(b * c) + ch] = (gamma is null ? 1f : gamma[ch]) * rstd[(b * c) + ch];
            }
        }

        return scale;
    }

    /// <summary>Σ x (center null) or Σ (x − center)² over <paramref name="count"/> positions, per channel, into sums (overwritten).</summary>
    private static void SumItem(float[] x, int offset, int count, int c, ReadOnlySpan<float> center, float[] acc, Span<double> sums)
    {
        sums.Clear();
        bool squares = !center.IsEmpty;
        ref float centerRef = ref squares ? ref MemoryMarshal.GetReference(center) : ref acc[0];
        for (int p0 = 0; p0 < count; p0 += FlushEvery)
        {
            int p1 = Math.Min(count, p0 + FlushEvery);
            Array.Clear(acc);
            ref float a = ref acc[0];
            for (int p = p0; p < p1; p++)
            {
                ref float row = ref At(x, offset + (p * c));
                int i = 0;
                if (Vector.IsHardwareAccelerated)
                {
                    int width = Vector<float>.Count;
                    if (squares)
                    {
                        for (; i <= c - width; i += width)
                        {
                            var d = Vector.LoadUnsafe(ref row, (nuint)i) - Vector.LoadUnsafe(ref centerRef, (nuint)i);
                            Vector.StoreUnsafe(Vector.LoadUnsafe(ref a, (nuint)i) + (d * d), ref a, (nuint)i);
                        }
                    }
                    else
                    {
                        for (; i <= c - width; i += width)
                        {
                            Vector.StoreUnsafe(Vector.LoadUnsafe(ref a, (nuint)i) + Vector.LoadUnsafe(ref row, (nuint)i), ref a, (nuint)i);
                        }
                    }
                }

                for (; i < c; i++)
                {
                    float v = Unsafe.Add(ref row, i);
                    if (squares)
                    {
                        float d = v - Unsafe.Add(ref centerRef, i);
                        Unsafe.Add(ref a, i) += d * d;
                    }
                    else
                    {
                        Unsafe.Add(ref a, i) += v;
                    }
                }
            }

            for (int ch = 0; ch < c; ch++) sums[ch] += acc[ch];
        }
    }

    /// <summary>Per channel over the item: sums[ch] = Σ g, sums[c + ch] = Σ g·(x − mean), with g the masked dy.</summary>
    private static void GradSumsItem(float[] x, float[] dy, int offset, int count, int c, ReadOnlySpan<float> mean, ReadOnlySpan<float> scale,
                                     float[]? beta, bool relu, float[] acc, Span<double> sums)
    {
        sums.Clear();
        ref float m = ref MemoryMarshal.GetReference(mean);
        ref float s = ref MemoryMarshal.GetReference(scale);
        ref float bt = ref beta is null ? ref acc[0] : ref beta[0]; // unused when beta is null
        for (int p0 = 0; p0 < count; p0 += FlushEvery)
        {
            int p1 = Math.Min(count, p0 + FlushEvery);
            Array.Clear(acc);
            ref float a1 = ref acc[0];
            ref float a2 = ref acc[c];
            for (int p = p0; p < p1; p++)
            {
                ref float xr = ref At(x, offset + (p * c));
                ref float gr = ref At(dy, offset + (p * c));
                int i = 0;
                if (Vector.IsHardwareAccelerated)
                {
                    int width = Vector<float>.Count;
                    for (; i <= c - width; i += width)
                    {
                        var d = Vector.LoadUnsafe(ref xr, (nuint)i) - Vector.LoadUnsafe(ref m, (nuint)i);
                        var g = Vector.LoadUnsafe(ref gr, (nuint)i);
                        if (relu)
                        {
                            var o = (d * Vector.LoadUnsafe(ref s, (nuint)i)) + (beta is null ? Vector<float>.Zero : Vector.LoadUnsafe(ref bt, (nuint)i));
                            g = Vector.ConditionalSelect(Vector.GreaterThan(o, Vector<float>.Zero), g, Vector<float>.Zero);
                        }

                        Vector.StoreUnsafe(Vector.LoadUnsafe(ref a1, (nuint)i) + g, ref a1, (nuint)i);
                        Vector.StoreUnsafe(Vector.LoadUnsafe(ref a2, (nuint)i) + (g * d), ref a2, (nuint)i);
                    }
                }

                for (; i < c; i++)
                {
                    float d = Unsafe.Add(ref xr, i) - Unsafe.Add(ref m, i);
                    float g = Unsafe.Add(ref gr, i);
                    if (relu && !((d * Unsafe.Add(ref s, i)) + (beta is null ? 0f : Unsafe.Add(ref bt, i)) > 0f)) g = 0f;
                    Unsafe.Add(ref a1, i) += g;
                    Unsafe.Add(ref a2, i) += g * d;
                }
            }

            for (int k = 0; k < 2 * c; k++) sums[k] += acc[k];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NormalizeRow(ref float x, ref float y, ref float mean, ref float scale, float[]? beta, int c, bool relu)
    {
        ref float bt = ref beta is null ? ref scale : ref beta[0]; // unused when beta is null
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int width = Vector<float>.Count;
            for (; i <= c - width; i += width)
            {
                var o = (Vector.LoadUnsafe(ref x, (nuint)i) - Vector.LoadUnsafe(ref mean, (nuint)i)) * Vector.LoadUnsafe(ref scale, (nuint)i);
                if (beta is not null) o += Vector.LoadUnsafe(ref bt, (nuint)i);
                if (relu) o = Vector.ConditionalSelect(Vector.GreaterThan(o, Vector<float>.Zero), o, Vector<float>.Zero);
                Vector.StoreUnsafe(o, ref y, (nuint)i);
            }
        }

        for (; i < c; i++)
        {
            float o = (Unsafe.Add(ref x, i) - Unsafe.Add(ref mean, i)) * Unsafe.Add(ref scale, i);
            if (beta is not null) o += Unsafe.Add(ref bt, i);
            Unsafe.Add(ref y, i) = relu && !(o > 0f) ? 0f : o;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputGradRow(ref float x, ref float dy, ref float dx, ref float mean, ref float scale, float[]? beta,
                                     ref float kg, ref float kd, ref float k0, int c, bool relu)
    {
        ref float bt = ref beta is null ? ref scale : ref beta[0]; // unused when beta is null
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int width = Vector<float>.Count;
            for (; i <= c - width; i += width)
            {
                var d = Vector.LoadUnsafe(ref x, (nuint)i) - Vector.LoadUnsafe(ref mean, (nuint)i);
                var g = Vector.LoadUnsafe(ref dy, (nuint)i);
                if (relu)
                {
                    var o = (d * Vector.LoadUnsafe(ref scale, (nuint)i)) + (beta is null ? Vector<float>.Zero : Vector.LoadUnsafe(ref bt, (nuint)i));
                    g = Vector.ConditionalSelect(Vector.GreaterThan(o, Vector<float>.Zero), g, Vector<float>.Zero);
                }

                var r = (Vector.LoadUnsafe(ref kg, (nuint)i) * g) + (Vector.LoadUnsafe(ref kd, (nuint)i) * d) + Vector.LoadUnsafe(ref k0, (nuint)i);
                Vector.StoreUnsafe(r, ref dx, (nuint)i);
            }
        }

        for (; i < c; i++)
        {
            float d = Unsafe.Add(ref x, i) - Unsafe.Add(ref mean, i);
            float g = Unsafe.Add(ref dy, i);
            if (relu && !((d * Unsafe.Add(ref scale, i)) + (beta is null ? 0f : Unsafe.Add(ref bt, i)) > 0f)) g = 0f;
            Unsafe.Add(ref dx, i) = (Unsafe.Add(ref kg, i) * g) + (Unsafe.Add(ref kd, i) * d) + Unsafe.Add(ref k0, i);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float At(float[] a, int i) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(a), i);

    private static void ItemRange(int item, int itemsPerSample, int positions, out int b, out int p0, out int count)
    {
        b = item / itemsPerSample;
        p0 = item % itemsPerSample * ItemPositions;
        count = Math.Min(ItemPositions, positions - p0);
    }

    /// <summary>Items per thread chunk so that a chunk holds at least ~64K elements.</summary>
    private static int MinItems(int positions, int c) => Math.Max(1, 65536 / Math.Max(1, Math.Min(positions, ItemPositions) * c));

    private static int MinPositions(int c) => Math.Max(1, 32768 / c);

    private static void Check(float[] x, int n, int positions, int c, float[]? gamma, float[]? beta, float[] mean, float[] rstd)
    {
        if (n < 0 || positions < 1 || c < 1)
        {
            KernelChecks.Throw($"InstanceNorm needs n ≥ 0, at least one position and c ≥ 1 (got n={n}, positions={positions}, c={c}).");
        }

        KernelChecks.Length(x, (long)n * positions * c, nameof(x));
        if (gamma is not null) KernelChecks.Length(gamma, c, nameof(gamma));
        if (beta is not null) KernelChecks.Length(beta, c, nameof(beta));
        KernelChecks.Length(mean, (long)n * c, nameof(mean));
        KernelChecks.Length(rstd, (long)n * c, nameof(rstd));
    }
}
