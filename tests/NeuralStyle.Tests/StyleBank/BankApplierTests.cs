using NeuralStyle.Models.StyleBank;
using NeuralStyle.StyleBank;
using NeuralStyle.Tensors;
using Xunit.Abstractions;

namespace NeuralStyle.Tests.StyleBank;

/// <summary>What users apply a bank with: one style, blends, regions in both modes, the reconstruction.</summary>
public sealed class BankApplierTests(ITestOutputHelper output)
{
    private const int W = 26, H = 22; // not multiples of 4: the output is cropped back

    private static readonly StyleBankNet Net = StyleBankNet.Random(["a", "b", "c"], 11);

    private static float[] Photo()
    {
        var img = new float[W * H * 3];
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < 3; c++) img[(y * W + x) * 3 + c] = 127.5f + 100f * MathF.Sin(0.3f * x + 0.5f * y + c);
        return img;
    }

    private static float[] Mask(Func<int, int, float> f)
    {
        var m = new float[W * H];
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) m[y * W + x] = f(x, y);
        return m;
    }

    private static void Close(float[] want, float[] got, double tolerance, string what)
    {
        Assert.Equal(want.Length, got.Length);
        double max = 0, scale = want.Max(Math.Abs);
        for (int i = 0; i < want.Length; i++) max = Math.Max(max, Math.Abs(want[i] - got[i]));
        Assert.True(max <= tolerance * scale, $"{what}: differs by {max} (values up to {scale})");
    }

    private readonly BankApplier _applier = new(Net);

    [Fact]
    public void BlendOfOneStyleWithWeightOne_EqualsThatStyle()
    {
        float[] single = _applier.Apply(Photo(), W, H, new BankRecipe.Single("b"));
        Assert.Equal(W * H * 3, single.Length);
        Close(single, _applier.Apply(Photo(), W, H, new BankRecipe.Blend([("b", 1.0)])), 1e-5, "blend b:1");
        Close(single, _applier.Apply(Photo(), W, H, new BankRecipe.Blend([("b", 3.0), ("a", 0.0)])), 1e-5, "blend b:3,a:0");
        Assert.NotEqual(single, _applier.Apply(Photo(), W, H, new BankRecipe.Blend([("b", 0.5), ("a", 0.5)])));
    }

    [Theory]
    [InlineData(RegionMode.Feature)]
    [InlineData(RegionMode.Composite)]
    public void OneMaskCoveringTheImage_AndTwoHalvesOfOneStyle_EqualThatStyle(RegionMode mode)
    {
        float[] single = _applier.Apply(Photo(), W, H, new BankRecipe.Single("c"));
        float[] full = _applier.Apply(Photo(), W, H, new BankRecipe.Regions([new BankRegion("c", Mask((_, _) => 1f))], mode));
        float[] halves = _applier.Apply(Photo(), W, H, new BankRecipe.Regions(
            [new BankRegion("c", Mask((x, _) => x < W / 2 ? 1f : 0f)), new BankRegion("c", Mask((x, _) => x < W / 2 ? 0f : 1f))], mode, FeatherPixels: 3));
        if (mode == RegionMode.Composite)
        {
            Assert.Equal(single, full); // the same graph, composited with weight 1
            Close(single, halves, 1e-6, "two feathered halves");
        }
        else
        {
            Close(single, full, 1e-5, "one full mask");
            Close(single, halves, 1e-5, "two feathered halves");
        }
    }

    [Fact]
    public void UncoveredPixels_ShowTheReconstruction()
    {
        float[] rec = _applier.Apply(Photo(), W, H, new BankRecipe.Reconstruct());
        float[] y = _applier.Apply(Photo(), W, H, new BankRecipe.Regions([new BankRegion("a", Mask((x, _) => x < 8 ? 1f : 0f))], RegionMode.Composite));
        for (int py = 0; py < H; py++)
            for (int px = 8; px < W; px++)
                for (int c = 0; c < 3; c++) Assert.Equal(rec[(py * W + px) * 3 + c], y[(py * W + px) * 3 + c]);
    }

    [Fact]
    public void UnknownStyle_ListsTheValidOnes_AndBadMasksAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => _applier.Apply(Photo(), W, H, new BankRecipe.Single("zebra")));
        Assert.Contains("'zebra'", e.Message);
        Assert.Contains("a, b, c", e.Message);
        Assert.Throws<ArgumentException>(() => _applier.Apply(Photo(), W, H, new BankRecipe.Blend([("a", -1.0)])));
        Assert.Throws<ArgumentException>(() => _applier.Apply(Photo(), W, H, new BankRecipe.Regions([new BankRegion("a", new float[5])])));
    }

    [Fact]
    public void MaskAtFeatureResolution_IsTheBlockAverage()
    {
        float[] m = BankApplier.ToFeatureResolution(Mask((x, _) => x < 6 ? 1f : 0f), W, H);
        Assert.Equal(BankApplier.FeatureSize(H, W), (6, 7));
        Assert.Equal(1f, m[0]);
        Assert.Equal(0.5f, m[1]); // columns 4..7: two of four inside
        Assert.Equal(0f, m[2]);
    }

    [Fact]
    public void RegionDrift_FeatureModeVersusComposite()
    {
        // A bank whose styles differ strongly: filter sets scaled apart so the decoder's statistics differ per style.
        var net = StyleBankNet.Random(["left", "right"], 5);
        var p = net.Parameters[StyleBankNet.BankWeight(1)].Data;
        for (int i = 0; i < p.Length; i++) p[i] *= 3f;
        var applier = new BankApplier(net);
        BankRegion[] regions = [new("left", Mask((x, _) => x < W / 2 ? 1f : 0f)), new("right", Mask((x, _) => x < W / 2 ? 0f : 1f))];
        var d = applier.MeasureRegions(Photo(), W, H, regions);
        foreach (RegionDistance r in d)
            output.WriteLine($"{r.Style}: {r.Pixels} px, feature mode {r.FeatureModeDifference:F2}, composite {r.CompositeModeDifference:F2} (0-255)");
        Assert.All(d, r => Assert.Equal(0, r.CompositeModeDifference)); // hard masks: each region is its style's own pixels
        Assert.All(d, r => Assert.True(r.FeatureModeDifference > 0.01, $"{r.Style}: feature-mode fusion should drift"));
    }
}
