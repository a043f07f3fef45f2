using NeuralStyle.Tensors.Autograd;

namespace NeuralStyle.Tensors;

/// <summary>
/// A float32 tensor that is a node of a <see cref="Graph"/>: its data buffer and (when it needs one) its gradient
/// buffer are allocated once and reused by every forward/backward pass. Activations are NHWC.
/// </summary>
public sealed class Value
{
    internal Value(Graph graph, int[] shape, float[] data, Op? op, Value[] inputs, bool requiresGrad, string? name)
    {
        Graph = graph;
        Shape = shape;
        Data = data;
        Op = op;
        Inputs = inputs;
        RequiresGrad = requiresGrad;
        Name = name;
    }

    public Graph Graph { get; }
    public int[] Shape { get; }
    public float[] Data { get; }
    public string? Name { get; }
    public bool RequiresGrad { get; }

    /// <summary>
    /// True for a <see cref="Graph.Constant"/> leaf: its data never changes while the graph is used, so ops may
    /// precompute from it. Parameters and computed values are never frozen.
    /// </summary>
    public bool IsFrozen { get; internal init; }
    public int Length => Data.Length;
    public int Rank => Shape.Length;

    /// <summary>d(loss)/d(this), same shape as <see cref="Data"/>; null when no gradient flows here.</summary>
    public float[]? Grad { get; internal set; }

    internal Op? Op { get; }
    internal Value[] Inputs { get; }

    /// <summary>True once a backward pass has written this value's gradient (later contributions add).</summary>
    internal bool GradWritten { get; set; }

    public int Dim(int axis) => Shape[axis < 0 ? Shape.Length + axis : axis];

    public override string ToString() => $"{Name ?? Op?.GetType().Name ?? "leaf"}[{string.Join(",", Shape)}]";

    /// <summary>Number of elements of a shape.</summary>
    public static int Numel(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException("Negative dimension.");
            n *= d;
        }
        if (n > int.MaxValue) throw new ArgumentException($"A tensor of shape [{string.Join(",", shape.ToArray())}] is too large.");
        return (int)n;
    }
}
