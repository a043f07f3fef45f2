using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Tests.Autograd;

/// <summary>
/// Graph.Conv2d (both routes: the 3×3 stride-1 kernels, reflect included, and the general im2col kernels) and
/// Graph.Pad against central finite differences of loss = Σ r ⊙ y, for the input, the weights and the bias.
/// </summary>
public class ConvGradientTests
{
    private static float[] Random(int n, int seed, double lo = -1, double hi = 1) => FiniteDifferences.Random(n, seed, lo, hi);

    /// <summary>Checks d loss / d v at a few random coordinates of every variable by central differences.</summary>
    private static void CheckAll(Graph g, Value loss, Value[] variables, double eps = 1e-2, double tol = 1e-2)
        => FiniteDifferences.Check(g, loss, variables, eps, tol, seed: 5);

    public static TheoryData<int, int, ConvPadding> KernelStridePadding()
    {
        var data = new TheoryData<int, int, ConvPadding>();
        foreach (var (k, s) in new[] { (3, 1), (3, 2), (1, 2), (9, 1), (7, 2), (4, 1), (2, 2) })
        {
            foreach (var padding in new[] { ConvPadding.Zero, ConvPadding.Valid, ConvPadding.Reflect, ConvPadding.Circular })
            {
                data.Add(k, s, padding);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(KernelStridePadding))]
    public void Conv2d_InputWeightsAndBias_MatchFiniteDifferences(int k, int stride, ConvPadding padding)
    {
        int h = Math.Max(7, k + 2), w = Math.Max(6, k + 1), ci = 3, co = 5;
        var g = new Graph();
        Value x = g.Input([2, h, w, ci], requiresGrad: true, name: "x");
        Random(x.Length, 1).CopyTo(x.Data, 0);
        Value weight = g.Parameter(Random(co * ci * k * k, 2, -0.5, 0.5), [co, ci, k, k], "weight");
        Value bias = g.Parameter(Random(co, 3, -0.1, 0.1), [co], "bias");
        Value y = g.Conv2d(x, weight, bias, stride, padding);
        Assert.Equal([2, Conv2d.OutSize(h, k, stride, padding), Conv2d.OutSize(w, k, stride, padding), co], y.Shape);
        Value loss = g.Sum(g.Mul(y, g.Constant(Random(y.Length, 4), y.Shape)));
        CheckAll(g, loss, [x, weight, bias]);
    }

    [Theory]
    [InlineData(3, 1, ConvPadding.Reflect)]
    [InlineData(3, 2, ConvPadding.Zero)]
    [InlineData(9, 1, ConvPadding.Reflect)]
    public void Conv2dRelu_ComputedInputAndFrozenWeights_MatchFiniteDifferences(int k, int stride, ConvPadding padding)
    {
        // x is computed (not a leaf), weights frozen, only the bias and x need gradients.
        var g = new Graph();
        Value x0 = g.Input([1, 11, 10, 4], requiresGrad: true, name: "x0");
        Random(x0.Length, 6).CopyTo(x0.Data, 0);
        Value x = g.Scale(x0, 1.5f);
        Value bias = g.Parameter(Random(6, 7, -0.1, 0.1), [6], "bias");
        Value y = g.Conv2d(x, g.Constant(Random(6 * 4 * k * k, 8, -0.5, 0.5), [6, 4, k, k]), bias, stride, padding, relu: true);
        Value loss = g.Sum(g.Mul(y, g.Constant(Random(y.Length, 9), y.Shape)));
        CheckAll(g, loss, [x0, bias], eps: 1e-3, tol: 2e-2);
    }

    [Theory]
    [InlineData(ConvPadding.Zero)]
    [InlineData(ConvPadding.Reflect)]
    [InlineData(ConvPadding.Circular)]
    public void Pad_MatchesFiniteDifferences(ConvPadding mode)
    {
        var g = new Graph();
        Value x = g.Input([2, 5, 4, 3], requiresGrad: true, name: "x");
        Random(x.Length, 10).CopyTo(x.Data, 0);
        Value y = g.Pad(x, 3, 1, 2, 3, mode);
        Assert.Equal([2, 9, 9, 3], y.Shape);
        Value loss = g.Sum(g.Mul(g.Square(y), g.Constant(Random(y.Length, 11), y.Shape)));
        CheckAll(g, loss, [x], eps: 1e-3);
    }

    [Fact]
    public void Conv3x3_ReflectEqualsReflectPadThenValid()
    {
        var g = new Graph();
        Value x = g.Constant(Random(1 * 6 * 7 * 5, 12), [1, 6, 7, 5]);
        Value weight = g.Constant(Random(4 * 5 * 9, 13), [4, 5, 3, 3]);
        Value a = g.Conv2d(x, weight, null, 1, ConvPadding.Reflect);
        Value b = g.Conv2d(g.Pad(x, 1, 1, 1, 1, ConvPadding.Reflect), weight, null, 1, ConvPadding.Valid);
        Assert.Equal(b.Shape, a.Shape);
        for (int i = 0; i < a.Length; i++)
            Assert.Equal(b.Data[i], a.Data[i], 5);
    }

    [Fact]
    public void BadArguments_ThrowArgumentException()
    {
        var g = new Graph();
        Value x = g.Input([1, 4, 4, 3]);
        Assert.Throws<ArgumentException>(() => g.Conv2d(x, g.Input([2, 4, 3, 3]), null));            // Ci mismatch
        Assert.Throws<ArgumentException>(() => g.Conv2d(x, g.Input([2, 3, 3, 2]), null));            // not square
        Assert.Throws<ArgumentException>(() => g.Conv2d(x, g.Input([2, 3, 3, 3]), g.Input([3])));   // bias length
        Assert.Throws<ArgumentException>(() => g.Conv2d(x, g.Input([2, 3, 3, 3]), null, stride: 0));
        Assert.Throws<ArgumentException>(() => g.Conv2d(x, g.Input([2, 3, 9, 9]), null, 1, ConvPadding.Reflect)); // p = 4 ≥ 4
        Assert.Throws<ArgumentException>(() => g.Conv2d(x, g.Input([2, 3, 5, 5]), null, 1, ConvPadding.Valid));   // 4 < 5
        Assert.Throws<ArgumentException>(() => g.Conv3x3(x, g.Input([2, 3, 5, 5]), null));
        Assert.Throws<ArgumentException>(() => g.Pad(x, 4, 0, 0, 0, ConvPadding.Reflect));
        Assert.Throws<ArgumentException>(() => g.Pad(x, 1, 1, 1, 1, ConvPadding.Valid));
    }
}
