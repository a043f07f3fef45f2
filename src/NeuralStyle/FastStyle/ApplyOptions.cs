using NeuralStyle.Imaging;

namespace NeuralStyle.FastStyle;

/// <summary>How <see cref="FastStyleApplier"/> stylises images with a trained fast-style network.</summary>
public sealed record ApplyOptions
{
    /// <summary>Long edge of the output in pixels (null: the input's size, times <see cref="ContentScale"/>).</summary>
    public int? Size { get; init; }

    /// <summary>Scale the input by this factor first (pytorch/examples' --content-scale divides instead; ours
    /// multiplies: 0.5 halves). Ignored when <see cref="Size"/> is set.</summary>
    public double ContentScale { get; init; } = 1;

    /// <summary>Keep the input's colours: the luminance of the result with the chroma of the input (YCbCr).</summary>
    public bool OriginalColors { get; init; }

    /// <summary>Tile size in pixels (0: the whole image at once). Tiles overlap by <see cref="TileMargin"/> on every
    /// side and are blended with feathered weights, so no seam shows and memory stays bounded.</summary>
    public int Tile { get; init; }

    /// <summary>Context around each tile; the blending ramp spans it.</summary>
    public int TileMargin { get; init; } = 48;

    /// <summary>Video frames: blend each output with the previous one where the input did not change.</summary>
    public bool Temporal { get; init; }

    /// <summary>Input change (0–1 scale, mean over RGB) at which a pixel takes the new output fully; below it the
    /// previous output is kept in proportion.</summary>
    public double TemporalThreshold { get; init; } = 0.08;

    /// <summary>This process handles the files whose index in the sorted list is ≡ <see cref="ShardIndex"/> mod
    /// <see cref="ShardCount"/> (0-based: Kubernetes' JOB_COMPLETION_INDEX, Slurm's SLURM_ARRAY_TASK_ID from 0).</summary>
    public int ShardIndex { get; init; }

    public int ShardCount { get; init; } = 1;

    /// <summary>Leave outputs that exist already untouched (resuming an interrupted batch).</summary>
    public bool SkipExisting { get; init; }

    /// <summary>Output encoding (JPEG quality, PNG bit depth).</summary>
    public SaveOptions Save { get; init; } = SaveOptions.Default;

    /// <summary>Checks every value; throws <see cref="OptionException"/> naming the property.</summary>
    public void Validate()
    {
        if (Size is < 8 or > 32768) throw new OptionException(nameof(Size), $"{{{nameof(Size)}}} must be between 8 and 32768, not {Size}.");
        if (!(ContentScale > 0 && ContentScale <= 16)) throw new OptionException(nameof(ContentScale), $"{{{nameof(ContentScale)}}} must be in (0, 16], not {ContentScale}.");
        if (Tile != 0 && Tile < 32) throw new OptionException(nameof(Tile), $"{{{nameof(Tile)}}} must be 0 (off) or at least 32 pixels, not {Tile}.");
        if (TileMargin is < 0 or > 512) throw new OptionException(nameof(TileMargin), $"{{{nameof(TileMargin)}}} must be between 0 and 512, not {TileMargin}.");
        if (!(TemporalThreshold > 0)) throw new OptionException(nameof(TemporalThreshold), $"{{{nameof(TemporalThreshold)}}} must be positive.");
        if (ShardCount < 1 || ShardIndex < 0 || ShardIndex >= ShardCount)
            throw new OptionException(nameof(ShardIndex), $"{{Shard}} must be K/N with 0 <= K < N, not {ShardIndex}/{ShardCount}.");
    }
}
