using NeuralStyle.Tensors.Optim;

namespace NeuralStyle.Tensors.Tests.Optim;

/// <summary>The per-iteration callback: one call per iteration, naming the evaluation that computed the accepted point.</summary>
public class LbfgsIterationTests
{
    // f(x) = Σ (i+1)(xᵢ − 1)² + (x₀x₁)², well-defined curvature with a coupling term.
    private static double F(float[] x, float[] g)
    {
        double f = 0;
        for (int i = 0; i < x.Length; i++)
        {
            f += (i + 1) * (x[i] - 1.0) * (x[i] - 1.0);
            g[i] = (float)(2 * (i + 1) * (x[i] - 1.0));
        }
        double c = x[0] * x[1];
        f += c * c;
        g[0] += (float)(2 * c * x[1]);
        g[1] += (float)(2 * c * x[0]);
        return f;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IterationDone_ReportsEveryIteration_WithTheAcceptedEvaluation(bool strongWolfe)
    {
        float[] x = [3, -2, 0.5f, 4, -1];
        var evaluated = new List<(double Loss, float[] X)>();
        double Recording(float[] xs, float[] g)
        {
            double f = F(xs, g);
            evaluated.Add((f, (float[])xs.Clone()));
            return f;
        }
        var its = new List<(LbfgsIteration It, float[] X)>();
        var opt = new Lbfgs(x.Length, new LbfgsOptions { MaxIterations = 6, MaxEvaluations = 100, ToleranceGrad = -1, ToleranceChange = -1, StrongWolfe = strongWolfe });
        opt.IterationDone = it => its.Add((it, (float[])x.Clone()));
        opt.Minimize(x, Recording);

        Assert.Equal(6, its.Count);
        Assert.Equal(6, opt.Iterations);
        Assert.Equal(evaluated.Count, opt.Evaluations);
        for (int k = 0; k < its.Count; k++)
        {
            (LbfgsIteration it, float[] xk) = its[k];
            Assert.Equal(k + 1, it.Iteration);
            if (!strongWolfe && k == its.Count - 1)
            {
                Assert.Equal(-1, it.AcceptedEvaluation); // torch: the last step is taken without evaluating its result
                continue;
            }
            Assert.InRange(it.AcceptedEvaluation, 1, evaluated.Count - 1);
            Assert.Equal(evaluated[it.AcceptedEvaluation].Loss, it.Loss);
            Assert.Equal(evaluated[it.AcceptedEvaluation].X, xk); // the callback sees x at the accepted point
        }
        Assert.True(its[^2].It.Loss < evaluated[0].Loss / 10, "L-BFGS did not reduce the loss tenfold");
    }
}
