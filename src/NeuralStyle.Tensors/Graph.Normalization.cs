using NeuralStyle.Tensors.Autograd;

namespace NeuralStyle.Tensors;

// Builders of the normalisation and resampling ops the feed-forward networks (TransformerNet, StyleBank, ResNet-50)
// need besides convolution; their gradient rules are in Autograd/NormalizationOps.cs and Autograd/ResamplingOps.cs.
public sealed partial class Graph
{
    /// <summary>
    /// Nearest-neighbour upsampling by an integer factor (torch F.interpolate(mode='nearest', scale_factor=factor)):
    /// x (N,H,W,C) -> (N,factor·H,factor·W,C).
    /// </summary>
    public Value UpsampleNearest(Value x, int factor, string? name = null) => Node(new UpsampleNearestOp(x, factor), name);

    /// <summary>
    /// Instance normalisation (torch InstanceNorm2d, track_running_stats=False): per sample and channel, the mean and
    /// biased variance over H·W; then ·gamma + beta (each (C), or null for none); ReLU fused when asked.
    /// </summary>
    public Value InstanceNorm(Value x, Value? gamma, Value? beta, float eps = 1e-5f, bool relu = false, string? name = null)
        => Node(new InstanceNormOp(x, gamma, beta, eps, relu), name);

    /// <summary>
    /// Max pooling (torch MaxPool2d, floor mode, padding with −∞): x (N,H,W,C) -> (N,Ho,Wo,C),
    /// Ho = ⌊(H + 2·padding − kernel)/stride⌋ + 1. The gradient goes to the first maximum of each window.
    /// </summary>
    public Value MaxPool(Value x, int kernel, int stride, int padding, string? name = null)
        => Node(new MaxPoolOp(x, kernel, stride, padding), name);

    /// <summary>Softmax over the channels at every position of x / temperature (torch nn.Softmax2d(x / T)).</summary>
    public Value SoftmaxChannels(Value x, float temperature = 1f, string? name = null)
        => Node(new SoftmaxChannelsOp(x, temperature), name);
}
