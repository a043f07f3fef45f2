using System.Globalization;
using NeuralStyle.Models;

namespace NeuralStyle.Core;

/// <summary>
/// The settings every feed-forward style trainer has (fast style, StyleBank), declared once so the checks, the
/// schedule arithmetic and the checkpoint metadata they drive live in one place (<see cref="TrainingSettings"/>).
/// </summary>
public interface ITrainingSettings
{
    /// <summary>Training crops: each image resized so its short side is this, then centre-cropped to a square.</summary>
    int ImageSize { get; }
    int BatchSize { get; }
    /// <summary>Passes over the dataset (ignored when <see cref="Steps"/> is set).</summary>
    int Epochs { get; }
    /// <summary>Exact number of optimiser steps; null: <see cref="Epochs"/> × ⌈images / batch⌉.</summary>
    int? Steps { get; }
    double LearningRate { get; }
    double TvWeight { get; }
    /// <summary>The style images are resized to this × this; null: their own size.</summary>
    int? StyleSize { get; }
    /// <summary>Seeds the initial weights and the data order.</summary>
    ulong Seed { get; }
    string ContentLayer { get; }
    IReadOnlyList<string> StyleLayers { get; }
    /// <summary>vgg16, vgg19, … or random (the embedded random VGG-19).</summary>
    string Model { get; }
    string? Weights { get; }
    InputFlavor? Flavor { get; }
    /// <summary>Write a checkpoint every N steps (0: only at the end or on interruption).</summary>
    int CheckpointEvery { get; }
    /// <summary>Call the preview every N steps (0: off).</summary>
    int PreviewEvery { get; }
    /// <summary>Progress line every N steps when not on a terminal.</summary>
    int PrintEvery { get; }
}

/// <summary>What every trainer does with its <see cref="ITrainingSettings"/>: checks, schedule, checkpoint metadata.</summary>
public static class TrainingSettings
{
    /// <summary>The registry name of the loss network's weights when none are given: torchvision's VGG-16.</summary>
    public const string DefaultWeights = "vgg16-torchvision";

    /// <summary>Checks the shared values a user can get wrong (not <see cref="ITrainingSettings.ImageSize"/>, whose rule is the trainer's).</summary>
    public static void Validate(ITrainingSettings o)
    {
        ArgumentNullException.ThrowIfNull(o);
        if (o.BatchSize < 1) throw new OptionException(nameof(o.BatchSize), $"{{{nameof(o.BatchSize)}}} must be at least 1.");
        if (o.Epochs < 1) throw new OptionException(nameof(o.Epochs), $"{{{nameof(o.Epochs)}}} must be at least 1.");
        if (o.Steps is < 1) throw new OptionException(nameof(o.Steps), $"{{{nameof(o.Steps)}}} must be at least 1.");
        if (!(o.LearningRate > 0) || !double.IsFinite(o.LearningRate)) throw new OptionException(nameof(o.LearningRate), $"{{{nameof(o.LearningRate)}}} must be positive.");
        NotNegative(o.TvWeight, nameof(o.TvWeight));
        if (o.StyleSize is < 16) throw new OptionException(nameof(o.StyleSize), $"{{{nameof(o.StyleSize)}}} must be at least 16.");
        if (o.CheckpointEvery < 0) throw new OptionException(nameof(o.CheckpointEvery), $"{{{nameof(o.CheckpointEvery)}}} must not be negative.");
        if (o.PreviewEvery < 0) throw new OptionException(nameof(o.PreviewEvery), $"{{{nameof(o.PreviewEvery)}}} must not be negative.");
    }

    /// <summary>Throws naming <paramref name="option"/> unless <paramref name="value"/> is ≥ 0 (NaN is refused).</summary>
    public static void NotNegative(double value, string option)
    {
        if (!(value >= 0)) throw new OptionException(option, $"{{{option}}} must not be negative.");
    }

    /// <summary>The registry weights of the loss network: as given, else torchvision's for vgg16 (none for random or others).</summary>
    public static string? WeightsFor(ITrainingSettings o)
        => o.Model == "random" ? o.Weights : o.Weights ?? (o.Model == "vgg16" ? DefaultWeights : null);

    /// <summary>Steps a run makes over <paramref name="imageCount"/> images: Steps, or Epochs × ⌈images / batch⌉.</summary>
    public static int TotalSteps(ITrainingSettings o, int imageCount) => o.Steps ?? checked(o.Epochs * StepsPerEpoch(o, imageCount));

    public static int StepsPerEpoch(ITrainingSettings o, int imageCount) => (imageCount + o.BatchSize - 1) / o.BatchSize;

    /// <summary>The checkpoint metadata every run writes: the crop and batch sizes (checked on resume) and the loss network.</summary>
    public static Dictionary<string, string> RunMetadata(ITrainingSettings o, Backbone backbone) => new()
    {
        ["image_size"] = o.ImageSize.ToString(CultureInfo.InvariantCulture),
        ["batch_size"] = o.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["loss_network"] = backbone.Description,
    };

    /// <summary>
    /// Refuses a checkpoint trained with other settings: each (metadata key, option property, this run's value) that
    /// the checkpoint records with another value is an <see cref="OptionException"/> naming the option.
    /// </summary>
    public static void CheckResumeMetadata(string path, IReadOnlyDictionary<string, string> meta, ITrainingSettings o,
        params (string Key, string Option, string Value)[] more)
    {
        (string, string, string)[] shared =
        [
            ("image_size", nameof(o.ImageSize), o.ImageSize.ToString(CultureInfo.InvariantCulture)),
            ("batch_size", nameof(o.BatchSize), o.BatchSize.ToString(CultureInfo.InvariantCulture)),
        ];
        foreach ((string key, string option, string value) in shared.Concat(more))
            if (meta.TryGetValue(key, out string? v) && v != value)
                throw new OptionException(option, $"The checkpoint '{Path.GetFileName(path)}' was trained with {{{option}}} {v}, not {value}.");
    }
}
