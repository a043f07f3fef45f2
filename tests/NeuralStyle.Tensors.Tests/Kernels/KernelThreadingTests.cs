using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Tests.Kernels;

[Collection(KernelThreadingCollection.Name)]
public class KernelThreadingTests
{
    [Fact]
    public void MaxDegree_BelowOne_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelThreading.MaxDegree = 0);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public void Kernels_MoreThanTwoThreads_MatchReferences(int degree)
    {
        // More than two chunks goes through Parallel.For instead of the caller + one task.
        using var _ = KernelThreadingCollection.Degree(degree);
        Assert.Null(KernelComparisons.CompareConvForward(1, 33, 17, 64, 40, ConvPadding.Zero, relu: true, withBias: true, seed: 31));
        Assert.Null(KernelComparisons.CompareConvBackwardInput(1, 33, 17, 40, 64, ConvPadding.Circular, seed: 32));
        Assert.Null(KernelComparisons.CompareConvBackwardWeights(2, 17, 17, 33, 64, ConvPadding.Valid, withBias: true, seed: 33));
        Assert.Null(KernelComparisons.CompareGemm(true, false, 64, 64, 3000, 0.25f, 0f, seed: 34));
        Assert.Null(KernelComparisons.CompareGemm(false, true, 200, 96, 500, 1f, 1f, seed: 35));
        Assert.Null(KernelComparisons.ComparePool("MaxBackward", 1, 96, 64, 32, seed: 36));
    }
}
