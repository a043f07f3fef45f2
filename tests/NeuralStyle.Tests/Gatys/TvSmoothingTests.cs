using NeuralStyle.Core;
using NeuralStyle.Losses;
using NeuralStyle.Tensors;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;

namespace NeuralStyle.Tests.Gatys;

/// <summary>
/// The smoothed L1 TV term and the image-pyramid L-BFGS preconditioner against PyTorch
/// (tests/fixtures/engine/smoothing, written by tools/fixtures/engine/smoothing.py), and how a problem with a smoothed
/// term reports its rows: the exact terms, while the optimiser gets the smoothed total.
/// </summary>
public class TvSmoothingTests
{
    private static IReadOnlyDictionary<string, WeightTensor> Load(string file) => SafeTensors.Read(Fixtures.Engine("smoothing", file));

    private static (Graph G, Value X) Image(WeightTensor nchw)
    {
        var g = new Graph();
        Value x = g.Input([1, nchw.Shape[2], nchw.Shape[3], nchw.Shape[1]], requiresGrad: true);
        Fixtures.ToNhwc(nchw).CopyTo(x.Data, 0);
        return (g, x);
    }

    [Theory]
    [InlineData("eps1")]
    [InlineData("eps4")]
    public void SmoothedTv_ValueAndGradient_MatchTorch_AndTheExactTermIsComputedBeside(string name)
    {
        var t = Load("smooth_tv.safetensors");
        (Graph g, Value x) = Image(t["x"]);
        var tv = new TvLoss(t["weight"].Data[0], TvScheme.L1, t[$"{name}.eps"].Data[0]);
        (Value term, Value? exact) = tv.BuildWithExact(g, x);
        g.Forward();
        g.Backward(term);
        Assert.Equal(t[$"{name}.loss"].Data[0], term.Data[0], 1e-5 * t[$"{name}.loss"].Data[0]);
        Assert.True(Fixtures.RelativeError(x.Grad, Fixtures.ToNhwc(t[$"{name}.dx"])) <= 1e-5, "dx");
        Assert.NotNull(exact);
        Assert.Equal(t["exact"].Data[0], exact!.Data[0], 1e-5 * t["exact"].Data[0]);
        Assert.True(exact.Data[0] > term.Data[0], "the smoothed term lies below the exact one");
    }

    [Fact]
    public void UnsmoothedTv_HasNoExactTwin_AndEqualsTheL1Term()
    {
        var t = Load("smooth_tv.safetensors");
        (Graph g, Value x) = Image(t["x"]);
        (Value term, Value? exact) = new TvLoss(t["weight"].Data[0], TvScheme.L1).BuildWithExact(g, x);
        g.Forward();
        Assert.Null(exact);
        Assert.Equal(t["exact"].Data[0], term.Data[0], 1e-5 * t["exact"].Data[0]);
    }

    [Fact]
    public void ProblemWithASurrogate_ReportsTheExactTerms_AndOptimisesTheSmoothedTotal()
    {
        var t = Load("smooth_tv.safetensors");
        (Graph g, Value x) = Image(t["x"]);
        var tv = new TvLoss(t["weight"].Data[0], TvScheme.L1, 4.0);
        (Value term, Value? exact) = tv.BuildWithExact(g, x);
        Value other = g.Scale(g.Sum(g.Square(x)), 1e-4f, "content:square");
        var terms = new List<Value> { other, term };
        var p = new LossProblem(g, x, LossProblem.SumTerms(g, terms), terms) { Surrogates = [(term, exact!)] };
        LossRow row = p.Evaluate(withGradient: true);
        double smoothedTotal = other.Data[0] + term.Data[0];
        Assert.Equal(smoothedTotal, row.Optimised, 1e-6 * smoothedTotal);
        Assert.Equal(other.Data[0] + exact!.Data[0], row.Loss, 1e-6 * row.Loss);
        Assert.Equal(exact.Data[0], row.Terms[TvLoss.TermName], 1e-9);
        Assert.Equal(exact.Data[0], row.Tv, 1e-9);
        // Without surrogates the two totals are one.
        var plain = new LossProblem(g, x, p.Total, terms).Evaluate(withGradient: false);
        Assert.Equal(plain.Loss, plain.Optimised);
    }

    [Theory]
    [InlineData("odd")]
    [InlineData("even")]
    [InlineData("small")]
    public void PyramidPreconditioner_MatchesTorch(string name)
    {
        var t = Load("pyramid.safetensors");
        WeightTensor v = t[$"{name}.v"];
        var m = new PyramidPreconditioner(v.Shape[3], v.Shape[2], v.Shape[1], (int)t[$"{name}.levels"].Data[0], t[$"{name}.weight"].Data[0]);
        var result = new float[v.Data.Length];
        m.Apply(Fixtures.ToNhwc(v), result);
        Assert.True(Fixtures.RelativeError(result, Fixtures.ToNhwc(t[$"{name}.mv"])) <= 1e-5, "M·v");
        // The scratch buffers it keeps leave nothing behind: another vector, then this one again, gives the same.
        m.Apply(Enumerable.Repeat(3f, v.Data.Length).ToArray(), new float[v.Data.Length]);
        var again = new float[v.Data.Length];
        m.Apply(Fixtures.ToNhwc(v), again);
        Assert.Equal(result, again);
    }

    [Theory]
    [InlineData(23, 17, 3, 1.0)]
    [InlineData(64, 40, 5, 2.0)]
    public void PyramidPreconditioner_IsSymmetric_AndPositiveDefinite(int w, int h, int levels, double weight)
    {
        var m = new PyramidPreconditioner(w, h, 3, levels, weight);
        var rng = new Random(5);
        float[] Rand() => Enumerable.Range(0, w * h * 3).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        for (int trial = 0; trial < 4; trial++)
        {
            float[] u = Rand(), v = Rand(), mu = new float[u.Length], mv = new float[v.Length];
            m.Apply(u, mu);
            m.Apply(v, mv);
            double uMv = PreciseSums.Dot(u, mv), vMu = PreciseSums.Dot(v, mu);
            Assert.Equal(uMv, vMu, 1e-5 * (Math.Abs(uMv) + 1));
            Assert.True(PreciseSums.Dot(u, mu) >= PreciseSums.Dot(u, u) * 0.999, "uᵀMu ≥ α₀·uᵀu: every level adds a square");
        }
        Assert.True(m.LevelCount > 1);
    }

    [Fact]
    public void PyramidPreconditioner_WithoutLevels_IsTheIdentity()
    {
        var m = new PyramidPreconditioner(9, 7, 3, 0, 1);
        float[] v = Enumerable.Range(0, 9 * 7 * 3).Select(i => (float)Math.Cos(i)).ToArray();
        var r = new float[v.Length];
        m.Apply(v, r);
        Assert.Equal(v, r);
    }
}
