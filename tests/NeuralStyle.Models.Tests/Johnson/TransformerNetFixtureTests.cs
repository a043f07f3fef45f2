using System.Text.Json;
using NeuralStyle.Models.Johnson;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Training;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;

namespace NeuralStyle.Models.Tests.Johnson;

/// <summary>TransformerNet against pytorch/examples' module (tests/fixtures/engine/johnson, tools/fixtures/engine/johnson.py).</summary>
public class TransformerNetFixtureTests
{
    private const double Tolerance = 1e-4;

    private static string File(string name) => Fixtures.Engine("johnson", name);

    private static TransformerNet HalfFromPth(string file) => TransformerNet.FromStateDict(WeightFile.Load(File(file)), file);

    /// <summary>Forward, crop, loss Σ r ⊙ crop(y), backward; checks y, dL/dx and every parameter's gradient.</summary>
    private static void CheckCase(TransformerNet net, string fixture)
    {
        IReadOnlyDictionary<string, WeightTensor> f = SafeTensors.Read(File(fixture));
        var steps = JsonSerializer.Deserialize<Dictionary<string, int>>(SafeTensors.ReadMetadata(File(fixture))["steps"])!;
        WeightTensor xt = f["x"], yt = f["y"];
        int n = xt.Shape[0], h = xt.Shape[2], w = xt.Shape[3];

        var g = new Graph();
        Value x = g.Input([n, h, w, 3], requiresGrad: true, name: "x");
        Fixtures.ToNhwc(xt).CopyTo(x.Data, 0);
        ParameterBinding bound = net.Parameters.Bind(g);
        Value full = g.Keep(net.Build(g, x, name => bound[name]));
        Assert.Equal(new[] { n, yt.Shape[2], yt.Shape[3], 3 }, full.Shape);
        Value y = net.CropToInput(g, full, h, w);
        Value r = g.Constant(Fixtures.ToNhwc(f["r"]), [n, h, w, 3]);
        Value loss = g.Sum(g.Mul(y, r));
        g.Forward();
        g.Backward(loss);
        bound.ReadGradients();

        double ey = Fixtures.RelativeError(full.Data, Fixtures.ToNhwc(yt));
        Assert.True(ey <= Tolerance, $"{fixture}: output relative error {ey:G3}");
        double edx = Fixtures.RelativeError(x.Grad!, Fixtures.ToNhwc(f["dx"]));
        Assert.True(edx <= Tolerance, $"{fixture}: dL/dx relative error {edx:G3}");
        foreach (Parameter p in net.Parameters)
        {
            if (GradientVanishes(p.Name))
            {
                float[] dw = net.Parameters[p.Name[..^"bias".Length] + "weight"].Grad;
                double scale = dw.Max(v => Math.Abs(v));
                Assert.True(p.Grad.Max(v => Math.Abs(v)) <= 1e-4 * scale, $"{fixture}: dL/d{p.Name} should vanish");
                Assert.True(f[$"d.{p.Name}"].Data.Max(v => Math.Abs(v)) <= 1e-4 * scale, $"{fixture}: PyTorch's dL/d{p.Name} should vanish");
                continue;
            }
            int step = steps[p.Name];
            float[] sampled = Enumerable.Range(0, (p.Length + step - 1) / step).Select(i => p.Grad[i * step]).ToArray();
            double e = Fixtures.RelativeError(sampled, f[$"d.{p.Name}"].Data);
            Assert.True(e <= Tolerance, $"{fixture}: dL/d{p.Name} relative error {e:G3} (every {step}th element)");
            double l1 = p.Grad.Sum(v => Math.Abs((double)v));
            double el1 = Fixtures.Relative(l1, f[$"l1.{p.Name}"].Data[0]);
            Assert.True(el1 <= Tolerance, $"{fixture}: ‖dL/d{p.Name}‖₁ {l1:G6} vs {f[$"l1.{p.Name}"].Data[0]:G6}");
        }
    }

    /// <summary>
    /// Biases whose every path to the output meets an instance norm before any nonlinearity: a per-channel constant it
    /// removes (the convolutions' before in1…in5, and res*.in2's, which reaches the next block's conv and in4 through
    /// adds, reflect padding and upsampling, all of which keep a channel constant). Their gradients are 0 up to rounding.
    /// </summary>
    private static bool GradientVanishes(string name)
        => (name.EndsWith(".conv2d.bias", StringComparison.Ordinal) && !name.StartsWith("deconv3", StringComparison.Ordinal))
           || (name.StartsWith("res", StringComparison.Ordinal) && name.EndsWith(".in2.bias", StringComparison.Ordinal));

    [Theory]
    [InlineData("half_zip.pth", "half_odd.safetensors")]
    [InlineData("half_legacy.pth", "half_odd.safetensors")]
    [InlineData("half_zip.pth", "half_batch.safetensors")]
    [InlineData("half_legacy.pth", "half_batch.safetensors")]
    public void HalfWidth_FromPth_ForwardAndEveryGradient_MatchPyTorch(string weights, string fixture)
    {
        TransformerNet net = HalfFromPth(weights);
        Assert.Equal(TransformerArchitecture.JohnsonHalf, net.Architecture);
        CheckCase(net, fixture);
    }

