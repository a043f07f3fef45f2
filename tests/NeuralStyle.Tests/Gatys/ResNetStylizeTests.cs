using NeuralStyle.Cli;
using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Imaging;
using NeuralStyle.Models;
using NeuralStyle.Models.ResNet;

namespace NeuralStyle.Tests.Gatys;

/// <summary>Gatys on ResNet-50 through the feature-network abstraction: presets, activation smoothing, memory.</summary>
public class ResNetStylizeTests
{
    private static Backbone Narrow(ResNetLayout layout) =>
        new(ResNet50.Random(layout, 3, baseWidth: 4), layout == ResNetLayout.Keras ? InputFlavor.Caffe : InputFlavor.Torchvision, "narrow random ResNet-50");

    private static Image Pattern(int w, int h, double phase)
    {
        var img = new Image(w, h, 3);
        for (int i = 0; i < img.Data.Length; i++) img.Data[i] = (float)(0.5 + 0.45 * Math.Sin(i * 0.037 + phase * (1 + i % 3)));
        return img;
    }

    private static LossRow Evaluate(StylizeOptions o, Backbone backbone)
    {
        // Random init: both presets start from the content image, where every content term is 0.
        var s = new Stylizer(o with { Size = new SizeRule(SizeRuleKind.Exact, 64, 48), Init = InitKind.Random }, backbone);
        Stylizer.Problem p = s.Prepare(Pattern(80, 60, 0), [Pattern(70, 70, 1)]);
        return p.Evaluate(withGradient: true);
    }

    [Fact]
    public void Swag_SmoothsOnlyLayer3AndLayer4_BeforeBothGramAndContentLosses()
    {
        StylizeOptions swag = Presets.Get("swag");
        LossRow smoothed = Evaluate(swag, Narrow(ResNetLayout.Torchvision));
        LossRow raw = Evaluate(swag with { ActivationSmoothing = SmoothingKind.None }, Narrow(ResNetLayout.Torchvision));
        LossRow scaled = Evaluate(swag with { ActivationSmoothing = SmoothingKind.Scale }, Narrow(ResNetLayout.Torchvision));
        Assert.Equal(raw.Terms["style:conv1_relu"], smoothed.Terms["style:conv1_relu"]);
        Assert.Equal(raw.Terms["style:conv3_block4_out"], smoothed.Terms["style:conv3_block4_out"]);
        Assert.NotEqual(raw.Terms["style:conv4_block6_out"], smoothed.Terms["style:conv4_block6_out"]);
        Assert.NotEqual(raw.Terms["style:conv5_block3_out"], smoothed.Terms["style:conv5_block3_out"]);
        Assert.NotEqual(raw.Terms["content:conv4_block6_out"], smoothed.Terms["content:conv4_block6_out"]);
        // ×0.001 scales a Gram term by 1e-12 and a content term by 1e-6 exactly (up to float rounding).
        Assert.Equal(raw.Terms["style:conv5_block3_out"] * 1e-12, scaled.Terms["style:conv5_block3_out"], raw.Terms["style:conv5_block3_out"] * 1e-16);
        Assert.Equal(raw.Terms["content:conv4_block6_out"] * 1e-6, scaled.Terms["content:conv4_block6_out"], raw.Terms["content:conv4_block6_out"] * 1e-10);
        Assert.True(double.IsFinite(smoothed.Loss));
    }

    [Fact]
    public void Smoothing_DefaultsToSoftmaxOnResNet_AndOffOnVgg()
    {
        var resnet = new Stylizer(Presets.Get("swag") with { ActivationSmoothing = null, SmoothedLayers = null }, Narrow(ResNetLayout.Torchvision));
        Assert.Equal(SmoothingKind.Softmax, resnet.Smoothing.Kind);
        var table = new ResNetLayers(4);
        Assert.Equal([table.Resolve("layer3").Index, table.Resolve("layer4").Index], resnet.Smoothing.Layers.Order());

        var vgg = new Stylizer(Presets.Get("neural-style"), Backbone.Random());
        Assert.Equal(SmoothingKind.None, vgg.Smoothing.Kind);
        var vggSoftmax = new Stylizer(Presets.Get("neural-style") with { ActivationSmoothing = SmoothingKind.Softmax }, Backbone.Random());
        Assert.Equal(6, vggSoftmax.Smoothing.Layers.Count); // every loss layer: relu4_2 and relu1_1..relu5_1
    }

