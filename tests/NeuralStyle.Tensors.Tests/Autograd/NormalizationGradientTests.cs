namespace NeuralStyle.Tensors.Tests.Autograd;

/// <summary>
/// The normalisation and resampling ops' gradients (to x and to gamma/beta) against central finite differences of
/// loss = Σ r ⊙ op(…) with random r, and their argument checks.
/// </summary>
public class NormalizationGradientTests
{
    private static float[] Random(int n, int seed, double lo = -1, double hi = 1) => FiniteDifferences.Random(n, seed, lo, hi);

    /// <summary>Checks d loss/d leaf for every leaf at a few coordinates by central differences in double.</summary>
    private static void Check(Func<Graph, Value[]> leaves, Func<Graph, Value[], Value> op, double eps = 1e-2, double tol = 2e-2)
    {
        var g = new Graph();
        Value[] inputs = leaves(g);
        FiniteDifferences.Check(g, FiniteDifferences.Contracted(g, op(g, inputs)), inputs, eps, tol, probes: 24, requireNonZero: true);
    }

    private static Value Leaf(Graph g, int[] shape, int seed, double lo = -1, double hi = 1)
        => g.Parameter(Random(Value.Numel(shape), seed, lo, hi), shape);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void UpsampleNearest_MatchesFiniteDifferences(int factor)
        => Check(g => [Leaf(g, [2, 3, 2, 5], 1)], (g, v) => g.Square(g.UpsampleNearest(v[0], factor)));

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void InstanceNorm_InputGammaBeta_MatchFiniteDifferences(bool affine, bool relu)
        => Check(
            g => affine ? [Leaf(g, [2, 4, 3, 5], 1), Leaf(g, [5], 4, 0.5, 1.5), Leaf(g, [5], 5)] : [Leaf(g, [2, 4, 3, 5], 1)],
            (g, v) => g.InstanceNorm(v[0], affine ? v[1] : null, affine ? v[2] : null, relu: relu),
            eps: 1e-3);

    [Fact]
    public void InstanceNorm_GammaOnly_MatchesFiniteDifferences()
        => Check(g => [Leaf(g, [1, 3, 5, 3], 1), Leaf(g, [3], 4, 0.5, 1.5)], (g, v) => g.InstanceNorm(v[0], v[1], null), eps: 1e-3);

    [Theory]
    [InlineData(3, 2, 1)]
    [InlineData(2, 2, 0)]
    [InlineData(3, 1, 1)]
    public void MaxPool_MatchesFiniteDifferences(int kernel, int stride, int padding)
        => Check(g => [Leaf(g, [2, 5, 6, 3], 1)], (g, v) => g.MaxPool(v[0], kernel, stride, padding), eps: 1e-4);

    [Theory]
    [InlineData(1f)]
    [InlineData(0.3f)]
    public void SoftmaxChannels_MatchesFiniteDifferences(float temperature)
        => Check(g => [Leaf(g, [2, 3, 2, 6], 1, -2, 2)], (g, v) => g.SoftmaxChannels(v[0], temperature), eps: 1e-3);

    [Fact]
    public void ResidualBlock_EveryParameter_MatchesFiniteDifferences()
    {
        // x + IN(conv(relu(IN(conv(x))))): x is used twice, every weight and norm parameter receives its gradient.
        Check(
            g => [Leaf(g, [1, 5, 4, 3], 1), Leaf(g, [3, 3, 3, 3], 2, -0.4, 0.4), Leaf(g, [3], 3, 0.5, 1.5), Leaf(g, [3], 4),
                  Leaf(g, [3, 3, 3, 3], 5, -0.4, 0.4), Leaf(g, [3], 6, 0.5, 1.5), Leaf(g, [3], 7)],
            (g, v) =>
            {
                Value h = g.InstanceNorm(g.Conv3x3(v[0], v[1], null), v[2], v[3], relu: true);
                return g.Add(v[0], g.InstanceNorm(g.Conv3x3(h, v[4], null), v[5], v[6]));
            },
            eps: 1e-3);
    }

    [Fact]
    public void Builders_BadArguments_ThrowArgumentException()
    {
        var g = new Graph();
        Value x = g.Input([1, 4, 4, 3]);
        Assert.Throws<ArgumentException>(() => g.UpsampleNearest(x, 0));
        Assert.Throws<ArgumentException>(() => g.InstanceNorm(x, g.Input([4]), null));
        Assert.Throws<ArgumentException>(() => g.InstanceNorm(x, null, g.Input([3, 1])));
        Assert.Throws<ArgumentException>(() => g.InstanceNorm(x, null, null, eps: 0f));
        Assert.Throws<ArgumentException>(() => g.InstanceNorm(g.Input([4, 3]), null, null));
        Assert.Throws<ArgumentException>(() => g.MaxPool(x, 3, 2, 2));
        Assert.Throws<ArgumentException>(() => g.MaxPool(x, 7, 1, 1));
        Assert.Throws<ArgumentException>(() => g.MaxPool(x, 3, 0, 1));
        Assert.Throws<ArgumentException>(() => g.SoftmaxChannels(x, 0f));
        Assert.Throws<ArgumentException>(() => g.SoftmaxChannels(x, float.NaN));
    }

    [Fact]
    public void BatchNormFolding_BadArguments_ThrowArgumentException()
    {
        float[] w = new float[2 * 3 * 9], two = [1f, 1f], three = [1f, 1f, 1f];
        Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(w, null, two, two, two, three, 1e-5));
        Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(w, three, two, two, two, two, 1e-5));
        Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(new float[7], null, two, two, two, two, 1e-5));
        Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(w, null, two, two, two, [-1f, 1f], 1e-5));
    }
}
