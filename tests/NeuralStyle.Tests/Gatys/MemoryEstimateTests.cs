using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Losses;
using NeuralStyle.Imaging;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;

namespace NeuralStyle.Tests.Gatys;

public class MemoryEstimateTests
{
    private static Image Noise(int w, int h, ulong seed)
    {
        var img = new Image(w, h, 3);
        new NeuralStyle.Tensors.Rng(seed).FillUniform(img.Data, 0, 1);
        return img;
    }

    /// <summary>
    /// The estimate (less the fixed base) is what the run really allocates: the graphs' measured peak (target passes
    /// and the loss graph after a forward and backward pass), the weights and their packing, and the optimiser's state.
    /// </summary>
    [Theory]
    [InlineData("neural-style", 160, 120)]
    [InlineData("neural-style", 512, 384)]
    [InlineData("random-features", 128, 96)]
    [InlineData("random-features", 256, 192)]
    [InlineData("keras", 96, 128)]
    public void Estimate_MatchesMeasuredPeak(string preset, int w, int h)
    {
        StylizeOptions o = Presets.Get(preset) with { Size = new SizeRule(SizeRuleKind.Exact, w, h), StyleScale = 1 };
        var net = VggNet.Random(VggArchitecture.Vgg19, 1);
        var stylizer = new Stylizer(o, new Backbone(net, InputFlavor.Torchvision, "random"));
        Stylizer.Problem p = stylizer.Prepare(Noise(w, h, 1), [Noise(w, h, 2)]);
        p.Evaluate(withGradient: true);
        p.Evaluate(withGradient: true);
        int deepest = o.ContentLayers.Concat(o.StyleLayers).Max(l => net.Layers.Resolve(l).Index);
        long targets = p.Graph.Nodes.Where(v => v.IsLeaf && (v.Name?.StartsWith("target:", StringComparison.Ordinal) == true || v.Name?.StartsWith("content_target:", StringComparison.Ordinal) == true)).Sum(v => 4L * v.Length);
        long measured = targets + Math.Max(stylizer.LastTargetPassPeakBytes, p.Graph.PeakAllocatedBytes)
                        + MemoryEstimate.OptimizerBytes(o, w, h) + MemoryBudget.WeightBytes(net, deepest);
        long predicted = MemoryEstimate.Stylize(o, net, w, h) - MemoryBudget.BaseBytes;
        Assert.InRange((double)predicted / measured, 0.97, 1.10);
    }

    [Fact]
    public void LargestFittingLongEdge_FitsAndIsMultipleOf16()
    {
        StylizeOptions o = Presets.Get("neural-style");
        var net = VggNet.Random(VggArchitecture.Vgg19, 1);
        long budget = 2L << 30;
        int edge = MemoryEstimate.LargestFittingLongEdge(o, net, 4000, 3000, budget);
        Assert.Equal(0, edge % 16);
        Assert.True(MemoryEstimate.Stylize(o, net, edge, edge * 3 / 4) <= budget);
        Assert.True(MemoryEstimate.Stylize(o, net, edge + 64, (edge + 64) * 3 / 4) > budget);
    }
}

public class TextureMemoryEstimateTests
{
    /// <summary>The texture estimate (less the base) is the measured peak of the source passes and the loss graph, plus weights and L-BFGS state.</summary>
    [Theory]
    [InlineData(96, 2, 1)]
    [InlineData(200, 3, 1)]
    [InlineData(128, 3, 2)]
    public void Estimate_MatchesMeasuredPeak(int size, int octaves, int count)
    {
        var o = new NeuralStyle.Texture.TextureOptions { Width = size, Octaves = octaves, Count = count, Padding = NeuralStyle.Texture.TexturePadding.Circular, Layers = ["relu1_1", "relu2_1"] };
        var net = VggNet.Random(VggArchitecture.Vgg19, 1);
        var synth = new NeuralStyle.Texture.TextureSynthesizer(o, new Backbone(net, InputFlavor.Torchvision, "random"));
        var source = new Image(size, size, 3);
        new NeuralStyle.Tensors.Rng(3).FillUniform(source.Data, 0, 1);
        NeuralStyle.Core.LossProblem p = synth.Prepare([source]);
        p.Evaluate(withGradient: true);
        p.Evaluate(withGradient: true);
        int deepest = o.Layers.Max(l => net.Layers.Resolve(l).Index);
        long targets = p.Graph.Nodes.Where(v => v.IsLeaf && v.Name?.StartsWith("target:", StringComparison.Ordinal) == true).Sum(v => 4L * v.Length);
        long pixels = (long)size * size * 3 * count;
        long measured = targets + Math.Max(synth.LastSourcePassPeakBytes, p.Graph.PeakAllocatedBytes)
                        + MemoryBudget.WeightBytes(net, deepest) + 4 * pixels * (2L * o.LbfgsHistory + 8);
        long predicted = NeuralStyle.Texture.TextureSynthesizer.EstimateBytes(o, net, [(size, size)]) - MemoryBudget.BaseBytes;
        Assert.InRange((double)predicted / measured, 0.97, 1.10);
    }
}