    [Fact]
    public void SmoothingMistakes_NameTheOption()
    {
        var bad = Assert.Throws<OptionException>(() =>
            new Stylizer(Presets.Get("swag") with { SmoothingTemperature = 0 }, Narrow(ResNetLayout.Torchvision)));
        Assert.Equal(nameof(StylizeOptions.SmoothingTemperature), bad.Option);
        var unknown = Assert.Throws<OptionException>(() =>
            new Stylizer(Presets.Get("swag") with { SmoothedLayers = ["relu4_2"] }, Narrow(ResNetLayout.Torchvision)));
        Assert.Equal(nameof(StylizeOptions.SmoothedLayers), unknown.Option);
        Assert.Contains("layer1..layer4", unknown.Message);
    }

    [Fact]
    public void VggLayerNamesOnResNet_AreRefusedBeforeAnyWork()
    {
        var ex = Assert.Throws<OptionException>(() => new Stylizer(Presets.Get("neural-style"), Narrow(ResNetLayout.Torchvision)));
        Assert.Equal(nameof(StylizeOptions.ContentLayers), ex.Option);
        Assert.Contains("'relu4_2' for ResNet-50", ex.Message);
    }

    [Fact]
    public void KerasResNetPreset_ReadsPreBatchNormConvolutions_OfTheKerasLayout()
    {
        StylizeOptions o = Presets.Get("keras-resnet");
        Assert.Equal("resnet50-keras", o.Model);
        LossRow row = Evaluate(o with { ActivationSmoothing = SmoothingKind.None }, Narrow(ResNetLayout.Keras));
        Assert.Equal(["content:conv5_block2_1_conv", "style:conv3_block1_1_conv", "style:conv4_block1_1_conv", "style:conv5_block1_1_conv"],
            row.Terms.Keys.Order());
        Assert.All(row.Terms.Values, v => Assert.True(double.IsFinite(v) && v > 0));
    }

    [Fact]
    public void Swag_FewLbfgsSteps_LowerTheLoss()
    {
        var rows = new List<ProgressRecord>();
        // The preset's 1e17 is calibrated for the pretrained network's activations; the narrow random one needs less.
        var s = new Stylizer(Presets.Get("swag") with { Size = new SizeRule(SizeRuleKind.Exact, 48, 48), Iterations = 5, StyleWeight = 1e6 },
            Narrow(ResNetLayout.Torchvision)) { Progress = rows.Add };
        StylizeResult r = s.Run(Pattern(60, 50, 0), [Pattern(64, 64, 2)]);
        Assert.Null(r.Failure);
        Assert.True(rows[^1].Loss < rows[0].Loss, $"loss {rows[0].Loss} -> {rows[^1].Loss}");
    }

    [Fact]
    public void MemoryEstimate_CoversTheResNetGraphs()
    {
        StylizeOptions o = Presets.Get("swag");
        var net = ResNet50.Random(ResNetLayout.Torchvision, 1, baseWidth: 8);
        long small = MemoryEstimate.Stylize(o, net, 64, 64), large = MemoryEstimate.Stylize(o, net, 128, 128);
        Assert.True(large > small && small > MemoryBudget.BaseBytes);
        var s = new Stylizer(o with { Size = new SizeRule(SizeRuleKind.Exact, 64, 64) }, new Backbone(net, InputFlavor.Torchvision, "n"));
        Stylizer.Problem p = s.Prepare(Pattern(64, 64, 0), [Pattern(64, 64, 1)]);
        p.Evaluate(withGradient: true);
        long planned = s.PlanGraphBytes(64, 64, 64, 64);
        Assert.True(p.Graph.PeakAllocatedBytes <= planned, $"peak {p.Graph.PeakAllocatedBytes} > planned {planned}");
    }

    [Fact]
    public void Cli_BindsTheSmoothingFlags_AndResNetPicksItsOwnPreset()
    {
        ParsedArgs a = ParsedArgs.Parse("stylize",
            new[] { "--activation-smoothing", "scale", "--smoothing-temperature", "2.5", "--smoothing-layers", "layer2,layer4" }, StylizeCommand.Options);
        StylizeOptions o = StylizeCommand.Bind(a, Presets.Get("swag"));
        Assert.Equal(SmoothingKind.Scale, o.ActivationSmoothing);
        Assert.Equal(2.5, o.SmoothingTemperature);
        Assert.Equal(["layer2", "layer4"], o.SmoothedLayers);
        Assert.Equal("swag", Presets.DefaultFor("resnet50"));
        Assert.Equal("keras-resnet", Presets.DefaultFor("ResNet50-Keras"));
        Assert.Equal("random-features", Presets.DefaultFor("random"));
        Assert.Equal("neural-style", Presets.DefaultFor("vgg16"));
    }
}
