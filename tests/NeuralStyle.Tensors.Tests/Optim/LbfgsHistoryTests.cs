using NeuralStyle.Tensors.Optim;

namespace NeuralStyle.Tensors.Tests.Optim;

/// <summary>Carrying L-BFGS curvature pairs into a new run (coarse-to-fine schedules): export, seed, and the step it gives.</summary>
public class LbfgsHistoryTests
{
    // f(x) = ½ Σ aᵢ (xᵢ − cᵢ)²: Hessian diag(a), minimum at c.
    private static readonly float[] A = [1, 4, 0.25f, 9, 2];
    private static readonly float[] C = [0.5f, -1, 2, 0.25f, -3];

    private static double Quadratic(float[] x, float[] g)
    {
        double f = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double d = x[i] - C[i];
            f += 0.5 * A[i] * d * d;
            g[i] = (float)(A[i] * d);
        }
        return f;
    }

    [Fact]
    public void SeededWithExactCurvature_FirstStepIsTheNewtonStep()
    {
        // Pairs along each axis with y = A·s: the BFGS inverse built from them is exactly diag(1/a), so the first
        // step (learning rate 1) lands on the minimum, where a cold start would take a 1/‖g‖₁-scaled gradient step.
        int n = A.Length;
        var steps = new List<float[]>();
        var changes = new List<float[]>();
        for (int i = 0; i < n; i++)
        {
            var s = new float[n]; var y = new float[n];
            s[i] = 0.5f * (i + 1);
            y[i] = A[i] * s[i];
            steps.Add(s); changes.Add(y);
        }
        float[] x = [3, 2, -1, 1, 0];
        var seeded = new Lbfgs(n, new LbfgsOptions { MaxIterations = 1, ToleranceGrad = -1, ToleranceChange = -1 });
        seeded.SeedHistory(new LbfgsHistory(steps, changes, H0Scale: 0.37));
        seeded.Minimize(x, Quadratic);
        for (int i = 0; i < n; i++) Assert.Equal(C[i], x[i], 5);

        float[] cold = [3, 2, -1, 1, 0];
        new Lbfgs(n, new LbfgsOptions { MaxIterations = 1, ToleranceGrad = -1, ToleranceChange = -1 }).Minimize(cold, Quadratic);
        Assert.True(Math.Abs(cold[3] - C[3]) > 0.1, "the cold first step should not already be the minimum");
    }

    [Fact]
    public void History_HoldsTheSecantPairs_AndGamma_OfTheRun()
    {
        float[] x = [3, 2, -1, 1, 0];
        var opt = new Lbfgs(x.Length, new LbfgsOptions { MaxIterations = 4, ToleranceGrad = -1, ToleranceChange = -1 });
        opt.Minimize(x, Quadratic);
        LbfgsHistory h = opt.History;
        Assert.Equal(3, h.Count); // iterations 2..4 each add the pair of the step before; the 4th step itself is never evaluated
        for (int k = 0; k < h.Count; k++)
        {
            for (int i = 0; i < x.Length; i++)
                Assert.Equal(A[i] * h.Steps[k][i], h.GradientChanges[k][i], 4); // y = A·s on a quadratic
        }
        double sy = 0, yy = 0;
        for (int i = 0; i < x.Length; i++) { sy += h.Steps[^1][i] * h.GradientChanges[^1][i]; yy += h.GradientChanges[^1][i] * h.GradientChanges[^1][i]; }
        Assert.Equal(sy / yy, h.H0Scale, 6);
    }

    [Fact]
    public void SeedHistory_CopiesThePairs_TheSeededRunLeavesThemUntouched_AndIsRepeatable()
    {
        // Two optimisers at the same point with the same pairs and γ take the same steps; L-BFGS recycles its pair
        // arrays in place, so seeding must copy them: the history handed over is unchanged after both ran.
        float[] x = [3, 2, -1, 1, 0];
        var first = new Lbfgs(x.Length, new LbfgsOptions { MaxIterations = 3, ToleranceGrad = -1, ToleranceChange = -1 });
        first.Minimize(x, Quadratic);
        LbfgsHistory h = first.History;
        float[][] stepsBefore = [.. h.Steps.Select(v => (float[])v.Clone())], changesBefore = [.. h.GradientChanges.Select(v => (float[])v.Clone())];

        float[] a = (float[])x.Clone(), b = (float[])x.Clone();
        var o = new LbfgsOptions { MaxIterations = 2, ToleranceGrad = -1, ToleranceChange = -1 };
        var one = new Lbfgs(x.Length, o); one.SeedHistory(h);
        var two = new Lbfgs(x.Length, o); two.SeedHistory(first.History);
        one.Minimize(a, Quadratic);
        two.Minimize(b, Quadratic);
        Assert.Equal(a, b);
        Assert.True(Quadratic(a, new float[5]) < Quadratic(x, new float[5]));
        Assert.Equal(stepsBefore, h.Steps);
        Assert.Equal(changesBefore, h.GradientChanges);
    }

    [Fact]
    public void SeedHistory_RejectsVectorsOfAnotherLength()
    {
        var opt = new Lbfgs(3, new LbfgsOptions());
        var e = Assert.Throws<ArgumentException>(() => opt.SeedHistory(new LbfgsHistory([new float[2]], [new float[2]], 1)));
        Assert.Contains("length (3)", e.Message);
    }
}
