using NeuralStyle.Tensors.Kernels;
using NeuralStyle.TestSupport;

namespace NeuralStyle.Tensors.Tests.Autograd;

/// <summary>
/// The combining ops (Concat, BroadcastBatch, MulBroadcast, WeightedSum, Choose, FilterBank, RegionFusion) against
/// central finite differences for every input, and the StyleBank identities that must hold exactly or nearly so.
/// </summary>
public class CombineGradientTests
{
    private static float[] Random(int n, int seed, double lo = -1, double hi = 1) => FiniteDifferences.Random(n, seed, lo, hi);

    /// <summary>
    /// Makes one parameter per shape (random data), builds y = op(g, parameters), loss = Σ r ⊙ y, and checks
    /// d loss/d(each parameter) at a few coordinates by central differences.
    /// </summary>
    private static void Check(int[][] shapes, Func<Graph, Value[], Value> op, double eps = 1e-2, double tol = 2e-2)
    {
        var g = new Graph();
        var leaves = new Value[shapes.Length];
        for (int i = 0; i < shapes.Length; i++)
            leaves[i] = g.Parameter(Random(Value.Numel(shapes[i]), 10 + i), shapes[i], $"p{i}");
        FiniteDifferences.Check(g, FiniteDifferences.Contracted(g, op(g, leaves)), leaves, eps, tol);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(-1)]
    public void Concat_EveryAxis_MatchesFiniteDifferences(int axis)
    {
        int a = axis < 0 ? axis + 4 : axis;
        int[] Shape(int len) { int[] s = [2, 3, 4, 5]; s[a] = len; return s; }
        Check([Shape(1), Shape(3), Shape(2)], (g, p) => g.Square(g.Concat(axis, p[0], p[1], p[2])));
    }

    [Fact]
    public void Concat_PlacesPartsInOrder()
    {
        var g = new Graph();
        Value a = g.Constant([1, 2, 3, 4], [2, 1, 1, 2]);
        Value b = g.Constant([5, 6], [2, 1, 1, 1]);
        Assert.Equal([1f, 2, 5, 3, 4, 6], g.Concat(-1, a, b).Data);
        Assert.Equal([1f, 2, 3, 4, 1, 2, 3, 4], g.Concat(0, a, a).Data);
        Assert.Equal([2, 1, 1, 3], g.Concat(3, a, b).Shape);
    }

    [Fact]
    public void Concat_MismatchedShapes_Throw()
    {
        var g = new Graph();
        Value a = g.Input([2, 3, 4, 5]), b = g.Input([2, 3, 3, 5]);
        Assert.Throws<ArgumentException>(() => g.Concat(3, a, b));
        Assert.Throws<ArgumentException>(() => g.Concat(4, a, a));
        Assert.Throws<ArgumentException>(() => g.Concat(0));
    }

    [Fact] public void BroadcastBatch_MatchesFiniteDifferences() => Check([[1, 3, 2, 4]], (g, p) => g.Square(g.BroadcastBatch(p[0], 3)));

