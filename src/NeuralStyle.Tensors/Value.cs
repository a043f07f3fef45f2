using NeuralStyle.Tensors.Autograd;

namespace NeuralStyle.Tensors;

/// <summary>
/// A float32 tensor that is a node of a <see cref="Graph"/>: its data buffer and (when it needs one) its gradient
/// buffer are allocated once and reused by every forward/backward pass. Activations are NHWC.
/// </summary>
public sealed class Value
{
    private float[]? _data;

    internal Value(Graph graph, int[] shape, float[]? data, Op? op, Value[] inputs, bool requiresGrad, string? name)
    {
        Graph = graph;
        Shape = shape;
        Length = Numel(shape);
        _data = data;
        Op = op;
        Inputs = inputs;
        RequiresGrad = requiresGrad;
        Name = name;
    }

    public Graph Graph { get; }
    public int[] Shape { get; }
    /// <summary>
    /// The values. A graph that plans its memory (inference, shapes-only, or an activation no backward rule reads)
    /// gives a value a buffer only while something still reads it: ask <see cref="Graph.Keep"/> for the values you
    /// want to read after a pass (values of up to <see cref="Graph.AlwaysKeptLength"/> elements are always kept).
    /// </summary>
    public float[] Data => _data ?? throw new InvalidOperationException(
        $"The value {this} has no data now: the graph released its buffer after the last op that reads it (call Graph.Keep on values you read).");

    /// <summary>The buffer, or null while the graph has none allocated for this value.</summary>
    internal float[]? Buffer { get => _data; set => _data = value; }

    /// <summary>A leaf made by <see cref="Graph.Input"/>, whose buffer the graph allocated.</summary>
    internal bool IsGraphInput { get; set; }

    /// <summary>Kept for the caller: never released by the graph's memory plan.</summary>
    public bool IsKept { get; internal set; }
    public string? Name { get; }
    public bool RequiresGrad { get; }

    /// <summary>
    /// True for a <see cref="Graph.Constant"/> leaf: its data never changes while the graph is used, so ops may
    /// precompute from it. Parameters and computed values are never frozen.
    /// </summary>
    public bool IsFrozen { get; internal init; }
    public int Length { get; }
    public int Rank => Shape.Length;

    /// <summary>d(loss)/d(this), same shape as <see cref="Data"/>; null when no gradient flows here.</summary>
    public float[]? Grad { get; internal set; }

    internal Op? Op { get; }

    /// <summary>True for a leaf (input, constant or parameter), false for a value computed by an op.</summary>
    public bool IsLeaf => Op is null;
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
