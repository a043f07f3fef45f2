namespace NeuralStyle.Weights;

/// <summary>One named tensor of a weights file: contiguous row-major float32 data (other dtypes are converted on load).</summary>
/// <remarks>A 0-d (scalar) tensor has an empty <see cref="Shape"/> and one element.</remarks>
public sealed record WeightTensor(string Name, int[] Shape, float[] Data)
{
    /// <summary>Number of elements the shape describes (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (int d in Shape) n *= d;
            return n;
        }
    }
}
