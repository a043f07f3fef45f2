using NeuralStyle.Tensors.Optim;

namespace NeuralStyle.Tensors.Tests.Optim;

/// <summary>
/// L-BFGS with H₀ = γM: M = I is torch's L-BFGS bit for bit, and M = A⁻¹ on a quadratic ½xᵀAx − bᵀx makes the second
/// direction the Newton step (γ = sᵀy/yᵀMy = 1), which plain L-BFGS does not find in so few iterations.
/// </summary>
public class LbfgsPreconditionerTests
{
    private sealed class Diagonal(float[] d) : ILinearOperator
    {
        public int Calls { get; private set; }

        public void Apply(ReadOnlySpan<float> v, Span<float> result)
        {
            Calls++;
            for (int i = 0; i < v.Length; i++) result[i] = d[i] * v[i];
        }
    }

    // An ill-conditioned diagonal quadratic (curvatures 1 … 1000) with its minimum at x* = b / a.
    private static readonly float[] Curvature = Enumerable.Range(0, 40).Select(i => (float)Math.Pow(1000, i / 39.0)).ToArray();
    private static readonly float[] Target = Enumerable.Range(0, 40).Select(i => (float)Math.Sin(i + 1)).ToArray();

    private static double Quadratic(float[] x, float[] g)
    {
        double f = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double dx = x[i] - Target[i];
            g[i] = (float)(Curvature[i] * dx);
            f += 0.5 * Curvature[i] * dx * dx;
        }
        return f;
    }

    private static float[] Run(ILinearOperator? pre, int iterations, out List<double> losses)
    {
        var x = new float[Curvature.Length];
        var lbfgs = new Lbfgs(x.Length, new LbfgsOptions { MaxIterations = iterations, MaxEvaluations = 100, ToleranceGrad = -1, ToleranceChange = -1, Preconditioner = pre });
        var seen = new List<double>();
        lbfgs.IterationDone = it => seen.Add(it.Loss);
        lbfgs.Minimize(x, Quadratic);
        losses = seen;
        return x;
    }

    [Fact]
    public void IdentityPreconditioner_IsPlainLbfgs_BitForBit()
    {
        float[] plain = Run(null, 25, out var plainLosses);
        var identity = new Diagonal(Enumerable.Repeat(1f, Curvature.Length).ToArray());
        float[] withIdentity = Run(identity, 25, out var identityLosses);
        Assert.Equal(plain, withIdentity);
        Assert.Equal(plainLosses, identityLosses);
        Assert.True(identity.Calls >= 25, "the operator was applied on every direction");
    }

    [Fact]
    public void InverseHessianPreconditioner_TakesTheNewtonStep_OnTheSecondIteration()
    {
        var inverse = new Diagonal(Curvature.Select(a => 1 / a).ToArray());
        float[] x = Run(inverse, 2, out _);
        for (int i = 0; i < x.Length; i++) Assert.Equal(Target[i], x[i], 1e-4f);

        float[] plain = Run(null, 2, out _);
        double farthest = plain.Select((v, i) => Math.Abs(v - Target[i])).Max();
        Assert.True(farthest > 0.1, $"plain L-BFGS is already within {farthest} after two iterations: the test shows nothing");
    }

    [Fact]
    public void SeededHistory_TakesItsScaleFromThePreconditioner()
    {
        // One carried pair (s, y = A s) with the wrong γ: the first seeded step must use γ = sᵀy/yᵀMy (= 1 for M = A⁻¹),
        // which with one exact pair is the Newton step from anywhere on the quadratic.
        int n = Curvature.Length;
        float[] s = Enumerable.Range(0, n).Select(i => (float)Math.Cos(i)).ToArray();
        float[] y = s.Select((v, i) => v * Curvature[i]).ToArray();
        var inverse = new Diagonal(Curvature.Select(a => 1 / a).ToArray());
        var x = new float[n];
        var lbfgs = new Lbfgs(n, new LbfgsOptions { MaxIterations = 1, ToleranceGrad = -1, ToleranceChange = -1, Preconditioner = inverse });
        lbfgs.SeedHistory(new LbfgsHistory([s], [y], H0Scale: 123));
        lbfgs.Minimize(x, Quadratic);
        for (int i = 0; i < n; i++) Assert.Equal(Target[i], x[i], 1e-4f);
    }
}
