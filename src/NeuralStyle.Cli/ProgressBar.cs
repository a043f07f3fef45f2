using System.Globalization;
using NeuralStyle.Core;

namespace NeuralStyle.Cli;

/// <summary>
/// Renders progress rows on stderr: one updating line on a terminal, or a line every N steps in a log/pipe. The
/// line never wraps on an 80-column terminal: numbers are compact and the least important fields are left out first.
/// </summary>
public sealed class ProgressBar(TextWriter writer, bool interactive, int printEvery)
{
    /// <summary>One column less than a classic terminal, so the cursor never wraps to the next line.</summary>
    public const int MaxWidth = 79;

    private DateTime _lastDraw = DateTime.MinValue;
    private int _lastWidth;

    public void Report(ProgressRecord r)
    {
        bool last = r.Step >= r.TotalSteps;
        if (interactive)
        {
            if (!last && r.Step != 0 && (DateTime.UtcNow - _lastDraw).TotalMilliseconds < 100) return;
            _lastDraw = DateTime.UtcNow;
            string line = Line(r, bar: true);
            writer.Write('\r' + line.PadRight(_lastWidth));
            _lastWidth = line.Length;
            if (last) writer.WriteLine();
            writer.Flush();
        }
        else if (printEvery > 0 && (r.Step % printEvery == 0 || last))
        {
            writer.WriteLine(Line(r, bar: false));
        }
    }

    public void Finish()
    {
        if (interactive && _lastWidth > 0) writer.WriteLine();
        _lastWidth = 0;
    }

    /// <summary>
    /// The progress line, at most <paramref name="width"/> characters. In order of importance: step/total, loss,
    /// time left, epoch, speed, learning rate, stage, bar, the loss groups (content, style, …).
    /// </summary>
    public static string Line(ProgressRecord r, bool bar, int width = MaxWidth)
    {
        var inv = CultureInfo.InvariantCulture;
        (double rate, TimeSpan? left) = r.Speed();
        // (text, importance): the lowest importance goes first when the line is too long.
        var parts = new List<(string Text, int Importance)>();
        if (!string.IsNullOrEmpty(r.Stage)) parts.Add((Truncate(r.Stage, 22), 3));
        if (bar)
        {
            const int BarWidth = 20;
            int filled = r.TotalSteps > 0 ? (int)Math.Round(BarWidth * Math.Clamp((double)r.Step / r.TotalSteps, 0, 1)) : BarWidth;
            parts.Add(("[" + new string('#', filled) + new string('.', BarWidth - filled) + "]", 2));
        }
        if (r.Epoch is { } ep) parts.Add((r.TotalEpochs is { } te ? $"epoch {ep}/{te}" : $"epoch {ep}", 6));
        parts.Add((string.Create(inv, $"{r.Step}/{r.TotalSteps}"), 10));
        if (!double.IsNaN(r.Loss)) parts.Add(($"loss {Compact(r.Loss)}", 9)); // NaN: a job without a loss (apply)
        var groups = r.Groups();
        if (groups.Count > 1 || (groups.Count == 1 && groups[0].Name != "loss"))
            parts.Add(("(" + string.Join(", ", groups.Select(g => $"{Truncate(g.Name, 12)} {Compact(g.Value)}")) + ")", 1));
        if (r.LearningRate is { } lr) parts.Add(($"lr {Compact(lr)}", 4));
        parts.Add((r.ImagesPerSecond is { } ips ? $"{Compact(ips)} img/s" : $"{Compact(rate)} it/s", 5));
        parts.Add(($"{Format(left)} left", 7));

        string Join() => string.Join("  ", parts.Select(p => p.Text));
        string line = Join();
        while (line.Length > width && parts.Count > 1)
        {
            int drop = parts.FindIndex(p => p.Importance == parts.Min(q => q.Importance));
            parts.RemoveAt(drop);
            line = Join();
        }
        return Truncate(line, width);
    }

    /// <summary>At most 5 significant characters of mantissa: 0.0123, 1234.5, 1.23e+30, nan.</summary>
    public static string Compact(double v)
    {
        if (double.IsNaN(v)) return "nan";
        if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
        double a = Math.Abs(v);
        if (a == 0) return "0";
        return a is >= 1e-3 and < 1e5
            ? v.ToString("G4", CultureInfo.InvariantCulture)
            : v.ToString("0.##e+0", CultureInfo.InvariantCulture);
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    private static string Format(TimeSpan? t)
    {
        if (t is null) return "--:--";
        TimeSpan v = t.Value;
        if (v.TotalDays >= 1) return string.Create(CultureInfo.InvariantCulture, $"{(int)v.TotalDays}d{v.Hours:00}h");
        return v.TotalHours >= 1 ? $"{(int)v.TotalHours}:{v.Minutes:00}:{v.Seconds:00}" : $"{v.Minutes:00}:{v.Seconds:00}";
    }
}
