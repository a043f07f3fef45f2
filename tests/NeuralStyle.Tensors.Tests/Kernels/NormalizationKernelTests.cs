using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Tests.Kernels;

/// <summary>InstanceNorm, UpsampleNearest, MaxPool and SoftmaxChannels fast paths against their references, 1 and 2 threads.</summary>
[Collection(KernelThreadingCollection.Name)]
public class NormalizationKernelTests
{
    private static readonly int[] Channels = [1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 69];

    public static TheoryData<int, int> ChannelCases()
    {
        var data = new TheoryData<int, int>();
        foreach (int c in Channels)
        {
            data.Add(c, 1);
            data.Add(c, 3);
        }

        return data;
    }

    private static void BothDegrees(Func<string?> comparison)
    {
        foreach (int degree in new[] { 1, 2 })
        {
            using var _ = KernelThreadingCollection.Degree(degree);
            Assert.Null(comparison());
        }
    }

    [Theory]
    [MemberData(nameof(ChannelCases))]
    public void InstanceNorm_MatchesReference(int c, int n)
    {
        BothDegrees(() => KernelComparisons.CompareInstanceNorm(n, 5, 7, c, affine: true, relu: true, c));
        BothDegrees(() => KernelComparisons.CompareInstanceNorm(n, 3, 9, c, affine: true, relu: false, c + 1));
        BothDegrees(() => KernelComparisons.CompareInstanceNorm(n, 1, 1, c, affine: false, relu: false, c + 2));
    }

    [Theory]
    [InlineData(1, 129, 67, 32)] // two items per sample, many float blocks, split between threads
    [InlineData(2, 65, 33, 17)]
    public void InstanceNorm_Large_MatchesReference(int n, int h, int w, int c)
        => BothDegrees(() => KernelComparisons.CompareInstanceNorm(n, h, w, c, affine: true, relu: true, h + w));

    [Fact]
    public void InstanceNorm_LargeOffset_KeepsVarianceAccuracy()
    {
        // mean 1000, std 0.01 over 512² positions: a one-pass float E[x²] − E[x]² would lose everything.
        const int p = 512 * 512, c = 2;
        var x = new float[p * c];
        var rng = new Rng(5);
        rng.FillUniform(x, -0.01 * Math.Sqrt(3), 0.01 * Math.Sqrt(3));
        for (int i = 0; i < x.Length; i++) x[i] += 1000f;
        float[] y = new float[x.Length], mean = new float[c], rstd = new float[c], yRef = new float[x.Length], meanRef = new float[c], rstdRef = new float[c];
        InstanceNorm.Forward(x, 1, p, c, null, null, 1e-12f, false, y, mean, rstd);
        InstanceNorm.ForwardReference(x, 1, p, c, null, null, 1e-12f, false, yRef, meanRef, rstdRef);
        for (int ch = 0; ch < c; ch++) Assert.Equal(rstdRef[ch], rstd[ch], rstdRef[ch] * 1e-5f);
    }

    [Theory]
    [MemberData(nameof(ChannelCases))]
    public void Upsample_MatchesReference(int c, int n)
    {
        BothDegrees(() => KernelComparisons.CompareUpsample(n, 3, 5, c, 2, c));
        BothDegrees(() => KernelComparisons.CompareUpsample(n, 2, 1, c, 3, c + 1));
    }

    [Theory]
    [MemberData(nameof(ChannelCases))]
    public void MaxPool_MatchesReference(int c, int n)
    {
        BothDegrees(() => KernelComparisons.CompareMaxPool(n, 7, 9, c, 3, 2, 1, c));
        BothDegrees(() => KernelComparisons.CompareMaxPool(n, 8, 5, c, 2, 2, 0, c + 1));
        BothDegrees(() => KernelComparisons.CompareMaxPool(n, 5, 6, c, 3, 1, 1, c + 2));
    }

    [Fact]
    public void MaxPool_Large_MatchesReference() => BothDegrees(() => KernelComparisons.CompareMaxPool(2, 67, 65, 64, 3, 2, 1, 9));

    [Fact]
    public void MaxPool_TiesAndPadding_GradientGoesToFirstValidMax()
    {
        // 2×2 input, all equal, 3×3 window with padding 1 at stride 2: one output, its window's first valid element wins.
        var x = new[] { 2f, 2f, 2f, 2f };
        var y = new float[1];
        var winner = new int[1];
        var dx = new float[4];
        MaxPool.Forward(x, 1, 2, 2, 1, 3, 2, 1, y, winner);
        MaxPool.Backward(winner, [3f], 1, 2, 2, 1, 3, 2, 1, dx);
        Assert.Equal(new[] { 3f, 0f, 0f, 0f }, dx);
        MaxPool.BackwardReference(x, [3f], 1, 2, 2, 1, 3, 2, 1, dx);
        Assert.Equal(new[] { 3f, 0f, 0f, 0f }, dx);
    }

    [Fact]
    public void MaxPool_NegativeInputs_PaddingNeverWins()
    {
        var x = new[] { -5f, -4f, -3f, -2f };
        var y = new float[4];
        MaxPool.Forward(x, 1, 2, 2, 1, 3, 1, 1, y, new int[4]);
        Assert.Equal(new[] { -2f, -2f, -2f, -2f }, y);
    }

    [Theory]
    [MemberData(nameof(ChannelCases))]
    public void Softmax_MatchesReference(int c, int n) => BothDegrees(() => KernelComparisons.CompareSoftmax(n * 37, c, n == 1 ? 1f : 0.25f, c));

    [Fact]
    public void Softmax_HugeLogits_NoOverflow()
    {
        var x = new[] { 1000f, 999f, -1000f };
        var y = new float[3];
        SoftmaxChannels.Forward(x, 1, 3, 1f, y);
        Assert.Equal(1 / (1 + Math.Exp(-1)), y[0], 1e-6);
        Assert.Equal(0f, y[2]);
    }

    [Fact]
    public void BadArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => MaxPool.Forward(new float[16], 1, 4, 4, 1, 3, 2, 2, new float[16], new int[16]));
        Assert.Throws<ArgumentException>(() => UpsampleNearest.Forward(new float[4], 1, 2, 2, 1, 0, new float[4]));
        Assert.Throws<ArgumentException>(() => SoftmaxChannels.Forward(new float[4], 1, 4, 0f, new float[4]));
        Assert.Throws<ArgumentException>(() => InstanceNorm.Forward(new float[4], 1, 4, 1, null, null, 1e-5f, false, new float[3], new float[1], new float[1]));
    }
}
