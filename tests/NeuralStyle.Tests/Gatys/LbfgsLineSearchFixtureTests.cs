using System.Text.Json;
using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Imaging;
using NeuralStyle.Models;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;

namespace NeuralStyle.Tests.Gatys;

/// <summary>
/// L-BFGS with the strong-Wolfe line search on a VGG-shaped problem (issue 11, defect 2): the neural-style preset on
/// the embedded random VGG-19 (full width, torchvision flavour), style weight 1e5, content as init, 40×30, against
/// torch.optim.LBFGS(max_iter=10, line_search_fn="strong_wolfe") (tests/fixtures/engine/lbfgs, made by
/// tools/fixtures/engine/lbfgs.py, which rebuilds our random weights bit for bit).
/// </summary>
public class LbfgsLineSearchFixtureTests
{
    private static readonly JsonElement Trajectory =
        JsonDocument.Parse(File.ReadAllText(Fixtures.Engine("lbfgs", "trajectory.json"))).RootElement;

    private static Image Rgb(WeightTensor t) => ImageTensors.FromRgb(Fixtures.ToNhwc(t), (int)t.Shape[3], (int)t.Shape[2]);

    private static List<ProgressRecord> Run(int iterations)
    {
        var t = NeuralStyle.Weights.SafeTensors.Read(Fixtures.Engine("lbfgs", "problem.safetensors"));
        Image content = Rgb(t["content"]), style = Rgb(t["style"]);
        StylizeOptions o = Presets.Get("neural-style") with
        {
            Size = new SizeRule(SizeRuleKind.LongEdge, Math.Max(content.Width, content.Height)),
            StyleWeight = Trajectory.GetProperty("style_weight").GetDouble(),
            Init = InitKind.Image, StrongWolfe = true, Iterations = iterations, LbfgsHistory = 100, LearningRate = 1, SaveEvery = 0,
        };
        var rows = new List<ProgressRecord>();
        var stylizer = new Stylizer(o, Backbone.Random() with { Flavor = InputFlavor.Torchvision }) { Progress = rows.Add };
        StylizeResult r = stylizer.Run(content, [style]);
        Assert.True(r.Succeeded, r.Failure);
        return rows;
    }

    private static double[] Losses(string run) =>
        Trajectory.GetProperty("runs").GetProperty(run).GetProperty("losses").EnumerateArray().Select(e => e.GetDouble()).ToArray();

    /// <summary>
    /// One row per iteration (the accepted point), the same iteration count as torch (its 5N/4 evaluation budget ends
    /// the run after 7 of the 10 iterations), and every accepted loss within 2e-3 of PyTorch's float32 run (its own
    /// float64 run lies within 2e-4 of it; two float32 implementations drift further apart with each iteration).
    /// </summary>
    [Fact]
    public void StrongWolfe_RandomVgg19_LossPerIterationMatchesTorch()
    {
        JsonElement f32 = Trajectory.GetProperty("runs").GetProperty("float32");
        double[] torch = Losses("float32"), torch64 = Losses("float64");
        List<ProgressRecord> rows = Run(Trajectory.GetProperty("max_iter").GetInt32());

        Assert.True(Fixtures.Relative(rows[0].Loss, f32.GetProperty("initial_loss").GetDouble()) <= 1e-5,
            $"initial loss: ours {rows[0].Loss:R}, PyTorch {f32.GetProperty("initial_loss").GetDouble():R} (not the same network or problem)");
        Assert.Equal(torch.Length + 1, rows.Count);
        for (int k = 1; k <= torch.Length; k++)
        {
            Assert.Equal(k, rows[k].Step);
            Assert.True(Fixtures.Relative(rows[k].Loss, torch[k - 1]) <= 2e-3,
                $"iteration {k}: ours {rows[k].Loss:R}, PyTorch f32 {torch[k - 1]:R}, f64 {torch64[k - 1]:R}");
        }
        Assert.True(rows[^1].Loss < 0.5 * rows[0].Loss, "the line search made no progress");
        Assert.All(rows, r => Assert.Equal(Trajectory.GetProperty("max_iter").GetInt32(), r.TotalSteps));
    }
}
