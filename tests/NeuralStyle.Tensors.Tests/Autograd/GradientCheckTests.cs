using NeuralStyle.Tensors.Autograd;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Tests.Autograd;

/// <summary>
/// Every gradient rule against central finite differences (computed in double from float forward passes on a
/// loss ⟨r, op(x)⟩ with random r), and the linear ops against their adjoint identity exactly.
/// </summary>
public class GradientCheckTests
{
    private static float[] Random(int n, int seed, double lo = -1, double hi = 1) => FiniteDifferences.Random(n, seed, lo, hi);

    /// <summary>Builds loss = Σ r ⊙ op(x), checks d loss/dx at a few coordinates by central differences.</summary>
    private static void Check(int[] shape, Func<Graph, Value, Value> op, double lo = -1, double hi = 1, double eps = 1e-2, double tol = 2e-2)
    {
        var g = new Graph();
        Value x = g.Input(shape, requiresGrad: true);
        Random(x.Length, 1, lo, hi).CopyTo(x.Data, 0);
        FiniteDifferences.Check(g, FiniteDifferences.Contracted(g, op(g, x)), [x], eps, tol, probes: 24);
    }

    [Fact] public void Square_MatchesFiniteDifferences() => Check([2, 3, 4, 5], (g, x) => g.Square(x));
    [Fact] public void Abs_MatchesFiniteDifferences() => Check([2, 3, 4, 5], (g, x) => g.Abs(x), lo: 0.1, hi: 1);
    [Fact] public void SmoothAbs_MatchesFiniteDifferences() => Check([2, 3, 4, 5], (g, x) => g.SmoothAbs(x, 0.3f), lo: -1, hi: 1);
    [Fact] public void Pow_MatchesFiniteDifferences() => Check([2, 3, 4, 5], (g, x) => g.Pow(x, 1.25f), lo: 0.2, hi: 2);
    [Fact] public void Relu_MatchesFiniteDifferences() => Check([1, 4, 4, 3], (g, x) => g.Relu(x), eps: 1e-3);
    [Fact] public void Mean_MatchesFiniteDifferences() => Check([1, 4, 4, 3], (g, x) => g.Scale(g.Mean(g.Square(x)), 3f));
    [Fact] public void Gram_MatchesFiniteDifferences() => Check([2, 5, 3, 7], (g, x) => g.Gram(x, 0.1f));
    // The Gram's backward writes its input's gradient when it is the first to (β = 0) and adds to it otherwise (β = 1):
    // a consumer built after it runs its backward first, one built before it runs after.
    [Fact] public void Gram_AddsToAGradientWrittenBeforeIt() => Check([2, 5, 3, 7], (g, x) => g.Add(g.Sum(g.Gram(x, 0.1f)), g.Sum(g.Square(x))));
    [Fact] public void Gram_WritesAGradientOthersAddToAfterIt() => Check([2, 5, 3, 7], (g, x) => g.Add(g.Sum(g.Square(x)), g.Sum(g.Gram(x, 0.1f))));
    [Fact] public void SliceSub_MatchesFiniteDifferences() => Check([1, 5, 6, 3], (g, x) => g.Sub(g.Slice(x, 1, 1, 4), g.Slice(x, 1, 0, 4)));
    [Fact] public void SumPerSample_MatchesFiniteDifferences() => Check([3, 2, 2, 2], (g, x) => g.SumPerSample(g.Square(x)));
    [Fact] public void RollBatch_MatchesFiniteDifferences() => Check([3, 2, 3, 2], (g, x) => g.Mul(g.RollBatch(x, 1), x));
    [Fact] public void MaxPool_MatchesFiniteDifferences() => Check([1, 5, 6, 3], (g, x) => g.MaxPool2x2(x), eps: 1e-3);
    [Fact] public void AvgPool_MatchesFiniteDifferences() => Check([2, 5, 6, 3], (g, x) => g.AvgPool2x2(x));

    [Theory]
    [InlineData(ConvPadding.Zero)]
    [InlineData(ConvPadding.Valid)]
    [InlineData(ConvPadding.Circular)]
    public void Conv3x3Relu_InputAndWeights_MatchFiniteDifferences(ConvPadding padding)
    {
        float[] w = Random(4 * 3 * 9, 7, -0.5, 0.5), b = Random(4, 8, -0.1, 0.1);
        Check([2, 6, 5, 3], (g, x) => g.Conv3x3(x, g.Constant(w, [4, 3, 3, 3]), g.Constant(b, [4]), padding, relu: true), eps: 1e-3);
        // weight gradient: the weights are the variable
        float[] input = Random(2 * 6 * 5 * 3, 9);
        Check([4, 3, 3, 3], (g, wv) => g.Conv3x3(g.Constant(input, [2, 6, 5, 3]), wv, null, padding, relu: false));
    }

