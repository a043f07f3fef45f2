using NeuralStyle.Tensors.Autograd;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors;

/// <summary>How a <see cref="Graph"/> runs and plans its memory.</summary>
public enum GraphMode
{
    /// <summary>
    /// Built eagerly (each node is computed as it is added) and re-run by <see cref="Graph.Forward"/> and
    /// <see cref="Graph.Backward"/>. Gradient buffers are lent from a pool only while a backward pass needs them;
    /// after the first pass, activations that no backward rule reads are released and re-lent on every forward pass.
    /// </summary>
    Training,

    /// <summary>
    /// No gradients; nothing is computed while building. <see cref="Graph.Forward"/> lends each activation a buffer
    /// from the pool and takes it back as soon as nothing reads it, so only the values asked for with
    /// <see cref="Graph.Keep"/> hold data afterwards.
    /// </summary>
    Inference,

    /// <summary>Nothing is allocated or computed: the graph exists to plan (estimate) the memory of the same graph.</summary>
    ShapesOnly,
}

/// <summary>
/// A define-then-run autograd graph. Buffers are allocated once and re-used by every forward/backward pass, so an
/// optimisation loop allocates nothing large per iteration; the memory plan (<see cref="PlannedPeakBytes"/>) is
/// computed from the graph itself and is exactly what a pass then allocates (<see cref="PeakAllocatedBytes"/>).
/// The gradient rules live in <c>Autograd/*Ops.cs</c>, one per op.
/// </summary>
public sealed partial class Graph
{
    private readonly List<Value> _nodes = [];
    private readonly BufferPool _pool = new();
    private float[]? _scratch;
    private int _maxGradLength;
    private MemoryPlan? _plan;
    private long _fixedBytes, _droppedBytes;

    public Graph(GraphMode mode = GraphMode.Training) => Mode = mode;

    public GraphMode Mode { get; }

    public IReadOnlyList<Value> Nodes => _nodes;

    /// <summary>Bytes of the buffers this graph holds now (not the arrays handed to Constant/Parameter).</summary>
    public long AllocatedBytes => _fixedBytes - _droppedBytes + _pool.AllocatedBytes;

    /// <summary>The most <see cref="AllocatedBytes"/> has been.</summary>
    public long PeakAllocatedBytes { get; private set; }

    private bool Computes => Mode == GraphMode.Training;

    // ---- leaves ----------------------------------------------------------------------------------------------

    /// <summary>A leaf whose data the caller sets (the optimised image, a batch of inputs); no gradient unless asked.</summary>
    public Value Input(int[] shape, bool requiresGrad = false, string? name = null)
    {
        float[]? data = Mode == GraphMode.ShapesOnly ? null : new float[Value.Numel(shape)];
        Value v = AddLeaf(shape, data, requiresGrad, frozen: false, name);
        v.IsGraphInput = true;
        Hold(4L * v.Length);
        return v;
    }

    /// <summary>
    /// A frozen leaf over existing data (fixed weights, targets). The array is used, not copied, and must not change
    /// while this graph is used: ops may precompute from it once (convolution weights are packed once, and the packing
    /// is shared by every graph built over the same unchanged contents).
    /// </summary>
    public Value Constant(float[] data, int[] shape, string? name = null) => Leaf(shape, data, false, frozen: true, name);

    /// <summary>
    /// A leaf over existing data that may change between passes (trainable weights, or weights an optimiser or the
    /// caller updates in place). It receives a gradient when <paramref name="requiresGrad"/>; ops re-read it on every
    /// forward pass, never from a cache.
    /// </summary>
    public Value Parameter(float[] data, int[] shape, string? name = null, bool requiresGrad = true)
        => Leaf(shape, data, requiresGrad, frozen: false, name);

