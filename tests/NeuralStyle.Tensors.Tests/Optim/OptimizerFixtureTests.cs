using System.Text.Json;
using NeuralStyle.Tensors.Optim;

namespace NeuralStyle.Tensors.Tests.Optim;

/// <summary>L-BFGS and Adam in isolation against torch.optim on a small ill-conditioned function (tests/fixtures).</summary>
public class OptimizerFixtureTests
{
    private static readonly JsonElement Fixture = Load();

    private static JsonElement Load()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string f = Path.Combine(d.FullName, "tests", "fixtures", "gatys", "optim_quadratic.json");
            if (File.Exists(f)) return JsonDocument.Parse(File.ReadAllText(f)).RootElement;
        }
        throw new FileNotFoundException("optim_quadratic.json not found above " + AppContext.BaseDirectory);
    }

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    /// <summary>f(x) = ½ Σ aᵢ(xᵢ − cᵢ)² + β Σ (xᵢ₊₁ − xᵢ²)², computed in float32 like the fixture.</summary>
    private static double Quad(float[] x, float[] g)
    {
        float[] a = Floats(Fixture.GetProperty("a")), c = Floats(Fixture.GetProperty("c"));
        float beta = (float)Fixture.GetProperty("beta").GetDouble();
        float f = 0;
        Array.Clear(g);
        for (int i = 0; i < x.Length; i++)
        {
            f += 0.5f * a[i] * (x[i] - c[i]) * (x[i] - c[i]);
            g[i] += a[i] * (x[i] - c[i]);
        }
        for (int i = 0; i + 1 < x.Length; i++)
        {
            float r = x[i + 1] - x[i] * x[i];
            f += beta * r * r;
            g[i + 1] += 2 * beta * r;
            g[i] += -4 * beta * r * x[i];
        }
        return f;
    }

    private static void AssertClose(float[] expected, float[] actual, double tol, string what)
    {
        double scale = expected.Max(v => Math.Abs((double)v));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * Math.Max(1, scale), $"{what}[{i}]: torch {expected[i]:R}, ours {actual[i]:R}");
    }

    [Theory]
    [InlineData("lbfgs_f32", false)]
    [InlineData("lbfgs_strong_wolfe_f32", true)]
    public void Lbfgs_TenSteps_IteratesMatchTorch(string run, bool strongWolfe)
    {
        JsonElement r = Fixture.GetProperty("runs").GetProperty(run);
        float[][] iterates = r.GetProperty("iterates").EnumerateArray().Select(Floats).ToArray();
        int[] calls = r.GetProperty("closure_calls_per_step").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        float[] x = (float[])iterates[0].Clone();
        var opt = new Lbfgs(x.Length, new LbfgsOptions
        {
            LearningRate = 1, MaxIterations = 1, MaxEvaluations = 1000, HistorySize = 3,
            ToleranceGrad = -1, ToleranceChange = -1, StrongWolfe = strongWolfe,
        });
        for (int k = 1; k < iterates.Length; k++)
        {
            int before = opt.Evaluations;
            opt.Minimize(x, Quad);
            Assert.Equal(calls[k - 1], opt.Evaluations - before);
            AssertClose(iterates[k], x, 1e-4, $"{run} step {k}");
        }
    }

    [Fact]
    public void Adam_TenSteps_IteratesMatchTorch()
    {
        JsonElement r = Fixture.GetProperty("runs").GetProperty("adam_f32");
        float[][] iterates = r.GetProperty("iterates").EnumerateArray().Select(Floats).ToArray();
        JsonElement cfg = Fixture.GetProperty("adam");
        float[] x = (float[])iterates[0].Clone();
        var g = new float[x.Length];
        var adam = new Adam(x.Length, cfg.GetProperty("lr").GetDouble());
        for (int k = 1; k < iterates.Length; k++)
        {
            Quad(x, g);
            adam.Step(x, g);
            AssertClose(iterates[k], x, 1e-5, $"adam step {k}");
        }
    }

    [Fact]
    public void Lbfgs_HistoryOfOne_StillDescends()
    {
        float[] x = Floats(Fixture.GetProperty("x0"));
        var g = new float[x.Length];
        double f0 = Quad(x, g);
        var opt = new Lbfgs(x.Length, new LbfgsOptions { MaxIterations = 50, HistorySize = 1, ToleranceGrad = -1, ToleranceChange = -1, StrongWolfe = true });
        opt.Minimize(x, Quad);
        Assert.True(Quad(x, g) < f0 / 10, "L-BFGS with history 1 did not reduce the loss tenfold");
    }
}
