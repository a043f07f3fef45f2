using NeuralStyle.Core;
using NeuralStyle.Models;
using NeuralStyle.Models.ResNet;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;
using NeuralStyle.Weights.Keras;
using NeuralStyle.Weights.Torch;

namespace NeuralStyle.Tests.Core;

/// <summary>
/// <c>--model resnet50 --weights file.h5</c> end to end: the narrow ResNet-50 of tests/fixtures/engine/resnet written as
/// keras.applications' notop file (Keras 2) and as a Keras 3 <c>.weights.h5</c> (tests/fixtures/engine/keras, written by
/// tools/fixtures/engine/keras.py), loaded through <see cref="BackboneLoader"/> and checked against PyTorch's activations.
/// </summary>
public sealed class KerasResNetBackboneTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-kres-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Keras(string file) => Fixtures.Engine("keras", file);

    private static IReadOnlyDictionary<string, WeightTensor> Resnet(string file) => SafeTensors.Read(Fixtures.Engine("resnet", file));

    private static (Backbone Backbone, List<string> Info) Load(string model, string weights)
    {
        var info = new List<string>();
        var loader = new BackboneLoader(new WeightCache(), _ => throw new InvalidOperationException("no download in tests")) { Info = info.Add };
        return (loader.Load(model, weights, flavor: null, weightsExplicit: true), info);
    }

    /// <summary>One sentence: a single full stop, at the end (the file path, which may hold dots, removed first).</summary>
    private static void AssertOneSentence(string message, string? path = null)
    {
        string text = path is null ? message : message.Replace(path, "PATH", StringComparison.Ordinal);
        Assert.EndsWith(".", text.TrimEnd());
        Assert.DoesNotContain(". ", text.TrimEnd()[..^1]);
        Assert.DoesNotContain('\n', text);
    }

    public static TheoryData<string, string> KerasFiles => new()
    {
        { "resnet50", "resnet50_notop_keras2.h5" },
        { "resnet50", "resnet50_keras3.weights.h5" },
        { "resnet50-keras", "resnet50_notop_keras2.h5" },
        { "resnet50-keras", "resnet50_keras3.weights.h5" },
    };

    [Theory]
    [MemberData(nameof(KerasFiles))]
    public void Load_KerasResNetFile_ActivationsMatchPyTorch(string model, string file)
    {
        var (backbone, _) = Load(model, Keras(file));

        var net = Assert.IsType<ResNet50>(backbone.Net);
        Assert.Equal(ResNetLayout.Keras, net.Layout);
        Assert.Equal(InputFlavor.Caffe, backbone.Flavor); // keras.applications.resnet50.preprocess_input
        Assert.Equal(3, net.ChannelsAt(net.Resolve("conv1_relu").Index));

        var expected = Resnet("keras.safetensors");
        var g = new Graph(GraphMode.Inference);
        Value x = g.Input([1, 64, 64, 3], name: "x");
        Fixtures.ToNhwc(expected["x"]).CopyTo(x.Data, 0);
        string[] layers = ["conv1_relu", "layer1", "layer2", "layer3", "layer4"];
        var refs = layers.Select(net.Resolve).ToList();
        Dictionary<string, Value> feats = net.Build(g, x, refs, PoolingKind.Max);
        foreach (Value v in feats.Values) g.Keep(v);
        g.Forward();
        for (int i = 0; i < layers.Length; i++)
        {
            double err = Fixtures.RelativeError(feats[refs[i].Name].Data, Fixtures.ToNhwc(expected[$"y.{layers[i]}"]));
            Assert.True(err <= 1e-4, $"{file} {layers[i]}: relative error {err:G3}");
        }
    }

    [Fact]
    public void Keras3File_LayersComeByClass_AndAreDealtIntoResNetOrder()
    {
        // What the reader hands over: every batch norm, then every convolution (class name order), no layer names.
        var layers = KerasWeights.Read(Keras("resnet50_keras3.weights.h5")).Where(l => l.Weights.Count > 0).ToList();
        Assert.Equal("batch_normalization", layers[0].Name);
        Assert.Equal("conv2d", layers[53].Name);
        Assert.Equal(106, layers.Count);

        // One batch norm missing: the counts no longer fit ResNet-50 and the sentence says which.
        layers.RemoveAt(10);
        var ex = Assert.Throws<ModelWeightsException>(() => ResNet50.FromKerasLayers(layers));
        Assert.Contains("53 conv2d and 52 batch_normalization", ex.Message);
        Assert.Contains("needs 53 and 53", ex.Message);
        AssertOneSentence(ex.Message);
    }

    [Fact]
    public void Keras2File_ListsEveryLayerOfTheModel_WeightlessOnesIncluded()
    {
        var layers = KerasWeights.Read(Keras("resnet50_notop_keras2.h5"));
        Assert.Equal(175, layers.Count);
        Assert.Equal(["input_1", "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool"], layers.Take(7).Select(l => l.Name));
        Assert.Equal(["conv2_block1_0_conv", "conv2_block1_3_conv", "conv2_block1_0_bn", "conv2_block1_3_bn", "conv2_block1_add", "conv2_block1_out"],
            layers.Skip(13).Take(6).Select(l => l.Name));
        Assert.Equal("conv5_block3_out", layers[^1].Name);
        Assert.Equal(["gamma", "beta", "moving_mean", "moving_variance"], layers[3].Weights.Select(w => w.Name.Split('/')[1]));
        Assert.Equal([7, 7, 3, 3], layers[2].Weights[0].Shape); // HWIO
    }

    [Fact]
    public void ResNet50Keras_WithTorchvisionPth_RefusesWithOneSentence()
    {
        string pth = Path.Combine(_dir, "resnet50-narrow.pth");
        TorchWriter.Write(pth, Resnet("torchvision.safetensors")
            .Where(kv => kv.Key.StartsWith("conv1.", StringComparison.Ordinal) || kv.Key.StartsWith("bn1.", StringComparison.Ordinal) || kv.Key.StartsWith("layer", StringComparison.Ordinal))
            .Select(kv => kv.Value with { Name = kv.Key }));
        // The same file is fine for --model resnet50, which follows the weights (torchvision V1.5).
        var (torchvision, _) = Load("resnet50", pth);
        Assert.Equal(ResNetLayout.Torchvision, Assert.IsType<ResNet50>(torchvision.Net).Layout);

        var ex = Assert.Throws<WeightsUnavailableException>(() => Load("resnet50-keras", pth));
        Assert.Contains("resnet50-keras", ex.Message);
        Assert.Contains("torchvision", ex.Message);
        AssertOneSentence(ex.Message);

        var r = Cli.CliRunner.Run("stylize", "--content", Fixtures.Gatys("content.png"), "--style", Fixtures.Gatys("style_a.png"),
            "--model", "resnet50-keras", "--weights", pth, "--size", "32", "--iterations", "1", "-o", Path.Combine(_dir, "never.png"));
        Assert.NotEqual(0, r.Code);
        Assert.Contains("--model resnet50", r.Err);
        Assert.DoesNotContain("{Model}", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Combine(_dir, "never.png")));
    }

    [Theory]
    [InlineData("resnet50_notop_keras2.h5", 0.5)]
    [InlineData("resnet50_notop_keras2.h5", 0.97)]
    [InlineData("resnet50_keras3.weights.h5", 0.6)]
    public void TruncatedResNetFile_OneSentenceNamingTheFile(string file, double keep)
    {
        byte[] bytes = File.ReadAllBytes(Keras(file));
        string cut = Path.Combine(_dir, "cut-" + file);
        File.WriteAllBytes(cut, bytes[..(int)(bytes.Length * keep)]);
        var ex = Assert.Throws<WeightsUnavailableException>(() => Load("resnet50", cut));
        Assert.StartsWith($"Cannot read '{cut}'", ex.Message);
        AssertOneSentence(ex.Message, cut);
    }

    [Fact]
    public void UnrecognisedFile_ListsEveryFormatWeRead()
    {
        string junk = Path.Combine(_dir, "junk.bin");
        File.WriteAllBytes(junk, [0x13, 0x37, 0x42, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c]);
        var ex = Assert.Throws<WeightFormatException>(() => WeightFile.Load(junk));
        foreach (string format in (string[])[".pth", ".safetensors", "Keras .h5", "MatConvNet .mat", "Caffe .caffemodel"])
            Assert.Contains(format, ex.Message);
        AssertOneSentence(ex.Message);
    }

    [Fact]
    public void Stylize_ResNet50WithKerasFile_RunsEndToEnd()
    {
        string output = Path.Combine(_dir, "out.png");
        var r = Cli.CliRunner.Run("stylize", "--content", Fixtures.Gatys("content.png"), "--style", Fixtures.Gatys("style_a.png"),
            "--model", "resnet50", "--weights", Keras("resnet50_notop_keras2.h5"), "--size", "32", "--iterations", "2", "-o", output);
        Assert.True(r.Code == 0, r.Err);
        Assert.True(File.Exists(output));
    }
}
