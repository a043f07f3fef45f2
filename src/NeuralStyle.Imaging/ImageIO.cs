using NeuralStyle.IO;
using NeuralStyle.Imaging.Jpeg;
using NeuralStyle.Imaging.Png;

namespace NeuralStyle.Imaging;

/// <summary>
/// The image file facade: load by signature (not extension), save by extension via a temporary file renamed into
/// place, and the alpha helpers used by <c>--keep-alpha</c>. Decoding problems surface as
/// <see cref="ImageFormatException"/> with the file name in the message.
/// </summary>
public static class ImageIO
{
    /// <summary>White, the default background for compositing alpha.</summary>
    public static readonly (float R, float G, float B) White = (1f, 1f, 1f);

    /// <summary>Reads and decodes an image file; the format comes from the file's signature.</summary>
    public static Image Load(string path, DecoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Image file '{path}' does not exist.", path);
        byte[] data = File.ReadAllBytes(path);
        try
        {
            return Decode(data, options);
        }
        catch (ImageFormatException ex)
        {
            throw new ImageFormatException($"Cannot read '{path}': {ex.Message}", ex);
        }
    }

    /// <summary>Decodes an in-memory PNG or JPEG file, recognised by its signature.</summary>
    public static Image Decode(ReadOnlySpan<byte> data, DecoderOptions? options = null)
    {
        ImageFileFormat format = DetectFormat(data);
        try
        {
            return format switch
            {
                ImageFileFormat.Png => PngDecoder.Decode(data, options),
                ImageFileFormat.Jpeg => JpegDecoder.Decode(data, options),
                ImageFileFormat.Unknown when data.IsEmpty => throw new ImageFormatException("the file is empty."),
                ImageFileFormat.Unknown => throw new ImageFormatException(
                    "not a PNG or JPEG image (unrecognised file signature)."),
                _ => throw new ImageFormatException(
                    $"{format} images are not supported; convert the file to PNG or JPEG."),
            };
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentException or OverflowException
                                       or InvalidDataException or EndOfStreamException)
        {
            // Safety net: a decoder bug on hostile data must still end in the one documented exception.
            throw new ImageFormatException($"the {format} data is corrupt ({ex.GetType().Name}: {ex.Message}).", ex);
        }
    }

