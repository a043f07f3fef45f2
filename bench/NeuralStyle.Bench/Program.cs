using System.Globalization;
using System.Text;
using NeuralStyle.Bench;
using NeuralStyle.Tensors.Kernels;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

Options o;
try
{
    o = Options.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

if (o.Child is not null)
{
    // One fresh process per memory case: run it and print one JSON line.
    RunResult r;
    switch (o.Child)
    {
        case "stylize": r = StylizeCase.RunInThisProcess(o.Width, o.Height, o.Iterations); break;
        case "johnson": r = JohnsonMemoryCase.RunInThisProcess(o.Width, null); break;
        case "johnson-ort": r = JohnsonMemoryCase.RunInThisProcess(o.Width, o.Onnx); break;
        default:
            Console.Error.WriteLine($"Unknown child case '{o.Child}'.");
            return 2;
    }

    Console.WriteLine(ChildProcess.ToJson(r));
    return 0;
}

if (o.ScheduleCompare is { } svg)
{
    if (o.ScheduleVariants is { } specs)
        return ScheduleCompare.Run(o.ScheduleSize, o.ScheduleSingle,
            specs.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(ScheduleCompare.Parse).ToList(), svg, Console.Out, o.ScheduleReference);
    return o.Quick
        ? ScheduleCompare.Run(256, 100, 60, 10, svg, Console.Out)
        : ScheduleCompare.Run(512, 500, 300, 50, svg, Console.Out);
}

if (o.ProfileJohnson)
{
    JohnsonProfile.Run(o.Quick ? 256 : 512, o.Runs, Console.Out);
    return 0;
}

if (o.Profile)
{
    (int w, int h) = o.Quick ? (256, 192) : (512, 384);
    Profiler.Run(w, h, o.Quick ? 3 : o.Runs, Console.Out);
    return 0;
}

List<BenchCase> cases = Catalog.All(o).Where(c => Stats.Matches(c.Name, o.Cases)).ToList();
if (o.List)
{
    foreach (BenchCase c in Catalog.All(o))
    {
        Console.WriteLine($"{c.Name,-26} {c.Size}");
    }

    return 0;
}

if (cases.Count == 0)
{
    Console.Error.WriteLine($"No case matches '{o.Cases}'; --list shows the names.");
    return 2;
}

int runs = o.Quick ? Math.Min(o.Runs, 3) : o.Runs;
string peerScript = Peer.FindScript();
Peer? peer = null;
string peerStatus;
if (o.NoPeer)
{
    peerStatus = "not run (--no-peer)";
}
else
{
    Console.Error.WriteLine("Starting the PyTorch peer…");
    peer = Peer.TryStart(peerScript, out string? why);
    peerStatus = peer is null ? $"CANNOT RUN: {why}. Our figures only." : peer.Version;
}

var header = new StringBuilder();
header.AppendLine($"NeuralStyle benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, " +
                  $"KernelThreading.MaxDegree {KernelThreading.MaxDegree}, .NET {Environment.Version}");
header.AppendLine($"Peer: {peerStatus}");
string loadAtStart = Stats.LoadAverage();
header.AppendLine($"Medians of {runs} runs after one warm-up{(peer is null ? "" : ", ours and the peer alternating run by run")}" +
                  (cases.Any(c => c.FreshProcess) ? "; 'stylize' runs each time in a fresh process on both sides (no warm-up, whole-job peak memory)." : "."));
Console.Error.Write(header);
if (peer is null && !o.NoPeer)
{
    Console.Error.WriteLine($"*** The PyTorch peer: {peerStatus}");
}

var rows = new List<Row>();
foreach (BenchCase c in cases)
{
    Console.Error.Write($"  {c.Name} {c.Size} … ");
    var ours = new List<double>();
    var theirs = new List<double>();
    var oursPerIt = new List<double>();
    var oursAlloc = new List<double>();
    var theirsPerIt = new List<double>();
    var ortTimes = new List<double>();
    long? oursPeak = null, peerPeak = null, ortPeak = null;
    var notes = new List<string>();
    bool peerOk = peer is not null;

    void PeerRun(Func<RunResult> run, bool keep)
    {
        if (!peerOk)
        {
            return;
        }

        try
        {
            RunResult r = run();
            if (keep)
            {
                theirs.Add(r.Seconds);
                if (r.PerIteration is double pi)
                {
                    theirsPerIt.Add(pi);
                }

                peerPeak = Math.Max(peerPeak ?? 0, r.PeakKb ?? 0);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
        {
            peerOk = false;
            notes.Add($"peer failed: {e.Message}");
        }
    }

    try
    {
        if (c.FreshProcess)
        {
            for (int r = 0; r < runs; r++)
            {
                RunResult mine = c.Run();
                ours.Add(mine.Seconds);
                if (mine.PerIteration is double pi && pi > 0)
                {
                    oursPerIt.Add(pi);
                }

                oursPeak = Math.Max(oursPeak ?? 0, mine.PeakKb ?? 0);
                if (mine.AllocatedPerIteration is double al)
                {
                    oursAlloc.Add(al);
                }

                PeerRun(() => Peer.RunFresh(peerScript, c), keep: true);
                try
                {
                    if (c.RunOrtFresh(out string? whyNoOrt) is { } ortRun)
                    {
                        ortTimes.Add(ortRun.Seconds);
                        ortPeak = Math.Max(ortPeak ?? 0, ortRun.PeakKb ?? 0);
                    }
                    else if (whyNoOrt is not null && r == 0)
                    {
                        notes.Add($"ONNX Runtime: {whyNoOrt}");
                    }
                }
                catch (InvalidOperationException e)
                {
                    notes.Add($"ONNX Runtime failed: {e.Message}");
                }
            }
        }
        else
        {
            bool reset = Memory.ResetPeak();
            c.Setup();
            if (peerOk)
            {
                try
                {
                    peer!.Begin(c);
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
                {
                    peerOk = false;
                    notes.Add($"peer failed: {e.Message}");
                }
            }

            OrtJohnson? ort = c.Ort;
            if (c.OrtStatus is { } noOrt)
            {
                notes.Add($"ONNX Runtime: {noOrt}");
            }

            c.Run();
            PeerRun(() => peer!.Run(c), keep: false);
            ort?.Run();
            for (int r = 0; r < runs; r++)
            {
                ours.Add(c.Run().Seconds);
                PeerRun(() => peer!.Run(c), keep: true);
                if (ort is not null)
                {
                    ortTimes.Add(ort.Run().Seconds);
                }
            }

            oursPeak = reset ? Memory.PeakKb() : null;
            c.Teardown();
        }
    }
    catch (Exception e) when (e is InvalidOperationException or ArgumentException or OutOfMemoryException)
    {
        notes.Add($"our run failed: {e.Message}");
        c.Teardown();
    }

    if (oursPerIt.Count > 0 || theirsPerIt.Count > 0)
    {
        notes.Add($"per iteration {Stats.Time(Stats.Median(oursPerIt))} vs {Stats.Time(Stats.Median(theirsPerIt))}" +
                  (oursPerIt.Count > 0 && theirsPerIt.Count > 0 ? $" ({Stats.Median(oursPerIt) / Stats.Median(theirsPerIt):F2}×)" : ""));
    }

    if (oursAlloc.Count > 0)
    {
        notes.Add($"ours allocates {Stats.Median(oursAlloc) / (1 << 20):F1} MB per iteration");
    }

    var row = new Row(c.Name, c.Size, Stats.Median(ours), Stats.Median(theirs), c.Flops, oursPeak, peerPeak, string.Join("; ", notes),
        Stats.Median(ortTimes), ortPeak);
    rows.Add(row);
    Console.Error.WriteLine($"{Stats.Time(row.Ours)} vs {Stats.Time(row.Peer)}{(ortTimes.Count > 0 ? $" vs ORT {Stats.Time(row.Ort)}" : "")}");
}

peer?.Dispose();
header.AppendLine($"Load average (1/5/15 min) at the start: {loadAtStart}; at the end: {Stats.LoadAverage()} " +
                  "(a load above ~2 means other jobs shared the 2 cores: compare ratios, not absolute times).");

string table = Row.Table(rows);
Console.WriteLine();
Console.Write(header);
Console.WriteLine();
Console.Write(table);
if (o.Markdown is not null)
{
    File.WriteAllText(o.Markdown, header + "\n" + table);
}

return 0;

/// <summary>One line of the result table.</summary>
internal sealed record Row(string Case, string Size, double Ours, double Peer, double Flops, long? OursPeakKb, long? PeerPeakKb, string Note,
    double Ort = double.NaN, long? OrtPeakKb = null)
{
    public double Ratio => Ours / Peer;

    public double OrtRatio => Ours / Ort;

    public static string Table(IReadOnlyList<Row> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| case | size | ours (median) | peer (median) | ours/peer | ORT (median) | ours/ORT | GFLOP/s ours | GFLOP/s peer | peak mem ours | peak mem peer | peak mem ORT | notes |");
        sb.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
        foreach (Row r in rows)
        {
            string G(double t) => r.Flops > 0 && !double.IsNaN(t) ? $"{r.Flops / t / 1e9:F0}" : "—";
            string ratio = double.IsNaN(r.Ratio) ? "—" : $"{r.Ratio:F2}×";
            string ortRatio = double.IsNaN(r.OrtRatio) ? "—" : $"{r.OrtRatio:F2}×";
            sb.AppendLine($"| {r.Case} | {r.Size} | {Stats.Time(r.Ours)} | {Stats.Time(r.Peer)} | {ratio} | {Stats.Time(r.Ort)} | {ortRatio} | {G(r.Ours)} | {G(r.Peer)} | " +
                          $"{Stats.Mb(r.OursPeakKb)} | {Stats.Mb(r.PeerPeakKb)} | {Stats.Mb(r.OrtPeakKb)} | {r.Note} |");
        }

        return sb.ToString();
    }
}
