using System.Buffers;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Autograd;

// x (N,H,W,Ci) -> y (N,2H,2W,Co) = Conv2d(ReflectionPad2d(1)(UpsampleNearest(x, 2)), w (Co,Ci,3,3), b), ReLU fused:
// forward on the low-resolution input (UpsampleConv3x3, no 4× buffer). The backward is rarer (inference uses this op)
// and re-materialises the upsampled input in a pooled buffer for the general Conv2d gradient kernels.
internal sealed class UpsampleConv3x3Op : Op
{
    private readonly Value _x, _w;
    private readonly Value? _b;
    private readonly bool _relu;

    public UpsampleConv3x3Op(Value x, Value w, Value? b, bool relu) : base(OutShape(x, w, b), b is null ? [x, w] : [x, w, b])
    {
        _x = x; _w = w; _b = b; _relu = relu;
    }

    private static int[] OutShape(Value x, Value w, Value? b)
    {
        RequireRank(x, 4, "UpsampleConv3x3");
        if (w.Rank != 4 || w.Shape[1] != x.Shape[3] || w.Shape[2] != 3 || w.Shape[3] != 3)
            throw new ArgumentException($"UpsampleConv3x3 weight [{string.Join(",", w.Shape)}] is not a (Co,{x.Shape[3]},3,3) kernel.");
        if (b is not null && (b.Rank != 1 || b.Shape[0] != w.Shape[0]))
            throw new ArgumentException($"UpsampleConv3x3 bias [{string.Join(",", b.Shape)}] must have shape [{w.Shape[0]}].");
        return [x.Shape[0], checked(2 * x.Shape[1]), checked(2 * x.Shape[2]), w.Shape[0]];
    }

    public override bool BackwardReadsInput(int index) => index != 0 || _w.RequiresGrad;

    public override bool BackwardReadsOutput => _relu;

    public override void Forward(Value y)
    {
        int[] s = _x.Shape;
        UpsampleConv3x3.Forward(_x.Data, s[0], s[1], s[2], s[3], _w.Shape[0], _w.Data, _b?.Data, y.Data, _relu);
    }

    public override void Backward(Value y)
    {
        float[] dy = y.Grad!;
        if (_relu) ReluOp.MaskInPlace(dy, y.Data);
        int n = _x.Shape[0], h = _x.Shape[1], w = _x.Shape[2], ci = _x.Shape[3], co = _w.Shape[0];
        int upLength = n * 4 * h * w * ci;
        float[] up = ArrayPool<float>.Shared.Rent(upLength);
        try
        {
            if (_x.RequiresGrad)
            {
                Conv2d.BackwardInput(dy, n, 2 * h, 2 * w, ci, co, 3, 1, _w.Data, up, ConvPadding.Reflect);
                float[] dx = _x.Graph.BeginGrad(_x, out bool acc);
                UpsampleNearest.Backward(up, n, h, w, ci, 2, dx);
                Graph.EndGrad(_x, dx, acc);
            }

            bool biasGrad = _b?.RequiresGrad == true;
            if (_w.RequiresGrad)
            {
                UpsampleNearest.Forward(_x.Data, n, h, w, ci, 2, up);
                Conv2d.BackwardWeights(up, dy, n, 2 * h, 2 * w, ci, co, 3, 1, Graph.AccumulateGrad(_w), biasGrad ? Graph.AccumulateGrad(_b!) : null, ConvPadding.Reflect);
            }
            else if (biasGrad)
            {
                ConvShapes.AddBiasGradient(dy, co, Graph.AccumulateGrad(_b!));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(up);
        }
    }
}
