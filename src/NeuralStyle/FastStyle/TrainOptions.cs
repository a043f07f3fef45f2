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
/// <c>fast_neural_style</c> defaults (those every trainer shares in <see cref="TrainingSettings"/>), plus what an
/// offline run on the embedded random VGG needs (spec §7).
/// </summary>
public sealed record TrainOptions : TrainingSettings
{
    /// <summary>null: 1e5 (the reference), or 1 with <see cref="NormalizeTerms"/>.</summary>
    public double? ContentWeight { get; init; }
    /// <summary>null: 1e10 (the reference), or 10 with <see cref="NormalizeTerms"/> (spec §7).</summary>
    public double? StyleWeight { get; init; }
    /// <summary>L1 total variation of the output (0–255 pixels, summed); 0: off, as in the reference.</summary>
    public override double TvWeight { get; init; }
    /// <summary>
    /// A pixel-space content term, weight · mean((y − x)²) / mean(x²): keeps the content where the loss network cannot
    /// (the random VGG); 0: off.
    /// </summary>
    public double PixelWeight { get; init; }
    /// <summary>johnson | johnson-half (<see cref="Models.Johnson.TransformerArchitecture"/>).</summary>
    public string Architecture { get; init; } = "johnson";
    public override string ContentLayer { get; init; } = "relu2_2";
    public override IReadOnlyList<string> StyleLayers { get; init; } = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"];
    /// <summary>null: max (the reference), or avg with <see cref="NormalizeTerms"/> (spec §7).</summary>
    public PoolingKind? Pooling { get; init; }
    /// <summary>
    /// Normalised losses as <c>stylize</c>'s random-features preset (spec §7): content mean((F−Fx)²)/mean(Fx²), style the
    /// mean over layers of mean((Ĝ−Â)²)/mean(Â²). Set whenever the loss network is the random one.
    /// </summary>
    public bool NormalizeTerms { get; init; }

    public double EffectiveContentWeight => ContentWeight ?? (NormalizeTerms ? 1 : 1e5);
    public double EffectiveStyleWeight => StyleWeight ?? (NormalizeTerms ? 10 : 1e10);
    public PoolingKind EffectivePooling => Pooling ?? (NormalizeTerms ? PoolingKind.Avg : PoolingKind.Max);

    /// <summary>Checks the values a user can get wrong; throws <see cref="OptionException"/> naming the property.</summary>
    public override void Validate()
    {
        if (ImageSize < 16) throw new OptionException(nameof(ImageSize), $"{{{nameof(ImageSize)}}} must be at least 16 (got {ImageSize}).");
        ValidateShared();
        if (ContentWeight is { } cw) NotNegative(cw, nameof(ContentWeight));
        if (StyleWeight is { } sw) NotNegative(sw, nameof(StyleWeight));
        NotNegative(PixelWeight, nameof(PixelWeight));
        if (Models.Johnson.TransformerArchitecture.Find(Architecture) is null)
            throw new OptionException(nameof(Architecture), $"Unknown {{{nameof(Architecture)}}} '{Architecture}'; use johnson or johnson-half.");
    }
}
