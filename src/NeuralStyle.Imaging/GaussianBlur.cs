namespace NeuralStyle.Imaging;

/// <summary>Separable Gaussian blur on every channel.</summary>
public static class GaussianBlur
{
    /// <summary>
    /// Blurs with the sampled Gaussian exp(−x²/2σ²) truncated at radius ⌈3σ⌉ and normalised to sum 1,
    /// horizontally then vertically. σ ≤ 0 returns a copy.
    /// </summary>
    public static Image Apply(Image image, float sigma, BorderMode border = BorderMode.Reflect)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (!(sigma > 0)) return image.Clone();
        float[] kernel = Kernel(sigma);
        return Convolution.Axis(Convolution.Axis(image, kernel, true, border), kernel, false, border);
    }

    /// <summary>The normalised 1-D kernel, length 2⌈3σ⌉ + 1.</summary>
    public static float[] Kernel(float sigma)
    {
        int radius = (int)Math.Ceiling(3 * sigma);
        var weights = new double[2 * radius + 1];
        double sum = 0;
        for (int i = -radius; i <= radius; i++) sum += weights[i + radius] = Math.Exp(-(double)i * i / (2.0 * sigma * sigma));
        return weights.Select(v => (float)(v / sum)).ToArray();
    }
}
