using NeuralStyle.Core;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;

namespace NeuralStyle.Tests.Core;

/// <summary><c>--weights file.h5</c>: Keras files are recognised by content and mapped to VGG by layer order.</summary>
public sealed class KerasBackboneTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-keras-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Keras(string file) => Fixtures.Engine("keras", file);

    private static (Backbone Backbone, List<string> Info) Load(string model, string weights, InputFlavor? flavor = null)
    {
        var info = new List<string>();
        var loader = new BackboneLoader(new WeightCache(), _ => throw new InvalidOperationException("no download in tests")) { Info = info.Add };
        return (loader.Load(model, weights, flavor, weightsExplicit: true), info);
    }

    [Theory]
    [InlineData("vgg19", "vgg19_notop_keras2.h5")]
    [InlineData("vgg19", "vgg19_keras3.weights.h5")]
    [InlineData("vgg16", "vgg16_full_keras3.h5")]
    public void Load_KerasFile_VggWithCaffeFlavourOfKerasApplications(string model, string file)
    {
        var (backbone, info) = Load(model, Keras(file));

        Assert.Equal(model == "vgg19" ? VggArchitecture.Vgg19 : VggArchitecture.Vgg16, ((VggNet)backbone.Net).Architecture);
        Assert.Equal(InputFlavor.Caffe, backbone.Flavor);
        Assert.Equal(4, backbone.Net.ChannelsAt(0));
        Assert.Equal(10, backbone.Net.ChannelsAt(((VggNet)backbone.Net).Layers.Modules.Count - 1));
        Assert.Contains(info, m => m.Contains("caffe input flavour of keras.applications"));
    }

    [Fact]
    public void Load_KerasFileWithAnotherExtension_DetectedByContent()
    {
        string renamed = Path.Combine(_dir, "weights.pth");
        File.Copy(Keras("vgg19_notop_keras2.h5"), renamed);
        var (backbone, _) = Load("vgg19", renamed, InputFlavor.Torchvision);
        Assert.Equal(InputFlavor.Torchvision, backbone.Flavor); // an explicit flavour wins
        Assert.Equal(VggArchitecture.Vgg19, ((VggNet)backbone.Net).Architecture);
    }

    [Fact]
    public void Load_KerasVgg19FileAsVgg16_OneSentenceSuggestingVgg19()
    {
        var ex = Assert.Throws<WeightsUnavailableException>(() => Load("vgg16", Keras("vgg19_notop_keras2.h5")));
        Assert.Contains("{Model} vgg19", ex.Message); // the CLI renders {Model} as its flag
    }

    [Fact]
    public void Load_KerasResNet50FileAsVgg_PointsToResNet50()
    {
        var ex = Assert.Throws<WeightsUnavailableException>(() => Load("vgg19", Keras("resnet50_stub_keras2.h5")));
        Assert.Contains("{Model} resnet50", ex.Message); // the CLI renders {Model} as its flag
    }

    [Fact]
    public void Load_TruncatedKerasFile_OneSentenceNamingTheFile()
    {
        string cut = Path.Combine(_dir, "cut.h5");
        File.WriteAllBytes(cut, File.ReadAllBytes(Keras("vgg19_notop_keras2.h5"))[..3000]);
        var ex = Assert.Throws<WeightsUnavailableException>(() => Load("vgg19", cut));
        Assert.StartsWith($"Cannot read '{cut}'", ex.Message);
    }

    [Fact]
    public void Registry_KerasEntries_CarryMd5AndAreIdentifiedByFileName()
    {
        foreach (var (name, arch) in new[] { ("keras-vgg19", "vgg19"), ("keras-vgg16", "vgg16"), ("keras-resnet50", "resnet50") })
        {
            ModelEntry e = ModelRegistry.Find(name)!;
            Assert.Equal(arch, e.Architecture);
            Assert.Equal("caffe", e.Flavor);
            Assert.Matches("^[0-9a-f]{32}$", e.Md5!);
            Assert.Equal("", e.Sha256Prefix); // only an MD5 is published: the SHA-256 is recorded at the first download
            Assert.StartsWith("https://storage.googleapis.com/tensorflow/keras-applications/", e.Url);
            Assert.Same(e, ModelRegistry.Identify(Path.Combine(_dir, e.FileName), hashContent: false));
        }
        Assert.Equal(94_765_736, ModelRegistry.Find("keras-resnet50")!.ApproxBytes);
    }

    [Fact]
    public void Stylize_WithKerasWeights_RunsEndToEnd()
    {
        string output = Path.Combine(_dir, "out.png");
        var r = NeuralStyle.Tests.Cli.CliRunner.Run("stylize", "--content", Fixtures.Gatys("content.png"), "--style", Fixtures.Gatys("style_a.png"),
            "--weights", Keras("vgg19_notop_keras2.h5"), "--size", "45", "--iterations", "2", "-o", output);
        Assert.True(r.Code == 0, r.Err);
        Assert.True(File.Exists(output));
    }

    [Fact]
    public void WeightsList_ShowsTheKerasEntries()
    {
        var r = NeuralStyle.Tests.Cli.CliRunner.Run("weights", "list");
        Assert.Equal(0, r.Code);
        Assert.Contains("keras-vgg19", r.Out);
        Assert.Contains("keras-vgg16", r.Out);
        Assert.Contains("keras-resnet50", r.Out);
    }
}
