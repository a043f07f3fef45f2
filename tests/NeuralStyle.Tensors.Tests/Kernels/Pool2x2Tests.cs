using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Tests.Kernels;

[Collection(KernelThreadingCollection.Name)]
public class Pool2x2Tests
{
    public static TheoryData<string, int, int, int, int> Cases()
    {
        var data = new TheoryData<string, int, int, int, int>();
        var shapes = new (int N, int H, int W, int C)[]
        {
            (1, 1, 1, 1), (1, 2, 2, 3), (2, 3, 5, 5), (1, 7, 8, 15), (1, 8, 9, 16), (2, 9, 17, 17),
            (1, 17, 7, 31), (1, 33, 33, 33), (1, 8, 8, 64), (1, 5, 3, 65),
            (1, 65, 64, 32), // split between threads
        };
        foreach (string kind in new[] { "MaxForward", "MaxBackward", "AvgForward", "AvgBackward" })
        {
            foreach (var (n, h, w, c) in shapes)
            {
                data.Add(kind, n, h, w, c);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pool_RandomInputs_MatchesReference(string kind, int n, int h, int w, int c)
    {
        foreach (int degree in new[] { 1, 2 })
        {
            using var _ = KernelThreadingCollection.Degree(degree);
            Assert.Null(KernelComparisons.ComparePool(kind, n, h, w, c, (h * 97) + (w * 13) + c));
        }
    }

    [Fact]
    public void MaxBackwardReference_Ties_GradientGoesToFirstInWindow()
    {
        // One 2×2 window, one channel, all equal: PyTorch sends the gradient to the first element.
        var x = new[] { 2f, 2f, 2f, 2f };
        var dx = new float[4];
        Pool2x2.MaxBackwardReference(x, new[] { 3f }, 1, 2, 2, 1, dx);
        Assert.Equal(new[] { 3f, 0f, 0f, 0f }, dx);
        Pool2x2.MaxBackward(x, new[] { 3f }, 1, 2, 2, 1, dx);
        Assert.Equal(new[] { 3f, 0f, 0f, 0f }, dx);
    }

    [Fact]
    public void Max_NaNsAndTiesAcrossVectorLanes_MatchesReference()
    {
        // 19 channels: full vectors plus a scalar tail; values from a small set so ties are frequent, some NaNs.
        const int n = 1, h = 4, w = 6, c = 19;
        var rng = new Random(5);
        var x = new float[n * h * w * c];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = rng.Next(8) == 0 ? float.NaN : rng.Next(3);
        }

        var dy = KernelComparisons.Random(n * (h / 2) * (w / 2) * c, 6);
        var expectedY = new float[dy.Length];
        var actualY = new float[dy.Length];
        Pool2x2.MaxForwardReference(x, n, h, w, c, expectedY);
        Pool2x2.MaxForward(x, n, h, w, c, actualY);
        Assert.Equal(expectedY, actualY); // xunit's float equality treats NaN as equal to NaN

        var expectedDx = new float[x.Length];
        var actualDx = new float[x.Length];
        Pool2x2.MaxBackwardReference(x, dy, n, h, w, c, expectedDx);
        Pool2x2.MaxBackward(x, dy, n, h, w, c, actualDx);
        Assert.Equal(expectedDx, actualDx);
        Assert.Contains(expectedY, float.IsNaN);
    }

    [Fact]
    public void MaxForward_NaNInWindow_Propagates()
    {
        var x = new[] { 1f, float.NaN, 5f, 2f };
        var y = new float[1];
        Pool2x2.MaxForward(x, 1, 2, 2, 1, y);
        Assert.True(float.IsNaN(y[0]));
        Pool2x2.MaxForwardReference(x, 1, 2, 2, 1, y);
        Assert.True(float.IsNaN(y[0]));
    }

    [Fact]
    public void MaxReference_HandComputedNhwc_PicksPerChannelMaxAndDropsOddEdge()
    {
        // 3×3 image, 2 channels: only the top-left 2×2 window exists; row 2 and column 2 are dropped.
        var x = new float[18];
        for (int i = 0; i < 9; i++)
        {
            x[2 * i] = i;          // channel 0: max at (1,1) = 4
            x[(2 * i) + 1] = -i;   // channel 1: max at (0,0) = 0
        }

        var y = new float[2];
        Pool2x2.MaxForwardReference(x, 1, 3, 3, 2, y);
        Assert.Equal(new[] { 4f, 0f }, y);

        var dx = Enumerable.Repeat(float.NaN, 18).ToArray();
        Pool2x2.MaxBackward(x, new[] { 10f, 20f }, 1, 3, 3, 2, dx);
        var expected = new float[18];
        expected[(4 * 2) + 0] = 10f;
        expected[(0 * 2) + 1] = 20f;
        Assert.Equal(expected, dx);
    }

    [Fact]
    public void AvgReference_HandComputed_AveragesWindowAndSpreadsQuarter()
    {
        var x = new[] { 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f }; // 2×4, one channel
        var y = new float[2];
        Pool2x2.AvgForwardReference(x, 1, 2, 4, 1, y);
        Assert.Equal(new[] { 3.5f, 5.5f }, y);
        var dx = new float[8];
        Pool2x2.AvgBackwardReference(new[] { 4f, 8f }, 1, 2, 4, 1, dx);
        Assert.Equal(new[] { 1f, 1f, 2f, 2f, 1f, 1f, 2f, 2f }, dx);
    }
}
