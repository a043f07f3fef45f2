using System.Globalization;
using NeuralStyle.Models;

namespace NeuralStyle.Core;

/// <summary>
/// The settings every feed-forward style trainer has (fast style, StyleBank), each shared default held once here with
/// the checks, the schedule arithmetic and the checkpoint metadata they drive. A trainer's options record derives from
/// it, gives the loss defaults (<see cref="TvWeight"/>, the layers) and adds its own.
/// </summary>
public abstract record TrainingSettings
{
    /// <summary>Training crops: each image resized so its short side is this, then centre-cropped to a square.</summary>
    public int ImageSize { get; init; } = 256;
    /// <summary>Content images per step.</summary>
    public int BatchSize { get; init; } = 4;
    /// <summary>Passes over the dataset (ignored when <see cref="Steps"/> is set).</summary>
    public int Epochs { get; init; } = 2;
    /// <summary>Exact number of optimiser steps; null: <see cref="Epochs"/> × ⌈images / batch⌉.</summary>
    public int? Steps { get; init; }
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>The style images are resized to this × this (as the reference's <c>--style-size</c>); null: their own size.</summary>
    public int? StyleSize { get; init; }
    /// <summary>Seeds the network's initial weights and the data order.</summary>
    public ulong Seed { get; init; } = 42;
    /// <summary>vgg16 (torchvision's, the references' loss network), vgg19, or random (the embedded random VGG-19).</summary>
    public string Model { get; init; } = "vgg16";
    /// <summary>null: torchvision's VGG-16 weights (registry name <see cref="DefaultWeights"/>) for vgg16.</summary>
    public string? Weights { get; init; }
    public InputFlavor? Flavor { get; init; }
    /// <summary>Write a checkpoint every N steps (0: only at the end or on interruption).</summary>
    public int CheckpointEvery { get; init; } = 2000;
    /// <summary>Call the preview every N steps (0: off).</summary>
    public int PreviewEvery { get; init; }
    /// <summary>Progress line every N steps when not on a terminal.</summary>
    public int PrintEvery { get; init; } = 10;

    /// <summary>L1 total variation of the output (the trainer says on which scale); 0: off.</summary>
    public abstract double TvWeight { get; init; }
    public abstract string ContentLayer { get; init; }
    public abstract IReadOnlyList<string> StyleLayers { get; init; }

    /// <summary>The registry name used when <see cref="Weights"/> is not given.</summary>
    public const string DefaultWeights = "vgg16-torchvision";

    /// <summary>Checks the values a user can get wrong; throws <see cref="OptionException"/> naming the property.</summary>
    public abstract void Validate();

    /// <summary>Checks the shared values (not <see cref="ImageSize"/>, whose rule is the trainer's).</summary>
    protected void ValidateShared()
    {
        if (BatchSize < 1) throw new OptionException(nameof(BatchSize), $"{{{nameof(BatchSize)}}} must be at least 1.");
        if (Epochs < 1) throw new OptionException(nameof(Epochs), $"{{{nameof(Epochs)}}} must be at least 1.");
        if (Steps is < 1) throw new OptionException(nameof(Steps), $"{{{nameof(Steps)}}} must be at least 1.");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new OptionException(nameof(LearningRate), $"{{{nameof(LearningRate)}}} must be positive.");
        NotNegative(TvWeight, nameof(TvWeight));
        if (StyleSize is < 16) throw new OptionException(nameof(StyleSize), $"{{{nameof(StyleSize)}}} must be at least 16.");
        if (CheckpointEvery < 0) throw new OptionException(nameof(CheckpointEvery), $"{{{nameof(CheckpointEvery)}}} must not be negative.");
        if (PreviewEvery < 0) throw new OptionException(nameof(PreviewEvery), $"{{{nameof(PreviewEvery)}}} must not be negative.");
    }

    /// <summary>Throws naming <paramref name="option"/> unless <paramref name="value"/> is ≥ 0 (NaN is refused).</summary>
    protected static void NotNegative(double value, string option)
    {
        if (!(value >= 0)) throw new OptionException(option, $"{{{option}}} must not be negative.");
    }

    /// <summary>The registry weights of the loss network: as given, else torchvision's for vgg16 (none for random or others).</summary>
    public string? WeightsToLoad => Model == "random" ? Weights : Weights ?? (Model == "vgg16" ? DefaultWeights : null);

    /// <summary>Steps a run makes over <paramref name="imageCount"/> images: Steps, or Epochs × ⌈images / batch⌉.</summary>
    public int TotalSteps(int imageCount) => Steps ?? checked(Epochs * StepsPerEpoch(imageCount));

    public int StepsPerEpoch(int imageCount) => (imageCount + BatchSize - 1) / BatchSize;

    /// <summary>The checkpoint metadata every run writes: the crop and batch sizes (checked on resume) and the loss network.</summary>
    internal Dictionary<string, string> RunMetadata(Backbone backbone) => new()
    {
        ["image_size"] = ImageSize.ToString(CultureInfo.InvariantCulture),
        ["batch_size"] = BatchSize.ToString(CultureInfo.InvariantCulture),
        ["loss_network"] = backbone.Description,
    };

    /// <summary>
    /// Refuses a checkpoint trained with other settings: the crop and batch sizes and each (metadata key, option
    /// property, this run's value) of <paramref name="more"/> the checkpoint records with another value.
    /// </summary>
    internal void CheckResumeMetadata(string path, IReadOnlyDictionary<string, string> meta, params (string Key, string Option, string Value)[] more)
    {
        (string, string, string)[] shared =
        [
            ("image_size", nameof(ImageSize), ImageSize.ToString(CultureInfo.InvariantCulture)),
            ("batch_size", nameof(BatchSize), BatchSize.ToString(CultureInfo.InvariantCulture)),
        ];
        foreach ((string key, string option, string value) in shared.Concat(more))
            if (meta.TryGetValue(key, out string? v) && v != value)
                throw new OptionException(option, $"The checkpoint '{Path.GetFileName(path)}' was trained with {{{option}}} {v}, not {value}.");
    }
}
