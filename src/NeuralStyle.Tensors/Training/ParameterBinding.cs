namespace NeuralStyle.Tensors.Training;

/// <summary>The leaves a <see cref="ParameterSet"/> became in one graph (see <see cref="ParameterSet.Bind"/>).</summary>
public sealed class ParameterBinding
{
    private readonly Parameter[] _parameters;
    private readonly Value[] _values;

    internal ParameterBinding(ParameterSet parameters, Graph graph, Value[] values)
    {
        Parameters = parameters;
        Graph = graph;
        _parameters = [.. parameters];
        _values = values;
    }

    public ParameterSet Parameters { get; }
    public Graph Graph { get; }

    /// <summary>The graph leaf of the parameter named <paramref name="name"/>.</summary>
    public Value this[string name]
    {
        get
        {
            Parameter p = Parameters[name];
            int i = Array.IndexOf(_parameters, p);
            return i >= 0 ? _values[i] : throw new ArgumentException($"The parameter '{name}' was added to the set after this binding was made.", nameof(name));
        }
    }

    /// <summary>
    /// Copies the gradients of the last <see cref="Graph.Backward"/> into <see cref="Parameter.Grad"/> (multiplied by
    /// <paramref name="scale"/>, and added to what is there when <paramref name="accumulate"/>). Parameters bound as
    /// frozen get nothing; a parameter the loss does not reach gets zeros.
    /// </summary>
    public void ReadGradients(bool accumulate = false, float scale = 1f)
    {
        if (!float.IsFinite(scale)) throw new ArgumentException($"The gradient scale must be finite, not {scale}.", nameof(scale));
        for (int i = 0; i < _values.Length; i++)
        {
            Value v = _values[i];
            Parameter p = _parameters[i];
            if (v.Grad is null) continue;
            Span<float> dst = p.Grad;
            if (!accumulate)
            {
                if (scale == 1f) v.Grad.CopyTo(dst);
                else System.Numerics.Tensors.TensorPrimitives.Multiply(v.Grad, scale, dst);
            }
            else if (scale == 1f) System.Numerics.Tensors.TensorPrimitives.Add(dst, v.Grad, dst);
            else System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(v.Grad, scale, dst, dst);
        }
    }
}
