using NeuralStyle.Imaging;

namespace NeuralStyle.Core;

/// <summary>The few imaging operations the methods use, in one place (all decoding goes through ImageIO).</summary>
public static class ImageOps
{
    /// <summary>Loads any supported image and composites alpha on white: an RGB (or grey) image in [0,1].</summary>
    public static Image LoadRgb(string path) => ImageIO.ToRgb(ImageIO.Load(path));

    /// <summary>Resized to exactly w×h (antialiased); the same object when it already has that size.</summary>
    public static Image Resize(Image image, int width, int height, ResampleFilter filter = ResampleFilter.Lanczos3)
        => image.Width == width && image.Height == height ? image : Resampler.Resize(image, width, height, filter);

    /// <summary>Resized so that its long edge is n; the same object when it already is.</summary>
    public static Image ResizeToLongEdge(Image image, int n)
        => Math.Max(image.Width, image.Height) == n ? image : Resampler.ResizeToLongEdge(image, n);

    /// <summary>--original-colors: the luminance of the result with the chroma of the content (YCbCr).</summary>
    public static Image KeepColors(Image result, float[] contentRgb)
    {
        var content = new Image(result.Width, result.Height, 3, contentRgb);
        return ColorSpace.TransferLuminance(result, content);
    }
}
