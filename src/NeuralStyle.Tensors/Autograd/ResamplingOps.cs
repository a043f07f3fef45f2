using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Autograd;

// x (N,H,W,C) -> y (N,fH,fW,C): nearest-neighbour upsampling by an integer factor.
internal sealed class UpsampleNearestOp : Op
{
    private readonly Value _x;
    private readonly int _factor;

    public UpsampleNearestOp(Value x, int factor) : base(OutShape(x, factor), x)
    {
        _x = x; _factor = factor;
    }

    public override bool BackwardReadsInput(int index) => false;

    public override bool BackwardReadsOutput => false;

    private static int[] OutShape(Value x, int factor)
    {
        RequireRank(x, 4, "UpsampleNearest");
        if (factor < 1) throw new ArgumentException($"UpsampleNearest needs a factor ≥ 1 (got {factor}).");
        return [x.Shape[0], checked(x.Shape[1] * factor), checked(x.Shape[2] * factor), x.Shape[3]];
    }

    public override void Forward(Value y)
    {
        int[] s = _x.Shape;
        Kernels.UpsampleNearest.Forward(_x.Data, s[0], s[1], s[2], s[3], _factor, y.Data);
    }

    public override void Backward(Value y)
    {
        if (!_x.RequiresGrad) return;
        int[] s = _x.Shape;
        float[] dx = _x.Graph.BeginGrad(_x, out bool acc);
        Kernels.UpsampleNearest.Backward(y.Grad!, s[0], s[1], s[2], s[3], _factor, dx);
        Graph.EndGrad(_x, dx, acc);
    }
}

// x (N,H,W,C) -> y (N,Ho,Wo,C): k×k max pooling with stride and −∞ padding (floor mode).
internal sealed class MaxPoolOp : Op
{
    private readonly Value _x;
    private readonly int _kernel, _stride, _padding;
    private readonly int[] _winner; // window offset of each output's maximum, from the forward pass

    public MaxPoolOp(Value x, int kernel, int stride, int padding) : base(OutShape(x, kernel, stride, padding), x)
    {
        _x = x; _kernel = kernel; _stride = stride; _padding = padding;
        _winner = new int[Value.Numel(OutputShape)];
    }

    // Backward routes through the winners recorded by forward.
    public override bool BackwardReadsInput(int index) => false;

    public override bool BackwardReadsOutput => false;

    public override long WorkspaceBytes => 4L * _winner.Length;

    private static int[] OutShape(Value x, int kernel, int stride, int padding)
    {
        RequireRank(x, 4, "MaxPool");
        if (kernel < 1 || stride < 1 || padding < 0 || padding > kernel / 2)
            throw new ArgumentException($"MaxPool needs kernel ≥ 1, stride ≥ 1 and 0 ≤ padding ≤ kernel/2 (got kernel={kernel}, stride={stride}, padding={padding}).");
        int h = x.Shape[1], w = x.Shape[2];
        if (h + (2 * padding) < kernel || w + (2 * padding) < kernel)
            throw new ArgumentException($"MaxPool window {kernel} does not fit the padded input of [{string.Join(",", x.Shape)}].");
        return [x.Shape[0], Kernels.MaxPool.OutSize(h, kernel, stride, padding), Kernels.MaxPool.OutSize(w, kernel, stride, padding), x.Shape[3]];
    }

    public override void Forward(Value y)
    {
        int[] s = _x.Shape;
        Kernels.MaxPool.Forward(_x.Data, s[0], s[1], s[2], s[3], _kernel, _stride, _padding, y.Data, _winner);
    }

    public override void Backward(Value y)
    {
        if (!_x.RequiresGrad) return;
        int[] s = _x.Shape;
        float[] dx = _x.Graph.BeginGrad(_x, out bool acc);
        Kernels.MaxPool.Backward(_winner, y.Grad!, s[0], s[1], s[2], s[3], _kernel, _stride, _padding, dx);
        Graph.EndGrad(_x, dx, acc);
    }
}
