namespace NeuralStyle.Imaging;

/// <summary>
/// Colour conversions and colour transfer. Alpha channels pass through untouched. YCbCr is JPEG's full-range
/// BT.601 (JFIF): Y = 0.299 R + 0.587 G + 0.114 B, Cb and Cr centred on 128/255 as in 8-bit JPEG.
/// </summary>
public static class ColorSpace
{
    private const float ChromaOffset = 128f / 255f;

    /// <summary>sRGB transfer function (IEC 61966-2-1) to linear light.</summary>
    public static float SrgbToLinear(float v) => v <= 0.04045f ? v / 12.92f : MathF.Pow((v + 0.055f) / 1.055f, 2.4f);

    /// <summary>Linear light to sRGB (IEC 61966-2-1).</summary>
    public static float LinearToSrgb(float v) => v <= 0.0031308f ? v * 12.92f : 1.055f * MathF.Pow(v, 1f / 2.4f) - 0.055f;

    /// <summary>Applies <see cref="SrgbToLinear(float)"/> to the colour channels.</summary>
    public static Image SrgbToLinear(Image image) => MapColour(image, SrgbToLinear);

    /// <summary>Applies <see cref="LinearToSrgb(float)"/> to the colour channels.</summary>
    public static Image LinearToSrgb(Image image) => MapColour(image, LinearToSrgb);

    /// <summary>RGB (3 channels, or 4 with alpha kept) to Y, Cb, Cr.</summary>
    public static Image RgbToYCbCr(Image rgb)
    {
        RequireRgb(rgb, nameof(rgb));
        Image result = rgb.Clone();
        int c = rgb.Channels;
        float[] d = result.Data;
        for (int i = 0; i < d.Length; i += c)
        {
            float r = d[i], g = d[i + 1], b = d[i + 2];
            d[i] = 0.299f * r + 0.587f * g + 0.114f * b;
            d[i + 1] = -0.168735892f * r - 0.331264108f * g + 0.5f * b + ChromaOffset;
            d[i + 2] = 0.5f * r - 0.418687589f * g - 0.081312411f * b + ChromaOffset;
        }
        return result;
    }

    /// <summary>Y, Cb, Cr (3 channels, or 4 with alpha kept) back to RGB, clamped to [0, 1].</summary>
    public static Image YCbCrToRgb(Image ycc)
    {
        RequireRgb(ycc, nameof(ycc));
        Image result = ycc.Clone();
        int c = ycc.Channels;
        float[] d = result.Data;
        for (int i = 0; i < d.Length; i += c)
        {
            float y = d[i], cb = d[i + 1] - ChromaOffset, cr = d[i + 2] - ChromaOffset;
            d[i] = Math.Clamp(y + 1.402f * cr, 0f, 1f);
            d[i + 1] = Math.Clamp(y - 0.344136286f * cb - 0.714136286f * cr, 0f, 1f);
            d[i + 2] = Math.Clamp(y + 1.772f * cb, 0f, 1f);
        }
        return result;
    }

