using NeuralStyle.Core;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;

namespace NeuralStyle.Tests.Core;

/// <summary>
/// MatConvNet and Caffe files through <see cref="BackboneLoader"/>: the network they load computes PyTorch's
/// activations of the same weights (tests/fixtures/engine/matcaffe), and the input flavour comes from the file.
/// </summary>
public sealed class ImportedBackboneTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-imported-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string File(string name) => Fixtures.Engine("matcaffe", name);

    private static readonly Lazy<IReadOnlyDictionary<string, WeightTensor>> Activations = new(() => SafeTensors.Read(File("activations.safetensors")));

    private static BackboneLoader Loader(bool transpose = false) =>
        new(new WeightCache(), _ => throw new InvalidOperationException("no download in tests")) { MatConvNetTranspose = transpose };

    /// <summary>The backbone's network as the VGG it must be (a cast, so the tests hold when Backbone takes other networks too).</summary>
    private static VggNet Vgg(Backbone b) => Assert.IsType<VggNet>(b.Net);

    /// <summary>Runs the network on the fixture's input and compares the given features.N with PyTorch's.</summary>
    private static void AssertActivations(VggNet net, string prefix, params int[] indices)
    {
        WeightTensor x = Activations.Value["x"];
        var g = new Graph();
        Value input = g.Constant(Fixtures.ToNhwc(x), [1, x.Shape[2], x.Shape[3], 3]);
        var refs = indices.Select(i => net.Layers.Resolve(i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Dictionary<string, Value> outs = net.Build(g, input, refs, PoolingKind.Max);
        foreach (LayerRef r in refs)
        {
            WeightTensor expected = Activations.Value[$"{prefix}.features.{r.Index}"];
            double err = Fixtures.RelativeError(outs[r.Name].Data, Fixtures.ToNhwc(expected));
            Assert.True(err <= 1e-4, $"{prefix} features.{r.Index}: relative error {err:G3}");
        }
    }

    [Theory]
    [InlineData("vgg19_beta16.mat")]
    [InlineData("vgg19_meta.mat")]
    [InlineData("vgg19_filters.mat")]
    [InlineData("vgg19_v1.caffemodel")]
    public void Vgg19Files_ComputePyTorchsActivations(string file)
    {
        Backbone b = Loader().Load("vgg19", File(file), flavor: null, weightsExplicit: true);
        AssertActivations(Vgg(b), "vgg19", 1, 11, 35);
    }

    [Fact]
    public void CaffeV2Vgg16_ComputesPyTorchsActivations()
    {
        Backbone b = Loader().Load("vgg16", File("vgg16_v2.caffemodel"), flavor: null, weightsExplicit: true);
        Assert.Equal(VggArchitecture.Vgg16, Vgg(b).Architecture);
        AssertActivations(Vgg(b), "vgg16", 1, 29);
    }

    [Fact]
    public void MatConvNetTranspose_ComputesSeed003sNetwork_WhichDiffersFromTheCorrectOne()
    {
        Backbone seed003 = Loader(transpose: true).Load("vgg19", File("vgg19_beta16.mat"), null, true);
        AssertActivations(Vgg(seed003), "vgg19_transposed", 1, 35);
        Assert.Contains("kernels transposed", seed003.Description);
        var correct = Activations.Value["vgg19.features.1"].Data;
        var mirrored = Activations.Value["vgg19_transposed.features.1"].Data;
        Assert.True(Fixtures.RelativeError(mirrored, correct) > 0.05, "the fixture's kernels must not be symmetric");
    }

    [Fact]
    public void MatConvNet_FlavourIsRgb255WithTheFilesMeanPixel()
    {
        Backbone b = Loader().Load("vgg19", File("vgg19_beta16.mat"), null, true);
        Assert.Equal(InputFlavor.Rgb255, b.Flavor);
        double[] mean = b.MeanPixel!.ToArray();
        float[] pixel = [1f, 0.5f, 0f], input = new float[3];
        b.Transform.Forward(pixel, input);
        Assert.Equal((float)(255 - mean[0]), input[0], 1e-4f);
        Assert.Equal((float)(127.5 - mean[1]), input[1], 1e-4f);
        Assert.Equal((float)-mean[2], input[2], 1e-4f);
        Assert.NotEqual(123.68, mean[0], 1e-3); // the file's own mean, not the default
        float[] back = new float[3];
        b.Transform.Inverse(input, back);
        Assert.Equal(pixel, back.Select(v => MathF.Round(v, 5)).ToArray());
    }

    [Fact]
    public void MatConvNet_WithoutAverageImage_UsesImageNetsMeanAndSaysSo()
    {
        var messages = new List<string>();
        BackboneLoader loader = Loader();
        loader.Info = messages.Add;
        Backbone b = loader.Load("vgg19", File("vgg19_filters.mat"), null, true);
        Assert.Null(b.MeanPixel);
        float[] input = new float[3];
        b.Transform.Forward([0f, 0f, 0f], input);
        Assert.Equal([-123.68f, -116.779f, -103.939f], input);
        Assert.Contains(messages, m => m.Contains("averageImage", StringComparison.Ordinal));
    }

    [Fact]
    public void Caffe_FlavourIsCaffe_AndAnOverrideWins()
    {
        Assert.Equal(InputFlavor.Caffe, Loader().Load("vgg19", File("vgg19_v1.caffemodel"), null, true).Flavor);
        Backbone overridden = Loader().Load("vgg19", File("vgg19_beta16.mat"), InputFlavor.Caffe, true);
        Assert.Equal(InputFlavor.Caffe, overridden.Flavor);
        Assert.Null(overridden.MeanPixel);
    }

    [Fact]
    public void WrongModel_NamesTheArchitectureTheFileHolds()
    {
        var e = Assert.Throws<WeightsUnavailableException>(() => Loader().Load("vgg16", File("vgg19_meta.mat"), null, true));
        Assert.Contains("MatConvNet VGG-19", e.Message);
        Assert.Contains("{Model} vgg19", e.Message);
    }

    [Theory]
    [InlineData("vgg19_beta16.mat")]
    [InlineData("vgg19_v1.caffemodel")]
    public void TruncatedFile_OneSentence(string file)
    {
        byte[] bytes = System.IO.File.ReadAllBytes(File(file));
        string path = Path.Combine(_dir, "cut" + Path.GetExtension(file));
        System.IO.File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
        var e = Assert.Throws<WeightsUnavailableException>(() => Loader().Load("vgg19", path, null, true));
        Assert.StartsWith("Cannot read", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Cli_StylizeWithAMatFile_AndSeed003sTranspose_WritesTheImage()
    {
        string output = Path.Combine(_dir, "mat.png");
        var r = NeuralStyle.Tests.Cli.CliRunner.Run("stylize", "--content", Fixtures.Gatys("content.png"), "--style", Fixtures.Gatys("style_a.png"),
            "--weights", File("vgg19_beta16.mat"), "--matconvnet-transpose", "--preset", "gatys-tf", "--size", "40", "--iterations", "2", "-o", output);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("MatConvNet, rgb255 flavour, mean 124.033/116.812/103.914, kernels transposed as the TensorFlow course's code does", r.Err);
        Assert.True(System.IO.File.Exists(output));
    }

    [Fact]
    public void Cli_TextureWithACaffeModelNamedAnything_WritesTheImage()
    {
        string weights = Path.Combine(_dir, "vgg16.weights");
        System.IO.File.Copy(File("vgg16_v2.caffemodel"), weights);
        string output = Path.Combine(_dir, "texture.png");
        var r = NeuralStyle.Tests.Cli.CliRunner.Run("texture", Fixtures.Gatys("style_a.png"), "--model", "vgg16", "--weights", weights,
            "--width", "24", "--octaves", "1", "--layers", "relu1_1,relu2_1", "--padding", "same", "--iterations", "2", "-o", output);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("Caffe, caffe flavour", r.Err);
        Assert.True(System.IO.File.Exists(output));
    }

    [Fact]
    public void Cli_WeightsList_ShowsTheMatConvNetAndCaffeEntries()
    {
        var r = NeuralStyle.Tests.Cli.CliRunner.Run("weights", "list");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("matconvnet-vgg19", r.Out);
        Assert.Contains("imagenet-vgg-verydeep-19.mat", r.Out);
        Assert.Contains("caffe-vgg19", r.Out);
        Assert.Contains("VGG_ILSVRC_19_layers.caffemodel", r.Out);
    }
}
