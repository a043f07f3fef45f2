using NeuralStyle.Tensors.Kernels;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;

namespace NeuralStyle.Tensors.Tests.Autograd;

/// <summary>
/// Graph.Conv2d and Graph.Pad against PyTorch (tests/fixtures/engine/conv, made by tools/fixtures/engine/conv.py):
/// forward, dL/dx, dL/dW, dL/db for loss = Σ r ⊙ y, within 1e-4 relative (max |Δ| / max |reference|).
/// The fixtures are NCHW (weights OIHW, as the engine takes them); activations are converted to NHWC here.
/// </summary>
public class ConvFixtureTests
{
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("conv_k9_s1_reflect", 9, 1, ConvPadding.Reflect)]
    [InlineData("conv_k3_s2_reflect", 3, 2, ConvPadding.Reflect)]
    [InlineData("conv_k3_s1_reflect", 3, 1, ConvPadding.Reflect)]
    [InlineData("conv_k1_s2_zero", 1, 2, ConvPadding.Zero)]
    [InlineData("conv_k7_s2_zero", 7, 2, ConvPadding.Zero)]
    [InlineData("conv_k3_s2_zero", 3, 2, ConvPadding.Zero)]
    [InlineData("conv_k3_s1_circular", 3, 1, ConvPadding.Circular)]
    [InlineData("conv_k4_s1_zero", 4, 1, ConvPadding.Zero)]
    [InlineData("conv_k3_s1_valid", 3, 1, ConvPadding.Valid)]
    public void Conv2d_ForwardAndGradients_MatchPyTorch(string file, int kernel, int stride, ConvPadding padding)
    {
        var t = Read(file);
        var g = new Graph();
        Value x = g.Input(NhwcShape(t["x"].Shape), requiresGrad: true);
        ToNhwc(t["x"]).CopyTo(x.Data, 0);
        Value weight = g.Parameter(t["weight"].Data, t["weight"].Shape);
        Value bias = g.Parameter(t["bias"].Data, t["bias"].Shape);
        Assert.Equal(kernel, weight.Shape[2]);
        Value y = g.Conv2d(x, weight, bias, stride, padding);
        Assert.Equal(NhwcShape(t["y"].Shape), y.Shape);
        Value loss = g.Sum(g.Mul(y, g.Constant(ToNhwc(t["r"]), y.Shape)));
        g.Forward();
        g.Backward(loss);
        AssertClose("y", y.Data, ToNhwc(t["y"]));
        AssertClose("dx", x.Grad!, ToNhwc(t["dx"]));
        AssertClose("dweight", weight.Grad!, t["dweight"].Data);
        AssertClose("dbias", bias.Grad!, t["dbias"].Data);
    }

    [Theory]
    [InlineData("pad_zero_3_3_3_3", 3, 3, 3, 3, ConvPadding.Zero)]
    [InlineData("pad_reflect_2_1_3_0", 2, 1, 3, 0, ConvPadding.Reflect)]
    [InlineData("pad_circular_1_4_2_6", 1, 4, 2, 6, ConvPadding.Circular)]
    public void Pad_ForwardAndGradient_MatchPyTorch(string file, int top, int bottom, int left, int right, ConvPadding mode)
    {
        var t = Read(file);
        var g = new Graph();
        Value x = g.Input(NhwcShape(t["x"].Shape), requiresGrad: true);
        ToNhwc(t["x"]).CopyTo(x.Data, 0);
        Value y = g.Pad(x, top, bottom, left, right, mode);
        Assert.Equal(NhwcShape(t["y"].Shape), y.Shape);
        Value loss = g.Sum(g.Mul(y, g.Constant(ToNhwc(t["r"]), y.Shape)));
        g.Forward();
        g.Backward(loss);
        AssertClose("y", y.Data, ToNhwc(t["y"]));
        AssertClose("dx", x.Grad!, ToNhwc(t["dx"]));
    }

    private static void AssertClose(string what, float[] actual, float[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double relative = Fixtures.RelativeError(actual, expected);
        Assert.True(relative <= Tolerance, $"{what}: relative error {relative:G3} > {Tolerance}");
    }

    private static int[] NhwcShape(int[] nchw) => [nchw[0], nchw[2], nchw[3], nchw[1]];

    private static float[] ToNhwc(WeightTensor t) => Fixtures.ToNhwc(t);

    private static IReadOnlyDictionary<string, WeightTensor> Read(string name) => SafeTensors.Read(Fixtures.Engine("conv", name + ".safetensors"));
}
