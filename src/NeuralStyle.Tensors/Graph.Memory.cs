using NeuralStyle.Tensors.Autograd;

namespace NeuralStyle.Tensors;

// The memory plan: which activations hold a buffer for the graph's life and which are lent from the pool only from
// the op that computes them to the last op that reads them; and the same plan played through on sizes alone, so
// that a memory estimate comes from the graph itself rather than from a hand-kept formula.
public sealed partial class Graph
{
    /// <summary>Per node: lent from the pool during forward passes; and which lent buffers go back after each node.</summary>
    private sealed record MemoryPlan(bool[] Transient, int[][] ReleasedAfter);

    /// <summary>Values this small (loss terms, per-sample sums, small Grams) are always kept: they cost nothing.</summary>
    public const int AlwaysKeptLength = 1024;

    private MemoryPlan Plan()
    {
        if (_plan is not null) return _plan;
        _plan = BuildPlan(Mode);

        // A graph built eagerly still holds the transient activations of the build pass: let them go.
        for (int i = 0; i < _nodes.Count; i++)
        {
            Value v = _nodes[i];
            if (_plan.Transient[i] && v.Buffer is not null && !_pool.Owns(v.Buffer))
            {
                v.Buffer = null;
                _droppedBytes += 4L * v.Length;
            }
        }
        return _plan;
    }

    private MemoryPlan BuildPlan(GraphMode mode)
    {
        int n = _nodes.Count;
        var index = new Dictionary<Value, int>(n, ReferenceEqualityComparer.Instance);
        for (int i = 0; i < n; i++) index[_nodes[i]] = i;

        var lastReader = new int[n];
        Array.Fill(lastReader, -1);
        var aliased = new bool[n];
        var readByBackward = new bool[n];
        for (int j = 0; j < n; j++)
        {
            Value v = _nodes[j];
            if (v.Op is null) continue;
            foreach (Value u in v.Inputs) lastReader[index[u]] = j;
            if (v.Op.AliasInput is { } a) aliased[index[a]] = true;
            if (mode != GraphMode.Training || !v.RequiresGrad) continue;
            if (v.Op.BackwardReadsOutput) readByBackward[j] = true;
            for (int k = 0; k < v.Inputs.Length; k++)
                if (v.Op.BackwardReadsInput(k)) readByBackward[index[v.Inputs[k]]] = true;
        }

        var transient = new bool[n];
        var released = new List<int>[n];
        for (int i = 0; i < n; i++)
        {
            Value v = _nodes[i];
            transient[i] = v.Op is not null && v.Op.AliasInput is null && !aliased[i] && !v.IsKept && v.Length > AlwaysKeptLength && !readByBackward[i];
            if (!transient[i]) continue;
            int at = Math.Max(i, lastReader[i]);
            (released[at] ??= []).Add(i);
        }
        return new MemoryPlan(transient, released.Select(l => l?.ToArray() ?? []).ToArray());
    }

    /// <summary>
    /// The peak of <see cref="AllocatedBytes"/> over building this graph and running one forward pass (and, for a
    /// training graph, one backward pass from <paramref name="loss"/>, default the last node), from shapes alone.
    /// Build the same graph in <see cref="GraphMode.ShapesOnly"/> mode to estimate before allocating anything.
    /// </summary>
    public long PlannedPeakBytes(Value? loss = null, GraphMode? runAs = null)
    {
        GraphMode mode = runAs ?? (Mode == GraphMode.ShapesOnly ? GraphMode.Training : Mode);
        int n = _nodes.Count;
        var index = new Dictionary<Value, int>(n, ReferenceEqualityComparer.Instance);
        for (int i = 0; i < n; i++) index[_nodes[i]] = i;
        if (Mode == GraphMode.Inference && mode == GraphMode.Training)
            throw new InvalidOperationException("An inference graph has no gradients to plan for.");
        bool training = mode == GraphMode.Training;

        long held = 0, peak = 0;
        foreach (Value v in _nodes)
        {
            if (v.IsGraphInput) held += 4L * v.Length;
            if (v.Op is null && training && v.RequiresGrad) held += 4L * v.Length;
            if (v.Op is not null) held += v.Op.WorkspaceBytes;
            if (training && v.Op is not null && v.Op.AliasInput is null) held += 4L * v.Length; // the eager build
        }
        peak = held;

        MemoryPlan plan = BuildPlan(mode);
        for (int i = 0; i < n; i++)
        {
            Value v = _nodes[i];
            if (v.Op is null || v.Op.AliasInput is not null) continue;
            if (training && plan.Transient[i]) held -= 4L * v.Length;
            if (!training && !plan.Transient[i]) held += 4L * v.Length;
        }

        var pool = new SizePool();
        for (int i = 0; i < n; i++)
        {
            if (_nodes[i].Op is null) continue;
            if (plan.Transient[i]) pool.Rent(_nodes[i].Length);
            foreach (int u in plan.ReleasedAfter[i]) pool.Return(_nodes[u].Length);
        }

        if (training)
        {
            int maxGrad = 0;
            foreach (Value v in _nodes) if (v.RequiresGrad) maxGrad = Math.Max(maxGrad, v.Length);
            held += 4L * maxGrad; // the accumulation scratch
            Value lossValue = loss ?? _nodes[^1];
            int lossIndex = index[lossValue];
            var written = new bool[n];
            var lent = new bool[n];
            written[lossIndex] = true;
            pool.Rent(1);
            lent[lossIndex] = true;
            for (int i = lossIndex; i >= 0; i--)
            {
                Value v = _nodes[i];
                if (v.Op is null) continue;
                if (v.RequiresGrad && written[i])
                {
                    foreach (Value u in v.Inputs)
                    {
                        if (!u.RequiresGrad) continue;
                        int k = index[u];
                        written[k] = true;
                        if (u.Op is not null && !lent[k])
                        {
                            pool.Rent(u.Length);
                            lent[k] = true;
                        }
                    }
                }
                if (lent[i]) pool.Return(v.Length);
            }
        }
        return Math.Max(peak, held + pool.AllocatedBytes);
    }

    /// <summary>Free lists of buffers by exact length (kernels see arrays of exactly the tensor's size).</summary>
    private sealed class BufferPool
    {
        private readonly Dictionary<int, Stack<float[]>> _free = [];
        private readonly HashSet<float[]> _owned = new(ReferenceEqualityComparer.Instance);

        public long AllocatedBytes { get; private set; }

        public bool Owns(float[] buffer) => _owned.Contains(buffer);

        public float[] Rent(int length)
        {
            if (_free.TryGetValue(length, out Stack<float[]>? stack) && stack.TryPop(out float[]? b)) return b;
            b = new float[length];
            _owned.Add(b);
            AllocatedBytes += 4L * length;
            return b;
        }

        public void Return(float[] buffer)
        {
            if (!_free.TryGetValue(buffer.Length, out Stack<float[]>? stack)) _free[buffer.Length] = stack = new Stack<float[]>();
            stack.Push(buffer);
        }
    }

    /// <summary>The same pool played on sizes alone.</summary>
    private sealed class SizePool
    {
        private readonly Dictionary<int, int> _free = [];

        public long AllocatedBytes { get; private set; }

        public void Rent(int length)
        {
            if (_free.TryGetValue(length, out int c) && c > 0) _free[length] = c - 1;
            else AllocatedBytes += 4L * length;
        }

        public void Return(int length) => _free[length] = _free.GetValueOrDefault(length) + 1;
    }
}