    private Value Leaf(int[] shape, float[] data, bool requiresGrad, bool frozen, string? name)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length != Value.Numel(shape))
            throw new ArgumentException($"Data length {data.Length} does not match shape [{string.Join(",", shape)}].");
        return AddLeaf(shape, data, requiresGrad, frozen, name);
    }

    private Value AddLeaf(int[] shape, float[]? data, bool requiresGrad, bool frozen, string? name)
        => Add(new Value(this, (int[])shape.Clone(), data, null, [], requiresGrad && Mode != GraphMode.Inference, name) { IsFrozen = frozen });

    /// <summary>Keeps a value's data after every pass (the memory plan releases other activations early).</summary>
    public Value Keep(Value v)
    {
        if (v.Graph != this) throw new ArgumentException("The value belongs to another graph.");
        if (!v.IsKept) _plan = null;
        v.IsKept = true;
        return v;
    }

    // ---- operations ------------------------------------------------------------------------------------------

    /// <summary>
    /// 3×3 convolution, stride 1: x (N,H,W,Ci), weight (Co,Ci,3,3), bias (Co) -> (N,Ho,Wo,Co); ReLU fused when asked.
    /// The same as <see cref="Conv2d"/> with a 3×3 weight and stride 1 (Reflect pads into a scratch buffer).
    /// </summary>
    public Value Conv3x3(Value x, Value weight, Value? bias, ConvPadding padding = ConvPadding.Zero, bool relu = false, string? name = null)
        => Node(new Conv3x3Op(x, weight, bias, padding, relu), name);

    public Value Relu(Value x, string? name = null) => Node(new ReluOp(x), name);

    public Value MaxPool2x2(Value x, string? name = null) => Node(new PoolOp(x, max: true), name);

    public Value AvgPool2x2(Value x, string? name = null) => Node(new PoolOp(x, max: false), name);

    /// <summary>Per-channel affine map of the last axis: y[..., c] = x[..., perm[c]] · scale[c] + shift[c].</summary>
    public Value ChannelAffine(Value x, int[] permutation, float[] scale, float[] shift, string? name = null)
        => Node(new ChannelAffineOp(x, permutation, scale, shift), name);

    /// <summary>Gram matrices: f (N,H,W,C) -> (N,C,C), G = alpha · Fᵀ F with F the (H·W)×C matrix of each sample.</summary>
    public Value Gram(Value f, float alpha = 1f, string? name = null) => Node(new GramOp(f, alpha), name);

    public Value Add(Value a, Value b, string? name = null) => Node(new BinaryOp(a, b, BinaryKind.Add), name);

    public Value Sub(Value a, Value b, string? name = null) => Node(new BinaryOp(a, b, BinaryKind.Sub), name);

    public Value Mul(Value a, Value b, string? name = null) => Node(new BinaryOp(a, b, BinaryKind.Mul), name);

    public Value Scale(Value a, float factor, string? name = null) => Node(new UnaryOp(a, UnaryKind.Scale, factor), name);

    public Value Square(Value a, string? name = null) => Node(new UnaryOp(a, UnaryKind.Square, 0), name);

    public Value Abs(Value a, string? name = null) => Node(new UnaryOp(a, UnaryKind.Abs, 0), name);

    /// <summary>√(a² + ε²) − ε: |a| with its corner rounded over about ±ε, so that its gradient is continuous (ε &gt; 0).</summary>
    public Value SmoothAbs(Value a, float epsilon, string? name = null)
    {
        if (!(epsilon > 0) || !float.IsFinite(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), "The rounding of a smooth |a| must be a positive number.");
        return Node(new UnaryOp(a, UnaryKind.SmoothAbs, epsilon), name);
    }

    /// <summary>a^p for a ≥ 0 (negative inputs are clamped to 0).</summary>
    public Value Pow(Value a, float p, string? name = null) => Node(new UnaryOp(a, UnaryKind.Pow, p), name);

    /// <summary>Sum of all elements -> shape [1] (accumulated in double).</summary>
    public Value Sum(Value a, string? name = null) => Node(new ReduceOp(a, mean: false), name);

    /// <summary>Mean of all elements -> shape [1] (accumulated in double).</summary>
    public Value Mean(Value a, string? name = null) => Node(new ReduceOp(a, mean: true), name);

    /// <summary>The elements with index start…start+length−1 along one axis.</summary>
    public Value Slice(Value a, int axis, int start, int length, string? name = null) => Node(new SliceOp(a, axis, start, length), name);

    /// <summary>One Burt–Adelson pyramid level down (spec §4): x (N,H,W,C) -> (N,⌈H/2⌉,⌈W/2⌉,C) (valid: ⌊(n−5)/2⌋+1).</summary>
    public Value PyramidReduce(Value x, PyramidBorder border, float a = 0.4f, string? name = null) => Node(new PyramidReduceOp(x, border, a), name);

    /// <summary>4 × the transpose of <see cref="PyramidReduce"/>: (N,h,w,C) -> (N,height,width,C).</summary>
    public Value PyramidExpand(Value y, int height, int width, PyramidBorder border, float a = 0.4f, string? name = null)
        => Node(new PyramidExpandOp(y, height, width, border, a), name);

    /// <summary>Cyclic shift of the batch: y[n] = x[(n + shift) mod N].</summary>
    public Value RollBatch(Value x, int shift, string? name = null) => Node(new RollBatchOp(x, shift), name);

    /// <summary>Sum of each sample: (N, …) -> (N).</summary>
    public Value SumPerSample(Value x, string? name = null) => Node(new SumPerSampleOp(x), name);

    /// <summary>Identity forward; backward replaces the incoming gradient g by strength · g / (‖g‖₁ + 1e-8).</summary>
    public Value GradNormalize(Value a, float strength, string? name = null) => Node(new GradNormalizeOp(a, strength), name);

    private Value Node(Op op, string? name)
    {
        foreach (Value input in op.Inputs)
            if (input.Graph != this) throw new ArgumentException("All inputs of an operation must belong to the same graph.");
        bool requiresGrad = op.Inputs.Any(v => v.RequiresGrad);
        float[]? data = !Computes ? null : op.AliasInput is { } alias ? alias.Data : new float[Value.Numel(op.OutputShape)];
        var v = new Value(this, op.OutputShape, data, op, op.Inputs, requiresGrad, name);
        if (Mode != GraphMode.ShapesOnly) Hold(op.WorkspaceBytes);
        if (Computes)
        {
            if (op.AliasInput is null) Hold(4L * v.Length);
            op.Forward(v);
        }
        return Add(v);
    }

    private Value Add(Value v)
    {
        if (v.RequiresGrad)
        {
            if (v.Op is null && Mode == GraphMode.Training)
            {
                v.Grad = new float[v.Length]; // leaves keep their gradient for the caller
                Hold(4L * v.Length);
            }
            _maxGradLength = Math.Max(_maxGradLength, v.Length);
        }
        _nodes.Add(v);
        _plan = null;
        return v;
    }

    private void Hold(long bytes)
    {
        _fixedBytes += bytes;
        PeakAllocatedBytes = Math.Max(PeakAllocatedBytes, AllocatedBytes);
    }

    // ---- running -----------------------------------------------------------------------------------------------

    /// <summary>Recomputes every node from the current leaf data, in the order the nodes were built.</summary>
    public void Forward()
    {
        if (Mode == GraphMode.ShapesOnly) throw new InvalidOperationException("A shapes-only graph cannot run.");
        MemoryPlan plan = Plan();
        for (int i = 0; i < _nodes.Count; i++)
        {
            Value v = _nodes[i];
            if (v.Op is null) continue;
            if (v.Op.AliasInput is { } alias) v.Buffer = alias.Data;
            else if (v.Buffer is null)
            {
                if (plan.Transient[i]) v.Buffer = _pool.Rent(v.Length);
                else
                {
                    v.Buffer = new float[v.Length];
                    Hold(4L * v.Length);
                }
            }
            Note();
            v.Op.Forward(v);
            foreach (int u in plan.ReleasedAfter[i])
            {
                _pool.Return(_nodes[u].Buffer!);
                _nodes[u].Buffer = null;
            }
        }
    }

    /// <summary>
    /// Back-propagates d(loss)/d(·) from a scalar node. Leaf gradients are overwritten (not accumulated across calls);
    /// the gradients of computed values are lent from the pool only while backward needs them.
    /// </summary>
    public void Backward(Value loss)
    {
        if (loss.Graph != this) throw new ArgumentException("The loss belongs to another graph.");
        if (loss.Length != 1) throw new ArgumentException("Backward needs a scalar loss.");
        if (!loss.RequiresGrad) throw new InvalidOperationException("The loss does not depend on anything that requires a gradient.");
        Plan();
        if (_scratch is null)
        {
            _scratch = new float[_maxGradLength];
            Hold(4L * _maxGradLength);
        }
        foreach (Value v in _nodes)
        {
            if (!v.RequiresGrad) continue;
            if (v.Op is null)
            {
                Array.Clear(v.Grad!);
                v.GradWritten = true;
            }
            else
            {
                v.GradWritten = false;
            }
        }
        AccumulateGrad(loss)[0] = 1f;
        int lossIndex = _nodes.IndexOf(loss);
        for (int i = lossIndex; i >= 0; i--)
        {
            Value v = _nodes[i];
            if (v.Op is null) continue;
            if (v.RequiresGrad && v.GradWritten) v.Op.Backward(v);
            if (v.Grad is { } g)
            {
                _pool.Return(g);
                v.Grad = null;
            }
        }
        Note();
    }

    private void Note() => PeakAllocatedBytes = Math.Max(PeakAllocatedBytes, AllocatedBytes);

    // The one way gradients are written. A backward rule asks for the buffer of every input that requires a gradient,
    // leaf or computed, in one of two ways depending on its kernel:
    //  - BeginGrad/EndGrad for kernels that OVERWRITE their destination (the contribution lands in x.Grad directly the
    //    first time, and in a scratch buffer that EndGrad adds to x.Grad afterwards);
    //  - AccumulateGrad for kernels that ADD into their destination (x.Grad, zeroed the first time).

    /// <summary>
    /// Gives the buffer a backward rule writes x's gradient contribution into. The rule OVERWRITES the returned buffer
    /// and then calls <see cref="EndGrad"/>, which adds it to x's gradient when x already had one.
    /// </summary>
    internal float[] BeginGrad(Value x, out bool accumulate)
    {
        accumulate = x.GradWritten;
        if (!accumulate) return x.Grad ??= _pool.Rent(x.Length);
        return _scratch!;
    }

    internal static void EndGrad(Value x, float[] buffer, bool accumulate)
    {
        if (accumulate)
            System.Numerics.Tensors.TensorPrimitives.Add(x.Grad!, buffer.AsSpan(0, x.Length), x.Grad!);
        x.GradWritten = true;
    }

    /// <summary>
    /// x's gradient buffer for a kernel with a β, as a GEMM has (C = A·B + β·C): β = 0 when nothing was written yet (the
    /// kernel overwrites the buffer, so no zeroing pass), 1 when it must add to what is there.
    /// </summary>
    internal static float[] GradWithBeta(Value x, out float beta)
    {
        beta = x.GradWritten ? 1f : 0f;
        if (!x.GradWritten)
        {
            x.Grad ??= x.Graph._pool.Rent(x.Length);
            x.GradWritten = true;
        }
        return x.Grad!;
    }

    /// <summary>x's gradient buffer for a kernel that ADDS its contribution (zeroed first if nothing was written yet).</summary>
    internal static float[] AccumulateGrad(Value x)
    {
        if (!x.GradWritten)
        {
            x.Grad ??= x.Graph._pool.Rent(x.Length);
            Array.Clear(x.Grad);
            x.GradWritten = true;
        }
        return x.Grad!;
    }
}
