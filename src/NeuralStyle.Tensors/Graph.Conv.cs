using NeuralStyle.Tensors.Autograd;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors;

public sealed partial class Graph
{
    /// <summary>
    /// 2-D convolution: x (N,H,W,Ci), weight (Co,Ci,k,k) in PyTorch layout, bias (Co) or null -> (N,Ho,Wo,Co) with
    /// Ho = ⌊(H + 2p − k)/stride⌋ + 1, p = k/2 (0 for Valid), exactly as PyTorch's Conv2d(padding=p) (Zero),
    /// ReflectionPad2d(p) + Conv2d (Reflect) and padding_mode='circular' (Circular); ReLU fused when asked.
    /// 3×3 stride-1 convolutions run on the fast 3×3 kernels, everything else on im2col + GEMM.
    /// </summary>
    public Value Conv2d(Value x, Value weight, Value? bias, int stride = 1, ConvPadding padding = ConvPadding.Zero, bool relu = false, string? name = null)
    {
        bool threeByThree = weight.Rank == 4 && weight.Shape[2] == 3 && weight.Shape[3] == 3;
        return threeByThree && stride == 1
            ? Node(new Conv3x3Op(x, weight, bias, padding, relu), name)
            : Node(new Conv2dOp(x, weight, bias, stride, padding, relu), name);
    }

    /// <summary>
    /// Spatial padding of x (N,H,W,C) -> (N, top+H+bottom, left+W+right, C) with zeros, a reflection without repeating
    /// the edge (PyTorch ReflectionPad2d; amounts smaller than the size) or wrap-around (amounts at most the size).
    /// </summary>
    public Value Pad(Value x, int top, int bottom, int left, int right, ConvPadding mode, string? name = null)
        => Node(new PadOp(x, top, bottom, left, right, mode), name);
}
