using NeuralStyle.Tensors.Kernels;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;

namespace NeuralStyle.Tensors.Tests.Autograd;

/// <summary>
/// The combining ops and a mini StyleBank step against PyTorch (tests/fixtures/engine/bank, written by
/// tools/fixtures/engine/bank.py): values and gradients within 1e-4 relative. Activations are stored NHWC, so the
/// tensors load as they are.
/// </summary>
public class BankFixtureTests
{
    private const double Tolerance = 1e-4;

    private sealed class Case(string file)
    {
        private readonly IReadOnlyDictionary<string, WeightTensor> _t = SafeTensors.Read(Fixtures.Engine("bank", file));
        public readonly Graph G = new();

        public float[] Data(string key) => (float[])_t[key].Data.Clone();

        public Value Param(string key) => G.Parameter(Data(key), _t[key].Shape, key);

        public Value Const(string key) => G.Constant(Data(key), _t[key].Shape, key);

        /// <summary>loss = Σ r ⊙ y² (the fixture's test loss).</summary>
        public Value Loss(Value y, string r) => G.Sum(G.Mul(G.Square(y), Const(r)));

        public void Same(string key, ReadOnlySpan<float> actual)
        {
            double e = Fixtures.RelativeError(actual, _t[key].Data);
            Assert.True(e <= Tolerance, $"{file} {key}: relative error {e:G3}");
        }

        public void Grad(Value v, string? key = null) => Same("d_" + (key ?? v.Name), v.Grad!);
    }

    private static void Run(Case c, Value y, string r, string yKey, params (Value V, string Key)[] grads)
    {
        Value loss = c.Loss(y, r);
        c.G.Forward();
        c.G.Backward(loss);
        c.Same(yKey, y.Data);
        foreach (var (v, key) in grads) c.Grad(v, key);
    }

    [Fact]
    public void Concat_ChannelsBatchAndRows()
    {
        var c = new Case("concat.safetensors");
        Value a = c.Param("ch_a"), b = c.Param("ch_b"), cc = c.Param("ch_c");
        Run(c, c.G.Concat(-1, a, b, cc), "ch_r", "ch_y", (a, "ch_a"), (b, "ch_b"), (cc, "ch_c"));
        c = new Case("concat.safetensors");
        Value p = c.Param("batch_p"), q = c.Param("batch_q");
        Run(c, c.G.Concat(0, p, q), "batch_r", "batch_y", (p, "batch_p"), (q, "batch_q"));
        c = new Case("concat.safetensors");
        Value u = c.Param("rows_u"), v = c.Param("rows_v");
        Run(c, c.G.Concat(1, u, v), "rows_r", "rows_y", (u, "rows_u"), (v, "rows_v"));
    }

    [Fact]
    public void BroadcastBatch()
    {
        var c = new Case("broadcast_batch.safetensors");
        Value t = c.Param("t");
        Run(c, c.G.BroadcastBatch(t, 3), "r", "y", (t, "t"));
    }

    [Theory]
    [InlineData("m11")]
    [InlineData("m31")]
    [InlineData("m16")]
    [InlineData("m36")]
    public void MulBroadcast(string mask)
    {
        var c = new Case("mul_broadcast.safetensors");
        Value x = c.Param("x"), m = c.Param(mask);
        Run(c, c.G.MulBroadcast(x, m), "r", mask + "_y", (x, mask + "_x"), (m, mask));
    }

    [Fact]
    public void WeightedSum()
    {
        var c = new Case("weighted_sum.safetensors");
        Value k0 = c.Param("k0"), k1 = c.Param("k1"), k2 = c.Param("k2"), w = c.Param("w");
        Run(c, c.G.WeightedSum([k0, k1, k2], w), "r", "y", (k0, "k0"), (k1, "k1"), (k2, "k2"), (w, "w"));
    }

    [Fact]
    public void Choose()
    {
        var c = new Case("choose.safetensors");
        Value c0 = c.Param("c0"), c1 = c.Param("c1"), c2 = c.Param("c2");
        Run(c, c.G.Choose([c0, c1, c2], () => 1), "r", "y", (c0, "c0"), (c1, "c1"), (c2, "c2"));
    }

