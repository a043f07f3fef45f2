using System.Text.Json;
using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Losses;
using NeuralStyle.Imaging;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Autograd;
using NeuralStyle.Tensors.Kernels;
using NeuralStyle.TestSupport;
using NeuralStyle.Texture;
using NeuralStyle.Weights;
using ImagingPyramid = NeuralStyle.Imaging.Pyramid;

namespace NeuralStyle.Tests.Texture;

/// <summary>Pyramids, circular convolution, texture loss, inter-frame loss and pyramid style against PyTorch (tests/fixtures/texture).</summary>
public class TextureFixtureTests
{
    private static readonly Lazy<VggNet> Narrow = new(() =>
        VggNet.FromStateDict(VggArchitecture.Vgg19, Fixtures.Tensors("vgg19_narrow.safetensors")));

    private static Backbone Caffe => new(Narrow.Value, InputFlavor.Caffe, "narrow");

    private static Image[] Sources() => [ImageIO.Load(Fixtures.TextureFile("source_a.png")), ImageIO.Load(Fixtures.TextureFile("source_b.png"))];

    private static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double tol, string what)
    {
        double err = Fixtures.RelativeError(actual, expected);
        Assert.True(err <= tol, $"{what}: relative error {err:G3}");
    }

    public static TheoryData<string, PyramidBorder> Borders => new()
    {
        { "reflect", PyramidBorder.Reflect }, { "wrap", PyramidBorder.Wrap }, { "valid", PyramidBorder.Valid },
    };

    [Theory]
    [MemberData(nameof(Borders))]
    public void PyramidOps_LevelsAndExpand_MatchPyTorch(string name, PyramidBorder border)
    {
        var t = Fixtures.TextureTensors("pyramid.safetensors");
        WeightTensor x = t["x"];
        var g = new Graph();
        Value level = g.Constant(Fixtures.ToNhwc(x), [1, x.Shape[2], x.Shape[3], 3]);
        var levels = new List<Value> { level };
        for (int k = 1; k <= 3; k++)
        {
            level = g.PyramidReduce(level, border);
            levels.Add(level);
            WeightTensor e = t[$"{name}:level:{k}"];
            Assert.Equal([1, e.Shape[2], e.Shape[3], 3], level.Shape);
            AssertClose(level.Data, Fixtures.ToNhwc(e), 1e-5, $"{name} level {k}");
        }
        Value expanded = g.PyramidExpand(levels[1], x.Shape[2], x.Shape[3], border);
        AssertClose(expanded.Data, Fixtures.ToNhwc(t[$"{name}:expand1"]), 1e-5, $"{name} expand");
    }

    /// <summary>The imaging library's own pyramid (an independent implementation) agrees for the reflect and wrap borders.</summary>
    [Theory]
    [InlineData("reflect", BorderMode.Reflect)]
    [InlineData("wrap", BorderMode.Wrap)]
    public void ImagingPyramid_Reduce_MatchesPyTorch(string name, BorderMode border)
    {
        var t = Fixtures.TextureTensors("pyramid.safetensors");
        WeightTensor x = t["x"];
        var img = new Image(x.Shape[3], x.Shape[2], 3, Fixtures.ToNhwc(x));
        Image[] levels = ImagingPyramid.Gaussian(img, 4, border);
        for (int k = 1; k <= 3; k++) AssertClose(levels[k].Data, Fixtures.ToNhwc(t[$"{name}:level:{k}"]), 1e-5, $"{name} level {k}");
    }

    [Fact]
    public void CircularConv_OutputAndGradients_MatchPyTorch()
    {
        var t = Fixtures.TextureTensors("circular.safetensors");
        WeightTensor x = t["x"], w = t["weight"], up = t["upstream"];
        var g = new Graph();
        Value xv = g.Input([1, x.Shape[2], x.Shape[3], 3], requiresGrad: true);
        Fixtures.ToNhwc(x).CopyTo(xv.Data, 0);
        Value wv = g.Parameter((float[])w.Data.Clone(), w.Shape);
        Value bv = g.Parameter((float[])t["bias"].Data.Clone(), t["bias"].Shape);
        Value y = g.Conv3x3(xv, wv, bv, ConvPadding.Circular);
        Value loss = g.Sum(g.Mul(y, g.Constant(Fixtures.ToNhwc(up), y.Shape)));
        g.Forward();
        g.Backward(loss);
        AssertClose(y.Data, Fixtures.ToNhwc(t["out"]), 1e-5, "out");
        AssertClose(xv.Grad, Fixtures.ToNhwc(t["grad_x"]), 1e-5, "grad_x");
        AssertClose(wv.Grad, t["grad_weight"].Data, 1e-5, "grad_weight");
        AssertClose(bv.Grad, t["grad_bias"].Data, 1e-5, "grad_bias");
    }

    public static TheoryData<string, TexturePadding, JoinMode, double> Cases => new()
    {
        { "texture_valid", TexturePadding.Valid, JoinMode.Average, 1.0 },
        { "texture_same", TexturePadding.Same, JoinMode.Average, 1.0 },
        { "texture_circular", TexturePadding.Circular, JoinMode.Average, 1.0 },
        { "texture_same_max", TexturePadding.Same, JoinMode.Max, 1.5 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void TextureLoss_TermsGramsAndGradient_MatchPyTorch(string file, TexturePadding padding, JoinMode join, double mul)
    {
        JsonElement j = Fixtures.TextureJson($"{file}.json");
        var t = Fixtures.TextureTensors($"{file}.safetensors");
        WeightTensor x = t["x"];
        var o = new TextureOptions
        {
            Width = x.Shape[3], Height = x.Shape[2], Octaves = j.GetProperty("config").GetProperty("octaves").GetInt32(),
            Layers = j.GetProperty("config").GetProperty("layers").EnumerateArray().Select(e => e.GetString()!).ToArray(),
            Padding = padding, Join = join, Mul = mul, Flavor = InputFlavor.Caffe,
        };
        LossProblem p = new TextureSynthesizer(o, Caffe).Prepare(Sources());
        Fixtures.ToNhwc(x).CopyTo(p.X.Data, 0);
        LossRow r = p.Evaluate(withGradient: true);
        foreach (JsonProperty term in j.GetProperty("terms").EnumerateObject())
        {
            Assert.True(Fixtures.Relative(r.Terms[term.Name], term.Value.GetDouble()) <= 1e-4, $"{file} {term.Name}: ours {r.Terms[term.Name]:R}, PyTorch {term.Value.GetDouble():R}");
            string key = term.Name["style:".Length..];
            Value gram = p.Graph.Nodes.Single(n => n.Name == $"target:{term.Name}");
            AssertClose(gram.Data, t[$"target:{key}"].Data, 1e-5, $"{file} target {key}");
        }
        Assert.True(Fixtures.Relative(r.Loss, j.GetProperty("total").GetDouble()) <= 1e-4);
        AssertClose(p.X.Grad, Fixtures.ToNhwc(t["grad"]), 1e-4, $"{file} gradient");
    }

    [Fact]
    public void InterframeLoss_DistancesLossAndGradient_MatchPyTorch()
    {
        JsonElement j = Fixtures.TextureJson("interframe.json");
        var t = Fixtures.TextureTensors("interframe.safetensors");
        WeightTensor frames = t["frames"];
        var o = new TextureOptions
        {
            Width = 40, Height = 40, Octaves = 3, Layers = ["pool1", "relu3_2"], Padding = TexturePadding.Same,
            Count = 3, IfOrder = 2, IfShift = 5, IfWeight = 1, Flavor = InputFlavor.Caffe,
        };
        var synth = new TextureSynthesizer(o, Caffe);
        Image[] sources = Sources();
        double[] perSource = j.GetProperty("target_distance_per_source").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int k = 0; k < sources.Length; k++)
            Assert.True(Fixtures.Relative(synth.ShiftDistance(sources[k], 5), perSource[k]) <= 1e-5, $"target distance of source {k}");

        LossProblem p = synth.Prepare(sources);
        Fixtures.ToNhwc(frames).CopyTo(p.X.Data, 0);
        LossRow r = p.Evaluate(withGradient: false);
        Assert.True(Fixtures.Relative(r.Terms["interframe"], j.GetProperty("loss_if").GetDouble()) <= 1e-5, $"loss_if {r.Terms["interframe"]:R}");
        var perFrame = j.GetProperty("texture_terms").EnumerateObject().GroupBy(e => e.Name[(e.Name.IndexOf(':') + 1)..])
            .ToDictionary(gr => gr.Key, gr => gr.Sum(e => e.Value.GetDouble()));
        foreach ((string name, double value) in perFrame)
            Assert.True(Fixtures.Relative(r.Terms[name], value) <= 1e-4, $"{name}: ours {r.Terms[name]:R}, PyTorch {value:R}");

        Value interframe = p.Terms.Single(v => v.Name == "interframe");
        p.Graph.Backward(interframe);
        AssertClose(p.X.Grad, Fixtures.ToNhwc(t["grad_if"]), 1e-4, "d loss_if / d frames");
        p.Graph.Backward(p.Total);
        AssertClose(p.X.Grad, Fixtures.ToNhwc(t["grad"]), 1e-4, "d total / d frames");
    }

    [Fact]
    public void PyramidStyle_NeuralStyleTerms_MatchPyTorch()
    {
        JsonElement j = Fixtures.TextureJson("pyramid_style.json");
        var t = Fixtures.TextureTensors("pyramid_style.safetensors");
        Image content = ImageIO.Load(Fixtures.TextureFile("ps_content.png")), style = ImageIO.Load(Fixtures.TextureFile("ps_style.png"));
        StylizeOptions o = Presets.Get("neural-style") with
        {
            Size = new SizeRule(SizeRuleKind.Exact, content.Width, content.Height),
            StyleScale = 0, TvWeight = 0, StyleLoss = StyleLossKind.Pyramid, StyleOctaves = 3,
        };
        Stylizer.Problem p = new Stylizer(o, Caffe).Prepare(content, [style]);
        Fixtures.ToNhwc(t["x"]).CopyTo(p.X.Data, 0);
        LossRow r = p.Evaluate(withGradient: true);
        var terms = j.GetProperty("terms").EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetDouble());
        Assert.Equal(terms.Keys.Order(), r.Terms.Keys.Order());
        foreach ((string name, double value) in terms)
            Assert.True(Fixtures.Relative(r.Terms[name], value) <= 1e-4, $"{name}: ours {r.Terms[name]:R}, PyTorch {value:R}");
        AssertClose(p.X.Grad, Fixtures.ToNhwc(t["grad"]), 1e-4, "pyramid style gradient");
    }
}
