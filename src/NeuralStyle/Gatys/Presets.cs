using NeuralStyle.Losses;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;

namespace NeuralStyle.Gatys;

/// <summary>The presets of spec §2 and §7: each reproduces one reference exactly; every field can be overridden.</summary>
public static class Presets
{
    public const string Default = "neural-style";

    public static IReadOnlyList<string> Names { get; } = ["neural-style", "keras", "gatys-tf", "pytorch-tutorial", "random-features", "keras-resnet", "swag", "fast", "coarse-to-fine"];

    public static string Describe(string name) => name switch
    {
        "neural-style" => "jcjohnson/neural-style (PyTorch port): relu4_2 content, relu1_1..relu5_1 style, L1 TV, L-BFGS 1000, 512 px; caffe VGG-19",
        "keras" => "the Keras neural-style example: block5_conv2 content, block1..5_conv1 style, TV^1.25, L-BFGS 10×10, height 400; caffe VGG-19",
        "gatys-tf" => "the TensorFlow course: conv4_2 content, conv1..5_1 style ×40, Adam lr 2, 50 steps, 400×300, avg pooling",
        "pytorch-tutorial" => "the PyTorch tutorial: conv4_2 content, weighted conv1..5_1 style ×1e6, Adam lr 3e-4, 5000 steps; torchvision VGG-19",
        "random-features" => "the embedded random VGG-19: normalised losses, content + 10·style, Adam lr 0.02 on pixels",
        "keras-resnet" => "the Keras example's ResNet-50 attempt: keras losses, res5b_branch2a content, res3a/4a/5a_branch2a style, no smoothing, L-BFGS 10×10; Keras ResNet-50",
        "fast" => "neural-style's losses and weights, from the content image, 70 L-BFGS iterations (history 40) on a rounded TV with a pyramid preconditioner: below neural-style's 1000-iteration loss (measured on the random network)",
        "coarse-to-fine" => "neural-style's losses and weights, coarse-to-fine: 128 → 256 → 512 px by ×2, L-BFGS 200/60/40 per scale as in fast, history carried, TV weighed as at full size",
        "swag" => "SWAG (Wang et al. 2021): softmax-smoothed layer3/layer4, stem + every stage's last block style ×1e17, layer3 content, L-BFGS 1000, 512×512; torchvision ResNet-50",
        _ => throw UnknownPreset(name),
    };

    /// <summary>The preset a model runs with when none is named: the VGG presets' layer names do not exist in ResNet-50.</summary>
    public static string DefaultFor(string model) => model.Trim().ToLowerInvariant() switch
    {
        "random" => "random-features",
        "resnet50-keras" => "keras-resnet",
        "resnet50" => "swag",
        _ => Default,
    };

