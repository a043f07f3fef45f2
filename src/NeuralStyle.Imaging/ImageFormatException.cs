namespace NeuralStyle.Imaging;

/// <summary>The one exception every decoder and encoder throws for bad or unsupported image data.</summary>
public sealed class ImageFormatException : Exception
{
    public ImageFormatException(string message) : base(message) { }
    public ImageFormatException(string message, Exception inner) : base(message, inner) { }
}
