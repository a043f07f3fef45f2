using NeuralStyle.TestSupport;
using NeuralStyle.Weights;

namespace NeuralStyle.Tensors.Tests.Autograd;

/// <summary>
/// The normalisation and resampling ops against PyTorch (tests/fixtures/engine/norm, written by
/// tools/fixtures/engine/norm.py): values and the gradients of loss = Σ r ⊙ y, to ≤ 1e-4 relative.
/// </summary>
public class NormalizationFixtureTests
{
    private const double Tolerance = 1e-4;

    private static IReadOnlyDictionary<string, WeightTensor> Load(string file) => SafeTensors.Read(Fixtures.Engine("norm", file));

    /// <summary>An NCHW fixture tensor as NHWC data with its NHWC shape.</summary>
    private static (float[] Data, int[] Shape) Nhwc(WeightTensor t) => (Fixtures.ToNhwc(t), [t.Shape[0], t.Shape[2], t.Shape[3], t.Shape[1]]);

    private static Value Activation(Graph g, WeightTensor t, bool requiresGrad = true)
    {
        var (data, shape) = Nhwc(t);
        Value v = g.Input(shape, requiresGrad);
        data.CopyTo(v.Data, 0);
        return v;
    }

    /// <summary>loss = Σ r ⊙ y with r from the fixture; runs forward and backward.</summary>
    private static void RunLoss(Graph g, Value y, WeightTensor r)
    {
        Value loss = g.Sum(g.Mul(y, g.Constant(Nhwc(r).Data, y.Shape)));
        g.Forward();
        g.Backward(loss);
    }

    private static void AssertClose(ReadOnlySpan<float> actual, float[] expected, string what)
    {
        double error = Fixtures.RelativeError(actual, expected);
        Assert.True(error <= Tolerance, $"{what}: relative error {error:G3}");
    }

    private static void AssertNhwc(ReadOnlySpan<float> actual, WeightTensor expected, string what) => AssertClose(actual, Nhwc(expected).Data, what);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void UpsampleNearest_MatchesTorch(int factor)
    {
        var t = Load("upsample.safetensors");
        var g = new Graph();
        Value x = Activation(g, t["x"]);
        Value y = g.UpsampleNearest(x, factor);
        RunLoss(g, y, t[$"r{factor}"]);
        AssertNhwc(y.Data, t[$"y{factor}"], "y");
        AssertNhwc(x.Grad, t[$"dx{factor}"], "dx");
    }

    [Theory]
    [InlineData("affine_relu", true, true)]
    [InlineData("affine", true, false)]
    [InlineData("plain", false, false)]
    [InlineData("offset_relu", true, true)]
    public void InstanceNorm_MatchesTorch(string name, bool affine, bool relu)
    {
        var t = Load("instance_norm.safetensors");
        var g = new Graph();
        Value x = Activation(g, t[$"{name}.x"]);
        Value? gamma = affine ? g.Parameter((float[])t[$"{name}.gamma"].Data.Clone(), t[$"{name}.gamma"].Shape) : null;
        Value? beta = affine ? g.Parameter((float[])t[$"{name}.beta"].Data.Clone(), t[$"{name}.beta"].Shape) : null;
        Value y = g.InstanceNorm(x, gamma, beta, 1e-5f, relu);
        RunLoss(g, y, t[$"{name}.r"]);
        AssertNhwc(y.Data, t[$"{name}.y"], "y");
        AssertNhwc(x.Grad, t[$"{name}.dx"], "dx");
        if (affine)
        {
            AssertClose(gamma!.Grad, t[$"{name}.dgamma"].Data, "dgamma");
            AssertClose(beta!.Grad, t[$"{name}.dbeta"].Data, "dbeta");
        }
    }

    [Theory]
    [InlineData("k3s2p1", 3, 2, 1)]
    [InlineData("k2s2p0", 2, 2, 0)]
    [InlineData("k3s1p1_ties", 3, 1, 1)]
    [InlineData("k3s2p1_negative", 3, 2, 1)]
    public void MaxPool_MatchesTorch(string name, int kernel, int stride, int padding)
    {
        var t = Load("max_pool.safetensors");
        var g = new Graph();
        Value x = Activation(g, t[$"{name}.x"]);
        Value y = g.MaxPool(x, kernel, stride, padding);
        RunLoss(g, y, t[$"{name}.r"]);
        AssertNhwc(y.Data, t[$"{name}.y"], "y");
        AssertNhwc(x.Grad, t[$"{name}.dx"], "dx"); // ties: the gradient goes to the same (first) element as in torch
    }

