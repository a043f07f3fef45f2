namespace NeuralStyle.Imaging;

/// <summary>
/// A decoded raster image: interleaved samples (row-major, height × width × channels) in [0, 1].
/// Channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. Alpha is straight (not premultiplied).
/// </summary>
public sealed class Image
{
    public Image(int width, int height, int channels, float[]? data = null)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), "Image dimensions must be positive.");
        if (channels is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(channels), "An image has 1 to 4 channels.");
        Width = width;
        Height = height;
        Channels = channels;
        long length = (long)width * height * channels;
        if (data is not null && data.LongLength != length)
            throw new ArgumentException($"Expected {length} samples, got {data.LongLength}.", nameof(data));
        Data = data ?? new float[length];
    }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }

    /// <summary>Interleaved samples, index ((y * Width) + x) * Channels + c.</summary>
    public float[] Data { get; }

    public bool HasAlpha => Channels is 2 or 4;

    public float this[int x, int y, int c]
    {
        get => Data[((y * Width) + x) * Channels + c];
        set => Data[((y * Width) + x) * Channels + c] = value;
    }

    /// <summary>A deep copy (new sample array).</summary>
    public Image Clone() => new(Width, Height, Channels, (float[])Data.Clone());
}