    [Fact]
    public void ChannelAffine_MatchesFiniteDifferences()
        => Check([1, 3, 4, 3], (g, x) => g.Square(g.ChannelAffine(x, [2, 1, 0], [2.5f, 0.5f, 3f], [-1f, 1f, 0f])));

    [Fact]
    public void GradNormalize_ScalesToStrengthOverL1()
    {
        var g = new Graph();
        Value x = g.Input([1, 2, 2, 1], requiresGrad: true);
        Random(4, 4).CopyTo(x.Data, 0);
        Value loss = g.Sum(g.Scale(g.GradNormalize(x, 3f), 5f));
        g.Forward();
        g.Backward(loss);
        // incoming gradient is 5 everywhere (L1 = 20) -> 3·5/20 = 0.75
        Assert.All(x.Grad!, v => Assert.Equal(0.75f, v, 1e-6f));
    }

    /// <summary>⟨Reduce(x), y⟩·4 = ⟨x, Expand(y)⟩ for every border and odd/even sizes.</summary>
    [Theory]
    [InlineData(PyramidBorder.Reflect, 9, 8)]
    [InlineData(PyramidBorder.Wrap, 9, 8)]
    [InlineData(PyramidBorder.Valid, 13, 16)]
    [InlineData(PyramidBorder.Reflect, 1, 2)]
    public void PyramidExpand_IsFourTimesTheAdjointOfReduce(PyramidBorder border, int h, int w)
    {
        var g = new Graph();
        Value x = g.Constant(Random(2 * h * w * 3, 11), [2, h, w, 3]);
        Value rx = g.PyramidReduce(x, border);
        Value y = g.Constant(Random(rx.Length, 12), rx.Shape);
        Value ey = g.PyramidExpand(y, h, w, border);
        double lhs = 0, rhs = 0;
        for (int i = 0; i < rx.Length; i++) lhs += (double)rx.Data[i] * y.Data[i];
        for (int i = 0; i < x.Length; i++) rhs += (double)x.Data[i] * ey.Data[i];
        Assert.Equal(4 * lhs, rhs, 1e-4 * (1 + Math.Abs(rhs)));
    }

    [Fact] public void PyramidReduce_MatchesFiniteDifferences() => Check([1, 7, 6, 2], (g, x) => g.PyramidReduce(x, PyramidBorder.Reflect));
    [Fact] public void PyramidExpand_MatchesFiniteDifferences() => Check([1, 4, 3, 2], (g, x) => g.PyramidExpand(x, 7, 6, PyramidBorder.Wrap));

    [Fact]
    public void PyramidReduce_Constant_StaysConstant()
    {
        var g = new Graph();
        var data = new float[1 * 11 * 10 * 2];
        Array.Fill(data, 0.37f);
        Value y = g.PyramidReduce(g.Constant(data, [1, 11, 10, 2]), PyramidBorder.Reflect);
        Assert.Equal([1, 6, 5, 2], y.Shape);
        Assert.All(y.Data, v => Assert.Equal(0.37f, v, 1e-6f));
    }

    [Fact]
    public void Backward_ValueUsedTwice_AccumulatesBothPaths()
    {
        var g = new Graph();
        Value x = g.Input([1, 1, 1, 3], requiresGrad: true);
        x.Data[0] = 1; x.Data[1] = 2; x.Data[2] = 3;
        Value loss = g.Add(g.Sum(g.Square(x)), g.Sum(g.Scale(x, 5f)));
        g.Forward();
        g.Backward(loss);
        Assert.Equal([7f, 9f, 11f], x.Grad!);
        g.Backward(loss); // leaf gradients are overwritten, not accumulated across calls
        Assert.Equal([7f, 9f, 11f], x.Grad!);
    }
}

public class ReluMaskTests
{
    /// <summary>The vectorised ReLU mask equals the scalar rule at every length and tail, with NaN, ±0 and negatives.</summary>
    [Fact]
    public void Mask_AllLengths_EqualsScalarRule()
    {
        var rng = new Rng(42);
        for (int n = 0; n <= 70; n++)
        {
            var g = new float[n];
            var y = new float[n];
            rng.FillUniform(g, -1, 1);
            rng.FillUniform(y, -1, 1);
            for (int i = 0; i < n; i += 7) y[i] = float.NaN;
            for (int i = 3; i < n; i += 11) y[i] = -0f;
            var dst = new float[n];
            var expected = new float[n];
            NeuralStyle.Tensors.Kernels.Activation.ReluMask(g, y, dst);
            NeuralStyle.Tensors.Kernels.Activation.ReluMaskReference(g, y, expected);
            Assert.Equal(expected, dst);
            NeuralStyle.Tensors.Kernels.Activation.ReluMask(g, y, g); // in place
            Assert.Equal(expected, g);
        }
    }
}

