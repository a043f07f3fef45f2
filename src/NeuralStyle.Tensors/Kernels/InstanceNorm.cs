// Instance normalisation (torch InstanceNorm2d, affine or not, no running statistics), NHWC with the H·W positions
// of a sample flattened: x (N,P,C).
// Forward:  mean, biased var over P per (n, c); y = (x − mean)·rstd·γ + β, rstd = 1/√(var + eps); optional ReLU.
// Backward: g = dy (masked where the fused ReLU was off); dβ += Σ g; dγ += Σ g·x̂;
//           dx = rstd·γ·(g − mean_P(g) − x̂·mean_P(g·x̂))   (dx overwritten, dγ and dβ ADDED into).
// Statistics: an exact two-pass (the mean, then the squared deviations around it) within work items of ~256 KB, so
// the second pass reads from cache; sums in float over blocks of 256 positions, the blocks added in double; the items
// combined in double by the parallel-variance formula. A 1024² map keeps about double-sum accuracy at float speed.
using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NeuralStyle.Tensors.Kernels;

/// <summary>Instance normalisation with optional affine map and fused ReLU (fast paths and references).</summary>
public static class InstanceNorm
{
    private const int FlushEvery = 256;      // positions summed in float before the block is added in double

    /// <summary>
    /// x (N,P,C) -> y (N,P,C); writes the per-(n,c) mean and rstd = 1/√(var + eps) (N·C each) for the backward pass.
    /// </summary>
    public static void Forward(float[] x, int n, int positions, int c, float[]? gamma, float[]? beta, float eps, bool relu,
                               float[] y, float[] mean, float[] rstd)
    {
        Check(x, n, positions, c, gamma, beta, mean, rstd);
        KernelChecks.Length(y, (long)n * positions * c, nameof(y));
        if (n == 0) return;
        int itemPositions = ItemPositions(c);
        int itemsPerSample = (positions + itemPositions - 1) / itemPositions;
        int items = n * itemsPerSample;
        double[] partial = ArrayPool<double>.Shared.Rent(items * 2 * c); // per item: its mean, then Σ (x − item mean)²
        try
        {
            // An exact two-pass within each item (small enough that its second read comes from cache), the items
            // combined in double with the parallel-variance formula: one read of x from memory, no cancellation.
            // The first pass sums x − (the item's first position), so an offset far from zero costs no precision.
            KernelThreading.For(items, MinItems(itemPositions, c), (start, end) =>
            {
                float[] acc = new float[c];
                float[] center = new float[c];
                for (int item = start; item < end; item++)
                {
                    ItemRange(item, itemsPerSample, itemPositions, positions, out int b, out int p0, out int count);
                    int offset = ((b * positions) + p0) * c;
                    var means = partial.AsSpan(item * 2 * c, c);
                    var squares = partial.AsSpan((item * 2 * c) + c, c);
                    Array.Copy(x, offset, center, 0, c);
                    SumItem<Plain>(x, offset, count, c, center, acc, means);
                    for (int ch = 0; ch < c; ch++)
                    {
                        means[ch] = center[ch] + (means[ch] / count);
                        center[ch] = (float)means[ch];
                    }

                    SumItem<Squares>(x, offset, count, c, center, acc, squares);
                    for (int ch = 0; ch < c; ch++)
                    {
                        // Σ (x − m)² = Σ (x − m_float)² − count·(m − m_float)², m the item mean in double.
                        double off = means[ch] - center[ch];
                        squares[ch] = Math.Max(0, squares[ch] - (count * off * off));
                    }
                }
            });
            for (int b = 0; b < n; b++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    double m = 0, m2 = 0;
                    for (int i = 0; i < itemsPerSample; i++)
                    {
                        int count = Math.Min(itemPositions, positions - (i * itemPositions));
                        m += count * partial[(((b * itemsPerSample) + i) * 2 * c) + ch];
                    }

                    m /= positions;
                    for (int i = 0; i < itemsPerSample; i++)
                    {
                        int count = Math.Min(itemPositions, positions - (i * itemPositions));
                        int at = ((b * itemsPerSample) + i) * 2 * c;
                        double off = partial[at + ch] - m;
                        m2 += partial[at + c + ch] + (count * off * off);
                    }

                    mean[(b * c) + ch] = (float)m;
                    rstd[(b * c) + ch] = (float)(1.0 / Math.Sqrt((m2 / positions) + eps));
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partial);
        }

        // Then y = (x − mean)·scale + β, scale = γ·rstd: the second (and last) read of x.
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
        float[] shift = beta ?? new float[c];
        int itemPositions = ItemPositions(c);
        int itemsPerSample = (positions + itemPositions - 1) / itemPositions;
        int items = n * itemsPerSample;
        double[] partial = ArrayPool<double>.Shared.Rent(items * c * 2);
        double[] sums = new double[n * c * 2]; // per (n, c): Σ g, Σ g·(x − mean)
        try
        {
            KernelThreading.For(items, MinItems(itemPositions, c), (start, end) =>
            {
                float[] acc = new float[2 * c];
                for (int item = start; item < end; item++)
                {
                    ItemRange(item, itemsPerSample, itemPositions, positions, out int b, out int p0, out int count);
                    int offset = ((b * positions) + p0) * c;
                    var itemSums = partial.AsSpan(item * 2 * c, 2 * c);
                    if (relu) GradSumsItem<Masked>(x, dy, offset, count, c, mean.AsSpan(b * c, c), scale.AsSpan(b * c, c), shift, acc, itemSums);
                    else GradSumsItem<Plain>(x, dy, offset, count, c, mean.AsSpan(b * c, c), scale.AsSpan(b * c, c), shift, acc, itemSums);
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

    private struct Plain;
    private struct Squares;
    private struct Masked;

    /// <summary>Σ (x − center) (TMode Plain) or Σ (x − center)² (TMode Squares) over <paramref name="count"/> positions, per channel, into sums (overwritten).</summary>
    private static void SumItem<TMode>(float[] x, int offset, int count, int c, ReadOnlySpan<float> center, float[] acc, Span<double> sums)
        where TMode : struct
    {
        sums.Clear();
        bool squares = typeof(TMode) == typeof(Squares); // a JIT-time constant
        ref float m = ref MemoryMarshal.GetReference(center);
        ref float a = ref acc[0];
        for (int p0 = 0; p0 < count; p0 += FlushEvery)
        {
            // One block of positions (in cache after the first channel group), channel groups accumulated in registers.
            int blockCount = Math.Min(FlushEvery, count - p0);
            ref float block = ref At(x, offset + (p0 * c));
            nuint stride = (nuint)c;
            int ch = 0;
            if (Vector.IsHardwareAccelerated)
            {
                int width = Vector<float>.Count;
                for (; ch <= c - (4 * width); ch += 4 * width)
                {
                    nuint i0 = (nuint)ch, i1 = i0 + (nuint)width, i2 = i1 + (nuint)width, i3 = i2 + (nuint)width;
                    Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    Vector<float> m0 = Vector.LoadUnsafe(ref m, i0), m1 = Vector.LoadUnsafe(ref m, i1);
                    Vector<float> m2 = Vector.LoadUnsafe(ref m, i2), m3 = Vector.LoadUnsafe(ref m, i3);

                    nuint row = 0;
                    for (int p = 0; p < blockCount; p++, row += stride)
                    {
                        var v0 = Vector.LoadUnsafe(ref block, row + i0);
                        var v1 = Vector.LoadUnsafe(ref block, row + i1);
                        var v2 = Vector.LoadUnsafe(ref block, row + i2);
                        var v3 = Vector.LoadUnsafe(ref block, row + i3);
                        v0 -= m0; v1 -= m1; v2 -= m2; v3 -= m3;
                        if (squares)
                        {
                            a0 += v0 * v0; a1 += v1 * v1; a2 += v2 * v2; a3 += v3 * v3;
                        }
                        else
                        {
                            a0 += v0; a1 += v1; a2 += v2; a3 += v3;
                        }
                    }

                    Vector.StoreUnsafe(a0, ref a, i0); Vector.StoreUnsafe(a1, ref a, i1);
                    Vector.StoreUnsafe(a2, ref a, i2); Vector.StoreUnsafe(a3, ref a, i3);
                }

                for (; ch <= c - width; ch += width)
                {
                    nuint i0 = (nuint)ch;
                    Vector<float> a0 = default;
                    Vector<float> m0 = Vector.LoadUnsafe(ref m, i0);
                    nuint row = 0;
                    for (int p = 0; p < blockCount; p++, row += stride)
                    {
                        var v0 = Vector.LoadUnsafe(ref block, row + i0) - m0;
                        if (squares)
                        {
                            a0 += v0 * v0;
                        }
                        else
                        {
                            a0 += v0;
                        }
                    }

                    Vector.StoreUnsafe(a0, ref a, i0);
                }
            }

            for (; ch < c; ch++)
            {
                float a0 = 0f, m0 = Unsafe.Add(ref m, ch);
                nuint row = (nuint)ch;
                for (int p = 0; p < blockCount; p++, row += stride)
                {
                    float v = Unsafe.Add(ref block, row) - m0;
                    if (squares)
                    {
                        a0 += v * v;
                    }
                    else
                    {
                        a0 += v;
                    }
                }

                Unsafe.Add(ref a, ch) = a0;
            }

            for (int k = 0; k < c; k++) sums[k] += acc[k];
        }
    }

    /// <summary>
    /// Per channel over the item: sums[ch] = Σ g, sums[c + ch] = Σ g·(x − mean), with g = dy, masked where
    /// (x − mean)·scale + β ≤ 0 when TMode is Masked (the fused ReLU was off).
    /// </summary>
    private static void GradSumsItem<TMode>(float[] x, float[] dy, int offset, int count, int c, ReadOnlySpan<float> mean, ReadOnlySpan<float> scale,
                                            float[] beta, float[] acc, Span<double> sums)
        where TMode : struct
    {
        sums.Clear();
        bool masked = typeof(TMode) == typeof(Masked);
        ref float m = ref MemoryMarshal.GetReference(mean);
        ref float s = ref MemoryMarshal.GetReference(scale);
        ref float bt = ref beta[0];
        ref float a = ref acc[0];
        nuint stride = (nuint)c;
        for (int p0 = 0; p0 < count; p0 += FlushEvery)
        {
            int blockCount = Math.Min(FlushEvery, count - p0);
            ref float xb = ref At(x, offset + (p0 * c));
            ref float gb = ref At(dy, offset + (p0 * c));
            int ch = 0;
            if (Vector.IsHardwareAccelerated)
            {
                int width = Vector<float>.Count;
                for (; ch <= c - (2 * width); ch += 2 * width)
                {
                    nuint i0 = (nuint)ch, i1 = i0 + (nuint)width;
                    Vector<float> g0Sum = default, g1Sum = default, gd0Sum = default, gd1Sum = default;
                    var m0 = Vector.LoadUnsafe(ref m, i0);
                    var m1 = Vector.LoadUnsafe(ref m, i1);
                    var s0 = Vector.LoadUnsafe(ref s, i0);
                    var s1 = Vector.LoadUnsafe(ref s, i1);
                    var b0 = Vector.LoadUnsafe(ref bt, i0);
                    var b1 = Vector.LoadUnsafe(ref bt, i1);
                    nuint row = 0;
                    for (int p = 0; p < blockCount; p++, row += stride)
                    {
                        var d0 = Vector.LoadUnsafe(ref xb, row + i0) - m0;
                        var d1 = Vector.LoadUnsafe(ref xb, row + i1) - m1;
                        var g0 = Vector.LoadUnsafe(ref gb, row + i0);
                        var g1 = Vector.LoadUnsafe(ref gb, row + i1);
                        if (masked)
                        {
                            g0 = Vector.ConditionalSelect(Vector.GreaterThan((d0 * s0) + b0, Vector<float>.Zero), g0, Vector<float>.Zero);
                            g1 = Vector.ConditionalSelect(Vector.GreaterThan((d1 * s1) + b1, Vector<float>.Zero), g1, Vector<float>.Zero);
                        }

                        g0Sum += g0; g1Sum += g1;
                        gd0Sum += g0 * d0; gd1Sum += g1 * d1;
                    }

                    Vector.StoreUnsafe(g0Sum, ref a, i0);
                    Vector.StoreUnsafe(g1Sum, ref a, i1);
                    Vector.StoreUnsafe(gd0Sum, ref a, i0 + stride);
                    Vector.StoreUnsafe(gd1Sum, ref a, i1 + stride);
                }

                for (; ch <= c - width; ch += width)
                {
                    nuint i0 = (nuint)ch;
                    Vector<float> g0Sum = default, gd0Sum = default;
                    var m0 = Vector.LoadUnsafe(ref m, i0);
                    var s0 = Vector.LoadUnsafe(ref s, i0);
                    var b0 = Vector.LoadUnsafe(ref bt, i0);
                    nuint row = 0;
                    for (int p = 0; p < blockCount; p++, row += stride)
                    {
                        var d0 = Vector.LoadUnsafe(ref xb, row + i0) - m0;
                        var g0 = Vector.LoadUnsafe(ref gb, row + i0);
                        if (masked) g0 = Vector.ConditionalSelect(Vector.GreaterThan((d0 * s0) + b0, Vector<float>.Zero), g0, Vector<float>.Zero);
                        g0Sum += g0;
                        gd0Sum += g0 * d0;
                    }

                    Vector.StoreUnsafe(g0Sum, ref a, i0);
                    Vector.StoreUnsafe(gd0Sum, ref a, i0 + stride);
                }
            }

            for (; ch < c; ch++)
            {
                float gSum = 0f, gdSum = 0f, m0 = Unsafe.Add(ref m, ch), s0 = Unsafe.Add(ref s, ch), b0 = Unsafe.Add(ref bt, ch);
                nuint row = (nuint)ch;
                for (int p = 0; p < blockCount; p++, row += stride)
                {
                    float d = Unsafe.Add(ref xb, row) - m0;
                    float g = Unsafe.Add(ref gb, row);
                    if (masked && !((d * s0) + b0 > 0f)) g = 0f;
                    gSum += g;
                    gdSum += g * d;
                }

                Unsafe.Add(ref a, ch) = gSum;
                Unsafe.Add(ref a, c + ch) = gdSum;
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

    /// <summary>Positions per work item: about 256 KB of one sample (fits in L2), a whole number of float blocks.</summary>
    private static int ItemPositions(int c) => Math.Clamp(65536 / c / FlushEvery, 1, 32) * FlushEvery;

    private static void ItemRange(int item, int itemsPerSample, int itemPositions, int positions, out int b, out int p0, out int count)
    {
        b = item / itemsPerSample;
        p0 = item % itemsPerSample * itemPositions;
        count = Math.Min(itemPositions, positions - p0);
    }

    /// <summary>Items per thread chunk so that a chunk holds at least ~64K elements.</summary>
    private static int MinItems(int itemPositions, int c) => Math.Max(1, 65536 / (itemPositions * c));

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
