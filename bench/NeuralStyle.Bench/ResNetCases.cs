using System.Diagnostics;
using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Models;
using NeuralStyle.Models.ResNet;

namespace NeuralStyle.Bench;

/// <summary>
/// One evaluation (forward + backward) of the swag preset's loss on a random torchvision ResNet-50 at size×size:
/// content at layer3, style at the stem and every stage's last block, softmax smoothing on layer3/layer4.
/// </summary>
internal sealed class ResNetGatysIterationCase(int size) : BenchCase
{
    private Stylizer.Problem? _p;

    public override string Name => "resnet50-gatys-iter";

    public override string Size => $"{size}²";

    /// <summary>Forward and backward-to-the-input of the convolutions (the Grams and the rest are small beside them).</summary>
    public override double Flops => 2 * 2 * ResNet50.Random(ResNetLayout.Torchvision, 1, baseWidth: 64).ForwardMacs(size, size);

    public override Dictionary<string, object> PeerSpec => new() { ["kind"] = "resnet_gatys_iter", ["w"] = size, ["h"] = size };

    public override void Setup()
    {
        var stylizer = new Stylizer(Presets.Get("swag") with { Iterations = 0, Size = new SizeRule(SizeRuleKind.Exact, size, size) },
            new Backbone(ResNet50.Random(ResNetLayout.Torchvision, Backbone.RandomSeed), InputFlavor.Torchvision, "random ResNet-50"));
        _p = stylizer.Prepare(Synthetic.Content(size, size), [Synthetic.Style(size, size)]);
    }

    public override RunResult Run()
    {
        long t0 = Stopwatch.GetTimestamp();
        _p!.Evaluate(withGradient: true);
        return new RunResult(Stopwatch.GetElapsedTime(t0).TotalSeconds);
    }

    public override void Teardown() => _p = null;
}
