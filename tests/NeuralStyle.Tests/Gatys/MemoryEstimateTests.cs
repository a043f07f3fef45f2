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

    /// <summary>The estimate (less the fixed base) predicts the weights and the buffers the graph and optimiser really hold within 25 %.</summary>
    [Theory]
    [InlineData("neural-style", 160, 120)]
    [InlineData("neural-style", 512, 384)]
    [InlineData("random-features", 128, 96)]
    [InlineData("keras", 96, 128)]
    public void Estimate_MatchesAllocatedBuffers(string preset, int w, int h)
    {
        StylizeOptions o = Presets.Get(preset) with { Size = new SizeRule(SizeRuleKind.Exact, w, h) };
        var net = VggNet.Random(VggArchitecture.Vgg19, 1);
        Stylizer.Problem p = new Stylizer(o, new Backbone(net, InputFlavor.Torchvision, "random")).Prepare(Noise(w, h, 1), [Noise(w, h, 2)]);
        long optimizer = o.Optimizer == OptimizerKind.Lbfgs ? 4L * w * h * 3 * (2L * o.LbfgsHistory + 8) : 4L * w * h * 3 * 4;
        int deepest = o.ContentLayers.Concat(o.StyleLayers).Max(l => net.Layers.Resolve(l).Index);
        long actual = p.Graph.BufferBytes + optimizer + 4 * net.ParameterCount(deepest);
        long predicted = MemoryEstimate.Stylize(o, net, w, h) - MemoryEstimate.BaseBytes;
        Assert.InRange((double)predicted / actual, 0.75, 1.25);
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
