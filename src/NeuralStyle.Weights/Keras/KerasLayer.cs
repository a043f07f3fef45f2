namespace NeuralStyle.Weights.Keras;

/// <summary>
/// One layer of a Keras weight file, in the file's layer order, with its weights in the file's weight order
/// (Keras loads by order, not by name). Weight names carry no ":0" suffix; shapes are as stored
/// (convolution kernels H×W×In×Out, dense kernels In×Out; batch norm gamma, beta, moving_mean, moving_variance).
/// </summary>
public sealed record KerasLayer(string Name, IReadOnlyList<WeightTensor> Weights);
