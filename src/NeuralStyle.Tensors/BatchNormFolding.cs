namespace NeuralStyle.Tensors;

/// <summary>
/// Inference-time batch normalisation folded into the convolution before it, once at load time:
/// BN(conv(x; W, b)) = conv(x; W·s, (b − μ)·s + β) with s = γ/√(σ² + eps) per output channel. Computed in double.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>
    /// Folds BatchNorm2d (eval mode) into the weights (Co,Ci,kh,kw) and optional bias (Co) of the convolution before
    /// it; returns new arrays (the inputs are not changed). PyTorch's eps is 1e-5, Keras' 1.001e-5.
    /// </summary>
    public static (float[] Weight, float[] Bias) Fold(float[] convWeight, float[]? convBias, float[] gamma, float[] beta,
                                                      float[] runningMean, float[] runningVar, double eps)
    {
        ArgumentNullException.ThrowIfNull(convWeight);
        ArgumentNullException.ThrowIfNull(gamma);
        ArgumentNullException.ThrowIfNull(beta);
        ArgumentNullException.ThrowIfNull(runningMean);
        ArgumentNullException.ThrowIfNull(runningVar);
        int co = gamma.Length;
        if (co == 0 || beta.Length != co || runningMean.Length != co || runningVar.Length != co || (convBias is not null && convBias.Length != co))
            throw new ArgumentException($"Batch-norm parameters and the convolution bias must all have one entry per output channel ({co}).");
        if (convWeight.Length % co != 0)
            throw new ArgumentException($"A convolution weight of {convWeight.Length} floats does not split into {co} output channels.");
        if (!(eps >= 0)) throw new ArgumentException($"Batch-norm eps must be non-negative (got {eps}).");

        int perChannel = convWeight.Length / co;
        var weight = new float[convWeight.Length];
        var bias = new float[co];
        for (int o = 0; o < co; o++)
        {
            double variance = runningVar[o] + eps;
            if (!(variance > 0)) throw new ArgumentException($"Running variance {runningVar[o]} + eps of channel {o} is not positive.");
            double s = gamma[o] / Math.Sqrt(variance);
            for (int i = 0; i < perChannel; i++) weight[(o * perChannel) + i] = (float)(convWeight[(o * perChannel) + i] * s);
            bias[o] = (float)((((convBias?[o] ?? 0.0) - runningMean[o]) * s) + beta[o]);
        }

        return (weight, bias);
    }
}
