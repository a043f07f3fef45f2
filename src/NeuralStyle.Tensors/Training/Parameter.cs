namespace NeuralStyle.Tensors.Training;

/// <summary>
/// One named tensor of a <see cref="ParameterSet"/> (a PyTorch state-dict entry such as <c>conv1.conv2d.weight</c>):
/// its data, the gradient last read back from a graph, and whether optimisers may change it.
/// </summary>
public sealed class Parameter
{
    internal Parameter(string name, int[] shape, float[] data, bool trainable)
    {
        Name = name;
        Shape = shape;
        Data = data;
        Grad = new float[data.Length];
        Trainable = trainable;
    }

    public string Name { get; }
    public int[] Shape { get; }

    /// <summary>The values, updated in place by optimisers (graphs bound to the set read this very array).</summary>
    public float[] Data { get; }

    /// <summary>d(loss)/d(this) as last read by <see cref="ParameterBinding.ReadGradients"/> (zero for frozen parameters).</summary>
    public float[] Grad { get; }

    /// <summary>
    /// False when frozen: optimisers skip it and graphs bound afterwards treat it as a constant (see also
    /// <see cref="ParameterSet.Freeze"/> for whole prefixes).
    /// </summary>
    public bool Trainable { get; set; }

    public int Length => Data.Length;

    public override string ToString() => $"{Name}[{string.Join(",", Shape)}]{(Trainable ? "" : " (frozen)")}";
}
