using NeuralStyle.Core;
using NeuralStyle.Losses;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;

namespace NeuralStyle.Gatys;

/// <summary>How the optimised image starts.</summary>
public enum InitKind
{
    /// <summary>Preset-defined noise: 0.001·N(0,1) in input space (neural-style), U(0,1) pixels in pixel space.</summary>
    Random,
    /// <summary>gatys-tf's noise: 0.6·U(−20, 20) + 0.4·content, in input space.</summary>
    Noise,
    /// <summary>The content image.</summary>
    Image,
    /// <summary>The first style image, resized to the output size.</summary>
    Style,
    /// <summary>An image file, resized to the output size.</summary>
    File,
}

/// <summary>The style term: Gram matrices of the image, or of every level of its Gaussian pyramid (spec §4).</summary>
public enum StyleLossKind { Gram, Pyramid }

public enum SizeRuleKind
{
    /// <summary>The output's long edge is A.</summary>
    LongEdge,
    /// <summary>The output's height is A (width keeps the aspect ratio).</summary>
    Height,
    /// <summary>The output is exactly A×B (width × height).</summary>
    Exact,
    /// <summary>torchvision Resize(A) when the long edge exceeds A: the SHORT edge becomes A; otherwise unchanged.</summary>
    ShortEdgeIfLongExceeds,
}

public readonly record struct SizeRule(SizeRuleKind Kind, int A, int B = 0)
{
    /// <summary>The output size for a content image of w×h.</summary>
    public (int Width, int Height) Apply(int w, int h)
    {
        static int R(double v) => Math.Max(1, (int)Math.Round(v, MidpointRounding.AwayFromZero));
        switch (Kind)
        {
            case SizeRuleKind.LongEdge:
                return w >= h ? (A, R((double)h * A / w)) : (R((double)w * A / h), A);
            case SizeRuleKind.Height:
                return (R((double)w * A / h), A);
            case SizeRuleKind.Exact:
                return (A, B);
            default:
                if (Math.Max(w, h) <= A) return (w, h);
                // torchvision: the short edge becomes A, the long edge int(A · long / short) (truncated).
                return w <= h ? (A, (int)((long)A * h / w)) : ((int)((long)A * w / h), A);
        }
    }

    public override string ToString() => Kind switch
    {
        SizeRuleKind.LongEdge => $"long edge {A}",
        SizeRuleKind.Height => $"height {A}",
        SizeRuleKind.Exact => $"{A}×{B}",
        _ => $"short edge {A} when the long edge exceeds {A}",
    };
}

/// <summary>
/// Every setting of a Gatys stylisation, each default held here exactly once (through <see cref="Presets"/>);
/// the command line starts from a preset and overrides single fields.
/// </summary>
public sealed record StylizeOptions
{
    public string Preset { get; init; } = "neural-style";

    // backbone
    public string Model { get; init; } = "vgg19";
    public string? Weights { get; init; }
    public InputFlavor? Flavor { get; init; }
    public PoolingKind Pooling { get; init; } = PoolingKind.Max;

    // geometry
    public SizeRule Size { get; init; } = new(SizeRuleKind.LongEdge, 512);
    /// <summary>Style long edge = output long edge × this; 0 keeps each style image at its own size.</summary>
    public double StyleScale { get; init; } = 1;
    /// <summary>Resize every style image to the output's exact size (pytorch-tutorial).</summary>
    public bool StyleToOutputSize { get; init; }
    public IReadOnlyList<double>? StyleBlend { get; init; }

    // losses
    public IReadOnlyList<string> ContentLayers { get; init; } = ["relu4_2"];
    public IReadOnlyList<string> StyleLayers { get; init; } = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"];
    /// <summary>Per-layer style weights; null: the preset's rule (<see cref="EqualShareLayerWeights"/>).</summary>
    public IReadOnlyList<double>? StyleLayerWeights { get; init; }
    /// <summary>When no per-layer weights are given: each layer gets 1/L (true) or 1 (false).</summary>
    public bool EqualShareLayerWeights { get; init; }
    public double ContentWeight { get; init; } = 5;
    public double StyleWeight { get; init; } = 100;
    public double TvWeight { get; init; } = 1e-3;
    public ContentScheme ContentScheme { get; init; } = ContentScheme.Mean;
    public StyleScheme StyleScheme { get; init; } = StyleScheme.NeuralStyle;
    public TvScheme TvScheme { get; init; } = TvScheme.L1;
    public bool NormalizeGradients { get; init; }
    /// <summary>Smoothing of the activations before the losses (SWAG); null: the network's default (softmax for ResNet, none for VGG).</summary>
    public SmoothingKind? ActivationSmoothing { get; init; }
    /// <summary>T of the softmax smoothing, softmax(x / T) over channels.</summary>
    public double SmoothingTemperature { get; init; } = 1;
    /// <summary>Layers smoothed; null: the network's default (ResNet: layer3 and layer4 outputs), or every loss layer when it has none.</summary>
    public IReadOnlyList<string>? SmoothedLayers { get; init; }