    [Fact]
    public void BroadcastBatch_GradientIsTheSumOverTheBatch()
    {
        var g = new Graph();
        Value t = g.Parameter([1f, 2f], [1, 2]);
        Value loss = g.Sum(g.Mul(g.BroadcastBatch(t, 3), g.Constant([1, 10, 100, 1000, 10000, 100000], [3, 2])));
        g.Backward(loss);
        Assert.Equal([10101f, 101010f], t.Grad!);
        Assert.Throws<ArgumentException>(() => g.BroadcastBatch(g.Input([2, 2]), 3));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1)]
    [InlineData(1, 5)]
    [InlineData(3, 5)]
    public void MulBroadcast_BothInputs_MatchFiniteDifferences(int maskBatch, int maskChannels)
        => Check([[3, 4, 2, 5], [maskBatch, 4, 2, maskChannels]], (g, p) => g.Square(g.MulBroadcast(p[0], p[1])));

    [Fact]
    public void MulBroadcast_BadMask_Throws()
    {
        var g = new Graph();
        Value x = g.Input([3, 4, 2, 5]);
        Assert.Throws<ArgumentException>(() => g.MulBroadcast(x, g.Input([2, 4, 2, 1])));
        Assert.Throws<ArgumentException>(() => g.MulBroadcast(x, g.Input([1, 4, 2, 3])));
        Assert.Throws<ArgumentException>(() => g.MulBroadcast(x, g.Input([1, 2, 4, 1])));
    }

    [Fact]
    public void WeightedSum_SetsAndWeights_MatchFiniteDifferences()
        => Check([[4, 3, 3, 3], [4, 3, 3, 3], [4, 3, 3, 3], [3]], (g, p) => g.Square(g.WeightedSum([p[0], p[1], p[2]], p[3])));

    [Fact]
    public void WeightedSum_BlendedFilterFeedingAConv_MatchesFiniteDifferences()
    {
        float[] x = Random(2 * 5 * 4 * 3, 5);
        Check([[4, 3, 3, 3], [4, 3, 3, 3], [2]],
            (g, p) => g.Conv3x3(g.Constant(x, [2, 5, 4, 3]), g.WeightedSum([p[0], p[1]], p[2]), null, ConvPadding.Zero));
    }

    [Fact]
    public void WeightedSum_BadWeights_Throw()
    {
        var g = new Graph();
        Value a = g.Input([2, 3]);
        Assert.Throws<ArgumentException>(() => g.WeightedSum([a, a], g.Input([3])));
        Assert.Throws<ArgumentException>(() => g.WeightedSum([a, g.Input([3, 2])], g.Input([2])));
        Assert.Throws<ArgumentException>(() => g.WeightedSum([], g.Input([0])));
    }

    [Fact]
    public void Choose_GradientGoesToTheChosenLeafOnly_AndFollowsTheIndex()
    {
        var g = new Graph();
        Value a = g.Parameter([1f, 2f], [2]), b = g.Parameter([3f, 4f], [2]), c = g.Parameter([5f, 6f], [2]);
        int index = 1;
        Value y = g.Choose([a, b, c], () => index);
        Value loss = g.Sum(g.Square(y));
        g.Backward(loss);
        Assert.Equal([3f, 4f], y.Data);
        Assert.Equal([0f, 0f], a.Grad!);
        Assert.Equal([6f, 8f], b.Grad!);
        Assert.Equal([0f, 0f], c.Grad!);

        index = 2;
        g.Forward();
        index = 0; // changing the index after the forward pass does not re-route the backward pass
        g.Backward(loss);
        Assert.Equal(61f, loss.Data[0]);
        Assert.Equal([0f, 0f], a.Grad!);
        Assert.Equal([0f, 0f], b.Grad!);
        Assert.Equal([10f, 12f], c.Grad!);

        index = 3;
        Assert.Throws<ArgumentOutOfRangeException>(g.Forward);
    }

    [Fact]
    public void Choose_UnchosenComputedCandidate_PassesNoGradient()
    {
        var g = new Graph();
        Value k = g.Parameter([1f, 2f], [2]), j = g.Parameter([3f, 4f], [2]);
        Value y = g.Choose([g.Scale(k, 2f), g.Scale(j, 3f)], () => 0);
        g.Backward(g.Sum(y));
        Assert.Equal([2f, 2f], k.Grad!);
        Assert.Equal([0f, 0f], j.Grad!);
    }

    [Fact]
    public void Choose_AmongWeights_MatchesFiniteDifferences()
    {
        float[] x = Random(2 * 5 * 4 * 3, 6);
        Check([[4, 3, 3, 3], [4, 3, 3, 3]], (g, p) => g.Conv3x3(g.Constant(x, [2, 5, 4, 3]), g.Choose([p[0], p[1]], () => 1), null, ConvPadding.Zero));
    }

    [Theory]
    [InlineData(ConvPadding.Zero)]
    [InlineData(ConvPadding.Circular)]
    [InlineData(ConvPadding.Valid)]
    public void FilterBank_InputSetsAndBiases_MatchFiniteDifferences(ConvPadding padding)
    {
        int[] sets = [0, 1, 2, 0];
        Check([[4, 5, 4, 3], [4, 3, 3, 3], [4, 3, 3, 3], [4, 3, 3, 3], [4], [4], [4]],
            (g, p) => g.FilterBank(p[0], [p[1], p[2], p[3]], [p[4], p[5], p[6]], sets, padding), eps: 1e-2);
    }

    [Fact]
    public void FilterBank_EachSampleEqualsItsOwnConv_AndReroutesWhenTheArrayChanges()
    {
        float[] x = Random(3 * 5 * 4 * 3, 7);
        float[][] w = [Random(4 * 27, 8), Random(4 * 27, 9)];
        float[][] bias = [Random(4, 10), Random(4, 11)];
        int[] sets = [1, 0, 1];
        var g = new Graph();
        Value xv = g.Parameter(x, [3, 5, 4, 3]);
        Value[] wv = [g.Parameter(w[0], [4, 3, 3, 3]), g.Parameter(w[1], [4, 3, 3, 3])];
        Value[] bv = [g.Parameter(bias[0], [4]), g.Parameter(bias[1], [4])];
        Value y = g.FilterBank(xv, wv, bv, sets, ConvPadding.Zero);
        Value loss = g.Sum(g.Square(y));
        for (int round = 0; round < 2; round++)
        {
            if (round == 1) sets[0] = 0; // re-route sample 0 without rebuilding
            g.Forward();
            g.Backward(loss);
            int per = 5 * 4 * 4;
            var dw = new float[2][] { new float[4 * 27], new float[4 * 27] };
            for (int s = 0; s < 3; s++)
            {
                var h = new Graph();
                Value hx = h.Constant(x[(s * 60)..((s + 1) * 60)], [1, 5, 4, 3]);
                Value hw = h.Parameter(w[sets[s]], [4, 3, 3, 3]);
                Value hy = h.Conv3x3(hx, hw, h.Constant(bias[sets[s]], [4]), ConvPadding.Zero);
                h.Backward(h.Sum(h.Square(hy)));
                Assert.Equal(hy.Data, y.Data[(s * per)..((s + 1) * per)]);
                for (int i = 0; i < dw[0].Length; i++) dw[sets[s]][i] += hw.Grad![i];
            }
            for (int k = 0; k < 2; k++)
                Assert.True(Fixtures.RelativeError(wv[k].Grad!, dw[k]) < 1e-5, $"round {round} set {k}");
        }
    }

    [Fact]
    public void FilterBank_UnusedSet_GetsZeroGradient()
    {
        var g = new Graph();
        Value x = g.Constant(Random(2 * 4 * 4 * 3, 12), [2, 4, 4, 3]);
        Value[] w = [g.Parameter(Random(4 * 27, 13), [4, 3, 3, 3]), g.Parameter(Random(4 * 27, 14), [4, 3, 3, 3])];
        g.Backward(g.Sum(g.Square(g.FilterBank(x, w, null, [1, 1], ConvPadding.Zero))));
        Assert.All(w[0].Grad!, v => Assert.Equal(0f, v));
        Assert.Contains(w[1].Grad!, v => v != 0f);
    }

    [Fact]
    public void FilterBank_BadArguments_Throw()
    {
        var g = new Graph();
        Value x = g.Input([2, 4, 4, 3]);
        Value w = g.Input([4, 3, 3, 3]);
        Assert.Throws<ArgumentException>(() => g.FilterBank(x, [w], null, [0], ConvPadding.Zero));
        Assert.Throws<ArgumentException>(() => g.FilterBank(x, [w, g.Input([5, 3, 3, 3])], null, [0, 1], ConvPadding.Zero));
        Assert.Throws<ArgumentException>(() => g.FilterBank(x, [w], [g.Input([5])], [0, 0], ConvPadding.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => g.FilterBank(x, [w], null, [0, 1], ConvPadding.Zero));
    }

    [Fact]
    public void RegionFusion_InputSetsBiasesAndMasks_MatchFiniteDifferences()
        => Check([[2, 5, 4, 3], [4, 3, 3, 3], [4, 3, 3, 3], [4], [4], [1, 5, 4, 1], [2, 5, 4, 1]],
            (g, p) => g.RegionFusion(p[0], [p[1], p[2]], [p[3], p[4]], [p[5], p[6]], ConvPadding.Zero));

    [Fact]
    public void Blend_WithWeightOneOnOneSet_EqualsThatSet()
    {
        var (g, x, w, b) = Bank(3);
        Value weights = g.Constant([0f, 1f, 0f], [3]);
        Value blended = g.Conv3x3(x, g.WeightedSum(w, weights), g.WeightedSum(b, weights), ConvPadding.Zero);
        Value alone = g.Conv3x3(x, w[1], b[1], ConvPadding.Zero);
        Assert.Equal(alone.Data, blended.Data);
    }

    [Fact]
    public void RegionFusion_OneAllOnesMask_EqualsThatSet()
    {
        var (g, x, w, b) = Bank(2);
        Value ones = g.Constant(Enumerable.Repeat(1f, 5 * 4).ToArray(), [1, 5, 4, 1]);
        Value zeros = g.Constant(new float[5 * 4], [1, 5, 4, 1]);
        Value alone = g.Conv3x3(x, w[1], b[1], ConvPadding.Zero);
        // Equal up to where the bias is added (inside the convolution's sum there, after it here).
        Assert.True(Fixtures.RelativeError(g.RegionFusion(x, [w[1]], [b[1]], [ones], ConvPadding.Zero).Data, alone.Data) < 1e-6);
        Assert.Equal(g.Conv3x3(x, w[1], null, ConvPadding.Zero).Data, g.RegionFusion(x, [w[1]], null, [ones], ConvPadding.Zero).Data);
        Assert.True(Fixtures.RelativeError(g.RegionFusion(x, w, b, [zeros, ones], ConvPadding.Zero).Data, alone.Data) < 1e-6);
    }

    [Fact]
    public void RegionFusion_ComplementaryHalfMasksWithTheSameSet_EqualThatSet()
    {
        var (g, x, w, b) = Bank(1);
        var left = new float[5 * 4];
        var right = new float[5 * 4];
        for (int i = 0; i < left.Length; i++) (i % 4 < 2 ? left : right)[i] = 1f;
        Value fused = g.RegionFusion(x, [w[0], w[0]], [b[0], b[0]], [g.Constant(left, [1, 5, 4, 1]), g.Constant(right, [1, 5, 4, 1])], ConvPadding.Zero);
        Value alone = g.Conv3x3(x, w[0], b[0], ConvPadding.Zero);
        Assert.True(Fixtures.RelativeError(fused.Data, alone.Data) < 1e-6, $"relative error {Fixtures.RelativeError(fused.Data, alone.Data)}");
    }

    private static (Graph, Value, Value[], Value[]) Bank(int sets)
    {
        var g = new Graph();
        Value x = g.Constant(Random(2 * 5 * 4 * 3, 20), [2, 5, 4, 3]);
        var w = new Value[sets];
        var b = new Value[sets];
        for (int i = 0; i < sets; i++)
        {
            w[i] = g.Parameter(Random(4 * 27, 21 + i), [4, 3, 3, 3]);
            b[i] = g.Parameter(Random(4, 31 + i), [4]);
        }
        return (g, x, w, b);
    }

    /// <summary>1e10·MSE(gram(y), gram(style)) with the target broadcast over the batch: gradients to y and the style.</summary>
    [Fact]
    public void BatchedGramMse_AgainstBroadcastTarget_MatchesFiniteDifferences()
        => Check([[3, 4, 3, 5], [1, 3, 5, 5]], (g, p) =>
        {
            Value gy = g.Gram(p[0], 1f / (5 * 4 * 3));
            Value gs = g.BroadcastBatch(g.Gram(p[1], 1f / (5 * 3 * 5)), 3);
            return g.Scale(g.Mean(g.Square(g.Sub(gy, gs))), 1e2f);
        }, eps: 3e-3);
}