    [Theory]
    [InlineData("t1", 1f)]
    [InlineData("t05", 0.5f)]
    [InlineData("t2_large", 2f)]
    public void SoftmaxChannels_MatchesTorch(string name, float temperature)
    {
        var t = Load("softmax.safetensors");
        var g = new Graph();
        Value x = Activation(g, t[$"{name}.x"]);
        Value y = g.SoftmaxChannels(x, temperature);
        RunLoss(g, y, t[$"{name}.r"]);
        AssertNhwc(y.Data, t[$"{name}.y"], "y");
        AssertNhwc(x.Grad, t[$"{name}.dx"], "dx");
    }

    [Theory]
    [InlineData("eps_torch", 1e-5, true)]
    [InlineData("eps_keras", 1.001e-5, true)]
    [InlineData("eps_torch", 1e-5, false)]
    public void BatchNormFolding_ConvThenFold_EqualsTorchConvThenBatchNormEval(string name, double eps, bool withBias)
    {
        var t = Load("batchnorm_fold.safetensors");
        var (weight, bias) = BatchNormFolding.Fold(t["weight"].Data, withBias ? t["bias"].Data : null, t["gamma"].Data, t["beta"].Data,
                                                   t["running_mean"].Data, t["running_var"].Data, eps);
        var g = new Graph();
        Value x = Activation(g, t["x"], requiresGrad: false);
        Value y = g.Conv3x3(x, g.Constant(weight, t["weight"].Shape), g.Constant(bias, [bias.Length]));
        AssertNhwc(y.Data, t[withBias ? $"{name}.y" : $"{name}.y_nobias"], "conv + folded batch norm");
    }

    [Fact]
    public void BatchNormFolding_EpsMatters()
    {
        // Channel 0 has running variance 1e-4: Keras' eps gives a visibly different output from torch's.
        var t = Load("batchnorm_fold.safetensors");
        Assert.True(Fixtures.RelativeError(t["eps_torch.y"].Data, t["eps_keras.y"].Data) > 1e-5);
        var (w1, b1) = BatchNormFolding.Fold(t["weight"].Data, t["bias"].Data, t["gamma"].Data, t["beta"].Data, t["running_mean"].Data, t["running_var"].Data, 1e-5);
        var (w2, b2) = BatchNormFolding.Fold(t["weight"].Data, t["bias"].Data, t["gamma"].Data, t["beta"].Data, t["running_mean"].Data, t["running_var"].Data, 1.001e-5);
        Assert.NotEqual(w1[0], w2[0]);
        Assert.NotEqual(b1[0], b2[0]);
    }

    [Fact]
    public void ResidualBlock_ValuesAndEveryGradient_MatchTorch()
    {
        // y = x + IN(conv(relu(IN(conv(x))))): x is used twice (its gradient sums both paths).
        var t = Load("residual.safetensors");
        var g = new Graph();
        Value x = Activation(g, t["x"]);
        Value P(string name) => g.Parameter((float[])t[name].Data.Clone(), t[name].Shape, name);
        Value w1 = P("w1"), g1 = P("g1"), b1 = P("b1"), w2 = P("w2"), g2 = P("g2"), b2 = P("b2");
        Value h = g.InstanceNorm(g.Conv3x3(x, w1, null), g1, b1, relu: true);
        Value y = g.Add(x, g.InstanceNorm(g.Conv3x3(h, w2, null), g2, b2));
        RunLoss(g, y, t["r"]);
        AssertNhwc(y.Data, t["y"], "y");
        AssertNhwc(x.Grad, t["dx"], "dx");
        foreach (var (v, name) in new[] { (w1, "dw1"), (g1, "dg1"), (b1, "db1"), (w2, "dw2"), (g2, "dg2"), (b2, "db2") })
        {
            AssertClose(v.Grad, t[name].Data, name);
        }
    }

    [Fact]
    public void ResidualAdd_ValueUsedTwice_GradientsAccumulate()
    {
        // y = (a + b) + a: da = 2r, db = r.
        var t = Load("residual.safetensors");
        var g = new Graph();
        Value a = Activation(g, t["add.a"]), b = Activation(g, t["add.b"]);
        Value y = g.Add(g.Add(a, b), a);
        RunLoss(g, y, t["add.r"]);
        AssertNhwc(y.Data, t["add.y"], "y");
        AssertNhwc(a.Grad, t["add.da"], "da");
        AssertNhwc(b.Grad, t["add.db"], "db");
    }
}
