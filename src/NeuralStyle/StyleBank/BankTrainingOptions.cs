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

/// <summary>
/// Every setting of StyleBank training (spec §6), each default held once here or, for what every trainer shares, in
/// <see cref="TrainingSettings"/>. <see cref="TrainingSettings.ImageSize"/> must be a multiple of 4; each of the
/// <see cref="TrainingSettings.BatchSize"/> images carries one style, cycling through all of them (the paper: 4);
/// stylising and auto-encoder steps both count as steps.
/// </summary>
public sealed record BankTrainingOptions : TrainingSettings
{
    /// <summary>Stylising steps before each auto-encoder step (the "T+1" schedule).</summary>
    public int T { get; init; } = 2;
    /// <summary>λ of the gradient balancing.</summary>
    public double Lambda { get; init; } = 1;
    public BranchBalancing Balancing { get; init; } = BranchBalancing.GradientNorm;
    /// <summary>The learning rate is multiplied by <see cref="DecayFactor"/> every this many steps (0: never; the paper: 30,000).</summary>
    public int DecayEvery { get; init; } = 30_000;
    public double DecayFactor { get; init; } = 0.8;
    /// <summary>α: MSE of the loss network's features of output and input at <see cref="ContentLayer"/>.</summary>
    public double ContentWeight { get; init; } = 1;
    /// <summary>β: Σ over <see cref="StyleLayers"/> of the MSE of per-sample Grams G/(C·h·w).</summary>
    public double StyleWeight { get; init; } = 1e6;
    /// <summary>γ: L1 total variation of the output on a [0,1] scale (summed over the batch).</summary>
    public override double TvWeight { get; init; } = 1e-5;
    public override string ContentLayer { get; init; } = "relu4_2";
    public override IReadOnlyList<string> StyleLayers { get; init; } = ["relu1_2", "relu2_2", "relu3_2", "relu4_2"];
    public PoolingKind Pooling { get; init; } = PoolingKind.Max;

    /// <summary>Checks the values a user can get wrong; throws <see cref="OptionException"/> naming the property.</summary>
    public override void Validate()
    {
        if (ImageSize < 16 || ImageSize % 4 != 0) throw new OptionException(nameof(ImageSize), $"{{{nameof(ImageSize)}}} must be a multiple of 4 and at least 16 (got {ImageSize}).");
        ValidateShared();
        if (T < 1) throw new OptionException(nameof(T), $"{{{nameof(T)}}} must be at least 1 (stylising steps per auto-encoder step).");
        if (!(Lambda > 0) || !double.IsFinite(Lambda)) throw new OptionException(nameof(Lambda), $"{{{nameof(Lambda)}}} must be positive.");
        if (DecayEvery < 0) throw new OptionException(nameof(DecayEvery), $"{{{nameof(DecayEvery)}}} must not be negative.");
        if (!(DecayFactor > 0) || !double.IsFinite(DecayFactor)) throw new OptionException(nameof(DecayFactor), $"{{{nameof(DecayFactor)}}} must be positive.");
        NotNegative(ContentWeight, nameof(ContentWeight));
        NotNegative(StyleWeight, nameof(StyleWeight));
        if (ContentWeight == 0 && StyleWeight == 0 && TvWeight == 0)
            throw new OptionException(nameof(StyleWeight), "Every loss weight is 0 ({ContentWeight}, {StyleWeight}, {TvWeight}): nothing to train for.");
    }
}
