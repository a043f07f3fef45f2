using System.Globalization;
using NeuralStyle.Gatys;

namespace NeuralStyle.Cli;

/// <summary>
/// Renders progress rows on stderr: one updating line on a terminal, or a line every N iterations in a log/pipe.
/// Shows iteration, loss, iterations/s and time left.
/// </summary>
public sealed class ProgressBar(TextWriter writer, bool interactive, int printEvery)
{
    private DateTime _lastDraw = DateTime.MinValue;
    private int _lastWidth;

    public void Report(ProgressRecord r)
    {
        bool last = r.Iteration >= r.TotalIterations;
        if (interactive)
        {
            if (!last && r.Iteration != 0 && (DateTime.UtcNow - _lastDraw).TotalMilliseconds < 100) return;
            _lastDraw = DateTime.UtcNow;
            string line = Line(r, bar: true);
            writer.Write('\r' + line.PadRight(_lastWidth));
            _lastWidth = line.Length;
            if (last) writer.WriteLine();
            writer.Flush();
        }
        else if (printEvery > 0 && (r.Iteration % printEvery == 0 || last))
        {
            writer.WriteLine(Line(r, bar: false));
        }
    }

    public void Finish()
    {
        if (interactive && _lastWidth > 0) writer.WriteLine();
        _lastWidth = 0;
    }

    public static string Line(ProgressRecord r, bool bar)
    {
        var inv = CultureInfo.InvariantCulture;
        (double rate, TimeSpan? left) = r.Speed();
        string b = "";
        if (bar)
        {
            const int Width = 24;
            int filled = r.TotalIterations > 0 ? (int)Math.Round(Width * Math.Min(1.0, (double)r.Iteration / r.TotalIterations)) : Width;
            b = "[" + new string('#', filled) + new string('.', Width - filled) + "] ";
        }
        string stage = string.IsNullOrEmpty(r.Stage) ? "" : r.Stage + " ";
        return string.Create(inv,
            $"{stage}{b}{r.Iteration}/{r.TotalIterations}  loss {r.Loss:G5} (content {r.Content:G4}, style {r.Style:G4}, tv {r.Tv:G3})  " +
            $"{rate:F2} it/s  {Format(left)} left");
    }

    private static string Format(TimeSpan? t)
    {
        if (t is null) return "--:--";
        TimeSpan v = t.Value;
        return v.TotalHours >= 1 ? $"{(int)v.TotalHours}:{v.Minutes:00}:{v.Seconds:00}" : $"{v.Minutes:00}:{v.Seconds:00}";
    }
}
