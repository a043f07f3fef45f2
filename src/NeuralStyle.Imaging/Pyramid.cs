namespace NeuralStyle.Imaging;

/// <summary>
/// The Burt–Adelson pyramid of the spec (methods.md §4). Reduce blurs with the separable 5-tap kernel
/// [1/4 − a/2, 1/4, a, 1/4, 1/4 − a/2] (a = 0.4 by default) and keeps the even rows and columns, so a W×H image
/// becomes ⌈W/2⌉×⌈H/2⌉. Expand is its transpose: out[x] = Σ_m 2·w[x − 2m]·g[m] per axis, i.e. zero-insertion
/// followed by the same kernel times 4 in 2-D, so constants are preserved exactly. Borders: samples outside the
/// image are read with <see cref="BorderMode"/> on the grid being read (the fine grid for Reduce, the coarse grid
/// for Expand); <see cref="BorderMode.Reflect"/> by default, <see cref="BorderMode.Wrap"/> for tileable textures.
/// </summary>
public static class Pyramid
{
    public const float DefaultA = 0.4f;

    /// <summary>The 5-tap generating kernel [1/4 − a/2, 1/4, a, 1/4, 1/4 − a/2].</summary>
    public static float[] Kernel(float a = DefaultA) => [0.25f - a / 2, 0.25f, a, 0.25f, 0.25f - a / 2];

    /// <summary>One level down: blur and subsample by 2 (⌈W/2⌉×⌈H/2⌉).</summary>
    public static Image Reduce(Image image, BorderMode border = BorderMode.Reflect, float a = DefaultA)
    {
        ArgumentNullException.ThrowIfNull(image);
        float[] k = Kernel(a);
        return Convolution.Axis(Convolution.Axis(image, k, true, border, step: 2), k, false, border, step: 2);
    }

    /// <summary>One level up to <paramref name="width"/>×<paramref name="height"/> (normally the size of the finer level).</summary>
    public static Image Expand(Image image, int width, int height, BorderMode border = BorderMode.Reflect, float a = DefaultA)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        float[] k = Kernel(a);
        return ExpandAxis(ExpandAxis(image, width, true, k, border), height, false, k, border);
    }

    /// <summary>Levels 0 (the image itself, copied) to <paramref name="levels"/> − 1, each a Reduce of the previous.</summary>
    public static Image[] Gaussian(Image image, int levels, BorderMode border = BorderMode.Reflect, float a = DefaultA)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(levels);
        var result = new Image[levels];
        result[0] = image.Clone();
        for (int i = 1; i < levels; i++) result[i] = Reduce(result[i - 1], border, a);
        return result;
    }

    /// <summary>
    /// Laplacian pyramid: band i = Gaussian[i] − Expand(Gaussian[i + 1]); the last entry is the coarsest Gaussian
    /// level. Band images hold signed differences (not in [0, 1]). <see cref="Collapse"/> inverts it exactly
    /// (up to float rounding).
    /// </summary>
    public static Image[] Laplacian(Image image, int levels, BorderMode border = BorderMode.Reflect, float a = DefaultA)
    {
        Image[] gaussian = Gaussian(image, levels, border, a);
        var bands = new Image[levels];
        for (int i = 0; i < levels - 1; i++)
        {
            Image up = Expand(gaussian[i + 1], gaussian[i].Width, gaussian[i].Height, border, a);
            bands[i] = gaussian[i].Clone();
            System.Numerics.Tensors.TensorPrimitives.Subtract(bands[i].Data, up.Data, bands[i].Data);
        }
        bands[levels - 1] = gaussian[levels - 1];
        return bands;
    }

    /// <summary>Rebuilds the image from a <see cref="Laplacian"/> pyramid.</summary>
    public static Image Collapse(IReadOnlyList<Image> laplacian, BorderMode border = BorderMode.Reflect, float a = DefaultA)
    {
        ArgumentNullException.ThrowIfNull(laplacian);
        if (laplacian.Count == 0) throw new ArgumentException("The pyramid has no levels.", nameof(laplacian));
        Image current = laplacian[^1].Clone();
        for (int i = laplacian.Count - 2; i >= 0; i--)
        {
            Image up = Expand(current, laplacian[i].Width, laplacian[i].Height, border, a);
            System.Numerics.Tensors.TensorPrimitives.Add(up.Data, laplacian[i].Data, up.Data);
            current = up;
        }
        return current;
    }

    // in (H, W, C) -> (H, outW, C) or (outH, W, C)
    private static Image ExpandAxis(Image image, int outN, bool horizontal, float[] k, BorderMode border)
    {
        int c = image.Channels, w = image.Width, h = image.Height;
        int n = horizontal ? w : h;
        var result = horizontal ? new Image(outN, h, c) : new Image(w, outN, c);
        float[] src = image.Data, dst = result.Data;
        int outW = result.Width;
        // For each output x, coarse samples m with |x − 2m| ≤ 2 contribute 2·k[x − 2m + 2].
        var first = new int[outN];
        for (int x = 0; x < outN; x++) first[x] = (int)Math.Ceiling((x - 2) / 2.0);
        Parallel.For(0, result.Height, y =>
        {
            for (int x = 0; x < outW; x++)
            {
                int j = horizontal ? x : y;
                for (int ch = 0; ch < c; ch++)
                {
                    double acc = 0;
                    for (int m = first[j]; 2 * m <= j + 2; m++)
                    {
                        int s = Border.Index(m, n, border);
                        int index = horizontal ? (y * w + s) * c + ch : (s * w + x) * c + ch;
                        acc += 2.0 * k[j - 2 * m + 2] * src[index];
                    }
                    dst[(y * outW + x) * c + ch] = (float)acc;
                }
            }
        });
        return result;
    }
}
