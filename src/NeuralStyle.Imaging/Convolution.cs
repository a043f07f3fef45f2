namespace NeuralStyle.Imaging;

/// <summary>Separable 1-D convolution along one axis of an (H, W, C) image, with a border mode and an output stride.</summary>
internal static class Convolution
{
    /// <summary>
    /// out[j] = Σ_k kernel[k] · in[border(step·j + k − r)] along <paramref name="horizontal"/> ? x : y, for
    /// j in [0, ceil(n / step)), r = kernel.Length / 2. Samples are accumulated in double.
    /// </summary>
    public static Image Axis(Image image, ReadOnlySpan<float> kernel, bool horizontal, BorderMode border, int step = 1)
    {
        int c = image.Channels, w = image.Width, h = image.Height;
        int n = horizontal ? w : h;
        int outN = (n + step - 1) / step;
        int r = kernel.Length / 2;
        // Precompute, for every output position and tap, the source index (borders resolved once).
        var taps = new int[outN * kernel.Length];
        for (int j = 0; j < outN; j++)
            for (int k = 0; k < kernel.Length; k++)
                taps[j * kernel.Length + k] = Border.Index(step * j + k - r, n, border);
        double[] kk = new double[kernel.Length];
        for (int k = 0; k < kk.Length; k++) kk[k] = kernel[k];

        var result = horizontal ? new Image(outN, h, c) : new Image(w, outN, c);
        float[] src = image.Data, dst = result.Data;
        int outW = result.Width;
        Parallel.For(0, result.Height, y =>
        {
            for (int x = 0; x < outW; x++)
            {
                int j = horizontal ? x : y;
                for (int ch = 0; ch < c; ch++)
                {
                    double acc = 0;
                    for (int k = 0; k < kk.Length; k++)
                    {
                        int s = taps[j * kk.Length + k];
                        int index = horizontal ? (y * w + s) * c + ch : (s * w + x) * c + ch;
                        acc += kk[k] * src[index];
                    }
                    dst[(y * outW + x) * c + ch] = (float)acc;
                }
            }
        });
        return result;
    }
}