    public static StylizeOptions Get(string name) => name switch
    {
        "neural-style" => new StylizeOptions { Preset = name },
        "keras" => new StylizeOptions
        {
            Preset = name,
            Size = new(SizeRuleKind.Height, 400),
            ContentLayers = ["relu5_2"],
            StyleLayers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"],
            EqualShareLayerWeights = true,
            ContentWeight = 0.025,
            StyleWeight = 1.0,
            TvWeight = 1e-4,
            ContentScheme = ContentScheme.Sum,
            StyleScheme = StyleScheme.Keras,
            TvScheme = TvScheme.Keras,
            Init = InitKind.Image,
            Optimizer = OptimizerKind.Lbfgs,
            Iterations = 100,
            LbfgsRounds = 10,
            LbfgsHistory = 10,
            SaveEvery = 10,
        },
        "gatys-tf" => new StylizeOptions
        {
            Preset = name,
            Size = new(SizeRuleKind.Exact, 400, 300),
            Pooling = PoolingKind.Avg,
            ContentLayers = ["relu4_2"],
            StyleLayers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"],
            EqualShareLayerWeights = true,
            ContentWeight = 10,
            StyleWeight = 40,
            TvWeight = 0,
            ContentScheme = ContentScheme.GatysTf,
            StyleScheme = StyleScheme.GatysTf,
            Init = InitKind.Noise,
            Optimizer = OptimizerKind.Adam,
            LearningRate = 2.0,
            Iterations = 50,
            SaveEvery = 25,
        },
        "pytorch-tutorial" => new StylizeOptions
        {
            Preset = name,
            Flavor = InputFlavor.Torchvision,
            Size = new(SizeRuleKind.ShortEdgeIfLongExceeds, 400),
            StyleToOutputSize = true,
            ContentLayers = ["relu4_2"],
            StyleLayers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"],
            StyleLayerWeights = [1, 0.75, 0.2, 0.2, 0.2],
            ContentWeight = 1,
            StyleWeight = 1e6,
            TvWeight = 0,
            ContentScheme = ContentScheme.Mean,
            StyleScheme = StyleScheme.Tutorial,
            Init = InitKind.Image,
            Optimizer = OptimizerKind.Adam,
            LearningRate = 0.0003,
            Iterations = 5000,
        },
        "random-features" => new StylizeOptions
        {
            Preset = name,
            Model = "random",
            Flavor = InputFlavor.Torchvision,
            Pooling = PoolingKind.Avg,
            Size = new(SizeRuleKind.LongEdge, 256),
            ContentLayers = ["relu4_2"],
            StyleLayers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"],
            EqualShareLayerWeights = true,
            ContentWeight = 1,
            StyleWeight = 10,
            TvWeight = 0,
            ContentScheme = ContentScheme.Normalized,
            StyleScheme = StyleScheme.Normalized,
            Init = InitKind.Image,
            Optimizer = OptimizerKind.Adam,
            LearningRate = 0.02,
            Iterations = 300,
            PixelSpace = true,
        },
        // Seed 000, part 3: the Keras example's losses on keras.applications.ResNet50 (old layer names: res5b_branch2a is
        // conv5_block2_1_conv, the convolution before its batch norm), style weight 4e5 shared by the 3 layers.
        "keras-resnet" => Get("keras") with
        {
            Preset = name,
            Model = "resnet50-keras",
            Flavor = InputFlavor.Caffe,
            ContentLayers = ["res5b_branch2a"],
            StyleLayers = ["res3a_branch2a", "res4a_branch2a", "res5a_branch2a"],
            ContentWeight = 0.0001,
            StyleWeight = 400000,
            TvWeight = 0,
            ActivationSmoothing = SmoothingKind.None,
        },
        // peiwang062/swag: content and style resized to 512×512, the optimised image starts as the content in input
        // space; Grams divided by C·h·w, means of squares; every style layer weight 1.
        "swag" => new StylizeOptions
        {
            Preset = name,
            Model = "resnet50",
            Size = new(SizeRuleKind.Exact, 512, 512),
            StyleToOutputSize = true,
            ContentLayers = ["layer3"],
            StyleLayers = ["conv1_relu", "layer1", "layer2", "layer3", "layer4"],
            ContentWeight = 1,
            StyleWeight = 1e17,
            TvWeight = 0,
            ContentScheme = ContentScheme.Mean,
            StyleScheme = StyleScheme.NeuralStyle,
            ActivationSmoothing = SmoothingKind.Softmax,
            SmoothedLayers = ["layer3", "layer4"],
            Init = InitKind.Image,
            Optimizer = OptimizerKind.Lbfgs,
            Iterations = 1000,
            LbfgsHistory = 100,
        },
        // neural-style's objective; the start, the budget and how L-BFGS walks differ. Measured (bench/NOTES.md, README
        // "Fast"): the L1 TV's corner stalls L-BFGS (its curvature pairs cannot model a kink), so the optimiser sees TV
        // with |d| rounded over 1.5 pixel levels and a 4-level pyramid preconditioner; every row and the result report
        // the exact loss. From the content image, 63 such iterations reach neural-style's 1000-iteration loss at 512 px.
        "fast" => new StylizeOptions
        {
            Preset = name,
            Init = InitKind.Image,
            Iterations = 70,
            TvSmoothing = 1.5,
            PreconditionLevels = 4,
            LbfgsHistory = 40, // the same loss after 70 iterations as 100 pairs (25021.9), with 140 MB less at 512 px
        },
        // neural-style's losses, weights and init; the schedule differs (README "Coarse-to-fine", bench/NOTES), and L-BFGS
        // walks as in "fast" (rounded TV, pyramid preconditioner: 1.057× instead of 1.110× the 1000-iteration loss in the
        // same time). The final scale's objective is exactly neural-style's; coarser scales weigh the (summed) TV term as
        // the final size would, start from the upsampled previous result and from its L-BFGS pairs resampled.
        "coarse-to-fine" => new StylizeOptions
        {
            Preset = name,
            MinSize = 128,
            ScaleFactor = 2,
            ScaleIterations = [200, 60, 40],
            CarryHistory = true,
            ScaleConsistentTv = true,
            ScaleStopChange = 0, // measured: stopping the cheap first scale early cost more loss than it saved time
            Iterations = 40,
            TvSmoothing = 1.5,
            PreconditionLevels = 4,
        },
        _ => throw UnknownPreset(name),
    };

    private static ArgumentException UnknownPreset(string name)
        => new($"Unknown preset '{name}'; choose one of {string.Join(", ", Names)}.");
}
