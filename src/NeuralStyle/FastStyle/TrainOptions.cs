using NeuralStyle.Core;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;

namespace NeuralStyle.FastStyle;

/// <summary>What a trained fast-style network is written as.</summary>
public enum ModelFormat
{
    /// <summary>Our .safetensors: the TransformerNet state dict with the architecture in the metadata.</summary>
    Safetensors,
    /// <summary>A zip .pth state dict in pytorch/examples' layout (torch.load + TransformerNet.load_state_dict accept it).</summary>
    Pth,
    /// <summary>ONNX (written by the ONNX module).</summary>
    Onnx,
}

/// <summary>
/// Every setting of fast style-transfer training (spec §5), each default held once here: pytorch/examples'
/// <c>fast_neural_style</c> defaults, plus what an offline run on the embedded random VGG needs (spec §7).
/// </summary>
public sealed record TrainOptions : ITrainingSettings
{
    /// <summary>Training crops: each image resized so its short side is this, then centre-cropped to a square.</summary>
    public int ImageSize { get; init; } = 256;
    public int BatchSize { get; init; } = 4;
    /// <summary>Passes over the dataset (ignored when <see cref="Steps"/> is set).</summary>
    public int Epochs { get; init; } = 2;
    /// <summary>Exact number of optimiser steps; null: <see cref="Epochs"/> × ⌈images / batch⌉.</summary>
    public int? Steps { get; init; }
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>null: 1e5 (the reference), or 1 with <see cref="NormalizeTerms"/>.</summary>
    public double? ContentWeight { get; init; }
    /// <summary>null: 1e10 (the reference), or 10 with <see cref="NormalizeTerms"/> (spec §7).</summary>
    public double? StyleWeight { get; init; }
    /// <summary>L1 total variation of the output (0–255 pixels, summed); 0: off, as in the reference.</summary>
    public double TvWeight { get; init; }
    /// <summary>
    /// A pixel-space content term, weight · mean((y − x)²) / mean(x²): keeps the content where the loss network cannot
    /// (the random VGG); 0: off.
    /// </summary>
    public double PixelWeight { get; init; }
    /// <summary>The style image is resized to this × this (as the reference's <c>--style-size</c>); null: its own size.</summary>
    public int? StyleSize { get; init; }
    /// <summary>Seeds the network's initial weights and the data order.</summary>
    public ulong Seed { get; init; } = 42;
    /// <summary>johnson | johnson-half (<see cref="Models.Johnson.TransformerArchitecture"/>).</summary>
    public string Architecture { get; init; } = "johnson";
    public string ContentLayer { get; init; } = "relu2_2";
    public IReadOnlyList<string> StyleLayers { get; init; } = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"];
    /// <summary>vgg16 (the reference's torchvision VGG-16), vgg19, or random (the embedded random VGG-19).</summary>
    public string Model { get; init; } = "vgg16";
    /// <summary>null: torchvision's VGG-16 weights (registry name vgg16-torchvision).</summary>
    public string? Weights { get; init; }
    public InputFlavor? Flavor { get; init; }
    /// <summary>null: max (the reference), or avg with <see cref="NormalizeTerms"/> (spec §7).</summary>
    public PoolingKind? Pooling { get; init; }
    /// <summary>
    /// Normalised losses as <c>stylize</c>'s random-features preset (spec §7): content mean((F−Fx)²)/mean(Fx²), style the
    /// mean over layers of mean((Ĝ−Â)²)/mean(Â²). Set whenever the loss network is the random one.
    /// </summary>
    public bool NormalizeTerms { get; init; }
    /// <summary>Write a checkpoint every N steps (0: only at the end or on interruption).</summary>
    public int CheckpointEvery { get; init; } = 2000;
    /// <summary>Run the current model on the preview photo every N steps (0: off).</summary>
    public int PreviewEvery { get; init; }
    /// <summary>Progress line every N steps when not on a terminal.</summary>
    public int PrintEvery { get; init; } = 10;

    public double EffectiveContentWeight => ContentWeight ?? (NormalizeTerms ? 1 : 1e5);
    public double EffectiveStyleWeight => StyleWeight ?? (NormalizeTerms ? 10 : 1e10);
    public PoolingKind EffectivePooling => Pooling ?? (NormalizeTerms ? PoolingKind.Avg : PoolingKind.Max);

    /// <summary>The registry name used when <see cref="Weights"/> is not given.</summary>
    public const string DefaultWeights = TrainingSettings.DefaultWeights;

    /// <summary>Images the run needs no fewer than on a side (smaller ones are skipped).</summary>
    public const int MinImageSide = ImageFolderDataset.MinImageSide;

    /// <summary>Checks the values a user can get wrong; throws <see cref="OptionException"/> naming the property.</summary>
    public void Validate()
    {
        if (ImageSize < 16) throw new OptionException(nameof(ImageSize), $"{{{nameof(ImageSize)}}} must be at least 16 (got {ImageSize}).");
        TrainingSettings.Validate(this);
        if (ContentWeight is { } cw) TrainingSettings.NotNegative(cw, nameof(ContentWeight));
        if (StyleWeight is { } sw) TrainingSettings.NotNegative(sw, nameof(StyleWeight));
        TrainingSettings.NotNegative(PixelWeight, nameof(PixelWeight));
        if (Models.Johnson.TransformerArchitecture.Find(Architecture) is null)
            throw new OptionException(nameof(Architecture), $"Unknown {{{nameof(Architecture)}}} '{Architecture}'; use johnson or johnson-half.");
    }
}
