using NeuralStyle.Imaging;

namespace NeuralStyle.Core;

/// <summary>Conversions between decoded images and the engine's interleaved RGB buffers.</summary>
public static class ImageTensors
{
    /// <summary>The RGB samples of an image (a copy: grey is expanded, alpha composited on white).</summary>
    public static float[] Rgb(Image image) => ImageIO.ToRgb(image).Data;

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
