using NeuralStyle.Tensors.Autograd;

namespace NeuralStyle.Tensors;

public sealed partial class Graph
{
    /// <summary>
    /// Nearest ×2 upsampling then a reflect-padded 3×3 convolution, fused: x (N,H,W,Ci), weight (Co,Ci,3,3), bias (Co)
    /// or null -> (N,2H,2W,Co), equal to <c>Conv2d(UpsampleNearest(x, 2), weight, bias, 1, ConvPadding.Reflect, relu)</c>
    /// but computed on x (four folded 2×2 kernels: 4/9 of the work, no upsampled buffer).
    /// </summary>
    public Value UpsampleConv3x3(Value x, Value weight, Value? bias, bool relu = false, string? name = null)
        => Node(new UpsampleConv3x3Op(x, weight, bias, relu), name);
}
