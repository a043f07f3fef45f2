// Fast-versus-reference comparisons of every kernel entry point. Shared (as source) by the xunit tests and by
// tests/NeuralStyle.KernelCheck, the console program the tests re-run with hardware intrinsics switched off.
// Each Compare… method returns null when the fast path matches its reference, else a description of the worst mismatch.
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Tests.Kernels;

public static class KernelComparisons
{
    /// <summary>Allowed |fast − reference| for a sum of <paramref name="terms"/> products of values of size ~1.</summary>
    public static double Tolerance(double reference, int terms) => 2e-5 * Math.Sqrt(Math.Max(1, terms)) * (1 + Math.Abs(reference));

    public static float[] Random(int length, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var data = new float[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (float)((rng.NextDouble() * 2) - 1) * scale;
        }

        return data;
    }

    public static float[] Garbage(int length)
    {
        var data = new float[length];
        Array.Fill(data, float.NaN);
        return data;
    }

    public static string? Compare(string what, float[] fast, float[] reference, int length, int terms)
    {
        double worst = 0;
        int at = -1;
        for (int i = 0; i < length; i++)
        {
            double diff = Math.Abs((double)fast[i] - reference[i]);
            if (double.IsNaN(diff) && !(float.IsNaN(fast[i]) && float.IsNaN(reference[i])))
            {
                return $"{what}: element {i} is {fast[i]}, reference {reference[i]}";
            }

            double excess = diff / Tolerance(reference[i], terms);
            if (excess > worst)
            {
                worst = excess;
                at = i;
            }
        }

        return worst > 1 ? $"{what}: element {at} is {fast[at]}, reference {reference[at]} ({worst:F1}× the tolerance)" : null;
    }

    public static string? CompareConvForward(int n, int h, int w, int ci, int co, ConvPadding padding, bool relu, bool withBias, int seed)
    {
        int ho = padding == ConvPadding.Valid ? h - 2 : h, wo = padding == ConvPadding.Valid ? w - 2 : w;
        var x = Random(n * h * w * ci, seed);
        var weight = Random(co * ci * 9, seed + 1);
        var bias = withBias ? Random(co, seed + 2) : null;
        var packed = new Conv3x3Weights(co, ci);
        packed.Pack(weight);
        int outLength = n * ho * wo * co;
        var expected = Garbage(outLength);
        var actual = Garbage(outLength + 7); // a longer array: nothing past the output may change
        Conv3x3.ForwardReference(x, n, h, w, ci, co, weight, bias, expected, padding, relu);
        Conv3x3.Forward(x, n, h, w, packed, bias, actual, padding, relu);
        string what = $"Conv3x3.Forward n={n} {h}×{w} ci={ci} co={co} {padding} relu={relu} bias={withBias}";
        for (int i = outLength; i < actual.Length; i++)
        {
            if (!float.IsNaN(actual[i]))
            {
                return $"{what}: wrote past the output at {i}";
            }
        }

        return Compare(what, actual, expected, outLength, (9 * ci) + 1);
    }

    public static string? CompareConvBackwardInput(int n, int h, int w, int ci, int co, ConvPadding padding, int seed)
    {
        int ho = padding == ConvPadding.Valid ? h - 2 : h, wo = padding == ConvPadding.Valid ? w - 2 : w;
        var dy = Random(n * ho * wo * co, seed);
        var weight = Random(co * ci * 9, seed + 1);
        var packed = new Conv3x3Weights(co, ci);
        packed.Pack(weight);
        int length = n * h * w * ci;
        var expected = Garbage(length);
        var actual = Garbage(length);
        Conv3x3.BackwardInputReference(dy, n, h, w, ci, co, weight, expected, padding);
        Conv3x3.BackwardInput(dy, n, h, w, packed, actual, padding);
        return Compare($"Conv3x3.BackwardInput n={n} {h}×{w} ci={ci} co={co} {padding}", actual, expected, length, 9 * co);
    }

