using System.Numerics.Tensors;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Autograd;

// x (N,H,W,C) -> y (N,H/2,W/2,C), 2×2 window, stride 2, floor.
internal sealed class PoolOp : Op
{
    private readonly Value _x;
    private readonly bool _max;

    public PoolOp(Value x, bool max) : base(OutShape(x), x)
    {
        _x = x; _max = max;
    }

    public override bool BackwardReadsInput(int index) => _max;

    public override bool BackwardReadsOutput => false;

    private static int[] OutShape(Value x)
    {
        RequireRank(x, 4, "Pool2x2");
        if (x.Shape[1] < 2 || x.Shape[2] < 2)
            throw new ArgumentException($"Input [{string.Join(",", x.Shape)}] is too small for 2×2 pooling.");
        return [x.Shape[0], x.Shape[1] / 2, x.Shape[2] / 2, x.Shape[3]];
    }

    public override void Forward(Value y)
    {
        int[] s = _x.Shape;
        if (_max) Pool2x2.MaxForward(_x.Data, s[0], s[1], s[2], s[3], y.Data);
        else Pool2x2.AvgForward(_x.Data, s[0], s[1], s[2], s[3], y.Data);
    }

    public override void Backward(Value y)
    {
        if (!_x.RequiresGrad) return;
        int[] s = _x.Shape;
        float[] dx = _x.Graph.BeginGrad(_x, out bool acc);
        if (_max) Pool2x2.MaxBackward(_x.Data, y.Grad!, s[0], s[1], s[2], s[3], dx);
        else Pool2x2.AvgBackward(y.Grad!, s[0], s[1], s[2], s[3], dx);
        Graph.EndGrad(_x, dx, acc);
    }
}
