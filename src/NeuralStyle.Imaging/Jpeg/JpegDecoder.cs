namespace NeuralStyle.Imaging.Jpeg;

/// <summary>JPEG decoding facade. (Skeleton: the JPEG work item replaces this.)</summary>
public static class JpegDecoder
{
    public static Image Decode(ReadOnlySpan<byte> data, DecoderOptions? options = null)
        => throw new ImageFormatException("JPEG decoding is not available yet; convert the image to PNG.");
}