    /// <param name="segmentFloats">When positive, the fast path's scratch budget per segment (in floats), so that
    /// small problems are also cut into several segments of output rows.</param>
    public static string? CompareConvBackwardWeights(int n, int h, int w, int ci, int co, ConvPadding padding, bool withBias, int seed, int segmentFloats = 0)
    {
        int ho = padding == ConvPadding.Valid ? h - 2 : h, wo = padding == ConvPadding.Valid ? w - 2 : w;
        var x = Random(n * h * w * ci, seed);
        var dy = Random(n * ho * wo * co, seed + 1);
        // Start from non-zero gradients: both must accumulate.
        var dwExpected = Random(co * ci * 9, seed + 2);
        var dwActual = (float[])dwExpected.Clone();
        var dbExpected = withBias ? Random(co, seed + 3) : null;
        var dbActual = (float[]?)dbExpected?.Clone();
        Conv3x3.BackwardWeightsReference(x, dy, n, h, w, ci, co, dwExpected, dbExpected, padding);
        Conv3x3.WeightsSegmentFloatsForTests = segmentFloats;
        try
        {
            Conv3x3.BackwardWeights(x, dy, n, h, w, ci, co, dwActual, dbActual, padding);
        }
        finally
        {
            Conv3x3.WeightsSegmentFloatsForTests = 0;
        }

        string what = $"Conv3x3.BackwardWeights n={n} {h}×{w} ci={ci} co={co} {padding} bias={withBias}" +
                      (segmentFloats > 0 ? $" segment={segmentFloats}" : "");
        int terms = (n * ho * wo) + 1;
        return Compare(what + " dw", dwActual, dwExpected, dwExpected.Length, terms)
            ?? (withBias ? Compare(what + " db", dbActual!, dbExpected!, co, terms) : null);
    }

    public static string? ComparePool(string kind, int n, int h, int w, int c, int seed)
    {
        int ho = h / 2, wo = w / 2;
        var x = Random(n * h * w * c, seed);
        if (x.Length > 8)
        {
            // Some ties, so that first-wins is exercised.
            for (int i = 0; i + 4 < x.Length; i += 7)
            {
                x[i + 4] = x[i];
            }
        }

        var dy = Random(n * ho * wo * c, seed + 1);
        int small = n * ho * wo * c, large = n * h * w * c;
        string what = $"Pool2x2.{kind} n={n} {h}×{w} c={c}";
        switch (kind)
        {
            case "MaxForward":
            {
                var e = Garbage(small);
                var a = Garbage(small);
                Pool2x2.MaxForwardReference(x, n, h, w, c, e);
                Pool2x2.MaxForward(x, n, h, w, c, a);
                return Compare(what, a, e, small, 1);
            }

            case "AvgForward":
            {
                var e = Garbage(small);
                var a = Garbage(small);
                Pool2x2.AvgForwardReference(x, n, h, w, c, e);
                Pool2x2.AvgForward(x, n, h, w, c, a);
                return Compare(what, a, e, small, 4);
            }

            case "MaxBackward":
            {
                var e = Garbage(large);
                var a = Garbage(large);
                Pool2x2.MaxBackwardReference(x, dy, n, h, w, c, e);
                Pool2x2.MaxBackward(x, dy, n, h, w, c, a);
                return Compare(what, a, e, large, 1);
            }

            case "AvgBackward":
            {
                var e = Garbage(large);
                var a = Garbage(large);
                Pool2x2.AvgBackwardReference(dy, n, h, w, c, e);
                Pool2x2.AvgBackward(dy, n, h, w, c, a);
                return Compare(what, a, e, large, 1);
            }

            default:
                throw new ArgumentException($"Unknown pooling kind {kind}.", nameof(kind));
        }
    }