    [Fact]
    public void FullWidth_FormulaWeights_ForwardAndEveryGradient_MatchPyTorch()
    {
        TransformerNet net = TransformerNet.FromStateDict(JohnsonFixtureWeights.StateDict(TransformerArchitecture.Johnson));
        Assert.Equal(1_679_235, net.Parameters.ElementCount);
        CheckCase(net, "full_formula.safetensors");
    }

    /// <summary>The inference path (frozen weights: fused up-convolutions, Winograd residual blocks) on both widths.</summary>
    [Theory]
    [InlineData("johnson", "full_formula.safetensors", 1, 13, 11)]
    [InlineData("johnson-half", "half_formula.safetensors", 2, 16, 16)]
    public void FormulaWeights_InferenceForward_MatchesPyTorch(string arch, string file, int n, int h, int w)
    {
        TransformerNet net = TransformerNet.FromStateDict(JohnsonFixtureWeights.StateDict(TransformerArchitecture.Find(arch)!));
        IReadOnlyDictionary<string, WeightTensor> f = SafeTensors.Read(File(file));
        var g = new Graph(GraphMode.Inference);
        Value x = g.Input([n, h, w, 3]);
        Value y = g.Keep(net.BuildFrozen(g, x));
        Fixtures.ToNhwc(f["x"]).CopyTo(x.Data, 0);
        g.Forward();
        double e = Fixtures.RelativeError(y.Data, Fixtures.ToNhwc(f["y"]));
        Assert.True(e <= Tolerance, $"relative error {e:G3}");
    }

    [Fact]
    public void Stylize_OddSize_IsTheTopLeftCropOfTheRoundedUpOutput()
    {
        TransformerNet net = HalfFromPth("half_zip.pth");
        IReadOnlyDictionary<string, WeightTensor> f = SafeTensors.Read(File("half_odd.safetensors"));
        WeightTensor yt = f["y"]; // (1,3,24,20): 21 → 11 → 6 → 12 → 24 and 18 → 9 → 5 → 10 → 20
        Assert.Equal(new[] { 1, 3, 24, 20 }, yt.Shape);
        float[] y = net.Stylize(Fixtures.ToNhwc(f["x"]), 21, 18);
        Assert.Equal(21 * 18 * 3, y.Length);
        float[] full = Fixtures.ToNhwc(yt);
        var expected = new float[y.Length];
        for (int i = 0; i < 21; i++)
            Array.Copy(full, i * 20 * 3, expected, i * 18 * 3, 18 * 3);
        double e = Fixtures.RelativeError(y, expected);
        Assert.True(e <= Tolerance, $"relative error {e:G3}");
    }

    [Fact]
    public void PthFile_RunningStatsKeys_AreIgnored()
    {
        IReadOnlyDictionary<string, WeightTensor> sd = WeightFile.Load(File("half_zip.pth"));
        Assert.Contains("res1.in1.running_mean", sd.Keys);
        Assert.Equal(TransformerNet.Layout(TransformerArchitecture.JohnsonHalf).Count + 6, sd.Count);
        Assert.Equal(TransformerNet.Layout(TransformerArchitecture.JohnsonHalf).Count, TransformerNet.FromStateDict(sd).Parameters.Count);
    }

    [Fact]
    public void VggPth_IsRefused_InOneSentence()
    {
        var ex = Assert.Throws<ModelWeightsException>(() =>
            TransformerNet.FromStateDict(WeightFile.Load(Fixtures.Gatys("vgg19_narrow_zip.pth")), "vgg19_narrow_zip.pth"));
        Assert.Contains("vgg19_narrow_zip.pth is not a fast style-transfer network", ex.Message);
        Assert.Contains("'conv1.conv2d.weight'", ex.Message);
        Assert.Single(ex.Message.Split(". ", StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData(96, 96)]
    [InlineData(200, 136)]
    public void InferenceMemoryPlan_EqualsMeasuredPeak(int height, int width)
    {
        TransformerNet net = TransformerNet.FromStateDict(JohnsonFixtureWeights.StateDict(TransformerArchitecture.Johnson));
        var plan = new Graph(GraphMode.ShapesOnly);
        Value px = plan.Input([1, height, width, 3]);
        plan.Keep(net.CropToInput(plan, net.BuildFrozen(plan, px), height, width));
        long planned = plan.PlannedPeakBytes(runAs: GraphMode.Inference);

        var g = new Graph(GraphMode.Inference);
        Value x = g.Input([1, height, width, 3]);
        Value y = g.Keep(net.CropToInput(g, net.BuildFrozen(g, x), height, width));
        new Rng(3).FillUniform(x.Data, 0, 255);
        g.Forward();
        Assert.Equal(g.PeakAllocatedBytes, planned);
        Assert.True(y.Data.All(float.IsFinite));
        // A regression guard: ~505 bytes per pixel with the fused up-convolutions (761 before them); holding every
        // activation at once would be ~3 KB per pixel.
        Assert.True(planned < 560L * height * width, $"planned {planned} bytes for {height}×{width}");
    }
}
