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

    /// <summary>The Gram matrix by symmetry against every entry computed by the reference, and exactly symmetric.</summary>
    public static string? CompareGram(int m, int c, float alpha, int seed)
    {
        int fOffset = 3, gOffset = 4;
        var f = Random(fOffset + (m * c) + 2, seed);
        var expected = Garbage(gOffset + (c * c) + 3);
        var actual = Garbage(gOffset + (c * c) + 3);
        Gemm.GramReference(m, c, alpha, f, fOffset, expected, gOffset);
        Gemm.Gram(m, c, alpha, f, fOffset, actual, gOffset);
        string what = $"Gemm.Gram m={m} c={c}";
        for (int i = 0; i < c; i++)
        {
            for (int j = 0; j < c; j++)
            {
                float a = actual[gOffset + (i * c) + j], e = expected[gOffset + (i * c) + j];
                if (!(Math.Abs((double)a - e) <= Tolerance(e, m + 1) * Math.Max(1, Math.Abs(alpha))))
                    return $"{what}: G[{i},{j}] is {a}, reference {e}";
                if (BitConverter.SingleToInt32Bits(a) != BitConverter.SingleToInt32Bits(actual[gOffset + (j * c) + i]))
                    return $"{what}: G[{i},{j}] = {a} but G[{j},{i}] = {actual[gOffset + (j * c) + i]} (must be symmetric)";
            }
        }
        for (int i = 0; i < actual.Length; i++)
            if ((i < gOffset || i >= gOffset + (c * c)) && !float.IsNaN(actual[i]))
                return $"{what}: element {i} outside G changed";
        return null;
    }

    public static string? CompareInstanceNorm(int n, int h, int w, int c, bool affine, bool relu, int seed)
    {
        int p = h * w, length = n * p * c;
        var x = Random(length, seed);
        for (int i = 0; i < length; i++)
        {
            x[i] += (i % c) % 3 == 1 ? 5f : 0f; // some channels far from zero mean
        }

        var gamma = affine ? Random(c, seed + 1, 2f) : null;
        var beta = affine ? Random(c, seed + 2) : null;
        var dy = Random(length, seed + 3);
        const float eps = 1e-5f;
        string what = $"InstanceNorm n={n} {h}×{w} c={c} affine={affine} relu={relu}";
        var yExpected = Garbage(length);
        var yActual = Garbage(length);
        float[] meanE = Garbage(n * c), rstdE = Garbage(n * c), mean = Garbage(n * c), rstd = Garbage(n * c);
        InstanceNorm.ForwardReference(x, n, p, c, gamma, beta, eps, relu, yExpected, meanE, rstdE);
        InstanceNorm.Forward(x, n, p, c, gamma, beta, eps, relu, yActual, mean, rstd);
        string? failure = Compare(what + " y", yActual, yExpected, length, 4)
            ?? Compare(what + " mean", mean, meanE, n * c, 1) ?? Compare(what + " rstd", rstd, rstdE, n * c, 1);
        if (failure is not null)
        {
            return failure;
        }

        var dxExpected = Garbage(length);
        var dxActual = Garbage(length);
        // Start from non-zero parameter gradients: both must accumulate.
        var dgE = Random(c, seed + 4);
        var dbE = Random(c, seed + 5);
        var dgA = (float[])dgE.Clone();
        var dbA = (float[])dbE.Clone();
        InstanceNorm.BackwardReference(x, dy, n, p, c, gamma, beta, relu, eps, dxExpected, affine ? dgE : null, affine ? dbE : null);
        InstanceNorm.Backward(x, dy, n, p, c, gamma, beta, relu, mean, rstd, dxActual, affine ? dgA : null, affine ? dbA : null);
        return Compare(what + " dx", dxActual, dxExpected, length, 16)
            ?? Compare(what + " dgamma", dgA, dgE, c, n * p) ?? Compare(what + " dbeta", dbA, dbE, c, n * p);
    }

    public static string? CompareUpsample(int n, int h, int w, int c, int factor, int seed)
    {
        int small = n * h * w * c, large = small * factor * factor;
        var x = Random(small, seed);
        var dy = Random(large, seed + 1);
        string what = $"UpsampleNearest n={n} {h}×{w} c={c} f={factor}";
        var yE = Garbage(large);
        var yA = Garbage(large);
        UpsampleNearest.ForwardReference(x, n, h, w, c, factor, yE);
        UpsampleNearest.Forward(x, n, h, w, c, factor, yA);
        var dxE = Garbage(small);
        var dxA = Garbage(small);
        UpsampleNearest.BackwardReference(dy, n, h, w, c, factor, dxE);
        UpsampleNearest.Backward(dy, n, h, w, c, factor, dxA);
        return Compare(what + " y", yA, yE, large, 1) ?? Compare(what + " dx", dxA, dxE, small, factor * factor);
    }

    public static string? CompareMaxPool(int n, int h, int w, int c, int kernel, int stride, int padding, int seed)
    {
        int ho = MaxPool.OutSize(h, kernel, stride, padding), wo = MaxPool.OutSize(w, kernel, stride, padding);
        int small = n * ho * wo * c, large = n * h * w * c;
        var x = Random(large, seed);
        for (int i = 0; i + 4 < x.Length; i += 7)
        {
            x[i + 4] = x[i]; // some ties, so that first-wins is exercised
        }

        var dy = Random(small, seed + 1);
        string what = $"MaxPool n={n} {h}×{w} c={c} k={kernel} s={stride} p={padding}";
        var yE = Garbage(small);
        var yA = Garbage(small);
        var winner = new int[small];
        MaxPool.ForwardReference(x, n, h, w, c, kernel, stride, padding, yE);
        MaxPool.Forward(x, n, h, w, c, kernel, stride, padding, yA, winner);
        var dxE = Garbage(large);
        var dxA = Garbage(large);
        MaxPool.BackwardReference(x, dy, n, h, w, c, kernel, stride, padding, dxE);
        MaxPool.Backward(winner, dy, n, h, w, c, kernel, stride, padding, dxA);
        return Compare(what + " y", yA, yE, small, 1) ?? Compare(what + " dx", dxA, dxE, large, kernel * kernel);
    }

    public static string? CompareSoftmax(int positions, int c, float temperature, int seed)
    {
        int length = positions * c;
        var x = Random(length, seed, 8f);
        var dy = Random(length, seed + 1);
        string what = $"SoftmaxChannels positions={positions} c={c} T={temperature}";
        var yE = Garbage(length);
        var yA = Garbage(length);
        SoftmaxChannels.ForwardReference(x, positions, c, temperature, yE);
        SoftmaxChannels.Forward(x, positions, c, temperature, yA);
        var dxE = Garbage(length);
        var dxA = Garbage(length);
        SoftmaxChannels.BackwardReference(yE, dy, positions, c, temperature, dxE);
        SoftmaxChannels.Backward(yE, dy, positions, c, temperature, dxA);
        return Compare(what + " y", yA, yE, length, c) ?? Compare(what + " dx", dxA, dxE, length, c);
    }

    public static string? CompareConv2d(string kind, int n, int h, int w, int ci, int co, int k, int stride, ConvPadding padding, int seed)
    {
        int ho = Conv2d.OutSize(h, k, stride, padding), wo = Conv2d.OutSize(w, k, stride, padding);
        var x = Random(n * h * w * ci, seed);
        var dy = Random(n * ho * wo * co, seed + 1);
        var weight = Random(co * ci * k * k, seed + 2);
        string what = $"Conv2d.{kind} n={n} {h}×{w} ci={ci} co={co} k={k} s={stride} {padding}";
        switch (kind)
        {
            case "Forward":
            {
                bool relu = seed % 2 == 0;
                var bias = seed % 3 != 0 ? Random(co, seed + 3) : null;
                int length = n * ho * wo * co;
                var expected = Garbage(length);
                var actual = Garbage(length + 5); // nothing past the output may change
                Conv2d.ForwardReference(x, n, h, w, ci, co, k, stride, weight, bias, expected, padding, relu);
                Conv2d.Forward(x, n, h, w, ci, co, k, stride, weight, bias, actual, padding, relu);
                for (int i = length; i < actual.Length; i++)
                {
                    if (!float.IsNaN(actual[i]))
                    {
                        return $"{what}: wrote past the output at {i}";
                    }
                }

                return Compare(what + $" relu={relu} bias={bias is not null}", actual, expected, length, (k * k * ci) + 1);
            }

            case "BackwardInput":
            {
                int length = n * h * w * ci;
                var expected = Garbage(length);
                var actual = Garbage(length);
                Conv2d.BackwardInputReference(dy, n, h, w, ci, co, k, stride, weight, expected, padding);
                Conv2d.BackwardInput(dy, n, h, w, ci, co, k, stride, weight, actual, padding);
                return Compare(what, actual, expected, length, k * k * co * 4);
            }

            case "BackwardWeights":
            {
                bool withBias = seed % 2 == 1;
                var dwExpected = Random(co * ci * k * k, seed + 4);
                var dwActual = (float[])dwExpected.Clone();
                var dbExpected = withBias ? Random(co, seed + 5) : null;
                var dbActual = (float[]?)dbExpected?.Clone();
                Conv2d.BackwardWeightsReference(x, dy, n, h, w, ci, co, k, stride, dwExpected, dbExpected, padding);
                Conv2d.BackwardWeights(x, dy, n, h, w, ci, co, k, stride, dwActual, dbActual, padding);
                int terms = (n * ho * wo * 4) + 1;
                return Compare(what + " dw", dwActual, dwExpected, dwExpected.Length, terms)
                    ?? (withBias ? Compare(what + " db", dbActual!, dbExpected!, co, terms) : null);
            }

            default:
                throw new ArgumentException($"Unknown Conv2d kind {kind}.", nameof(kind));
        }
    }

    public static string? CompareUpsampleConv3x3(int n, int h, int w, int ci, int co, bool relu, bool withBias, int seed)
    {
        var x = Random(n * h * w * ci, seed);
        var weight = Random(co * ci * 9, seed + 1);
        var bias = withBias ? Random(co, seed + 2) : null;
        int length = n * 4 * h * w * co;
        var expected = Garbage(length);
        var actual = Garbage(length + 3);
        UpsampleConv3x3.ForwardReference(x, n, h, w, ci, co, weight, bias, expected, relu);
        UpsampleConv3x3.Forward(x, n, h, w, ci, co, weight, bias, actual, relu);
        string what = $"UpsampleConv3x3 n={n} {h}×{w} ci={ci} co={co} relu={relu} bias={withBias}";
        for (int i = length; i < actual.Length; i++)
            if (!float.IsNaN(actual[i])) return $"{what}: wrote past the output at {i}";
        return Compare(what, actual, expected, length, (9 * ci) + 1);
    }

    public static string? CompareWinograd2x2(int n, int h, int w, int ci, int co, ConvPadding padding, bool relu, bool withBias, int seed)
        => CompareWinograd("Winograd2x2", Winograd2x2.TransformWeights, Winograd2x2.Forward, 4, n, h, w, ci, co, padding, relu, withBias, seed);

    // The F(4×4) transforms scale by up to 8 (points ±2), so rounding grows by about that much over F(2×2, 3×3)'s.
    public static string? CompareWinograd4x4(int n, int h, int w, int ci, int co, ConvPadding padding, bool relu, bool withBias, int seed)
        => CompareWinograd("Winograd4x4", Winograd4x4.TransformWeights, Winograd4x4.Forward, 32, n, h, w, ci, co, padding, relu, withBias, seed);

    /// <summary>
    /// Winograd4x4.ForwardPacked (zero padding, bias + ReLU fused, optionally reading x through a ReLU mask) and
    /// BackwardInputPacked (dy through the output's ReLU mask when masked) against the direct references.
    /// </summary>
    public static string? CompareWinogradFrozen(int n, int h, int w, int ci, int co, bool relu, bool withBias, bool masked, int seed)
    {
        var x = Random(n * h * w * ci, seed);
        var weight = Random(co * ci * 9, seed + 1);
        var bias = withBias ? Random(co, seed + 2) : null;
        var inputMask = masked ? Random(n * h * w * ci, seed + 3) : null;
        var dy = Random(n * h * w * co, seed + 4);
        var outputMask = masked ? Random(n * h * w * co, seed + 5) : null;
        string what = $"Winograd4x4 frozen n={n} {h}×{w} ci={ci} co={co} relu={relu} bias={withBias} masked={masked}";

        var xMasked = (float[])x.Clone();
        if (inputMask is not null) Activation.ReluMaskReference(x, inputMask, xMasked);
        int length = n * h * w * co;
        var expected = Garbage(length);
        var actual = Garbage(length + 3);
        Conv3x3.ForwardReference(xMasked, n, h, w, ci, co, weight, bias, expected, ConvPadding.Zero, relu);
        Winograd4x4.ForwardPacked(x, inputMask, n, h, w, ci, co, Winograd4x4.TransformWeightsPacked(weight, co, ci), bias, actual, relu);
        for (int i = length; i < actual.Length; i++)
            if (!float.IsNaN(actual[i])) return $"{what} forward: wrote past the output at {i}";
        string? forward = Compare(what + " forward", actual, expected, length, (9 * ci * 32) + 1);
        if (forward is not null) return forward;

        var dyMasked = (float[])dy.Clone();
        if (outputMask is not null) Activation.ReluMaskReference(dy, outputMask, dyMasked);
        int inLength = n * h * w * ci;
        var dxExpected = Garbage(inLength);
        var dxActual = Garbage(inLength + 3);
        Conv3x3.BackwardInputReference(dyMasked, n, h, w, ci, co, weight, dxExpected, ConvPadding.Zero);
        Winograd4x4.BackwardInputPacked(dy, outputMask, n, h, w, ci, co, Winograd4x4.TransformWeightsBackwardPacked(weight, co, ci), dxActual);
        for (int i = inLength; i < dxActual.Length; i++)
            if (!float.IsNaN(dxActual[i])) return $"{what} backward: wrote past the output at {i}";
        return Compare(what + " backward-input", dxActual, dxExpected, inLength, (9 * co * 32) + 1);
    }

    private delegate void WinogradForward(float[] x, int n, int h, int w, int ci, int co, float[] u, float[]? bias, float[] y, ConvPadding padding, bool relu);

    /// <summary>A Winograd kernel against the direct reference; <paramref name="errorGrowth"/> scales the per-term tolerance.</summary>
    private static string? CompareWinograd(string kernel, Func<float[], int, int, float[]> transform, WinogradForward forward, int errorGrowth,
        int n, int h, int w, int ci, int co, ConvPadding padding, bool relu, bool withBias, int seed)
    {
        var x = Random(n * h * w * ci, seed);
        var weight = Random(co * ci * 9, seed + 1);
        var bias = withBias ? Random(co, seed + 2) : null;
        int length = n * h * w * co;
        var expected = Garbage(length);
        var actual = Garbage(length + 3);
        Conv2d.ForwardReference(x, n, h, w, ci, co, 3, 1, weight, bias, expected, padding, relu);
        forward(x, n, h, w, ci, co, transform(weight, co, ci), bias, actual, padding, relu);
        string what = $"{kernel} n={n} {h}×{w} ci={ci} co={co} {padding} relu={relu} bias={withBias}";
        for (int i = length; i < actual.Length; i++)
            if (!float.IsNaN(actual[i])) return $"{what}: wrote past the output at {i}";
        return Compare(what, actual, expected, length, (9 * ci * errorGrowth) + 1);
    }

    /// <summary>True when an h×w input is valid for a k×k, stride-s convolution with this padding.</summary>
    public static bool Conv2dFits(int h, int w, int k, int stride, ConvPadding padding)
    {
        int p = Conv2d.PadAmount(k, padding);
        return Conv2d.OutSize(h, k, stride, padding) >= 1 && Conv2d.OutSize(w, k, stride, padding) >= 1
            && (padding != ConvPadding.Reflect || (p < h && p < w))
            && (padding != ConvPadding.Circular || (p <= h && p <= w));
    }

    public static string? ComparePad(int n, int h, int w, int c, int top, int bottom, int left, int right, ConvPadding mode, int seed)
    {
        int ho = h + top + bottom, wo = w + left + right;
        var x = Random(n * h * w * c, seed);
        var dy = Random(n * ho * wo * c, seed + 1);
        string what = $"Pad2d n={n} {h}×{w} c={c} pads {top},{bottom},{left},{right} {mode}";
        var e = Garbage(n * ho * wo * c);
        var a = Garbage(n * ho * wo * c);
        Pad2d.ForwardReference(x, n, h, w, c, top, bottom, left, right, mode, e);
        Pad2d.Forward(x, n, h, w, c, top, bottom, left, right, mode, a);
        var de = Garbage(n * h * w * c);
        var da = Garbage(n * h * w * c);
        Pad2d.BackwardReference(dy, n, h, w, c, top, bottom, left, right, mode, de);
        Pad2d.Backward(dy, n, h, w, c, top, bottom, left, right, mode, da);
        return Compare(what + " forward", a, e, e.Length, 1) ?? Compare(what + " backward", da, de, de.Length, 4);
    }

    /// <summary>A representative set of cases (every kernel, padding, tail and vector width) for the child-process check.</summary>
    public static IEnumerable<Func<string?>> RepresentativeCases()
    {
        int seed = 100;
        foreach (Func<string?> optimizerCase in OptimizerComparisons.Cases()) yield return optimizerCase;
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

        var conv2dPaddings = new[] { ConvPadding.Zero, ConvPadding.Valid, ConvPadding.Reflect, ConvPadding.Circular };
        var conv2dShapes = new (int N, int H, int W, int Ci, int Co, int K, int Stride)[]
        {
            (1, 11, 9, 3, 16, 9, 1), (2, 9, 8, 17, 33, 3, 2), (1, 13, 17, 8, 5, 7, 2), (1, 8, 7, 33, 3, 1, 2),
            (2, 7, 6, 5, 32, 4, 1), (1, 9, 10, 16, 31, 2, 1), (1, 12, 11, 7, 15, 3, 3), (1, 40, 9, 3, 4, 3, 2),
            (1, 37, 8, 4, 7, 9, 1), (1, 41, 7, 2, 3, 9, 2),
            // ConvLargeKernel (stride 1, k ≥ 5): Ci ≤ 4 → 32 (interior 8-pixel tiles and border tiles, row tails) and
            // Ci = 32·m → 3 (4-pixel tiles and tails); the Johnson network's first and last 9×9 convolutions.
            (1, 13, 23, 3, 32, 9, 1), (2, 10, 11, 1, 32, 5, 1), (1, 9, 30, 4, 32, 7, 1), (1, 12, 21, 32, 3, 9, 1),
            (2, 9, 14, 64, 3, 5, 1), (1, 6, 7, 96, 3, 5, 1),
            // ... and its stride-2 path (Co = 32·m, any Ci, any k): 8-pixel tiles inside the image and at its borders.
            (1, 11, 37, 32, 64, 3, 2), (2, 8, 19, 5, 32, 3, 2), (2, 16, 16, 16, 32, 3, 2), (2, 8, 8, 32, 64, 3, 2), (1, 9, 40, 17, 96, 5, 2), (1, 6, 6, 64, 32, 3, 2),
        };
        foreach (var (cn, ch, cw, cci, cco, ck, cs) in conv2dShapes)
        {
            foreach (var padding in conv2dPaddings)
            {
                if (!Conv2dFits(ch, cw, ck, cs, padding))
                {
                    continue;
                }

                foreach (string kind in new[] { "Forward", "BackwardInput", "BackwardWeights" })
                {
                    int s = seed++;
                    yield return () => CompareConv2d(kind, cn, ch, cw, cci, cco, ck, cs, padding, s);
                }
            }
        }

        foreach (var (wn, wh, ww, wci, wco) in new[] { (1, 2, 2, 1, 1), (2, 5, 7, 3, 16), (1, 9, 8, 17, 33), (1, 16, 15, 64, 64), (1, 11, 13, 128 + 5, 31), (1, 13, 17, 31, 47), (2, 12, 11, 24, 40) })
        {
            foreach (var padding in new[] { ConvPadding.Zero, ConvPadding.Reflect })
            {
                int s = seed++;
                yield return () => CompareWinograd2x2(wn, wh, ww, wci, wco, padding, relu: s % 2 == 0, withBias: s % 3 != 0, s);
            }
        }

        // Every residue of H and W mod 4 (partial 4×4 tiles), more than one 32-tile block with a partial last one, 16-lane bodies and tails.
        foreach (var (wn, wh, ww, wci, wco) in new[] { (1, 2, 2, 1, 1), (2, 5, 7, 3, 16), (1, 9, 8, 17, 33), (1, 16, 15, 64, 64), (1, 11, 13, 128 + 5, 31), (1, 18, 22, 31, 47), (2, 12, 11, 24, 40), (1, 29, 30, 16, 32) })
        {
            foreach (var padding in new[] { ConvPadding.Zero, ConvPadding.Reflect })
            {
                int s = seed++;
                yield return () => CompareWinograd4x4(wn, wh, ww, wci, wco, padding, relu: s % 2 == 0, withBias: s % 3 != 0, s);
            }
        }

        // The frozen-weight path: every residue of H and W mod 4, channel bodies of 16 and tails, output channels that
        // are not a multiple of 32 (padded register tile), blocks of several 8-row groups with a partial last one, and
        // (133 → 130) the shared-chunk driver for transformed weights too large for the per-thread one.
        foreach (var (wn, wh, ww, wci, wco) in new[] { (1, 1, 1, 1, 1), (2, 5, 7, 3, 16), (1, 9, 8, 17, 33), (1, 16, 15, 64, 64), (1, 11, 13, 64 + 5, 31), (1, 18, 22, 31, 47), (2, 6, 3, 7, 15), (1, 29, 30, 32, 8), (1, 3, 41, 1, 64), (1, 9, 11, 133, 130) })
        {
            int s = seed++;
            yield return () => CompareWinogradFrozen(wn, wh, ww, wci, wco, relu: s % 2 == 0, withBias: s % 3 != 0, masked: s % 2 == 1, s);
        }

        foreach (var (un, uh, uw, uci, uco) in new[] { (1, 1, 1, 3, 2), (2, 3, 5, 7, 16), (1, 6, 4, 17, 33), (1, 5, 7, 32, 15), (1, 4, 9, 64 + 5, 32), (1, 2, 37, 2048, 2) })
        {
            int s = seed++;
            yield return () => CompareUpsampleConv3x3(un, uh, uw, uci, uco, relu: s % 2 == 0, withBias: s % 3 != 0, s);
        }

        foreach (var mode in new[] { ConvPadding.Zero, ConvPadding.Reflect, ConvPadding.Circular })
        {
            foreach (var (pn, ph, pw, pc, t, b, l, r) in new[] { (1, 5, 7, 3, 1, 1, 1, 1), (2, 6, 9, 17, 3, 2, 0, 4), (1, 9, 5, 64, 4, 4, 3, 3) })
            {
                int s = seed++;
                yield return () => ComparePad(pn, ph, pw, pc, t, b, l, r, mode, s);
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

        // Channel counts that hit every vector width and tail; odd sizes; batch 1 and 3; split between threads.
        int[] channels = [1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 69];
        for (int i = 0; i < channels.Length; i++)
        {
            int c = channels[i], n = i % 2 == 0 ? 1 : 3;
            int s = seed++;
            yield return () => CompareInstanceNorm(n, 5 + (i % 3), 7, c, affine: i % 3 != 2, relu: i % 2 == 0, s);
            yield return () => CompareUpsample(n, 3, 5, c, 2 + (i % 2), s);
            yield return () => CompareMaxPool(n, 7, 9, c, 3, 2, 1, s);
            yield return () => CompareSoftmax(n * 13, c, i % 2 == 0 ? 1f : 0.5f, s);
        }

        yield return () => CompareInstanceNorm(1, 91, 97, 16, affine: true, relu: true, seed++); // several items and blocks per sample
        yield return () => CompareInstanceNorm(2, 33, 65, 33, affine: true, relu: false, seed++);
        yield return () => CompareMaxPool(2, 9, 8, 5, 2, 2, 0, seed++);
        yield return () => CompareMaxPool(1, 8, 7, 17, 3, 1, 1, seed++);
        yield return () => CompareMaxPool(1, 6, 5, 3, 5, 3, 2, seed++);
        yield return () => CompareMaxPool(1, 65, 63, 64, 3, 2, 1, seed++);
        yield return () => CompareUpsample(2, 33, 17, 32, 2, seed++);
        yield return () => CompareSoftmax(4099, 19, 2f, seed++);

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

        // Gram by symmetry: below two strips (one GEMM), exactly two, with a partial last strip, and many strips.
        foreach (var (m, c) in new[] { (9, 5), (40, 63), (33, 64), (17, 65), (70, 100), (300, 130) })
        {
            int s = seed++;
            yield return () => CompareGram(m, c, 0.25f, s);
        }
    }
}
