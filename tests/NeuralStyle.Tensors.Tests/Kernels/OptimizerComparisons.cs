// Fast-versus-reference comparisons of the optimisers' update kernels (OptimizerUpdates). The vector paths perform the
// references' float operations in the same order, so they must agree bit for bit. Shared (as source) with
// tests/NeuralStyle.KernelCheck through KernelComparisons.RepresentativeCases.
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Tests.Kernels;

public static class OptimizerComparisons
{
    /// <summary>Lengths that hit every vector width and tail.</summary>
    public static readonly int[] Lengths = [1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 64 + 5];

    public static string? CompareAdam(int length, long step, double weightDecay, int seed)
    {
        float[] x = KernelComparisons.Random(length, seed), g = KernelComparisons.Random(length, seed + 1, 3f);
        float[] m = KernelComparisons.Random(length, seed + 2, 0.1f), v = KernelComparisons.Random(length, seed + 3, 0.01f);
        for (int i = 0; i < length; i++) v[i] = Math.Abs(v[i]);
        float[] x2 = (float[])x.Clone(), m2 = (float[])m.Clone(), v2 = (float[])v.Clone();
        var k = AdamCoefficients.For(step, 1e-2, 0.9, 0.999, 1e-8, weightDecay);
        OptimizerUpdates.Adam(x, g, m, v, k);
        OptimizerUpdates.AdamReference(x2, g, m2, v2, k);
        string what = $"Adam length={length} step={step} wd={weightDecay}";
        return Identical(what + " x", x, x2) ?? Identical(what + " m", m, m2) ?? Identical(what + " v", v, v2);
    }

    public static string? CompareSgd(int length, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep, int seed)
    {
        float[] x = KernelComparisons.Random(length, seed), g = KernelComparisons.Random(length, seed + 1, 3f);
        float[] b = KernelComparisons.Random(length, seed + 2);
        float[] x2 = (float[])x.Clone(), b2 = (float[])b.Clone();
        OptimizerUpdates.Sgd(x, g, b, 0.05f, momentum, dampening, weightDecay, nesterov, firstStep);
        OptimizerUpdates.SgdReference(x2, g, b2, 0.05f, momentum, dampening, weightDecay, nesterov, firstStep);
        string what = $"Sgd length={length} momentum={momentum} dampening={dampening} wd={weightDecay} nesterov={nesterov} first={firstStep}";
        return Identical(what + " x", x, x2) ?? Identical(what + " momentum buffer", b, b2);
    }

    /// <summary>Lengths around PreciseSums' 4096-element blocks, where the fused L-BFGS passes split their work; the
    /// longest is shared out over the kernel threads.</summary>
    public static readonly int[] BlockLengths = [1, 17, 4095, 4096, 4097, 2 * 4096 + 33, 40 * 4096 + 7];

    public static string? CompareAxpyThenDot(int length, int seed)
    {
        float[] x = KernelComparisons.Random(length, seed), y = KernelComparisons.Random(length, seed + 1), z = KernelComparisons.Random(length, seed + 2);
        float[] y2 = (float[])y.Clone();
        double fast = PreciseSums.AxpyThenDot(-0.37f, x, y, z);
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(x, -0.37f, y2, y2);
        double reference = PreciseSums.Dot(z, y2);
        string what = $"AxpyThenDot length={length}";
        if (Identical(what + " y", y, y2) is { } bad) return bad;
        return BitConverter.DoubleToInt64Bits(fast) == BitConverter.DoubleToInt64Bits(reference) ? null
            : $"{what}: the dot product is {fast:R}, reference {reference:R} (must be bit-identical)";
    }

    /// <summary>L-BFGS's fused two-loop recursion against the plain one, over <paramref name="pairs"/> seeded pairs.</summary>
    public static string? CompareTwoLoop(int length, int pairs, int seed)
    {
        var steps = new List<float[]>();
        var changes = new List<float[]>();
        for (int k = 0; k < pairs; k++)
        {
            float[] s = KernelComparisons.Random(length, seed + 2 * k), noise = KernelComparisons.Random(length, seed + 2 * k + 1, 0.1f);
            steps.Add(s);
            changes.Add([.. s.Select((v, i) => 1.5f * v + noise[i])]); // sᵀy > 0: every pair is kept
        }
        var lbfgs = new NeuralStyle.Tensors.Optim.Lbfgs(length, new NeuralStyle.Tensors.Optim.LbfgsOptions { HistorySize = pairs });
        lbfgs.SeedHistory(new NeuralStyle.Tensors.Optim.LbfgsHistory(steps, changes, 0.7));
        float[] g = KernelComparisons.Random(length, seed + 999);
        return Identical($"L-BFGS two-loop length={length} pairs={pairs}", lbfgs.DirectionFor(g, reference: false), lbfgs.DirectionFor(g, reference: true));
    }

    private static string? Identical(string what, float[] fast, float[] reference)
    {
        for (int i = 0; i < fast.Length; i++)
            if (BitConverter.SingleToInt32Bits(fast[i]) != BitConverter.SingleToInt32Bits(reference[i]))
                return $"{what}: element {i} is {fast[i]:R}, reference {reference[i]:R} (must be bit-identical)";
        return null;
    }

    public static IEnumerable<Func<string?>> Cases()
    {
        int seed = 9000;
        foreach (int length in Lengths)
        {
            int s = seed++;
            yield return () => CompareAdam(length, 1, 0, s);
            yield return () => CompareAdam(length, 7, 1e-2, s + 1);
            yield return () => CompareSgd(length, 0, 0, 0, false, false, s);
            yield return () => CompareSgd(length, 0.9f, 0, 1e-4f, false, true, s + 1);
            yield return () => CompareSgd(length, 0.9f, 0, 1e-4f, false, false, s + 2);
            yield return () => CompareSgd(length, 0.9f, 0, 0, true, false, s + 3);
            yield return () => CompareSgd(length, 0.5f, 0.25f, 1e-3f, false, false, s + 4);
        }
        foreach (int length in BlockLengths)
        {
            int s = seed++;
            yield return () => CompareAxpyThenDot(length, s);
            yield return () => CompareTwoLoop(length, 1, s);
            yield return () => CompareTwoLoop(length, 5, s + 100);
        }
    }
}
