using System.Diagnostics;
using System.Globalization;
using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Losses;
using NeuralStyle.Imaging;
using NeuralStyle.Models;

namespace NeuralStyle.Bench;

/// <summary>
/// Issue 5's target: with the neural-style preset at 512 px, does the coarse-to-fine schedule reach a full-resolution
/// loss no higher than N single-scale L-BFGS iterations, in at most a quarter of their time? Ours only (the peer has
/// no coarse-to-fine schedule); both curves go to one SVG.
/// </summary>
internal static class ScheduleCompare
{
    public static int Run(int size, int singleIterations, int initialIterations, int laterIterations, string svgPath, TextWriter output)
    {
        string root = FindRoot();
        Image content = ImageIO.ToRgb(ImageIO.Load(Path.Combine(root, "examples", "images", "tubingen.jpg")));
        Image style = ImageIO.ToRgb(ImageIO.Load(Path.Combine(root, "examples", "images", "starry_night.jpg")));
        // The embedded random VGG-19 fed caffe-style: the cost and the optimisation problem's shape of the real preset.
        Backbone backbone = Backbone.Random() with { Flavor = InputFlavor.Caffe };
        StylizeOptions baseOptions = Presets.Get("neural-style") with { Size = new SizeRule(SizeRuleKind.LongEdge, size), SaveEvery = 0 };

        (List<ProgressRecord> single, double singleSeconds) = Stylize(baseOptions with { Iterations = singleIterations }, backbone, content, style);
        StylizeOptions c2f = baseOptions with { MinSize = 128, InitialIterations = initialIterations, Iterations = laterIterations };
        (List<ProgressRecord> multi, double multiSeconds) = Stylize(c2f, backbone, content, style);

        double singleFinal = single[^1].Loss, multiFinal = multi[^1].Loss;
        ProgressRecord? reach = single.FirstOrDefault(r => r.Loss <= multiFinal);
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"schedule comparison, neural-style preset, {size} px long edge, embedded random VGG-19 (caffe flavour)"));
        output.WriteLine(string.Create(inv, $"| run | iterations | time | final loss |"));
        output.WriteLine("|---|--:|--:|--:|");
        output.WriteLine(string.Create(inv, $"| single scale | {singleIterations} | {singleSeconds:F1} s | {singleFinal:G5} |"));
        string schedule = string.Join(" → ", new Stylizer(c2f, backbone).Schedule(content.Width, content.Height).Select(s => $"{s.Width}×{s.Height}"));
        output.WriteLine(string.Create(inv, $"| coarse-to-fine {schedule} | {initialIterations} + {laterIterations} per later scale | {multiSeconds:F1} s | {multiFinal:G5} |"));
        output.WriteLine(string.Create(inv, $"time ratio coarse-to-fine / single scale: {multiSeconds / singleSeconds:F3} (target ≤ 0.25); " +
            $"final loss ratio: {multiFinal / singleFinal:F3} (target ≤ 1)"));
        output.WriteLine(reach is null
            ? "the single-scale run never got as low as the coarse-to-fine result"
            : string.Create(inv, $"the single-scale run first reached the coarse-to-fine final loss at iteration {reach.Step} ({reach.Seconds:F1} s)"));
        File.WriteAllText(svgPath, SvgPlot.Render([("single scale", single), ("coarse-to-fine", multi)], $"neural-style at {size} px: single scale vs coarse-to-fine"));
        output.WriteLine($"plot: {svgPath}");
        return 0;
    }

    private static (List<ProgressRecord> Rows, double Seconds) Stylize(StylizeOptions o, Backbone backbone, Image content, Image style)
    {
        var rows = new List<ProgressRecord>();
        var stylizer = new Stylizer(o, backbone) { Progress = rows.Add };
        var clock = Stopwatch.StartNew();
        StylizeResult r = stylizer.Run(content, [style]);
        if (r.Failure is not null) throw new InvalidOperationException(r.Failure);
        return (rows, clock.Elapsed.TotalSeconds);
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "NeuralStyle.slnx"))) return d.FullName;
        throw new InvalidOperationException("Cannot find the repository root (NeuralStyle.slnx).");
    }
}
