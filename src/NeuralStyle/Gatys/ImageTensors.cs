using NeuralStyle.Imaging;

namespace NeuralStyle.Gatys;

/// <summary>Conversions between decoded images and the engine's interleaved RGB buffers.</summary>
public static class ImageTensors
{
    /// <summary>The RGB samples of an image (grey is expanded, alpha must have been composited already).</summary>
    public static float[] Rgb(Image image)
    {
        if (image.Channels == 3) return (float[])image.Data.Clone();
        if (image.Channels != 1) throw new ArgumentException("Composite the alpha channel before converting to RGB.");
        var rgb = new float[image.Width * image.Height * 3];
        for (int i = 0; i < image.Width * image.Height; i++)
            rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = image.Data[i];
        return rgb;
    }

    /// <summary>An RGB image from interleaved samples, clamped to [0,1].</summary>
    public static Image FromRgb(ReadOnlySpan<float> rgb, int width, int height)
    {
        var img = new Image(width, height, 3);
        for (int i = 0; i < img.Data.Length; i++)
        {
            float v = rgb[i];
            img.Data[i] = v > 1f ? 1f : v >= 0f ? v : 0f;
        }
        return img;
    }
}
