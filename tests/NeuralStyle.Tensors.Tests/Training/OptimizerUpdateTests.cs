using NeuralStyle.Tensors.Tests.Kernels;

namespace NeuralStyle.Tensors.Tests.Training;

/// <summary>The vectorised update kernels (Adam, SGD, L-BFGS's fused two-loop passes) against their references, bit for bit.</summary>
public class OptimizerUpdateTests
{
    [Fact]
    public void EveryUpdateKernel_MatchesItsReferenceBitForBit()
    {
        int count = 0;
        foreach (Func<string?> comparison in OptimizerComparisons.Cases())
        {
            Assert.Null(comparison());
            count++;
        }
        Assert.Equal(7 * OptimizerComparisons.Lengths.Length + 3 * OptimizerComparisons.BlockLengths.Length, count);
    }
}
