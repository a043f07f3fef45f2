using NeuralStyle.Core;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;

namespace NeuralStyle.StyleBank;

/// <summary>How the auto-encoder branch is kept in balance with the stylising branch (spec §6).</summary>
public enum BranchBalancing
{
    /// <summary>
    /// The paper's: one Adam over everything; the auto-encoder step's gradient is scaled by λ·‖∂L_K‖/‖∂L_I‖, both norms
    /// taken over the encoder's and decoder's parameters (‖∂L_K‖ from the last stylising step, ‖∂L_I‖ from this step).
    /// </summary>
    GradientNorm,
    /// <summary>The public ports': a second Adam for the auto-encoder step (encoder and decoder), no scaling.</summary>
    SeparateOptimizers,
}

/// <summary>Every setting of StyleBank training (spec §6), each default held once here.</summary>
public sealed record BankTrainingOptions : ITrainingSettings
{
    /// <summary>Training crops: each image resized so its short side is this, then centre-cropped; a multiple of 4.</summary>
    public int ImageSize { get; init; } = 256;
    /// <summary>Content images per step; each carries one style, cycling through all of them (the paper: 4).</summary>
    public int BatchSize { get; init; } = 4;
    /// <summary>Passes over the dataset, counted in steps of either branch (ignored when <see cref="Steps"/> is set).</summary>
    public int Epochs { get; init; } = 2;
    /// <summary>Exact number of steps (stylising and auto-encoder steps both count); null: <see cref="Epochs"/> × ⌈images / batch⌉.</summary>
    public int? Steps { get; init; }
    /// <summary>Stylising steps before each auto-encoder step (the "T+1" schedule).</summary>
    public int T { get; init; } = 2;
    /// <summary>λ of the gradient balancing.</summary>
    public double Lambda { get; init; } = 1;
    public BranchBalancing Balancing { get; init; } = BranchBalancing.GradientNorm;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>The learning rate is multiplied by <see cref="DecayFactor"/> every this many steps (0: never; the paper: 30,000).</summary>
    public int DecayEvery { get; init; } = 30_000;
    public double DecayFactor { get; init; } = 0.8;
    /// <summary>α: MSE of the loss network's features of output and input at <see cref="ContentLayer"/>.</summary>
    public double ContentWeight { get; init; } = 1;
    /// <summary>β: Σ over <see cref="StyleLayers"/> of the MSE of per-sample Grams G/(C·h·w).</summary>
    public double StyleWeight { get; init; } = 1e6;
    /// <summary>γ: L1 total variation of the output on a [0,1] scale (summed over the batch).</summary>
    public double TvWeight { get; init; } = 1e-5;
    public string ContentLayer { get; init; } = "relu4_2";
    public IReadOnlyList<string> StyleLayers { get; init; } = ["relu1_2", "relu2_2", "relu3_2", "relu4_2"];
    /// <summary>The style images are resized to this × this; null: their own size.</summary>
    public int? StyleSize { get; init; }
    /// <summary>Seeds the initial weights (and a new style's filters) and the data order.</summary>
    public ulong Seed { get; init; } = 42;
    /// <summary>vgg16 (torchvision's, the paper's loss network), vgg19, or random (the embedded random VGG-19).</summary>
    public string Model { get; init; } = "vgg16";
    /// <summary>null: torchvision's VGG-16 weights (registry name vgg16-torchvision).</summary>
    public string? Weights { get; init; }
    public InputFlavor? Flavor { get; init; }
    public PoolingKind Pooling { get; init; } = PoolingKind.Max;
    /// <summary>Write a checkpoint every N steps (0: only at the end or on interruption).</summary>
    public int CheckpointEvery { get; init; } = 2000;
    /// <summary>Call the preview every N steps (0: off).</summary>
    public int PreviewEvery { get; init; }
    /// <summary>Progress line every N steps when not on a terminal.</summary>
    public int PrintEvery { get; init; } = 10;

    /// <summary>The registry name used when <see cref="Weights"/> is not given.</summary>
    public const string DefaultWeights = TrainingSettings.DefaultWeights;

    /// <summary>Checks the values a user can get wrong; throws <see cref="OptionException"/> naming the property.</summary>
    public void Validate()
    {
        if (ImageSize < 16 || ImageSize % 4 != 0) throw new OptionException(nameof(ImageSize), $"{{{nameof(ImageSize)}}} must be a multiple of 4 and at least 16 (got {ImageSize}).");
        TrainingSettings.Validate(this);
        if (T < 1) throw new OptionException(nameof(T), $"{{{nameof(T)}}} must be at least 1 (stylising steps per auto-encoder step).");
        if (!(Lambda > 0) || !double.IsFinite(Lambda)) throw new OptionException(nameof(Lambda), $"{{{nameof(Lambda)}}} must be positive.");
        if (DecayEvery < 0) throw new OptionException(nameof(DecayEvery), $"{{{nameof(DecayEvery)}}} must not be negative.");
        if (!(DecayFactor > 0) || !double.IsFinite(DecayFactor)) throw new OptionException(nameof(DecayFactor), $"{{{nameof(DecayFactor)}}} must be positive.");
        TrainingSettings.NotNegative(ContentWeight, nameof(ContentWeight));
        TrainingSettings.NotNegative(StyleWeight, nameof(StyleWeight));
        if (ContentWeight == 0 && StyleWeight == 0 && TvWeight == 0)
            throw new OptionException(nameof(StyleWeight), "Every loss weight is 0 ({ContentWeight}, {StyleWeight}, {TvWeight}): nothing to train for.");
    }
}
