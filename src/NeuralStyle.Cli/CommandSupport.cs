using System.Globalization;
using NeuralStyle.Gatys;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Reporting;

namespace NeuralStyle.Cli;

/// <summary>What the optimisation commands share: option parsing of the backbone, help text, and running with
/// progress bar, JSON log, plot and Ctrl-C.</summary>
public static class CommandSupport
{
    public static string Help(string usage, string description, IEnumerable<OptionSpec> options, int width = 34)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine(usage).AppendLine().AppendLine(description).AppendLine();
        foreach (OptionSpec s in options)
        {
            string name = s.Alias is null ? s.Name : $"{s.Alias}, {s.Name}";
            if (s.Meta is not null) name += " " + s.Meta;
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {name.PadRight(width)} {s.Help}"));
        }
        return sb.ToString();
    }

    /// <summary>--model vgg19|vgg16|random (lower-cased), or null when not given.</summary>
    public static string? Model(ParsedArgs a)
    {
        if (a.String("--model") is not { } model) return null;
        string m = model.ToLowerInvariant();
        return m is "vgg19" or "vgg16" or "random" ? m : throw new UsageException($"Unknown --model '{model}'; use vgg19, vgg16 or random.");
    }

    public static InputFlavor? Flavor(ParsedArgs a)
    {
        if (a.String("--input-flavor") is not { } flavor) return null;
        try { return InputFlavors.Parse(flavor); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
    }

    public static ulong? Seed(ParsedArgs a)
    {
        if (a.String("--seed") is not { } seed) return null;
        return ulong.TryParse(seed, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong v)
            ? v : throw new UsageException($"Option --seed expects a non-negative whole number, got '{seed}'.");
    }

    public static PoolingKind? Pooling(ParsedArgs a)
        => a.Choice("--pooling", new Dictionary<string, PoolingKind> { ["max"] = PoolingKind.Max, ["avg"] = PoolingKind.Avg });

    /// <summary>The output must be an image file we can write.</summary>
    public static void CheckOutput(string output)
    {
        string ext = Path.GetExtension(output).ToLowerInvariant();
        if (ext is not (".png" or ".jpg" or ".jpeg")) throw new UsageException($"The output '{output}' must end in .png, .jpg or .jpeg.");
    }

    /// <summary>
    /// Runs <paramref name="work"/> with its progress rows drawn (bar or lines), logged (--log) and plotted (--plot),
    /// and Ctrl-C turned into cancellation (the work then returns its current result).
    /// </summary>
    public static T RunWithProgress<T>(ParsedArgs a, CliContext ctx, int printEvery, string plotTitle,
        Action<Action<ProgressRecord>> subscribe, Func<CancellationToken, T> work)
    {
        var rows = new List<ProgressRecord>();
        var bar = new ProgressBar(ctx.Err, ctx.Interactive, printEvery);
        using JsonLog? log = a.String("--log") is { } logPath ? new JsonLog(logPath) : null;
        subscribe(r =>
        {
            rows.Add(r);
            log?.Write(r);
            bar.Report(r);
        });
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return work(cts.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            bar.Finish();
            if (a.String("--plot") is { } plot) AtomicFile.WriteAllText(plot, SvgPlot.Render(rows, plotTitle));
        }
    }

    /// <summary>The exit code and closing line for a finished run.</summary>
    public static int Finish(CliContext ctx, string? failure, bool cancelled, int iterations, double seconds, string output)
    {
        if (failure is not null)
        {
            ctx.Error($"{failure} ({output})");
            return CliApp.ExitFailure;
        }
        if (cancelled)
        {
            ctx.Info($"Interrupted after {iterations} iterations; the current image was written to {output}.");
            return CliApp.ExitInterrupted;
        }
        ctx.Info(string.Create(CultureInfo.InvariantCulture, $"Wrote {output} ({iterations} iterations in {seconds:F1} s)."));
        return CliApp.ExitOk;
    }
}
