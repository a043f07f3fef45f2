using System.Numerics.Tensors;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Autograd;

// a -> a[…, start:start+length, …] along one axis.
internal sealed class SliceOp : Op
{
    private readonly Value _a;
    private readonly int _outer, _axisLen, _inner, _start, _len;

    public SliceOp(Value a, int axis, int start, int length) : base(OutShape(a, axis, start, length), a)
    {
        _a = a;
        if (axis < 0) axis += a.Rank;
        _outer = 1;
        for (int i = 0; i < axis; i++) _outer *= a.Shape[i];
        _inner = 1;
        for (int i = axis + 1; i < a.Rank; i++) _inner *= a.Shape[i];
        _axisLen = a.Shape[axis];
        _start = start;
        _len = length;
    }

    public override bool BackwardReadsInput(int index) => false;

    public override bool BackwardReadsOutput => false;

    private static int[] OutShape(Value a, int axis, int start, int length)
    {
        if (axis < 0) axis += a.Rank;
        if (axis < 0 || axis >= a.Rank || start < 0 || length < 1 || start + length > a.Shape[axis])
            throw new ArgumentException($"Slice {start}+{length} on axis {axis} is outside [{string.Join(",", a.Shape)}].");
        int[] s = (int[])a.Shape.Clone();
        s[axis] = length;
        return s;
    }

    public override void Forward(Value y)
    {
        int block = _len * _inner;
        for (int o = 0; o < _outer; o++)
            Array.Copy(_a.Data, (o * _axisLen + _start) * _inner, y.Data, o * block, block);
    }

    public override void Backward(Value y)
    {
        if (!_a.RequiresGrad) return;
        int block = _len * _inner;
        float[] da = Graph.AccumulateGrad(_a);
        for (int o = 0; o < _outer; o++)
        {
            Span<float> dst = da.AsSpan((o * _axisLen + _start) * _inner, block);
            TensorPrimitives.Add(dst, y.Grad.AsSpan(o * block, block), dst);
        }
    }
}

// x (N, …) -> y (N, …): y[n] = x[(n + shift) mod N] (cyclic shift of the batch, for looping animations).
internal sealed class RollBatchOp : Op
{
    private readonly Value _x;
    private readonly int _shift;

    public RollBatchOp(Value x, int shift) : base(x.Shape, x)
    {
        _x = x;
        int n = x.Shape[0];
        _shift = ((shift % n) + n) % n;
    }

    public override bool BackwardReadsInput(int index) => false;

    public override bool BackwardReadsOutput => false;

    public override void Forward(Value y)
    {
        int n = _x.Shape[0], per = _x.Length / n;
        for (int b = 0; b < n; b++) Array.Copy(_x.Data, ((b + _shift) % n) * per, y.Data, b * per, per);
    }

    public override void Backward(Value y)
    {
        if (!_x.RequiresGrad) return;
        int n = _x.Shape[0], per = _x.Length / n;
        float[] dx = _x.Graph.BeginGrad(_x, out bool acc);
        for (int b = 0; b < n; b++) Array.Copy(y.Grad!, b * per, dx, ((b + _shift) % n) * per, per);
        Graph.EndGrad(_x, dx, acc);
    }
}
