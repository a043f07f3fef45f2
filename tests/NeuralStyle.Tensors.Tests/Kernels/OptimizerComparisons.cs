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
    }
}
