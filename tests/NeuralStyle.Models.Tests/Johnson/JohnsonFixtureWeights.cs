using NeuralStyle.Models.Johnson;
using NeuralStyle.Weights;

namespace NeuralStyle.Models.Tests.Johnson;

/// <summary>
/// The fixture script's formula weights (tools/fixtures/engine/johnson.py, <c>formula_state_dict</c>): splitmix64 of
/// (tensor index, element index) in exact integer arithmetic, so the full network's 6.7 MB need not be committed.
/// </summary>
internal static class JohnsonFixtureWeights
{
    /// <summary>u in [-1, 1) for element i of the tensor at position <paramref name="tensorIndex"/> in state-dict order.</summary>
    public static double HashUniform(int tensorIndex, long i)
    {
        unchecked
        {
            ulong z = (ulong)i + (ulong)(tensorIndex + 1) * 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            double u = (z >> 11) * (1.0 / (1UL << 53));
            return 2.0 * u - 1.0;
        }
    }

    public static Dictionary<string, WeightTensor> StateDict(TransformerArchitecture architecture)
    {
        var sd = new Dictionary<string, WeightTensor>();
        int fanIn = 1, k = 0;
        foreach ((string name, int[] shape) in TransformerNet.Layout(architecture))
        {
            var data = new float[shape.Aggregate(1, (a, b) => a * b)];
            bool conv = name.Contains(".conv2d.", StringComparison.Ordinal);
            bool weight = name.EndsWith(".weight", StringComparison.Ordinal);
            if (conv && weight) fanIn = shape[1] * shape[2] * shape[3];
            for (int i = 0; i < data.Length; i++)
            {
                double u = HashUniform(k, i);
                data[i] = (float)(conv ? 1.0 / Math.Sqrt(fanIn) * u : weight ? 1.0 + 0.25 * u : 0.1 * u);
            }
            sd[name] = new WeightTensor(name, shape, data);
            k++;
        }
        return sd;
    }
}
