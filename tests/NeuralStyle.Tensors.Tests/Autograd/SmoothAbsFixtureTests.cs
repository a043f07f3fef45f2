using NeuralStyle.TestSupport;
using NeuralStyle.Weights;

namespace NeuralStyle.Tensors.Tests.Autograd;

/// <summary>
/// The smooth |x| (√(x² + ε²) − ε) against PyTorch (tests/fixtures/engine/smoothing, written by
/// tools/fixtures/engine/smoothing.py): values and the gradient of Σ r ⊙ y, at and around the rounded corner.
/// </summary>
public class SmoothAbsFixtureTests
{
    [Theory]
    [InlineData("eps1")]
    [InlineData("eps01")]
    public void SmoothAbs_MatchesTorch(string name)
    {
        var t = SafeTensors.Read(Fixtures.Engine("smoothing", "smooth_abs.safetensors"));
        WeightTensor x = t[$"{name}.x"];
        var g = new Graph();
        // Elementwise: the layout does not matter, so the NCHW data goes in as it is.
        Value xv = g.Input(x.Shape, requiresGrad: true);
        x.Data.CopyTo(xv.Data, 0);
        Value y = g.SmoothAbs(xv, t[$"{name}.eps"].Data[0]);
        Value loss = g.Sum(g.Mul(y, g.Constant(t[$"{name}.r"].Data, y.Shape)));
        g.Forward();
        g.Backward(loss);
        Assert.True(Fixtures.RelativeError(y.Data, t[$"{name}.y"].Data) <= 1e-6, "y");
        Assert.True(Fixtures.RelativeError(xv.Grad, t[$"{name}.dx"].Data) <= 1e-6, "dx");
        // At 0 the smooth |x| is 0 with a zero slope (|x| has none there).
        Assert.Equal(0f, y.Data[0]);
        Assert.Equal(0f, xv.Grad![0]);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    public void SmoothAbs_RefusesAnEpsilonThatIsNotPositive(float eps)
    {
        var g = new Graph();
        Value x = g.Input([3], requiresGrad: true);
        Assert.Throws<ArgumentOutOfRangeException>(() => g.SmoothAbs(x, eps));
    }
}
