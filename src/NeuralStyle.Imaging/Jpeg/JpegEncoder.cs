namespace NeuralStyle.Imaging.Jpeg;

/// <summary>JPEG encoding facade. (Skeleton: the JPEG work item replaces this.)</summary>
public static class JpegEncoder
{
    public static void Encode(Image image, Stream output, int quality = 95)
        => throw new ImageFormatException("JPEG encoding is not available yet; write a .png file.");
}
