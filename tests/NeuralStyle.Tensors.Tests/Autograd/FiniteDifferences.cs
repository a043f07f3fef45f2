namespace NeuralStyle.Tensors.Tests.Autograd;

/// <summary>The one finite-difference check every gradient test uses: central differences in double from float passes.</summary>
internal static class FiniteDifferences
{
    public static float[] Random(int n, int seed, double lo = -1, double hi = 1)
    {
        var a = new float[n];
        new Rng((ulong)seed).FillUniform(a, lo, hi);
        return a;
    }

    /// <summary>loss = Σ r ⊙ y with a fixed random r: a scalar whose gradient reaches every element of y.</summary>
    public static Value Contracted(Graph g, Value y) => g.Sum(g.Mul(y, g.Constant(Random(y.Length, 2), y.Shape)));

    /// <summary>
    /// Runs forward and backward, then compares d loss/d v with central differences at <paramref name="probes"/>
    /// random coordinates of every variable; leaves the graph forwarded at the original point.
    /// </summary>
    public static void Check(Graph g, Value loss, IEnumerable<Value> variables, double eps = 1e-2, double tol = 2e-2,
        int probes = 16, ulong seed = 3, bool requireNonZero = false)
    {
        g.Forward();
        g.Backward(loss);
        var rng = new Rng(seed);
        foreach (Value v in variables)
        {
            float[] grad = (float[])v.Grad!.Clone();
            if (requireNonZero) Assert.Contains(grad, x => x != 0f);
            for (int probe = 0; probe < Math.Min(probes, v.Length); probe++)
            {
                int i = (int)(rng.NextUInt64() % (ulong)v.Length);
                float keep = v.Data[i];
                v.Data[i] = keep + (float)eps;
                g.Forward();
                double plus = loss.Data[0];
                v.Data[i] = keep - (float)eps;
                g.Forward();
                double minus = loss.Data[0];
                v.Data[i] = keep;
                double fd = (plus - minus) / (2 * eps);
                Assert.True(Math.Abs(fd - grad[i]) <= tol * (1 + Math.Abs(fd)),
                    $"{v.Name ?? v.ToString()} coordinate {i}: finite difference {fd:G6}, autograd {grad[i]:G6}");
            }
        }
        g.Forward();
    }
}
