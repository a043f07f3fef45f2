namespace NeuralStyle.Imaging;

/// <summary>Formats recognised from a file's first bytes. Only PNG and JPEG are decoded; the others are named in errors.</summary>
public enum ImageFileFormat
{
    Unknown,
    Png,
    Jpeg,
    Gif,
    Bmp,
    Tiff,
    WebP,
}
