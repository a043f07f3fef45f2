using System.Globalization;
using System.Text;
using NeuralStyle.Gatys;

namespace NeuralStyle.Reporting;

/// <summary>
/// Writes progress rows as JSON lines: {"iteration": k, "seconds": t, "loss": …, "content": …, "style": …, "tv": …,
/// "terms": {"content:relu4_2": …}}. Each row is flushed, so an interrupted run keeps its log.
/// </summary>
public sealed class JsonLog : IDisposable
{
    private readonly StreamWriter _w;

    public JsonLog(string path)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        _w = new StreamWriter(path, append: false, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
    }

    public void Write(ProgressRecord r) => _w.WriteLine(Format(r));

    public static string Format(ProgressRecord r)
    {
        var sb = new StringBuilder(256);
        sb.Append("{\"iteration\": ").Append(r.Iteration.ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(r.Stage)) sb.Append(", \"stage\": \"").Append(r.Stage).Append('"');
        sb.Append(", \"seconds\": ").Append(Num(r.Seconds));
        sb.Append(", \"loss\": ").Append(Num(r.Loss));
        sb.Append(", \"content\": ").Append(Num(r.Content));
        sb.Append(", \"style\": ").Append(Num(r.Style));
        sb.Append(", \"tv\": ").Append(Num(r.Tv));
        sb.Append(", \"terms\": {");
        bool first = true;
        foreach ((string k, double v) in r.Terms)
        {
            if (!first) sb.Append(", ");
            first = false;
            sb.Append('"').Append(k).Append("\": ").Append(Num(v));
        }
        return sb.Append("}}").ToString();
    }

    /// <summary>A JSON number (round-trip precision), or null for NaN/∞ which JSON cannot hold.</summary>
    private static string Num(double v) => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "null";

    public void Dispose() => _w.Dispose();
}