    public static string? CompareGemm(bool transA, bool transB, int m, int n, int k, float alpha, float beta, int seed)
    {
        // Offsets and leading dimensions larger than the width.
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + 3, ldb = bCols + 5, ldc = n + 2;
        int aOffset = 7, bOffset = 2, cOffset = 5;
        var a = Random(aOffset + (aRows * lda) + 4, seed);
        var b = Random(bOffset + (bRows * ldb) + 4, seed + 1);
        var cExpected = beta == 0f ? Garbage(cOffset + (m * ldc) + 3) : Random(cOffset + (m * ldc) + 3, seed + 2);
        var cActual = (float[])cExpected.Clone();
        Gemm.SgemmReference(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, cExpected, cOffset, ldc);
        Gemm.Sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, cActual, cOffset, ldc);
        string what = $"Gemm.Sgemm transA={transA} transB={transB} m={m} n={n} k={k} alpha={alpha} beta={beta}";
        for (int i = 0; i < cActual.Length; i++)
        {
            int row = (i - cOffset) / ldc, col = (i - cOffset) % ldc;
            bool inside = i >= cOffset && row < m && col < n;
            if (!inside)
            {
                bool same = cActual[i] == cExpected[i] || (float.IsNaN(cActual[i]) && float.IsNaN(cExpected[i]));
                if (!same)
                {
                    return $"{what}: element {i} outside C changed";
                }
            }
            else
            {
                double diff = Math.Abs((double)cActual[i] - cExpected[i]);
                if (!(diff <= Tolerance(cExpected[i], k + 1) * Math.Max(1, Math.Abs(alpha))))
                {
                    return $"{what}: C[{row},{col}] is {cActual[i]}, reference {cExpected[i]}";
                }
            }
        }

        return null;
    }

    /// <summary>A representative set of cases (every kernel, padding, tail and vector width) for the child-process check.</summary>
    public static IEnumerable<Func<string?>> RepresentativeCases()
    {
        int seed = 100;
        var paddings = new[] { ConvPadding.Zero, ConvPadding.Valid, ConvPadding.Circular };
        var shapes = new (int N, int H, int W, int Ci, int Co)[]
        {
            (1, 5, 9, 3, 16), (2, 9, 8, 17, 33), (1, 3, 17, 8, 65), (1, 8, 3, 33, 5), (2, 7, 5, 1, 32),
        };
        foreach (var (sn, sh, sw, sci, sco) in shapes)
        {
            foreach (var padding in paddings)
            {
                int s = seed++;
                yield return () => CompareConvForward(sn, sh, sw, sci, sco, padding, relu: s % 2 == 0, withBias: s % 3 != 0, s);
                yield return () => CompareConvBackwardInput(sn, sh, sw, sci, sco, padding, s);
                yield return () => CompareConvBackwardWeights(sn, sh, sw, sci, sco, padding, withBias: s % 2 == 1, s);
            }
        }

        // Backward-to-weights: batches, small images with many channels (more than 64 ci blocks: two ci groups),
        // channel tails, co-block counts that need ci groups to split evenly between cores, rows wider than a band,
        // and images cut into segments of 1 and of a few output rows.
        var weightShapes = new (int N, int H, int W, int Ci, int Co, int Segment)[]
        {
            (4, 6, 7, 17, 40, 0), (1, 3, 4, 520, 70, 0), (2, 3, 3, 69, 96, 0), (1, 5, 6, 7, 1, 0), (1, 4, 9, 31, 31, 0),
            (1, 5, 5, 16, 96, 0), (3, 4, 5, 1, 33, 0), (1, 3, 300, 8, 15, 0), (2, 13, 11, 17, 33, 2000), (4, 9, 10, 15, 64, 6000),
        };
        foreach (var (wn, wh, ww, wci, wco, segment) in weightShapes)
        {
            foreach (var padding in paddings)
            {
                int s = seed++;
                yield return () => CompareConvBackwardWeights(wn, wh, ww, wci, wco, padding, withBias: s % 2 == 0, s, segment);
            }
        }

        foreach (string kind in new[] { "MaxForward", "MaxBackward", "AvgForward", "AvgBackward" })
        {
            foreach (var (pn, ph, pw, pc) in new[] { (1, 5, 7, 3), (2, 8, 9, 17), (1, 9, 8, 64), (1, 1, 3, 5) })
            {
                int s = seed++;
                yield return () => ComparePool(kind, pn, ph, pw, pc, s);
            }
        }

        foreach (bool ta in new[] { false, true })
        {
            foreach (bool tb in new[] { false, true })
            {
                foreach (var (m, n, k) in new[] { (17, 33, 65), (1, 3, 129), (65, 31, 16), (0, 5, 3), (9, 40, 0) })
                {
                    int s = seed++;
                    yield return () => CompareGemm(ta, tb, m, n, k, 0.5f, s % 2 == 0 ? 0f : 1.5f, s);
                }
            }
        }
    }
}
