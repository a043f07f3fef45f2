using System.Collections;

namespace NeuralStyle.Tensors.Training;

/// <summary>
/// An ordered collection of named float tensors, each trainable or frozen: what a network's weights are while it is
/// trained. <see cref="Bind"/> puts them into a graph (trainable ones as parameters that receive gradients, frozen
/// ones as constants whose convolution packing is cached); optimisers update the trainable ones in place.
/// </summary>
public sealed class ParameterSet : IReadOnlyList<Parameter>
{
    private readonly List<Parameter> _list = [];
    private readonly Dictionary<string, Parameter> _byName = new(StringComparer.Ordinal);

    public int Count => _list.Count;

    public Parameter this[int index] => _list[index];

    public Parameter this[string name] => _byName.TryGetValue(name, out Parameter? p)
        ? p : throw new ArgumentException($"The parameter set has no parameter named '{name}'.", nameof(name));

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Total number of elements over all parameters.</summary>
    public long ElementCount => _list.Sum(p => (long)p.Length);

    /// <summary>The parameters optimisers update, in order.</summary>
    public IEnumerable<Parameter> Trainable => _list.Where(p => p.Trainable);

    /// <summary>Adds a parameter; its data is <paramref name="data"/> itself (not a copy) or zeros when null.</summary>
    public Parameter Add(string name, int[] shape, float[]? data = null, bool trainable = true)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (string.IsNullOrEmpty(name) || name.StartsWith('.') || name.EndsWith('.'))
            throw new ArgumentException($"'{name}' is not a valid parameter name (use dotted names like 'conv1.weight').", nameof(name));
        if (_byName.ContainsKey(name)) throw new ArgumentException($"The parameter set already has a parameter named '{name}'.", nameof(name));
        int length = Value.Numel(shape);
        data ??= new float[length];
        if (data.Length != length)
            throw new ArgumentException($"The parameter '{name}' has {data.Length} values but its shape [{string.Join(",", shape)}] needs {length}.", nameof(data));
        var p = new Parameter(name, (int[])shape.Clone(), data, trainable);
        _list.Add(p);
        _byName.Add(name, p);
        return p;
    }

    /// <summary>
    /// Freezes the parameter named <paramref name="nameOrPrefix"/>, or every parameter under that prefix
    /// ("encoder" matches "encoder.conv1.weight" but not "encoder2.weight"). Graphs bound earlier keep their binding.
    /// </summary>
    public void Freeze(string nameOrPrefix) => SetTrainable(nameOrPrefix, false);

    /// <summary>Makes trainable again what <see cref="Freeze"/> froze (same matching rule).</summary>
    public void Unfreeze(string nameOrPrefix) => SetTrainable(nameOrPrefix, true);

    private void SetTrainable(string nameOrPrefix, bool trainable)
    {
        var matches = Matching(nameOrPrefix).ToList();
        if (matches.Count == 0)
            throw new ArgumentException($"No parameter is named '{nameOrPrefix}' or starts with '{nameOrPrefix}.'.", nameof(nameOrPrefix));
        foreach (Parameter p in matches) p.Trainable = trainable;
    }

    /// <summary>The parameters named <paramref name="nameOrPrefix"/> or under it; all of them when it is null or empty.</summary>
    public IEnumerable<Parameter> Matching(string? nameOrPrefix)
    {
        if (string.IsNullOrEmpty(nameOrPrefix)) return _list;
        return _list.Where(p => p.Name == nameOrPrefix
            || (p.Name.Length > nameOrPrefix.Length && p.Name[nameOrPrefix.Length] == '.' && p.Name.StartsWith(nameOrPrefix, StringComparison.Ordinal)));
    }

    /// <summary>
    /// Adds every parameter to <paramref name="graph"/> as a leaf: trainable ones as <see cref="Graph.Parameter"/>
    /// (they receive gradients and are re-read on every forward pass), frozen ones as <see cref="Graph.Constant"/>.
    /// Freezing or unfreezing afterwards needs a new binding.
    /// </summary>
    public ParameterBinding Bind(Graph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var values = new Value[_list.Count];
        for (int i = 0; i < _list.Count; i++)
        {
            Parameter p = _list[i];
            values[i] = p.Trainable ? graph.Parameter(p.Data, p.Shape, p.Name) : graph.Constant(p.Data, p.Shape, p.Name);
        }
        return new ParameterBinding(this, graph, values);
    }

    /// <summary>√(Σ grad²) over the gradients of the trainable parameters matching <paramref name="nameOrPrefix"/> (double-accumulated).</summary>
    public double GradientNorm(string? nameOrPrefix = null)
    {
        double sum = 0;
        foreach (Parameter p in Matching(nameOrPrefix))
            if (p.Trainable) sum += PreciseSums.Dot(p.Grad, p.Grad);
        return Math.Sqrt(sum);
    }

    /// <summary>Multiplies the gradients of the trainable parameters matching <paramref name="nameOrPrefix"/> by <paramref name="factor"/>.</summary>
    public void ScaleGradients(float factor, string? nameOrPrefix = null)
    {
        if (!float.IsFinite(factor)) throw new ArgumentException($"The gradient scale must be finite, not {factor}.", nameof(factor));
        foreach (Parameter p in Matching(nameOrPrefix))
            if (p.Trainable) System.Numerics.Tensors.TensorPrimitives.Multiply(p.Grad, factor, p.Grad);
    }

    public void ZeroGradients()
    {
        foreach (Parameter p in _list) Array.Clear(p.Grad);
    }

    public IEnumerator<Parameter> GetEnumerator() => _list.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
