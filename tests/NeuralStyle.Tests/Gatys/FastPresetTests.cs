using NeuralStyle.Cli;
using NeuralStyle.Tensors;
using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Imaging;
using NeuralStyle.Models;
using NeuralStyle.Tensors.Optim;

namespace NeuralStyle.Tests.Gatys;

/// <summary>
/// The fast preset (neural-style's objective from the content image, a short budget) and the coarse-to-fine preset's
/// schedule: sizes, per-scale budgets, the stopping rule and the carried L-BFGS history.
/// </summary>
public class FastPresetTests
{
    // Every field of a preset except the named ones equals neural-style's.
    private static void AssertNeuralStyleExcept(StylizeOptions preset, params string[] differing)
    {
        StylizeOptions ns = Presets.Get("neural-style");
        foreach (var prop in typeof(StylizeOptions).GetProperties().Where(p => p.Name != nameof(StylizeOptions.Preset) && !differing.Contains(p.Name)))
        {
            object? a = prop.GetValue(preset), b = prop.GetValue(ns);
            if (a is System.Collections.IEnumerable ea && b is System.Collections.IEnumerable eb && a is not string)
                Assert.Equal(eb.Cast<object>(), ea.Cast<object>());
            else
                Assert.Equal(b, a);
        }
    }

    [Fact]
    public void FastPreset_IsNeuralStylesObjective_FromTheContentImage_70RoundedTvPreconditionedIterations_History40_AtOneScale()
    {
        StylizeOptions fast = Presets.Get("fast");
        AssertNeuralStyleExcept(fast, nameof(StylizeOptions.Init), nameof(StylizeOptions.Iterations), nameof(StylizeOptions.TvSmoothing),
            nameof(StylizeOptions.PreconditionLevels), nameof(StylizeOptions.LbfgsHistory));
        Assert.Equal(40, fast.LbfgsHistory);
        Assert.Equal(InitKind.Image, fast.Init);
        Assert.Equal(70, fast.Iterations);
        Assert.Equal(1.5, fast.TvSmoothing);
        Assert.Equal(4, fast.PreconditionLevels);
        Assert.Equal([(512, 384)], new Stylizer(fast, Backbone.Random()).Schedule(1024, 768));
    }

    [Theory]
    [InlineData(InputFlavor.Caffe)]
    [InlineData(InputFlavor.Torchvision)]
    public void TvRounding_MeansTheSamePixelLevels_WhetherThePixelsOrTheNetworksInputAreOptimised(InputFlavor flavor)
    {
        var rng = new Random(4);
        Image content = ImageTensors.FromRgb(Enumerable.Range(0, 40 * 32 * 3).Select(_ => (float)rng.NextDouble()).ToArray(), 40, 32);
        Backbone backbone = Backbone.Random() with { Flavor = flavor };
        StylizeOptions o = Presets.Get("neural-style") with { Size = new SizeRule(SizeRuleKind.LongEdge, 40), Init = InitKind.Image, TvSmoothing = 1.5 };
        double RoundedTv(bool pixelSpace)
        {
            LossRow row = new Stylizer(o with { PixelSpace = pixelSpace }, backbone).Prepare(content, [content]).Evaluate(withGradient: false);
            return row.Optimised - row.Loss + row.Tv; // the total's exact TV swapped for the rounded one
        }
        double inInput = RoundedTv(false), inPixels = RoundedTv(true);
        Assert.Equal(inInput, inPixels, 1e-4 * inInput);
    }

    [Theory]
    [InlineData(InputFlavor.Caffe)]
    [InlineData(InputFlavor.Torchvision)]
    public void RoundedTvRun_ReportsTheExactLoss_AndDescendsFurtherThanThePlainRun(InputFlavor flavor)
    {
        var rng = new Random(3);
        Image Random(int w, int h) => ImageTensors.FromRgb(Enumerable.Range(0, w * h * 3).Select(_ => (float)rng.NextDouble()).ToArray(), w, h);
        Image content = Random(48, 40), style = Random(40, 40);
        Backbone backbone = Backbone.Random() with { Flavor = flavor };
        StylizeOptions o = Presets.Get("neural-style") with { Size = new SizeRule(SizeRuleKind.LongEdge, 48), Iterations = 15, Init = InitKind.Image, SaveEvery = 0 };

        (double Last, Stylizer.Problem P) Run(StylizeOptions options)
        {
            var s = new Stylizer(options, backbone);
            var rows = new List<ProgressRecord>();
            s.Progress = rows.Add;
            Stylizer.Problem p = s.Prepare(content, [style]);
            s.Optimize(p);
            return (rows[^1].Loss, p);
        }

        (double rounded, Stylizer.Problem pr) = Run(o with { TvSmoothing = 1.5, PreconditionLevels = 2 });
        // The last row is the exact objective at the result: the same image in a problem without the rounding.
        Stylizer.Problem exact = new Stylizer(o, backbone).Prepare(content, [style]);
        pr.X.Data.CopyTo(exact.X.Data, 0);
        LossRow check = exact.Evaluate(withGradient: false);
        Assert.Equal(check.Loss, rounded, 1e-5 * check.Loss);
        Assert.True(pr.Evaluate(withGradient: false).Optimised < check.Loss, "the optimiser saw the rounded TV");
        (double plain, _) = Run(o);
        Assert.True(rounded < plain, $"rounded {rounded} vs plain {plain}");
    }

