using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Tests.Kernels;

[Collection(KernelThreadingCollection.Name)]
public class Conv3x3Tests
{
    // (n, h, w, ci, co): a subset covering channels {1,3,5,8,15,16,17,31,32,33,64,65} and sizes {1,2,3,5,7,8,9,17,33}.
    public static TheoryData<int, int, int, int, int, ConvPadding> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int, ConvPadding>();
        var shapes = new (int N, int H, int W, int Ci, int Co)[]
        {
            (1, 1, 1, 1, 1), (1, 2, 3, 3, 64), (2, 3, 5, 5, 15), (1, 5, 7, 8, 16), (1, 7, 9, 15, 17),
            (2, 8, 8, 16, 31), (1, 9, 2, 17, 32), (1, 17, 8, 31, 33), (1, 3, 33, 32, 8), (1, 9, 17, 33, 65),
            (1, 5, 5, 64, 3), (2, 3, 9, 65, 5),
        };
        foreach (var (n, h, w, ci, co) in shapes)
        {
            foreach (var padding in new[] { ConvPadding.Zero, ConvPadding.Valid, ConvPadding.Circular })
            {
                if (padding == ConvPadding.Valid && (h < 3 || w < 3))
                {
                    continue;
                }

                data.Add(n, h, w, ci, co, padding);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_RandomInputs_MatchesReference(int n, int h, int w, int ci, int co, ConvPadding padding)
    {
        int seed = (h * 131) + (w * 17) + (ci * 7) + co;
        foreach (int degree in new[] { 1, 2 })
        {
            using var _ = KernelThreadingCollection.Degree(degree);
            Assert.Null(KernelComparisons.CompareConvForward(n, h, w, ci, co, padding, relu: false, withBias: false, seed));
            Assert.Null(KernelComparisons.CompareConvForward(n, h, w, ci, co, padding, relu: true, withBias: true, seed + 1));
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_ReluWithoutBiasAndBiasWithoutRelu_MatchesReference(int n, int h, int w, int ci, int co, ConvPadding padding)
    {
        int seed = (h * 31) + (w * 7) + (ci * 3) + co;
        Assert.Null(KernelComparisons.CompareConvForward(n, h, w, ci, co, padding, relu: true, withBias: false, seed));
        Assert.Null(KernelComparisons.CompareConvForward(n, h, w, ci, co, padding, relu: false, withBias: true, seed + 1));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardInput_RandomInputs_MatchesReference(int n, int h, int w, int ci, int co, ConvPadding padding)
    {
        int seed = (h * 131) + (w * 17) + (ci * 7) + co + 5;
        foreach (int degree in new[] { 1, 2 })
        {
            using var _ = KernelThreadingCollection.Degree(degree);
            Assert.Null(KernelComparisons.CompareConvBackwardInput(n, h, w, ci, co, padding, seed));
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardWeights_RandomInputs_AccumulatesLikeReference(int n, int h, int w, int ci, int co, ConvPadding padding)
    {
        int seed = (h * 131) + (w * 17) + (ci * 7) + co + 9;
        foreach (int degree in new[] { 1, 2 })
        {
            using var _ = KernelThreadingCollection.Degree(degree);
            Assert.Null(KernelComparisons.CompareConvBackwardWeights(n, h, w, ci, co, padding, withBias: true, seed));
            Assert.Null(KernelComparisons.CompareConvBackwardWeights(n, h, w, ci, co, padding, withBias: false, seed + 1));
        }
    }

    [Fact]
    public void Forward_LargerLayer_MatchesReference()
    {
        // Several 8-pixel tiles per row, several 32-channel blocks and enough rows to be split between threads.
        Assert.Null(KernelComparisons.CompareConvForward(1, 33, 33, 64, 65, ConvPadding.Zero, relu: true, withBias: true, seed: 3));
        Assert.Null(KernelComparisons.CompareConvBackwardInput(1, 33, 33, 65, 64, ConvPadding.Circular, seed: 4));
        Assert.Null(KernelComparisons.CompareConvBackwardWeights(2, 17, 33, 65, 64, ConvPadding.Valid, withBias: true, seed: 5));
    }

    [Theory]
    [InlineData(ConvPadding.Zero)]
    [InlineData(ConvPadding.Valid)]
    [InlineData(ConvPadding.Circular)]
    public void BackwardInput_FewInputChannelsWideImage_MatchesReferenceAcrossBands(ConvPadding padding)
    {
        // Ci ≤ 16 goes through the GEMM path, which works in bands of max(8, 16384 / W) rows: 37 × 520 spans two bands.
        foreach (int degree in new[] { 1, 2 })
        {
            using var _ = KernelThreadingCollection.Degree(degree);
            Assert.Null(KernelComparisons.CompareConvBackwardInput(1, 37, 520, 3, 5, padding, seed: 21));
        }
    }

    [Theory]
    [InlineData(ConvPadding.Zero, 4, 4)]
    [InlineData(ConvPadding.Valid, 5, 6)]
    [InlineData(ConvPadding.Circular, 3, 5)]
    [InlineData(ConvPadding.Circular, 1, 2)]
    public void References_AdjointIdentities_Hold(ConvPadding padding, int h, int w)
    {
        // <Forward(x), dy> = <x, BackwardInput(dy)> = <w, BackwardWeights(x, dy)> (bias off, relu off).
        const int n = 2, ci = 3, co = 4;
        int ho = padding == ConvPadding.Valid ? h - 2 : h, wo = padding == ConvPadding.Valid ? w - 2 : w;
        var x = KernelComparisons.Random(n * h * w * ci, 11);
        var weight = KernelComparisons.Random(co * ci * 9, 12);
        var dy = KernelComparisons.Random(n * ho * wo * co, 13);
        var y = new float[dy.Length];
        var dx = new float[x.Length];
        var dw = new float[weight.Length];
        Conv3x3.ForwardReference(x, n, h, w, ci, co, weight, null, y, padding, relu: false);
        Conv3x3.BackwardInputReference(dy, n, h, w, ci, co, weight, dx, padding);
        Conv3x3.BackwardWeightsReference(x, dy, n, h, w, ci, co, dw, null, padding);

        double viaForward = Dot(y, dy), viaInput = Dot(x, dx), viaWeights = Dot(weight, dw);
        Assert.True(Math.Abs(viaForward) > 1e-3, "degenerate test data");
        Assert.InRange(viaInput, viaForward - (1e-5 * (1 + Math.Abs(viaForward))), viaForward + (1e-5 * (1 + Math.Abs(viaForward))));
        Assert.InRange(viaWeights, viaForward - (1e-5 * (1 + Math.Abs(viaForward))), viaForward + (1e-5 * (1 + Math.Abs(viaForward))));
    }

    [Fact]
    public void ForwardReference_ZeroPaddingImpulse_GivesFlippedKernel()
    {
        // x is 1 at the centre of a 3×3 image: y[oy, ox] = w[2−oy, 2−ox] (cross-correlation, like PyTorch).
        var x = new float[9];
        x[4] = 1f;
        var weight = Enumerable.Range(1, 9).Select(v => (float)v).ToArray();
        var y = new float[9];
        Conv3x3.ForwardReference(x, 1, 3, 3, 1, 1, weight, null, y, ConvPadding.Zero, relu: false);
        for (int oy = 0; oy < 3; oy++)
        {
            for (int ox = 0; ox < 3; ox++)
            {
                Assert.Equal(weight[((2 - oy) * 3) + (2 - ox)], y[(oy * 3) + ox]);
            }
        }
    }

    [Fact]
    public void ForwardReference_ZeroPaddingCorner_SeesOnlyInsideTaps()
    {
        // All-ones 2×2 input, all-ones weights: every output pixel sees exactly the 4 input pixels.
        var x = new float[] { 1, 1, 1, 1 };
        var weight = Enumerable.Repeat(1f, 9).ToArray();
        var y = new float[4];
        Conv3x3.ForwardReference(x, 1, 2, 2, 1, 1, weight, new[] { 0.5f }, y, ConvPadding.Zero, relu: false);
        Assert.All(y, v => Assert.Equal(4.5f, v));
    }

    [Fact]
    public void ForwardReference_CircularImpulse_WrapsAround()
    {
        // x is 1 at (0,0) of a 4×4 image: y[oy, ox] = w[ky, kx] with oy+ky−1 ≡ 0 and ox+kx−1 ≡ 0 (mod 4).
        var x = new float[16];
        x[0] = 1f;
        var weight = Enumerable.Range(1, 9).Select(v => (float)v).ToArray();
        var y = new float[16];
        Conv3x3.ForwardReference(x, 1, 4, 4, 1, 1, weight, null, y, ConvPadding.Circular, relu: false);
        for (int oy = 0; oy < 4; oy++)
        {
            for (int ox = 0; ox < 4; ox++)
            {
                int ky = ((1 - oy) % 4 + 4) % 4, kx = ((1 - ox) % 4 + 4) % 4;
                float expected = ky < 3 && kx < 3 ? weight[(ky * 3) + kx] : 0f;
                Assert.Equal(expected, y[(oy * 4) + ox]);
            }
        }
    }

    [Fact]
    public void ForwardReference_ValidPaddingAndRelu_SumsWindowAndClamps()
    {
        // 3×4 input with values 0..11 and all-ones weights: two outputs, the sums of the two 3×3 windows, minus a bias.
        var x = Enumerable.Range(0, 12).Select(v => (float)v).ToArray();
        var weight = Enumerable.Repeat(1f, 9).ToArray();
        var y = new float[2];
        Conv3x3.ForwardReference(x, 1, 3, 4, 1, 1, weight, new[] { -49.5f }, y, ConvPadding.Valid, relu: true);
        Assert.Equal(0f, y[0]);    // 0+1+2+4+5+6+8+9+10 = 45 − 49.5 < 0
        Assert.Equal(4.5f, y[1]);  // 54 − 49.5
    }

    [Fact]
    public void Forward_RepackedWeights_UsesNewWeights()
    {
        var packed = new Conv3x3Weights(2, 1);
        packed.Pack(Enumerable.Repeat(1f, 18).ToArray());
        packed.Pack(Enumerable.Repeat(2f, 18).ToArray());
        var y = new float[2];
        Conv3x3.Forward(new[] { 1f }, 1, 1, 1, packed, null, y, ConvPadding.Zero, relu: false);
        Assert.Equal(new[] { 2f, 2f }, y);
    }

    [Fact]
    public void Forward_WrongSizes_Throw()
    {
        var packed = new Conv3x3Weights(4, 3);
        Assert.Throws<ArgumentException>(() => packed.Pack(new float[10]));
        Assert.Throws<ArgumentException>(() => Conv3x3.Forward(new float[3 * 4 * 4], 1, 4, 4, packed, null, new float[10], ConvPadding.Zero, false));
        Assert.Throws<ArgumentException>(() => Conv3x3.Forward(new float[3 * 2 * 2], 1, 2, 2, packed, null, new float[64], ConvPadding.Valid, false));
    }

    private static double Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }

        return sum;
    }
}
