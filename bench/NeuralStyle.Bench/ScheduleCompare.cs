using System.Diagnostics;
using System.Globalization;
using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Imaging;
using NeuralStyle.Models;

namespace NeuralStyle.Bench;

/// <summary>
/// Issues 5, 11 and 13: with the neural-style losses, how soon does a coarse-to-fine schedule reach the final-size loss
/// of N single-scale L-BFGS iterations? Ours only (the peer has no schedule). Every run's total loss goes against wall
/// time into one SVG; the results' final-size losses are compared (the last row of the final scale IS the full-size
/// loss of the result image), and each schedule's image against the single-scale one by RMSE / PSNR over [0,1] RGB.
/// </summary>
internal static class ScheduleCompare
{
    /// <summary>A named schedule: a transform of the single-scale options.</summary>
    public sealed record Variant(string Name, Func<StylizeOptions, StylizeOptions> Apply, string Description);

    /// <summary>
    /// Parses "name:key=value,key=value" (keys: preset=fast, min=128, factor=2, iters=200/100/50, carry=0|1, tv=0|1,
    /// stop=1e-3, first=N, later=N, init=image|random|noise, history=N, pre=levels, tveps=pixel levels).
    /// </summary>
    public static Variant Parse(string spec)
    {
        int colon = spec.IndexOf(':');
        string name = colon < 0 ? spec : spec[..colon];
        string body = colon < 0 ? "" : spec[(colon + 1)..];
        var inv = CultureInfo.InvariantCulture;
        var pairs = body.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).ToList();
        StylizeOptions Apply(StylizeOptions o)
        {
            foreach (string[] kv in pairs)
            {
                string v = kv.Length > 1 ? kv[1] : "1";
                o = kv[0] switch
                {
                    // the preset's schedule, start and optimiser settings only: the losses stay the caller's
                    "preset" => Presets.Get(v) is var p ? o with
                    {
                        MinSize = p.MinSize, ScaleFactor = p.ScaleFactor, ScaleIterations = p.ScaleIterations, CarryHistory = p.CarryHistory,
                        ScaleConsistentTv = p.ScaleConsistentTv, ScaleStopChange = p.ScaleStopChange, Iterations = p.Iterations,
                        Init = p.Init, TvSmoothing = p.TvSmoothing, PreconditionLevels = p.PreconditionLevels, LbfgsHistory = p.LbfgsHistory,
                    } : o,
                    "min" => o with { MinSize = int.Parse(v, inv) },
                    "factor" => o with { ScaleFactor = double.Parse(v, inv) },
                    "iters" => o with { ScaleIterations = v.Split('/').Select(x => int.Parse(x, inv)).ToArray() },
                    "first" => o with { InitialIterations = int.Parse(v, inv) },
                    "later" => o with { Iterations = int.Parse(v, inv) },
                    "carry" => o with { CarryHistory = v != "0" },
                    "tv" => o with { ScaleConsistentTv = v != "0" },
                    "stop" => o with { ScaleStopChange = double.Parse(v, inv) },
                    "init" => o with { Init = Enum.Parse<InitKind>(v, ignoreCase: true) },
                    "history" => o with { LbfgsHistory = int.Parse(v, inv) },
                    "pre" => o with { PreconditionLevels = int.Parse(v, inv) },
                    "tveps" => o with { TvSmoothing = double.Parse(v, inv) },
                    _ => throw new ArgumentException($"Unknown schedule key '{kv[0]}' in '{spec}'."),
                };
            }
            return o;
        }
        return new Variant(name, Apply, body);
    }

    public static int Run(int size, int singleIterations, IReadOnlyList<Variant> variants, string svgPath, TextWriter output, string? referenceDir = null)
    {
        string root = FindRoot();
        Image content = ImageIO.ToRgb(ImageIO.Load(Path.Combine(root, "examples", "images", "tubingen.jpg")));
        Image style = ImageIO.ToRgb(ImageIO.Load(Path.Combine(root, "examples", "images", "starry_night.jpg")));
        // The embedded random VGG-19 fed caffe-style: the cost and the optimisation problem's shape of the real preset.
        Backbone backbone = Backbone.Random() with { Flavor = InputFlavor.Caffe };
        StylizeOptions baseOptions = Presets.Get("neural-style") with { Size = new SizeRule(SizeRuleKind.LongEdge, size), SaveEvery = 0 };
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"schedule comparison, neural-style losses, {size} px long edge, embedded random VGG-19 (caffe flavour); load average {LoadAverage()}"));

        string? reference = referenceDir is null ? null : Path.Combine(referenceDir, $"single-{size}-{singleIterations}");
        RunResult single;
        if (reference is not null && File.Exists(reference + ".csv") && File.Exists(reference + ".png"))
        {
            single = ReadReference(reference);
            output.WriteLine(string.Create(inv, $"single scale reused from {reference}.csv: {single.Seconds:F1} s, loss {single.Rows[^1].Loss:G6}"));
        }
        else
        {
            single = Stylize(baseOptions with { Iterations = singleIterations }, backbone, content, style);
            output.WriteLine(string.Create(inv, $"single scale done: {single.Seconds:F1} s, loss {single.Rows[^1].Loss:G6}; load {LoadAverage()}"));
            if (reference is not null) WriteReference(reference, single);
        }
        // Every variant untimed for a few iterations first, so that no timed run pays for compiling the code paths it
        // is the first to take (the first variant ran ~40 ms an iteration slower than the same settings run later).
        foreach (Variant v in variants)
            Stylize(v.Apply(baseOptions) with { Iterations = 12, ScaleIterations = null, MinSize = null, Scales = 1 }, backbone, content, style);
        var runs = new List<(Variant V, string Schedule, string Budget, RunResult R)>();
        foreach (Variant v in variants)
        {
            StylizeOptions o = v.Apply(baseOptions);
            var stylizer = new Stylizer(o, backbone);
            var sched = stylizer.Schedule(content.Width, content.Height);
            string schedule = string.Join(" → ", sched.Select(s => $"{Math.Max(s.Width, s.Height)}"));
            string budget = string.Join("+", stylizer.IterationsPerScale(sched.Count));
            RunResult r = Stylize(o, backbone, content, style);
            runs.Add((v, schedule, budget, r));
            output.WriteLine(string.Create(inv, $"{v.Name} done: {r.Seconds:F1} s, loss {r.Rows[^1].Loss:G6}; load {LoadAverage()}"));
            if (r.Rows.Where(x => x.Stage == r.Rows[^1].Stage).FirstOrDefault(x => x.Loss <= single.Rows[^1].Loss) is { } hit)
                output.WriteLine(string.Create(inv, $"    reached the single-scale final loss at row {hit.Step}, {hit.Seconds:F1} s"));
            // Each scale: its loss at the start (the upsampled previous result) and at the end, and when it ended.
            foreach (var g in r.Rows.GroupBy(x => x.Stage))
                output.WriteLine(string.Create(inv, $"    {g.Key}: {g.Count() - 1} its, loss {g.First().Loss:G6} → {g.Last().Loss:G6}, ends at {g.Last().Seconds:F1} s; terms {Terms(g.First())} → {Terms(g.Last())}"));
        }

        double singleFinal = single.Rows[^1].Loss;
        output.WriteLine();
        output.WriteLine("| run | scales (long edge) | iterations per scale (run) | time | time ratio | final loss | loss ratio | single scale reached it at | RMSE vs single | PSNR |");
        output.WriteLine("|---|---|---|--:|--:|--:|--:|--:|--:|--:|");
        output.WriteLine(string.Create(inv, $"| single scale | {size} | {singleIterations} | {single.Seconds:F1} s | 1 | {singleFinal:G6} | 1 | — | — | — |"));
        foreach ((Variant v, string schedule, string budget, RunResult r) in runs)
        {
            double final = r.Rows[^1].Loss;
            ProgressRecord? reach = single.Rows.FirstOrDefault(x => x.Loss <= final);
            string ran = string.Join("+", r.Rows.GroupBy(x => x.Stage).Select(g => g.Count() - 1)); // each scale: its start row + one per iteration
            (double rmse, double psnr) = Difference(single.Image, r.Image);
            output.WriteLine(string.Create(inv,
                $"| {v.Name} | {schedule} | {budget} ({ran}) | {r.Seconds:F1} s | {r.Seconds / single.Seconds:F3} | {final:G6} | {final / singleFinal:F3} | " +
                $"{(reach is null ? "never" : $"it. {reach.Step} ({reach.Seconds:F1} s)")} | {rmse:F4} | {psnr:F1} dB |"));
        }
        output.WriteLine(string.Create(inv, $"load average at the end: {LoadAverage()}"));

        var curves = new List<(string, IReadOnlyList<ProgressRecord>)> { ($"single scale ({singleIterations})", single.Rows) };
        curves.AddRange(runs.Select(x => (x.V.Name, (IReadOnlyList<ProgressRecord>)x.R.Rows)));
        string? dir = Path.GetDirectoryName(Path.GetFullPath(svgPath));
        if (dir is not null) Directory.CreateDirectory(dir);
        var references = new List<(string, double)> { ($"single scale after {singleIterations}", singleFinal) };
        if (single.Rows.FirstOrDefault(x => x.Step == singleIterations / 2) is { } half)
            references.Add(($"single scale after {half.Step}", half.Loss));
        string stem = Path.Combine(dir ?? ".", Path.GetFileNameWithoutExtension(svgPath));
        // The plot zooms on the variants' time and the losses near the end; the whole of every curve is in "-full".
        double longest = runs.Count == 0 ? single.Seconds : runs.Max(x => x.R.Seconds);
        double lowest = Math.Min(singleFinal, runs.Count == 0 ? singleFinal : runs.Min(x => x.R.Rows[^1].Loss));
        // Zoomed, only the full-size rows: a coarse scale's loss is another problem's and not comparable.
        var fullSize = curves.Select(c => (c.Item1, (IReadOnlyList<ProgressRecord>)c.Item2.Where(x => x.Stage == c.Item2[^1].Stage).ToList())).ToList();
        File.WriteAllText(svgPath, SvgPlot.RenderTotalsAgainstTime(fullSize,
            $"full-size loss at {size} px against wall time (first {Math.Ceiling(longest * 1.25):F0} s)", references,
            new SvgPlot.PlotWindow(Math.Ceiling(longest * 1.25), lowest * 0.97, singleFinal * 1.6)));
        File.WriteAllText(stem + "-full.svg", SvgPlot.RenderTotalsAgainstTime(curves,
            $"neural-style losses at {size} px: total loss against wall time", references));
        output.WriteLine($"plot: {svgPath} (whole curves: {stem}-full.svg)");
        ImageIO.Save(single.Image, stem + "-single.png");
        foreach (var x in runs) WriteReference($"{stem}-{x.V.Name}", x.R); // each run's curve (CSV) and image
        return 0;
    }

    /// <summary>The old issue-5 comparison (single scale vs one coarse-to-fine schedule).</summary>
    public static int Run(int size, int singleIterations, int initialIterations, int laterIterations, string svgPath, TextWriter output)
        => Run(size, singleIterations, [Parse($"coarse-to-fine:min=128,first={initialIterations},later={laterIterations}")], svgPath, output);

    private static string Terms(ProgressRecord r) =>
        string.Join(" ", r.Terms.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Key}={t.Value:G4}")));

    internal sealed record RunResult(List<ProgressRecord> Rows, double Seconds, Image Image);

    // A run as CSV (step, seconds, loss; the terms are not needed here) and its image.
    internal static void WriteReference(string stem, RunResult r)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(stem))!);
        var inv = CultureInfo.InvariantCulture;
        File.WriteAllLines(stem + ".csv", [string.Create(inv, $"total_seconds,{r.Seconds:R}"), "step,total_steps,seconds,loss",
            .. r.Rows.Select(x => string.Create(inv, $"{x.Step},{x.TotalSteps},{x.Seconds:R},{x.Loss:R}"))]);
        ImageIO.Save(r.Image, stem + ".png");
    }

    internal static RunResult ReadReference(string stem)
    {
        var inv = CultureInfo.InvariantCulture;
        string[] lines = File.ReadAllLines(stem + ".csv");
        double seconds = double.Parse(lines[0].Split(',')[1], inv);
        var rows = lines.Skip(2).Select(l => l.Split(',')).Select(f => new ProgressRecord(int.Parse(f[0], inv), int.Parse(f[1], inv),
            double.Parse(f[2], inv), double.Parse(f[3], inv), new Dictionary<string, double>())).ToList();
        return new RunResult(rows, seconds, ImageIO.ToRgb(ImageIO.Load(stem + ".png")));
    }

    private static RunResult Stylize(StylizeOptions o, Backbone backbone, Image content, Image style)
    {
        var rows = new List<ProgressRecord>();
        var stylizer = new Stylizer(o, backbone) { Progress = rows.Add };
        var clock = Stopwatch.StartNew();
        StylizeResult r = stylizer.Run(content, [style]);
        if (r.Failure is not null) throw new InvalidOperationException(r.Failure);
        return new RunResult(rows, clock.Elapsed.TotalSeconds, r.Image);
    }

    /// <summary>RMSE and PSNR between two same-sized RGB images in [0,1] (values clamped as they would be saved).</summary>
    internal static (double Rmse, double Psnr) Difference(Image a, Image b)
    {
        if (a.Width != b.Width || a.Height != b.Height) throw new ArgumentException("The images differ in size.");
        double sum = 0;
        for (int i = 0; i < a.Data.Length; i++)
        {
            double d = Math.Clamp(a.Data[i], 0, 1) - Math.Clamp(b.Data[i], 0, 1);
            sum += d * d;
        }
        double rmse = Math.Sqrt(sum / a.Data.Length);
        return (rmse, 20 * Math.Log10(1 / Math.Max(rmse, 1e-12)));
    }

    private static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "NeuralStyle.slnx"))) return d.FullName;
        throw new InvalidOperationException("Cannot find the repository root (NeuralStyle.slnx).");
    }
}