    /// <summary>
    /// <c>--original-colors</c>: the luminance (Y) of <paramref name="result"/> with the chroma (Cb, Cr) of
    /// <paramref name="content"/>. The content is resized (Lanczos-3) to the result's size if needed; grey inputs
    /// are treated as RGB; the result's alpha, if any, is kept. Returns RGB (or RGBA).
    /// </summary>
    public static Image TransferLuminance(Image result, Image content)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(content);
        var (resultRgb, alpha) = SplitColour(result);
        Image contentRgb = SplitColour(content).Color;
        if (contentRgb.Width != result.Width || contentRgb.Height != result.Height)
            contentRgb = Resampler.Resize(contentRgb, result.Width, result.Height);
        Image y = RgbToYCbCr(resultRgb);
        Image chroma = RgbToYCbCr(contentRgb);
        for (int i = 0; i < y.Data.Length; i += 3)
        {
            y.Data[i + 1] = chroma.Data[i + 1];
            y.Data[i + 2] = chroma.Data[i + 2];
        }
        Image rgb = YCbCrToRgb(y);
        return alpha is null ? rgb : ImageIO.ApplyAlpha(rgb, alpha);
    }

    /// <summary>
    /// Per-channel histogram matching (scikit-image's <c>match_histograms</c> algorithm): each distinct source value
    /// is mapped to the reference value at the same cumulative-histogram quantile, interpolating linearly between
    /// the reference's distinct values. Colour channels only (grey is treated as RGB when the other image is colour);
    /// the source's alpha is kept. The images may differ in size.
    /// </summary>
    public static Image MatchHistogram(Image source, Image reference)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(reference);
        var (src, alpha, refColour) = CommonColour(source, reference);
        int c = src.Channels;
        var result = new Image(src.Width, src.Height, c);
        for (int ch = 0; ch < c; ch++)
        {
            float[] s = Channel(src, ch), r = Channel(refColour, ch);
            float[] matched = MatchCumulativeCdf(s, r);
            for (int i = 0; i < matched.Length; i++) result.Data[i * c + ch] = matched[i];
        }
        return alpha is null ? result : ImageIO.ApplyAlpha(result, alpha);
    }

    /// <summary>
    /// Mean/covariance colour transfer: x′ = Σr^½ Σs^−½ (x − μs) + μr over the colour channels (symmetric matrix
    /// square roots), so the result has the reference's colour mean and covariance (before the final clamp to
    /// [0, 1]). Grey images use the scalar form. The source's alpha is kept.
    /// </summary>
    public static Image MatchColorStatistics(Image source, Image reference)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(reference);
        var (src, alpha, refColour) = CommonColour(source, reference);
        int c = src.Channels;
        var (muS, covS) = Statistics(src);
        var (muR, covR) = Statistics(refColour);
        double[,] a = Multiply(SymmetricPower(covR, 0.5), SymmetricPower(covS, -0.5));
        var result = new Image(src.Width, src.Height, c);
        var centred = new double[c];
        for (int i = 0; i < src.Data.Length; i += c)
        {
            for (int k = 0; k < c; k++) centred[k] = src.Data[i + k] - muS[k];
            for (int k = 0; k < c; k++)
            {
                double v = muR[k];
                for (int j = 0; j < c; j++) v += a[k, j] * centred[j];
                result.Data[i + k] = (float)Math.Clamp(v, 0.0, 1.0);
            }
        }
        return alpha is null ? result : ImageIO.ApplyAlpha(result, alpha);
    }

    /// <summary>Colour mean and population covariance over all pixels of a 1- or 3-channel image.</summary>
    internal static (double[] Mean, double[,] Covariance) Statistics(Image image)
    {
        int c = image.Channels;
        long n = (long)image.Width * image.Height;
        var mean = new double[c];
        for (int i = 0; i < image.Data.Length; i++) mean[i % c] += image.Data[i];
        for (int k = 0; k < c; k++) mean[k] /= n;
        var cov = new double[c, c];
        for (int i = 0; i < image.Data.Length; i += c)
            for (int p = 0; p < c; p++)
                for (int q = 0; q < c; q++)
                    cov[p, q] += (image.Data[i + p] - mean[p]) * (image.Data[i + q] - mean[q]);
        for (int p = 0; p < c; p++)
            for (int q = 0; q < c; q++) cov[p, q] /= n;
        return (mean, cov);
    }

    /// <summary>M^power of a symmetric positive semi-definite matrix via Jacobi eigen-decomposition (eigenvalues floored at 1e-10).</summary>
    internal static double[,] SymmetricPower(double[,] m, double power)
    {
        int n = m.GetLength(0);
        var a = (double[,])m.Clone();
        var v = new double[n, n];
        for (int i = 0; i < n; i++) v[i, i] = 1;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++) off += a[p, q] * a[p, q];
            if (off < 1e-30) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (Math.Abs(a[p, q]) < 1e-300) continue;
                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double cs = 1 / Math.Sqrt(t * t + 1), sn = t * cs;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = cs * akp - sn * akq;
                        a[k, q] = sn * akp + cs * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = cs * apk - sn * aqk;
                        a[q, k] = sn * apk + cs * aqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k, p], vkq = v[k, q];
                        v[k, p] = cs * vkp - sn * vkq;
                        v[k, q] = sn * vkp + cs * vkq;
                    }
                }
        }
        var result = new double[n, n];
        for (int e = 0; e < n; e++)
        {
            double lambda = Math.Pow(Math.Max(a[e, e], 1e-10), power);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) result[i, j] += v[i, e] * lambda * v[j, e];
        }
        return result;
    }

    private static double[,] Multiply(double[,] x, double[,] y)
    {
        int n = x.GetLength(0);
        var r = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int k = 0; k < n; k++) r[i, j] += x[i, k] * y[k, j];
        return r;
    }

    /// <summary>scikit-image's _match_cumulative_cdf for one channel.</summary>
    internal static float[] MatchCumulativeCdf(float[] source, float[] template)
    {
        var (srcValues, srcQuantiles, srcInverse) = Unique(source);
        var (tmplValues, tmplQuantiles, _) = Unique(template);
        var mapped = new float[srcValues.Length];
        for (int u = 0; u < srcValues.Length; u++) mapped[u] = (float)Interp(srcQuantiles[u], tmplQuantiles, tmplValues);
        var result = new float[source.Length];
        for (int i = 0; i < source.Length; i++) result[i] = mapped[srcInverse[i]];
        return result;
    }

    /// <summary>Sorted distinct values, their cumulative quantiles (cumulative count / n), and each sample's value index.</summary>
    private static (double[] Values, double[] Quantiles, int[] Inverse) Unique(float[] data)
    {
        int n = data.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var keys = (float[])data.Clone();
        Array.Sort(keys, order);
        var values = new List<double>();
        var quantiles = new List<double>();
        var inverse = new int[n];
        for (int i = 0; i < n; i++)
        {
            if (i == 0 || keys[i] != keys[i - 1])
            {
                values.Add(keys[i]);
                quantiles.Add(0);
            }
            inverse[order[i]] = values.Count - 1;
            quantiles[^1] = (double)(i + 1) / n;
        }
        return (values.ToArray(), quantiles.ToArray(), inverse);
    }

    /// <summary>numpy.interp: linear interpolation in increasing <paramref name="xp"/>, clamped to the end values.</summary>
    private static double Interp(double x, double[] xp, double[] fp)
    {
        if (x <= xp[0]) return fp[0];
        if (x >= xp[^1]) return fp[^1];
        int hi = Array.BinarySearch(xp, x);
        if (hi >= 0) return fp[hi];
        hi = ~hi;
        int lo = hi - 1;
        double t = (x - xp[lo]) / (xp[hi] - xp[lo]);
        return fp[lo] + t * (fp[hi] - fp[lo]);
    }

    private static float[] Channel(Image image, int ch)
    {
        var result = new float[image.Width * image.Height];
        for (int i = 0; i < result.Length; i++) result[i] = image.Data[i * image.Channels + ch];
        return result;
    }

    /// <summary>The colour channels of an image (grey or RGB, never composited) and its alpha, if any.</summary>
    private static (Image Color, Image? Alpha) SplitColour(Image image, bool forceRgb = true)
    {
        int colour = image.HasAlpha ? image.Channels - 1 : image.Channels;
        Image? alpha = ImageIO.ExtractAlpha(image);
        int outC = forceRgb ? 3 : colour;
        var result = new Image(image.Width, image.Height, outC);
        int c = image.Channels;
        for (int i = 0, o = 0; i < image.Data.Length; i += c, o += outC)
            for (int k = 0; k < outC; k++) result.Data[o + k] = image.Data[i + (colour == 1 ? 0 : k)];
        return (result, alpha);
    }

    /// <summary>Source colour, source alpha and reference colour with a common channel count (RGB if either is colour).</summary>
    private static (Image Source, Image? Alpha, Image Reference) CommonColour(Image source, Image reference)
    {
        bool rgb = source.Channels >= 3 || reference.Channels >= 3;
        var (s, alpha) = SplitColour(source, rgb);
        var r = SplitColour(reference, rgb).Color;
        return (s, alpha, r);
    }

    private static Image MapColour(Image image, Func<float, float> f)
    {
        ArgumentNullException.ThrowIfNull(image);
        Image result = image.Clone();
        int c = image.Channels, colour = image.HasAlpha ? c - 1 : c;
        for (int i = 0; i < result.Data.Length; i++)
            if (i % c < colour) result.Data[i] = f(result.Data[i]);
        return result;
    }

    private static void RequireRgb(Image image, string name)
    {
        ArgumentNullException.ThrowIfNull(image, name);
        if (image.Channels is not (3 or 4))
            throw new ArgumentException($"Expected an RGB image (3 or 4 channels), got {image.Channels}.", name);
    }
}