    /// <summary>Recognises a format from the first bytes of a file.</summary>
    public static ImageFileFormat DetectFormat(ReadOnlySpan<byte> data)
    {
        if (PngDecoder.IsPng(data)) return ImageFileFormat.Png;
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ImageFileFormat.Jpeg;
        if (data.StartsWith("GIF87a"u8) || data.StartsWith("GIF89a"u8)) return ImageFileFormat.Gif;
        if (data.StartsWith("BM"u8)) return ImageFileFormat.Bmp;
        if (data.StartsWith("II*\0"u8) || data.StartsWith("MM\0*"u8)) return ImageFileFormat.Tiff;
        if (data.Length >= 12 && data.StartsWith("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8)) return ImageFileFormat.WebP;
        return ImageFileFormat.Unknown;
    }

    /// <summary>
    /// Writes an image; the format follows the extension (.png, .jpg, .jpeg). The file is written under a temporary
    /// name in the same folder and renamed into place, so a failure never leaves a half-written file. JPEG has no
    /// alpha: an image with alpha is composited on white first.
    /// </summary>
    public static void Save(Image image, string path, SaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(path);
        options ??= SaveOptions.Default;
        string extension = Path.GetExtension(path).ToLowerInvariant();
        switch (extension)
        {
            case ".png":
                if (options.BitDepth is not (8 or 16))
                    throw new ImageFormatException($"Cannot save '{path}': bit depth {options.BitDepth} is not supported; use 8 or 16.");
                AtomicFile.Write(path, s => PngEncoder.Encode(image, s, options.BitDepth, options.PngCompression));
                break;
            case ".jpg" or ".jpeg":
                if (options.BitDepth != 8)
                    throw new ImageFormatException($"Cannot save '{path}': JPEG stores 8 bits per sample; write a .png file for bit depth {options.BitDepth}.");
                if (options.JpegQuality is < 1 or > 100)
                    throw new ImageFormatException($"Cannot save '{path}': JPEG quality must be between 1 and 100, not {options.JpegQuality}.");
                Image opaque = image.HasAlpha ? ToRgb(image) : image;
                AtomicFile.Write(path, s => JpegEncoder.Encode(opaque, s, options.JpegQuality));
                break;
            default:
                throw new ImageFormatException(
                    $"Cannot save '{path}': unsupported extension '{extension}'; use .png, .jpg or .jpeg.");
        }
    }

    /// <summary>
    /// An RGB copy of <paramref name="image"/>: grey is replicated, and alpha is composited (straight alpha, in
    /// sRGB values: c·a + background·(1 − a)) on <paramref name="background"/>, white by default.
    /// </summary>
    public static Image ToRgb(Image image, (float R, float G, float B)? background = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (br, bg, bb) = background ?? White;
        var result = new Image(image.Width, image.Height, 3);
        float[] src = image.Data, dst = result.Data;
        int n = image.Width * image.Height, c = image.Channels;
        switch (c)
        {
            case 3:
                src.AsSpan().CopyTo(dst);
                break;
            case 1:
                for (int i = 0; i < n; i++) dst[3 * i] = dst[3 * i + 1] = dst[3 * i + 2] = src[i];
                break;
            case 2:
                for (int i = 0; i < n; i++)
                {
                    float g = src[2 * i], a = src[2 * i + 1];
                    dst[3 * i] = g * a + br * (1 - a);
                    dst[3 * i + 1] = g * a + bg * (1 - a);
                    dst[3 * i + 2] = g * a + bb * (1 - a);
                }
                break;
            default:
                for (int i = 0; i < n; i++)
                {
                    float a = src[4 * i + 3];
                    dst[3 * i] = src[4 * i] * a + br * (1 - a);
                    dst[3 * i + 1] = src[4 * i + 1] * a + bg * (1 - a);
                    dst[3 * i + 2] = src[4 * i + 2] * a + bb * (1 - a);
                }
                break;
        }
        return result;
    }

    /// <summary>
    /// Splits an image into its colour composited on <paramref name="background"/> (RGB, as <see cref="ToRgb"/>)
    /// and its alpha channel as a one-channel image (null when the image has no alpha).
    /// </summary>
    public static (Image Color, Image? Alpha) SplitAlpha(Image image, (float R, float G, float B)? background = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        return (ToRgb(image, background), ExtractAlpha(image));
    }

    /// <summary>The alpha channel as a one-channel image, or null when there is none.</summary>
    internal static Image? ExtractAlpha(Image image)
    {
        if (!image.HasAlpha) return null;
        var alpha = new Image(image.Width, image.Height, 1);
        int c = image.Channels;
        for (int i = 0; i < alpha.Data.Length; i++) alpha.Data[i] = image.Data[i * c + c - 1];
        return alpha;
    }

    /// <summary>
    /// Re-applies an alpha channel (<c>--keep-alpha</c>): grey becomes grey+alpha, RGB becomes RGBA. An alpha of a
    /// different size is resized to the colour image with <see cref="Resampler.Resize"/> (Lanczos-3).
    /// </summary>
    public static Image ApplyAlpha(Image color, Image alpha)
    {
        ArgumentNullException.ThrowIfNull(color);
        ArgumentNullException.ThrowIfNull(alpha);
        if (color.Channels is not (1 or 3))
            throw new ArgumentException("The colour image must have 1 or 3 channels (no alpha of its own).", nameof(color));
        if (alpha.Channels != 1)
            throw new ArgumentException("The alpha image must have exactly 1 channel.", nameof(alpha));
        if (alpha.Width != color.Width || alpha.Height != color.Height)
            alpha = Resampler.Resize(alpha, color.Width, color.Height);
        int c = color.Channels, n = color.Width * color.Height;
        var result = new Image(color.Width, color.Height, c + 1);
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < c; k++) result.Data[i * (c + 1) + k] = color.Data[i * c + k];
            result.Data[i * (c + 1) + c] = alpha.Data[i];
        }
        return result;
    }
}