    // optimisation
    public InitKind Init { get; init; } = InitKind.Random;
    public string? InitPath { get; init; }
    public ulong Seed { get; init; } = 0;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Lbfgs;
    public int Iterations { get; init; } = 1000;
    public double LearningRate { get; init; } = 1;
    public int LbfgsHistory { get; init; } = 100;
    /// <summary>L-BFGS restarted this many times, Iterations/Rounds evaluations each (keras's scipy loop); 1 = one run.</summary>
    public int LbfgsRounds { get; init; } = 1;
    public bool StrongWolfe { get; init; }
    /// <summary>
    /// L-BFGS preconditioned over this many coarser levels of an image pyramid (<see cref="Core.PyramidPreconditioner"/>):
    /// large areas of the image move together from the first steps, each level at the same gain. 0: plain L-BFGS, as torch's.
    /// </summary>
    public int PreconditionLevels { get; init; }
    /// <summary>
    /// Optimise the L1 TV with each |d| rounded into √(d² + ε²) − ε, ε in 0–255 pixel levels (0: the exact term).
    /// L-BFGS's curvature model cannot follow |d|'s corner, which stalls it; with a rounded corner it descends several
    /// times faster. Rows and results still report the exact loss (the rounding is below it by at most ε per difference).
    /// </summary>
    public double TvSmoothing { get; init; }
    /// <summary>Optimise the [0,1] pixel image (clamped after each step) instead of the backbone's input space.</summary>
    public bool PixelSpace { get; init; }

    // multi-scale
    /// <summary>Number of coarse-to-fine scales (1: single scale). With MinSize, the scales run from MinSize up.</summary>
    public int Scales { get; init; } = 1;
    /// <summary>Long edge of the first scale of a coarse-to-fine run (default 128 when Scales &gt; 1).</summary>
    public int? MinSize { get; init; }
    public double ScaleFactor { get; init; } = Math.Sqrt(2);
    /// <summary>Iterations at the first scale (default: Iterations).</summary>
    public int? InitialIterations { get; init; }
    /// <summary>
    /// Iterations at each scale of a coarse-to-fine run, aligned to the END of the schedule: the last entry is the final
    /// scale's, the one before it the scale before's; scales before the first entry use the first entry. A schedule
    /// shorter than the list still gives its first scale, which starts from noise, the first entry (200,60,40 over two
    /// scales: 200,40). Null: the first scale runs <see cref="InitialIterations"/> and every later one <see cref="Iterations"/>.
    /// </summary>
    public IReadOnlyList<int>? ScaleIterations { get; init; }
    /// <summary>Carry the L-BFGS curvature pairs and H₀ scaling from each scale to the next, resampled to its size.</summary>
    public bool CarryHistory { get; init; }
    /// <summary>
    /// A scale before the last stops once its loss fell by less than this fraction over the last
    /// <see cref="Stylizer.StopWindow"/> iterations (0: never; each scale runs its full count).
    /// </summary>
    public double ScaleStopChange { get; init; }
    /// <summary>
    /// Weight the total-variation term of each coarser scale so that it measures what the final size would (the L1 TV is
    /// a sum over pixels: ×final/scale long edge), making each coarse problem the final one restricted to coarser images.
    /// </summary>
    public bool ScaleConsistentTv { get; init; }
    /// <summary>Exponential average of the iterates (e.g. 0.99); null: off.</summary>
    public double? Average { get; init; }
    public StyleLossKind StyleLoss { get; init; } = StyleLossKind.Gram;
    /// <summary>Pyramid levels of the pyramid style loss.</summary>
    public int StyleOctaves { get; init; } = 4;

    // output
    public bool OriginalColors { get; init; }
    public int SaveEvery { get; init; }
    public int PrintEvery { get; init; } = 50;

    /// <summary>
    /// The checks that need no network: how the optimiser walks (TV rounding, preconditioner). Throws OptionException.
    /// Front ends call it before loading a network; <see cref="Stylizer"/> calls it too.
    /// </summary>
    public void CheckOptimisation()
    {
        if (!(TvSmoothing >= 0) || !double.IsFinite(TvSmoothing))
            throw new OptionException(nameof(TvSmoothing), "{TvSmoothing} must be zero or a positive number of pixel levels.");
        if (TvSmoothing > 0 && TvScheme != TvScheme.L1 && TvWeight != 0)
            throw new OptionException(nameof(TvSmoothing), "{TvSmoothing} rounds the L1 total variation only; this preset's TV term is another.");
        PyramidPreconditioner.CheckLevels(PreconditionLevels, nameof(PreconditionLevels));
        if (PreconditionLevels > 0 && Optimizer != OptimizerKind.Lbfgs)
            throw new OptionException(nameof(PreconditionLevels), "{PreconditionLevels} preconditions L-BFGS only; set it to 0 with {Optimizer} adam.");
    }

    /// <summary>The per-layer style weights in effect.</summary>
    public double[] EffectiveStyleLayerWeights()
    {
        if (StyleLayerWeights is { } w)
        {
            if (w.Count != StyleLayers.Count)
                throw new OptionException(nameof(StyleLayerWeights),
                    $"{{StyleLayerWeights}} has {w.Count} weights for {StyleLayers.Count} style layers.");
            return [.. w];
        }
        double each = EqualShareLayerWeights ? 1.0 / StyleLayers.Count : 1.0;
        return Enumerable.Repeat(each, StyleLayers.Count).ToArray();
    }
}
