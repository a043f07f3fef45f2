using NeuralStyle.Cli;
using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Texture;
using NeuralStyle.Models;
using NeuralStyle.Weights;

namespace NeuralStyle.Tests.Core;

/// <summary>Without the weights and without internet, the embedded random VGG-19 stands in, fed as the weights would be.</summary>
public sealed class BackboneFallbackTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-fallback-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private BackboneLoader Offline() => new(new WeightCache(Path.Combine(_dir, "cache")), _ => throw new IOException("offline"));

    [Theory]
    [InlineData("vgg19")] // the default weights, caffe flavour
    [InlineData("vgg16")] // vgg16-caffe
    public void Offline_FallsBackToTheRandomNetwork_InTheMissingWeightsFlavour(string model)
    {
        BackboneLoader loader = Offline();
        Backbone b = loader.Load(model, null, null, weightsExplicit: false);
        Assert.True(loader.FellBack);
        Assert.Equal(InputFlavor.Caffe, b.Flavor);
    }

    [Fact]
    public void Offline_AnExplicitFlavourWins_AndTorchvisionWeightsGiveTorchvision()
    {
        Assert.Equal(InputFlavor.Torchvision, Offline().Load("vgg19", null, InputFlavor.Torchvision, weightsExplicit: false).Flavor);
        Assert.Equal(InputFlavor.Torchvision, Offline().Load("vgg16", "vgg16-torchvision", null, weightsExplicit: false).Flavor);
    }

    [Fact]
    public void Offline_WithoutAPreset_StylizeIsARandomFeaturesRun_TextureARandomModelRun_BothTorchvision()
    {
        ParsedArgs none = ParsedArgs.Parse("stylize", [], StylizeCommand.Options);
        (StylizeOptions so, Backbone sb) = StylizeCommand.LoadBackbone(none, Presets.Get("neural-style"), presetExplicit: false, Offline());
        Assert.Equal("random-features", so.Preset);
        Assert.Equal(InputFlavor.Torchvision, sb.Flavor);

        ParsedArgs tex = ParsedArgs.Parse("texture", [], TextureCommand.Options);
        (TextureOptions to, Backbone tb) = TextureCommand.LoadBackbone(tex, new TextureOptions(), Offline());
        Assert.True(to.NormalizeTerms);
        Assert.Equal(InputFlavor.Torchvision, tb.Flavor);

        // A preset asked for keeps the missing weights' flavour.
        ParsedArgs fast = ParsedArgs.Parse("stylize", ["--preset", "fast"], StylizeCommand.Options);
        (StylizeOptions fo, Backbone fb) = StylizeCommand.LoadBackbone(fast, Presets.Get("fast"), presetExplicit: true, Offline());
        Assert.Equal("fast", fo.Preset);
        Assert.Equal(InputFlavor.Caffe, fb.Flavor);
    }
}