/// <summary>Gradients reach every input of every op, also a weight computed from other values; frozen packing is never stale.</summary>
public class ParameterGradientTests
{
    private static float[] Random(int n, int seed, double lo = -1, double hi = 1) => FiniteDifferences.Random(n, seed, lo, hi);

    [Fact]
    public void ComputedConvWeight_PassesGradientToItsSources()
    {
        // w = a·K1 + K2 (a blended filter); loss = Σ r ⊙ conv(x, w). d loss/dK2 must equal the weight gradient of a
        // plain conv with w as a parameter, and d loss/dK1 = a times it.
        float[] x = Random(2 * 5 * 4 * 3, 1), k1 = Random(4 * 3 * 9, 2), k2 = Random(4 * 3 * 9, 3), r = Random(2 * 5 * 4 * 4, 4);
        const float a = 0.7f;
        var g = new Graph();
        Value xv = g.Constant(x, [2, 5, 4, 3]);
        Value k1v = g.Parameter(k1, [4, 3, 3, 3]), k2v = g.Parameter(k2, [4, 3, 3, 3]);
        Value w = g.Add(g.Scale(k1v, a), k2v);
        Value loss = g.Sum(g.Mul(g.Conv3x3(xv, w, null, ConvPadding.Zero), g.Constant(r, [2, 5, 4, 4])));
        g.Backward(loss);

        var blended = new float[k1.Length];
        for (int i = 0; i < blended.Length; i++) blended[i] = a * k1[i] + k2[i];
        var h = new Graph();
        Value wv = h.Parameter(blended, [4, 3, 3, 3]);
        Value loss2 = h.Sum(h.Mul(h.Conv3x3(h.Constant(x, [2, 5, 4, 3]), wv, null, ConvPadding.Zero), h.Constant(r, [2, 5, 4, 4])));
        h.Backward(loss2);

        Assert.Equal(loss2.Data[0], loss.Data[0], 4);
        Assert.Contains(wv.Grad!, v => Math.Abs(v) > 1e-3);
        for (int i = 0; i < blended.Length; i++)
        {
            Assert.Equal(wv.Grad![i], k2v.Grad![i], 4);
            Assert.Equal(a * wv.Grad![i], k1v.Grad![i], 4);
        }
    }

    [Fact]
    public void BiasOnlyGradient_WithFrozenWeights()
    {
        float[] x = Random(1 * 3 * 3 * 2, 5), k = Random(2 * 2 * 9, 6), b = new float[2];
        var g = new Graph();
        Value bv = g.Parameter(b, [2]);
        Value loss = g.Sum(g.Conv3x3(g.Constant(x, [1, 3, 3, 2]), g.Constant(k, [2, 2, 3, 3]), bv, ConvPadding.Zero));
        g.Backward(loss);
        Assert.Equal([9f, 9f], bv.Grad!);
    }

    [Fact]
    public void FrozenWeights_ChangedBetweenGraphs_AreRepacked()
    {
        float[] x = Random(1 * 4 * 4 * 3, 7), k = Random(5 * 3 * 9, 8);
        float Run()
        {
            var g = new Graph();
            return g.Sum(g.Conv3x3(g.Constant(x, [1, 4, 4, 3]), g.Constant(k, [5, 3, 3, 3]), null, ConvPadding.Zero)).Data[0];
        }
        float first = Run();
        for (int i = 0; i < k.Length; i++) k[i] *= -2f;
        Assert.Equal(-2f * first, Run(), 3);
    }

    [Fact]
    public void ParameterWeights_UpdatedInPlace_AreReadOnEveryForward()
    {
        float[] x = Random(1 * 4 * 4 * 3, 9), k = Random(5 * 3 * 9, 10);
        var g = new Graph();
        Value s = g.Sum(g.Conv3x3(g.Constant(x, [1, 4, 4, 3]), g.Parameter(k, [5, 3, 3, 3], requiresGrad: false), null, ConvPadding.Zero));
        float first = s.Data[0];
        for (int i = 0; i < k.Length; i++) k[i] *= 3f;
        g.Forward();
        Assert.Equal(3f * first, s.Data[0], 3);
    }
}
