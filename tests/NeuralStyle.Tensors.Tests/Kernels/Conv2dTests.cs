using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Tests.Kernels;

[Collection(KernelThreadingCollection.Name)]
public class Conv2dTests
{
    // (n, h, w, ci, co, k, stride): every kernel size the models use (1, 3, 7, 9) and even ones, strides 1–3, channel
    // counts on both sides of the 8/16/32 tiles, and tall inputs whose backward-input scatter splits into 2 or 4 chunks.
    public static TheoryData<int, int, int, int, int, int, int, ConvPadding> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int, int, int, ConvPadding>();
        var shapes = new (int N, int H, int W, int Ci, int Co, int K, int S)[]
        {
            (1, 1, 1, 1, 1, 1, 1), (1, 11, 9, 3, 32, 9, 1), (2, 9, 8, 17, 33, 3, 2), (1, 13, 17, 8, 5, 7, 2),
            (1, 8, 7, 33, 3, 1, 2), (2, 7, 6, 5, 32, 4, 1), (1, 9, 10, 16, 31, 2, 1), (1, 12, 11, 7, 15, 3, 3),
            (1, 75, 6, 3, 4, 3, 2), (1, 41, 7, 2, 3, 9, 2), (1, 9, 9, 64, 69, 3, 1), (1, 10, 12, 32, 3, 9, 1),
        };
        foreach (var (n, h, w, ci, co, k, s) in shapes)
        {
            foreach (var padding in new[] { ConvPadding.Zero, ConvPadding.Valid, ConvPadding.Reflect, ConvPadding.Circular })
            {
                if (KernelComparisons.Conv2dFits(h, w, k, s, padding))
                {
                    data.Add(n, h, w, ci, co, k, s, padding);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryEntryPoint_OneTwoAndThreeThreads_MatchesReference(int n, int h, int w, int ci, int co, int k, int stride, ConvPadding padding)
    {
        int seed = (h * 131) + (w * 17) + (ci * 7) + co + k;
        foreach (int degree in new[] { 1, 2, 3 })
        {
            using var _ = KernelThreadingCollection.Degree(degree);
            foreach (string kind in new[] { "Forward", "BackwardInput", "BackwardWeights" })
            {
                Assert.Null(KernelComparisons.CompareConv2d(kind, n, h, w, ci, co, k, stride, padding, seed++));
                Assert.Null(KernelComparisons.CompareConv2d(kind, n, h, w, ci, co, k, stride, padding, seed++));
            }
        }
    }

    [Theory]
    [InlineData(ConvPadding.Zero)]
    [InlineData(ConvPadding.Reflect)]
    [InlineData(ConvPadding.Circular)]
    public void Pad_ForwardAndBackward_MatchReference(ConvPadding mode)
    {
        foreach (int degree in new[] { 1, 2 })
        {
            using var _ = KernelThreadingCollection.Degree(degree);
            Assert.Null(KernelComparisons.ComparePad(2, 7, 5, 3, 3, 1, 4, 2, mode, 11));
            Assert.Null(KernelComparisons.ComparePad(1, 4, 4, 33, 3, 3, 3, 3, mode, 12));
        }
    }

    [Fact]
    public void Reflect_MirrorsWithoutRepeatingTheEdge()
    {
        // Row [1 2 3 4] reflect-padded by 2 is [3 2 1 2 3 4 3 2] (PyTorch ReflectionPad2d).
        float[] x = [1, 2, 3, 4];
        float[] padded = new float[8];
        Pad2d.Forward(x, 1, 1, 4, 1, 0, 0, 2, 2, ConvPadding.Reflect, padded);
        Assert.Equal([3f, 2, 1, 2, 3, 4, 3, 2], padded);
    }

    [Fact]
    public void OutSize_FollowsPyTorch()
    {
        Assert.Equal(256, Conv2d.OutSize(512, 3, 2, ConvPadding.Reflect));   // ⌊(512 + 2 − 3)/2⌋ + 1
        Assert.Equal(513, Conv2d.OutSize(512, 4, 1, ConvPadding.Zero));      // even k: p = 2
        Assert.Equal(112, Conv2d.OutSize(224, 7, 2, ConvPadding.Zero));
        Assert.Equal(5, Conv2d.OutSize(7, 3, 1, ConvPadding.Valid));
    }

    [Fact]
    public void Conv3x3Kernels_RejectReflect()
    {
        var weights = new Conv3x3Weights(2, 2);
        var e = Assert.Throws<ArgumentException>(() => Conv3x3.Forward(new float[18], 1, 3, 3, weights, null, new float[18], ConvPadding.Reflect, false));
        Assert.Contains("Reflect", e.Message);
        Assert.Throws<ArgumentException>(() => Conv3x3.BackwardInput(new float[18], 1, 3, 3, weights, new float[18], ConvPadding.Reflect));
        Assert.Throws<ArgumentException>(() => Conv3x3.BackwardWeights(new float[18], new float[18], 1, 3, 3, 2, 2, new float[36], null, ConvPadding.Reflect));
    }

    [Fact]
    public void BadArguments_ThrowArgumentException()
    {
        float[] w = new float[2 * 2 * 9];
        Assert.Throws<ArgumentException>(() => Conv2d.Forward(new float[8], 1, 2, 2, 2, 2, 3, 0, w, null, new float[8], ConvPadding.Zero, false));
        Assert.Throws<ArgumentException>(() => Conv2d.Forward(new float[8], 1, 2, 2, 2, 2, 3, 1, w, null, new float[8], ConvPadding.Valid, false));
        Assert.Throws<ArgumentException>(() => Conv2d.Forward(new float[2], 1, 1, 1, 2, 2, 3, 1, w, null, new float[2], ConvPadding.Reflect, false));
        Assert.Throws<ArgumentException>(() => Pad2d.Forward(new float[4], 1, 2, 2, 1, 2, 0, 0, 0, ConvPadding.Reflect, new float[8]));
        Assert.Throws<ArgumentException>(() => Pad2d.Forward(new float[4], 1, 2, 2, 1, 1, 0, 0, 0, ConvPadding.Valid, new float[6]));
    }
}
