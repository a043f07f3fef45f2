using System.Globalization;
using NeuralStyle.Core;
using NeuralStyle.IO;

namespace NeuralStyle.Cli;

/// <summary>What the commands share: help text, option names in messages, and running with progress bar, JSON log,
/// plot and Ctrl-C.</summary>
public static class CommandSupport
{
    /// <summary>A command's help, generated from its option declarations, one section per group.</summary>
    public static string Help(string usage, string description, IEnumerable<(string Heading, OptionSpec[] Options)> sections, int width = 34)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine(usage).AppendLine().AppendLine(description);
        foreach ((string heading, OptionSpec[] options) in sections)
        {
            sb.AppendLine().AppendLine(heading + ":");
            foreach (OptionSpec s in options)
            {
                string name = s.Alias is null ? s.Name : $"{s.Alias}, {s.Name}";
                if (s.Meta is not null) name += " " + s.Meta;
                sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {name.PadRight(width)} {s.Help}"));
            }
        }
        return sb.ToString();
    }

    /// <summary>Every option of every command (the shared groups once).</summary>
    public static IEnumerable<OptionSpec> AllOptions => StylizeCommand.Options.Concat(TextureCommand.Options).Concat(ApplyCommand.Options).Concat(TrainCommand.Options)
        .Concat(BankCommand.AllOptions).Concat(ServeCommand.Options).Distinct();

    /// <summary>The flag that sets an options-record property (what library errors name), e.g. StyleWeight: --style-weight.</summary>
    public static string FlagFor(string property)
        => AllOptions.FirstOrDefault(s => s.Binds.Contains(property))?.Name
           ?? "--" + string.Concat(property.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>A library sentence with its {Property} references written as flags.</summary>
    public static string Render(string sentence) => OptionException.Render(sentence, FlagFor);

    /// <summary>
    /// Runs <paramref name="work"/> with its progress rows drawn (bar or lines), logged (--log) and plotted (--plot),
    /// and Ctrl-C turned into cancellation (the work then returns its current result).
    /// </summary>
    public static T RunWithProgress<T>(ParsedArgs a, CliContext ctx, int printEvery, string plotTitle,
        Action<Action<ProgressRecord>> subscribe, Func<CancellationToken, T> work)
    {
        var rows = new List<ProgressRecord>();
        var bar = new ProgressBar(ctx.Err, ctx.Interactive, printEvery);
        using JsonLog? log = a.String(CommonOptions.Log.Name) is { } logPath ? new JsonLog(logPath) : null;
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
            if (a.String(CommonOptions.Plot.Name) is { } plot) AtomicFile.WriteAllText(plot, SvgPlot.Render(rows, plotTitle), createDirectory: true);
        }
    }

    /// <summary>The exit code and closing line for a finished run.</summary>
    public static int Finish(CliContext ctx, string? failure, bool cancelled, int iterations, double seconds, string output)
    {
        if (failure is not null)
        {
            ctx.Error($"{Render(failure)} ({output})");
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