    [Fact]
    public void CoarseToFinePreset_KeepsNeuralStylesLosses_ChangesTheSchedule_AndWalksAsFast()
    {
        StylizeOptions c2f = Presets.Get("coarse-to-fine");
        AssertNeuralStyleExcept(c2f, nameof(StylizeOptions.MinSize), nameof(StylizeOptions.ScaleFactor),
            nameof(StylizeOptions.ScaleIterations), nameof(StylizeOptions.CarryHistory), nameof(StylizeOptions.ScaleConsistentTv),
            nameof(StylizeOptions.ScaleStopChange), nameof(StylizeOptions.Iterations), nameof(StylizeOptions.TvSmoothing),
            nameof(StylizeOptions.PreconditionLevels));
        Assert.Equal(Presets.Get("fast").TvSmoothing, c2f.TvSmoothing);
        Assert.Equal(Presets.Get("fast").PreconditionLevels, c2f.PreconditionLevels);
        Assert.True(c2f.CarryHistory);
        Assert.True(c2f.ScaleConsistentTv);
    }

    [Fact]
    public void CoarseToFinePreset_Schedule_At512_Is128_256_512_With200_60_40()
    {
        var s = new Stylizer(Presets.Get("coarse-to-fine"), Backbone.Random());
        var sizes = s.Schedule(1024, 768);
        Assert.Equal([(128, 96), (256, 192), (512, 384)], sizes);
        Assert.Equal([200, 60, 40], s.IterationsPerScale(sizes.Count));
        // At 384 px the schedule ends at 384 (the last ×2 step is cut short); the budgets stay aligned to the end.
        var s384 = new Stylizer(Presets.Get("coarse-to-fine") with { Size = new SizeRule(SizeRuleKind.LongEdge, 384) }, Backbone.Random());
        var sizes384 = s384.Schedule(1024, 768);
        Assert.Equal([(128, 96), (256, 192), (384, 288)], sizes384);
        Assert.Equal([200, 60, 40], s384.IterationsPerScale(sizes384.Count));
        // Two scales: the first scale (from noise) keeps the first budget, the final one the last.
        var two = new Stylizer(Presets.Get("coarse-to-fine") with { MinSize = 256 }, Backbone.Random());
        Assert.Equal([200, 40], two.IterationsPerScale(two.Schedule(1024, 768).Count));
        var at256 = new Stylizer(Presets.Get("coarse-to-fine") with { Size = new SizeRule(SizeRuleKind.LongEdge, 256) }, Backbone.Random());
        Assert.Equal([(128, 96), (256, 192)], at256.Schedule(1024, 768));
        Assert.Equal([200, 40], at256.IterationsPerScale(2));
        // Four scales: the extra coarse one repeats the first budget, as before.
        Assert.Equal([200, 200, 60, 40], s.IterationsPerScale(4));
        // One scale is the final scale: the last budget.
        Assert.Equal([40], s.IterationsPerScale(1));
    }

    [Theory]
    [InlineData(new[] { "--iterations", "20" }, new[] { 200, 60, 20 })]
    [InlineData(new[] { "--scale-iterations", "100,50" }, new[] { 100, 50 })]
    [InlineData(new[] { "--scale-iterations", "100,50", "--iterations", "20" }, new[] { 100, 20 })]
    [InlineData(new[] { "--iterations", "20", "--scale-iterations", "100,50" }, new[] { 100, 20 })]
    public void Cli_IterationsSetTheFinalScale_OfWhicheverPerScaleList(string[] args, int[] expected)
    {
        ParsedArgs a = ParsedArgs.Parse("stylize", args, NeuralStyle.Cli.StylizeCommand.Options);
        StylizeOptions o = NeuralStyle.Cli.StylizeCommand.Bind(a, Presets.Get("coarse-to-fine"));
        Assert.Equal(expected, o.ScaleIterations);
    }

