using System.Numerics.Tensors;

namespace NeuralStyle.Imaging;

/// <summary>The interpolation kernels of <see cref="Resampler"/>, with PIL's definitions and supports.</summary>
public enum ResampleFilter
{
    /// <summary>Lanczos windowed sinc, a = 3 (PIL <c>Image.LANCZOS</c>).</summary>
    Lanczos3,

    /// <summary>Keys cubic convolution with a = −0.5, support 2 (PIL <c>Image.BICUBIC</c>).</summary>
    Bicubic,

    /// <summary>Triangle filter, support 1 (PIL <c>Image.BILINEAR</c>).</summary>
    Bilinear,

    /// <summary>Box filter, support 0.5: area averaging when shrinking (PIL <c>Image.BOX</c>).</summary>
    Box,
}

/// <summary>
/// Separable convolution resampling with PIL's algorithm (<c>ImagingResample</c>): output pixel x samples the input
/// around centre (x + 0.5)·scale; when shrinking, the kernel's support is widened by the scale factor (proper
/// antialiasing); weights are normalised over the input pixels that exist, so borders need no padding. The
/// horizontal pass runs first, then the vertical one; an axis whose size does not change is left untouched.
/// Works on any channel count in float and clamps the result to [0, 1]. Images with alpha (2 or 4 channels) are
/// resized premultiplied, as PIL does for LA/RGBA, so fully transparent pixels (colour 0) do not bleed colour.
/// Matches PIL's float ('F' mode) resize within 1e-5 and its 8-bit RGB LANCZOS within one level.
/// </summary>
public static class Resampler
{
    /// <summary>Resizes to exactly <paramref name="width"/>×<paramref name="height"/>.</summary>
    public static Image Resize(Image image, int width, int height, ResampleFilter filter = ResampleFilter.Lanczos3)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (width == image.Width && height == image.Height) return image.Clone();
        Image current = image.HasAlpha ? Premultiply(image) : image;
        if (width != image.Width) current = Horizontal(current, width, filter);
        if (height != image.Height) current = Vertical(current, height, filter);
        TensorPrimitives.Clamp(current.Data, 0f, 1f, current.Data);
        if (image.HasAlpha) Unpremultiply(current);
        return current;
    }

    // Colour × alpha, so that the colour of (nearly) transparent pixels does not bleed into their neighbours.
    private static Image Premultiply(Image image)
    {
        Image result = image.Clone();
        int c = image.Channels;
        float[] d = result.Data;
        for (int i = 0; i < d.Length; i += c)
        {
            float a = d[i + c - 1];
            for (int k = 0; k < c - 1; k++) d[i + k] *= a;
        }
        return result;
    }

    private static void Unpremultiply(Image image)
    {
        int c = image.Channels;
        float[] d = image.Data;
        for (int i = 0; i < d.Length; i += c)
        {
            float a = d[i + c - 1];
            for (int k = 0; k < c - 1; k++) d[i + k] = a > 0 ? Math.Min(d[i + k] / a, 1f) : 0f;
        }
    }

    /// <summary>Resizes so that the longer side is <paramref name="longEdge"/>, keeping the aspect ratio (the other side rounded, at least 1).</summary>
    public static Image ResizeToLongEdge(Image image, int longEdge, ResampleFilter filter = ResampleFilter.Lanczos3)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(longEdge);
        var (w, h) = image.Width >= image.Height
            ? (longEdge, Scaled(image.Height, longEdge, image.Width))
            : (Scaled(image.Width, longEdge, image.Height), longEdge);
        return Resize(image, w, h, filter);
    }

    /// <summary>
    /// Resizes so that the shorter side is <paramref name="shortEdge"/>; the longer side is truncated like
    /// torchvision's <c>Resize(int)</c> (<c>int(shortEdge · long / short)</c>).
    /// </summary>
    public static Image ResizeToShortEdge(Image image, int shortEdge, ResampleFilter filter = ResampleFilter.Lanczos3)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shortEdge);
        if (image.Width <= image.Height)
            return Resize(image, shortEdge, Math.Max(1, (int)((long)shortEdge * image.Height / image.Width)), filter);
        return Resize(image, Math.Max(1, (int)((long)shortEdge * image.Width / image.Height)), shortEdge, filter);
    }

    /// <summary>
    /// Scales both sides by <paramref name="factor"/> (rounded, at least 1 pixel): the upsampling helper of the
    /// coarse-to-fine schedule (e.g. ×√2 per scale). Bilinear here equals PyTorch's
    /// <c>interpolate(mode="bilinear", align_corners=False)</c> when enlarging.
    /// </summary>
    public static Image Scale(Image image, double factor, ResampleFilter filter = ResampleFilter.Bicubic)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (!(factor > 0) || double.IsInfinity(factor)) throw new ArgumentOutOfRangeException(nameof(factor), "The scale factor must be positive.");
        int w = Math.Max(1, (int)Math.Round(image.Width * factor, MidpointRounding.AwayFromZero));
        int h = Math.Max(1, (int)Math.Round(image.Height * factor, MidpointRounding.AwayFromZero));
        return Resize(image, w, h, filter);
    }

    private static int Scaled(int side, int target, int longSide) =>
        Math.Max(1, (int)Math.Round((double)side * target / longSide, MidpointRounding.AwayFromZero));

    /// <summary>Per output position: first input index and normalised weights (PIL's precompute_coeffs).</summary>
    internal readonly record struct Coefficients(int[] First, int[] Count, float[] Weights, int Stride);

    internal static Coefficients Compute(int inSize, int outSize, ResampleFilter filter)
    {
        double support = filter switch
        {
            ResampleFilter.Lanczos3 => 3.0,
            ResampleFilter.Bicubic => 2.0,
            ResampleFilter.Bilinear => 1.0,
            _ => 0.5,
        };
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        support *= filterScale;
        int stride = (int)Math.Ceiling(support) * 2 + 1;
        var first = new int[outSize];
        var count = new int[outSize];
        var weights = new float[outSize * stride];
        var k = new double[stride];
        double ss = 1.0 / filterScale;
        for (int x = 0; x < outSize; x++)
        {
            double center = (x + 0.5) * scale;
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
            double sum = 0;
            for (int i = 0; i < xmax; i++)
            {
                double w = Kernel(filter, (i + xmin - center + 0.5) * ss);
                k[i] = w;
                sum += w;
            }
            for (int i = 0; i < xmax; i++) weights[x * stride + i] = (float)(sum != 0 ? k[i] / sum : k[i]);
            first[x] = xmin;
            count[x] = Math.Max(xmax, 0);
        }
        return new Coefficients(first, count, weights, stride);
    }

    internal static double Kernel(ResampleFilter filter, double x)
    {
        switch (filter)
        {
            case ResampleFilter.Lanczos3:
                return x is >= -3.0 and < 3.0 ? Sinc(x) * Sinc(x / 3.0) : 0.0;
            case ResampleFilter.Bicubic:
            {
                const double a = -0.5;
                x = Math.Abs(x);
                if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
                return 0.0;
            }
            case ResampleFilter.Bilinear:
                x = Math.Abs(x);
                return x < 1.0 ? 1.0 - x : 0.0;
            default:
                return x is > -0.5 and <= 0.5 ? 1.0 : 0.0;
        }
    }

    private static double Sinc(double x)
    {
        if (x == 0.0) return 1.0;
        x *= Math.PI;
        return Math.Sin(x) / x;
    }

    // in (H, W, C) -> (H, outW, C)
    private static Image Horizontal(Image image, int outWidth, ResampleFilter filter)
    {
        var co = Compute(image.Width, outWidth, filter);
        int c = image.Channels, inW = image.Width;
        var result = new Image(outWidth, image.Height, c);
        float[] src = image.Data, dst = result.Data;
        Parallel.For(0, image.Height, y =>
        {
            int rowIn = y * inW * c, rowOut = y * outWidth * c;
            for (int x = 0; x < outWidth; x++)
            {
                int xmin = co.First[x], n = co.Count[x], wo = x * co.Stride;
                for (int ch = 0; ch < c; ch++)
                {
                    float acc = 0;
                    int s = rowIn + xmin * c + ch;
                    for (int i = 0; i < n; i++, s += c) acc += co.Weights[wo + i] * src[s];
                    dst[rowOut + x * c + ch] = acc;
                }
            }
        });
        return result;
    }

    // in (H, W, C) -> (outH, W, C): each output row is a weighted sum of input rows.
    private static Image Vertical(Image image, int outHeight, ResampleFilter filter)
    {
        var co = Compute(image.Height, outHeight, filter);
        int rowLength = image.Width * image.Channels;
        var result = new Image(image.Width, outHeight, image.Channels);
        float[] src = image.Data, dst = result.Data;
        Parallel.For(0, outHeight, y =>
        {
            Span<float> acc = dst.AsSpan(y * rowLength, rowLength);
            int ymin = co.First[y], n = co.Count[y], wo = y * co.Stride;
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> row = src.AsSpan((ymin + i) * rowLength, rowLength);
                TensorPrimitives.MultiplyAdd(row, co.Weights[wo + i], acc, acc);
            }
        });
        return result;
    }
}