    [Theory]
    [InlineData("zero", ConvPadding.Zero)]
    [InlineData("circular", ConvPadding.Circular)]
    public void FilterBank(string prefix, ConvPadding padding)
    {
        var c = new Case("filter_bank.safetensors");
        Value x = c.Param(prefix + "_x");
        Value[] k = [.. Enumerable.Range(0, 3).Select(i => c.Param($"{prefix}_k{i}"))];
        Value[] b = [.. Enumerable.Range(0, 3).Select(i => c.Param($"{prefix}_b{i}"))];
        Value y = c.G.FilterBank(x, k, b, [0, 1, 2, 0], padding);
        Run(c, y, prefix + "_r", prefix + "_y", [(x, x.Name!), .. k.Select(v => (v, v.Name!)), .. b.Select(v => (v, v.Name!))]);
    }

    [Fact]
    public void RegionFusion()
    {
        var c = new Case("region_fusion.safetensors");
        Value x = c.Param("x"), k0 = c.Param("k0"), k1 = c.Param("k1"), b0 = c.Param("b0"), b1 = c.Param("b1"), m0 = c.Param("m0"), m1 = c.Param("m1");
        Value y = c.G.RegionFusion(x, [k0, k1], [b0, b1], [m0, m1], ConvPadding.Zero);
        Run(c, y, "r", "y", (x, "x"), (k0, "k0"), (k1, "k1"), (b0, "b0"), (b1, "b1"), (m0, "m0"), (m1, "m1"));
    }

    /// <summary>1e10 · MSE(gram(y), gram(style) broadcast over the batch), gram = FᵀF/(C·h·w); gradients to y and the style.</summary>
    private static Value StyleMse(Graph g, Value y, Value style)
    {
        Value gy = g.Gram(y, 1f / (y.Dim(1) * y.Dim(2) * y.Dim(3)));
        Value gs = g.BroadcastBatch(g.Gram(style, 1f / (style.Dim(1) * style.Dim(2) * style.Dim(3))), y.Dim(0));
        return g.Scale(g.Mean(g.Square(g.Sub(gy, gs))), 1e10f);
    }

    [Fact]
    public void BatchedGramMse_AgainstBroadcastTarget()
    {
        var c = new Case("gram_mse.safetensors");
        Value y = c.Param("y"), s = c.Param("style");
        Value loss = StyleMse(c.G, y, s);
        c.G.Backward(loss);
        c.Same("loss", loss.Data);
        c.Grad(y);
        c.Grad(s);
    }

    [Fact]
    public void MiniStyleBankStep_BankBlendAndRegions_ValuesAndGradients()
    {
        var c = new Case("stylebank_step.safetensors");
        Graph g = c.G;
        Value feature = c.Param("feature");
        Value[] k = [c.Param("k0"), c.Param("k1"), c.Param("k2")];
        Value[] b = [c.Param("b0"), c.Param("b1"), c.Param("b2")];
        Value blend = c.Param("blend"), mask = c.Param("mask"), style = c.Const("style");
        int[] sets = [0, 1, 2, 0];

        Value yBank = g.FilterBank(feature, k, b, sets, ConvPadding.Zero);
        Value yBlend = g.Conv3x3(feature, g.WeightedSum(k, blend), g.WeightedSum(b, blend), ConvPadding.Zero);
        Value ones = g.Constant(Enumerable.Repeat(1f, mask.Length).ToArray(), mask.Shape);
        Value yRegion = g.RegionFusion(feature, [k[0], k[2]], [b[0], b[2]], [mask, g.Sub(ones, mask)], ConvPadding.Zero);
        Value[] terms = [StyleMse(g, yBank, style), StyleMse(g, yBlend, style), StyleMse(g, yRegion, style)];
        Value loss = g.Add(g.Add(terms[0], terms[1]), terms[2]);
        g.Backward(loss);

        c.Same("y_bank", yBank.Data);
        c.Same("y_blend", yBlend.Data);
        c.Same("y_region", yRegion.Data);
        c.Same("terms", terms.Select(t => t.Data[0]).ToArray());
        c.Same("loss", loss.Data);
        foreach (Value v in (Value[])[feature, .. k, .. b, blend, mask]) c.Grad(v);
    }
}