    [Theory]
    [InlineData(new[] { "--optimizer", "adam" }, 0, 1.5)]
    [InlineData(new[] { "--precondition-levels", "2", "--tv-smoothing", "0" }, 2, 0.0)]
    [InlineData(new[] { "--optimizer", "lbfgs" }, 4, 1.5)]
    public void Cli_FastPresetsOptimiserSettings_FollowTheFlags(string[] args, int levels, double smoothing)
    {
        ParsedArgs a = ParsedArgs.Parse("stylize", args, NeuralStyle.Cli.StylizeCommand.Options);
        StylizeOptions o = NeuralStyle.Cli.StylizeCommand.Bind(a, Presets.Get("fast"));
        Assert.Equal(levels, o.PreconditionLevels);
        Assert.Equal(smoothing, o.TvSmoothing);
        _ = new Stylizer(o, Backbone.Random()); // a valid combination
    }

    [Fact]
    public void Cli_PreconditionerAskedForWithAdam_IsRefused()
    {
        ParsedArgs a = ParsedArgs.Parse("stylize", ["--optimizer", "adam", "--precondition-levels", "3"], NeuralStyle.Cli.StylizeCommand.Options);
        StylizeOptions o = NeuralStyle.Cli.StylizeCommand.Bind(a, Presets.Get("fast"));
        var e = Assert.Throws<OptionException>(() => new Stylizer(o, Backbone.Random()));
        Assert.Equal("--precondition-levels preconditions L-BFGS only; set it to 0 with --optimizer adam.", e.Render(NeuralStyle.Cli.CommandSupport.FlagFor));
    }

    [Fact]
    public void ResampledHistory_KeepsStepsAsImages_AndScalesGradientChangesByThePixelRatio()
    {
        // Constant fields: s = a, y = b at 8×6 → at 16×12, s stays a, y becomes b/4 (a mean-type loss spreads the same
        // gradient over 4× the pixels), so γ = sᵀy/yᵀy grows by 4 and ρ = 1/yᵀs stays.
        int n = 8 * 6 * 3;
        float[] s = Enumerable.Repeat(0.5f, n).ToArray(), y = Enumerable.Repeat(2f, n).ToArray();
        var h = new LbfgsHistory([s], [y], H0Scale: 0.25);
        LbfgsHistory r = Stylizer.ResampleHistory(h, (8, 6), (16, 12));
        Assert.Equal(16 * 12 * 3, r.Steps[0].Length);
        Assert.All(r.Steps[0], v => Assert.Equal(0.5f, v, 6));
        Assert.All(r.GradientChanges[0], v => Assert.Equal(0.5f, v, 6));
        Assert.Equal(0.25 * 4, r.H0Scale, 6);
        // ρ = 1/sᵀy is unchanged by the resampling.
        Assert.Equal(PreciseSums.Dot(s, y), PreciseSums.Dot(r.Steps[0], r.GradientChanges[0]), 6);
    }

    [Fact]
    public void CoarseToFine_StopsCoarseScalesByTheRule_AndCarriesTheHistory()
    {
        Image content = Pattern(64, 48, 0), style = Pattern(48, 48, 1);
        Backbone backbone = Backbone.Random() with { Flavor = InputFlavor.Caffe }; // the bench's problem, at 64 px
        StylizeOptions o = Presets.Get("coarse-to-fine") with
        {
            Size = new SizeRule(SizeRuleKind.LongEdge, 64), MinSize = 32, ScaleIterations = [40, 6],
            ScaleStopChange = 10, // always "too little progress": the first scale ends after the 10-iteration window
        };
        List<ProgressRecord> Run(StylizeOptions options)
        {
            var rows = new List<ProgressRecord>();
            StylizeResult r = new Stylizer(options, backbone) { Progress = rows.Add }.Run(content, [style]);
            Assert.True(r.Succeeded, r.Failure);
            return rows;
        }
        var carried = Run(o);
        var stages = carried.GroupBy(r => r.Stage).ToList();
        Assert.Equal(2, stages.Count);
        Assert.Equal(Stylizer.StopWindow + 1, stages[0].Count()); // rows 0..10
        Assert.Equal(6 + 1, stages[1].Count());                    // the final scale ignores the rule
        Assert.Equal(Stylizer.StopWindow + 6, carried[^1].Step);

        var cold = Run(o with { CarryHistory = false });
        // Same first scale, same start at the second; the first step there differs only by the carried pairs.
        Assert.Equal(carried[Stylizer.StopWindow].Loss, cold[Stylizer.StopWindow].Loss);
        Assert.Equal(carried[Stylizer.StopWindow + 1].Loss, cold[Stylizer.StopWindow + 1].Loss); // scale 2, row 0
        Assert.NotEqual(carried[Stylizer.StopWindow + 2].Loss, cold[Stylizer.StopWindow + 2].Loss);
    }

    private static Image Pattern(int w, int h, int seed)
    {
        var img = new Image(w, h, 3);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    img.Data[(y * w + x) * 3 + c] = 0.5f + 0.4f * MathF.Sin(0.3f * x * (c + 1 + seed) + 0.2f * y * (2 - c + seed));
        return img;
    }
}
