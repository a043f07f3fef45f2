namespace NeuralStyle.Imaging;

/// <summary>Limits every decoder honours before allocating.</summary>
public sealed record DecoderOptions
{
    /// <summary>Images with more pixels than this are refused before any pixel buffer is allocated.</summary>
    public long MaxPixels { get; init; } = 100_000_000;

    public static DecoderOptions Default { get; } = new();
}
