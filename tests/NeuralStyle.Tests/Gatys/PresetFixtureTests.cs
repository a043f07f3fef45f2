using System.Text.Json;
using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Losses;
using NeuralStyle.Imaging;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;

namespace NeuralStyle.Tests.Gatys;

/// <summary>Every loss term, total and input gradient of every preset against the PyTorch fixtures (tests/fixtures).</summary>
public class PresetFixtureTests
{
    internal static readonly Lazy<VggNet> NarrowVgg19 = new(() =>
        VggNet.FromStateDict(VggArchitecture.Vgg19, Fixtures.Tensors("vgg19_narrow.safetensors")));

    internal static Image FixtureImage(string name)
    {
        WeightTensor t = Fixtures.Tensors("images.safetensors")[name];
        return new Image(t.Shape[3], t.Shape[2], 3, Fixtures.ToNhwc(t));
    }

    /// <summary>The preset as the fixture ran it: no resizing, the fixture's styles and blend.</summary>
    internal static (Stylizer.Problem Problem, StylizeOptions Options) Setup(string preset, Action<StylizeOptions>? check = null)
    {
        JsonElement cfg = Fixtures.Json($"preset_{preset}.json").GetProperty("config");
        Image content = FixtureImage("content");
        string[] styleNames = cfg.GetProperty("styles").EnumerateArray().Select(e => e.GetString()!).ToArray();
        double[]? blend = cfg.TryGetProperty("blend", out JsonElement b) ? b.EnumerateArray().Select(e => e.GetDouble()).ToArray() : null;
        StylizeOptions o = Presets.Get(preset) with
        {
            Size = new SizeRule(SizeRuleKind.Exact, content.Width, content.Height),
            StyleScale = 0,
            StyleToOutputSize = false,
            StyleBlend = blend,
        };
        check?.Invoke(o);
        InputFlavor flavor = InputFlavors.Parse(cfg.GetProperty("flavour").GetString()!);
        var stylizer = new Stylizer(o, new Backbone(NarrowVgg19.Value, flavor, "narrow fixture VGG-19"));
        Stylizer.Problem p = stylizer.Prepare(content, styleNames.Select(FixtureImage).ToList());
        return (p, o);
    }

    internal static void SetX(Stylizer.Problem p, WeightTensor x) => Fixtures.ToNhwc(x).CopyTo(p.X.Data, 0);

    // The fixtures run the narrow VGG-19; the ResNet presets reuse these presets' loss schemes, and their network, the
    // softmax smoothing and its gradient are checked against PyTorch in tests/fixtures/engine/resnet (ResNetFixtureTests).
    // "fast" and "coarse-to-fine" are neural-style's losses with another start or schedule (FastPresetTests checks that
    // field by field): no fixtures of their own.
    public static TheoryData<string> PresetNames => new(Presets.Names.Where(n => n is not ("fast" or "coarse-to-fine")
        && !Presets.Get(n).Model.StartsWith("resnet50", StringComparison.Ordinal)));

    [Theory]
    [MemberData(nameof(PresetNames))]
    public void Preset_FixtureImage_TermsMatchPyTorch(string preset)
    {
        (Stylizer.Problem p, _) = Setup(preset);
        SetX(p, Fixtures.Tensors($"preset_{preset}.safetensors")["x"]);
        var r = p.Evaluate(withGradient: false);
        JsonElement expected = Fixtures.Json($"preset_{preset}.json");
        var terms = expected.GetProperty("terms").EnumerateObject().ToDictionary(t => t.Name, t => t.Value.GetDouble());
        // A term PyTorch reports as exactly 0 (TV of presets without one) is simply not built here.
        Assert.Equal(terms.Where(t => t.Value != 0).Select(t => t.Key).Order(), r.Terms.Keys.Order());
        foreach ((string name, double value) in terms.Where(t => t.Value != 0))
            Assert.True(Fixtures.Relative(r.Terms[name], value) <= 1e-4, $"{preset} {name}: ours {r.Terms[name]:R}, PyTorch {value:R}");
        JsonElement totals = expected.GetProperty("totals");
        Assert.True(Fixtures.Relative(r.Loss, totals.GetProperty("loss").GetDouble()) <= 1e-4, $"{preset} loss {r.Loss:R}");
        Assert.True(Fixtures.Relative(r.Content, totals.GetProperty("content").GetDouble()) <= 1e-4);
        Assert.True(Fixtures.Relative(r.Style, totals.GetProperty("style").GetDouble()) <= 1e-4);
    }

    [Theory]
    [MemberData(nameof(PresetNames))]
    public void Preset_FixtureImage_GradientMatchesPyTorch(string preset)
    {
        (Stylizer.Problem p, _) = Setup(preset);
        var t = Fixtures.Tensors($"preset_{preset}.safetensors");
        SetX(p, t["x"]);
        p.Evaluate(withGradient: true);
        double err = Fixtures.RelativeError(p.X.Grad, Fixtures.ToNhwc(t["grad"]));
        Assert.True(err <= 1e-4, $"{preset}: gradient relative error {err:G3}");
    }

    [Theory]
    [MemberData(nameof(PresetNames))]
    public void Preset_Targets_MatchPyTorch(string preset)
    {
        (Stylizer.Problem p, _) = Setup(preset);
        var t = Fixtures.Tensors($"preset_{preset}.safetensors");
        foreach ((string key, WeightTensor expected) in t)
        {
            if (!key.StartsWith("target:", StringComparison.Ordinal) && !key.StartsWith("content_target:", StringComparison.Ordinal)) continue;
            NeuralStyle.Tensors.Value v = p.Graph.Nodes.Single(n => n.Name == key);
            float[] exp = expected.Shape.Length == 4 ? Fixtures.ToNhwc(expected) : expected.Data;
            double err = Fixtures.RelativeError(v.Data, exp);
            Assert.True(err <= 1e-4, $"{preset} {key}: relative error {err:G3}");
        }
    }
}
