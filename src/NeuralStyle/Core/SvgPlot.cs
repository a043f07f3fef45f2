using System.Globalization;
using System.Text;

namespace NeuralStyle.Core;

/// <summary>
/// An SVG line chart of the loss curves (total, content, style, and "tv": every other term, e.g. inter-frame) against iterations, log-scale y, like the
/// PyTorch tutorial's figure. Several runs (e.g. single-scale vs coarse-to-fine) can share one plot.
/// </summary>
public static class SvgPlot
{
    private static readonly (string Name, string Color, Func<ProgressRecord, double> Get)[] Series =
    [
        ("total", "#222222", r => r.Loss),
        ("content", "#1f77b4", r => r.Content),
        ("style", "#d62728", r => r.Style),
        ("tv", "#2ca02c", r => r.Other),
    ];

    public static string Render(IReadOnlyList<ProgressRecord> rows, string title = "Loss")
        => Render([("", rows)], title);

    public static string Render(IReadOnlyList<(string Label, IReadOnlyList<ProgressRecord> Rows)> runs, string title)
    {
        const double W = 720, H = 440, L = 70, R = 150, T = 40, B = 50;
        var pts = runs.SelectMany(run => run.Rows).ToList();
        double maxX = Math.Max(1, pts.Count == 0 ? 1 : pts.Max(p => p.Step));
        var ys = pts.SelectMany(p => Series.Select(s => s.Get(p))).Where(v => v > 0 && double.IsFinite(v)).ToList();
        double lo = ys.Count > 0 ? Math.Floor(Math.Log10(ys.Min())) : 0;
        double hi = ys.Count > 0 ? Math.Ceiling(Math.Log10(ys.Max())) : 1;
        if (hi <= lo) hi = lo + 1;
        double X(double it) => L + (W - L - R) * it / maxX;
        double Y(double v) => T + (H - T - B) * (1 - (Math.Log10(v) - lo) / (hi - lo));
        var inv = CultureInfo.InvariantCulture;
        var sb = Begin(W, H, title);
        for (double e = lo; e <= hi; e++)
        {
            double y = Y(Math.Pow(10, e));
            sb.Append(inv, $"<line x1=\"{L}\" y1=\"{y:F1}\" x2=\"{W - R}\" y2=\"{y:F1}\" stroke=\"#dddddd\"/>");
            sb.Append(inv, $"<text x=\"{L - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">1e{e:F0}</text>\n");
        }
        XAxisAndFrame(sb, W, H, L, R, T, B, maxX, X, "iteration");
        int legend = 0;
        for (int ri = 0; ri < runs.Count; ri++)
        {
            string dash = ri == 0 ? "" : " stroke-dasharray=\"6 3\"";
            foreach ((string name, string color, Func<ProgressRecord, double> get) in Series)
            {
                var line = runs[ri].Rows.Where(p => get(p) > 0 && double.IsFinite(get(p)))
                    .Select(p => string.Create(inv, $"{X(p.Step):F1},{Y(get(p)):F1}")).ToList();
                if (line.Count == 0) continue;
                sb.Append(inv, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.6\"{dash} points=\"{string.Join(' ', line)}\"/>\n");
                string label = string.IsNullOrEmpty(runs[ri].Label) ? name : $"{name} ({runs[ri].Label})";
                double ly = T + 10 + 18 * legend++;
                sb.Append(inv, $"<line x1=\"{W - R + 10}\" y1=\"{ly}\" x2=\"{W - R + 30}\" y2=\"{ly}\" stroke=\"{color}\" stroke-width=\"2\"{dash}/>");
                sb.Append(inv, $"<text x=\"{W - R + 35}\" y=\"{ly + 4}\">{Escape(label)}</text>\n");
            }
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static readonly string[] RunColors = ["#222222", "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"];

    /// <summary>
    /// The total loss of several runs against wall time (seconds since each run began), log-scale y: e.g. a
    /// single-scale run beside coarse-to-fine schedules. Optional horizontal reference lines mark target losses.
    /// </summary>
    public static string RenderTotalsAgainstTime(IReadOnlyList<(string Label, IReadOnlyList<ProgressRecord> Rows)> runs, string title,
        IReadOnlyList<(string Label, double Loss)>? references = null, PlotWindow? window = null)
    {
        const double W = 760, H = 440, L = 70, R = 230, T = 40, B = 50;
        var pts = runs.SelectMany(run => run.Rows).Where(p => p.Loss > 0 && double.IsFinite(p.Loss)).ToList();
        double maxX = window?.MaxSeconds ?? Math.Max(1e-9, pts.Count == 0 ? 1 : pts.Max(p => p.Seconds));
        var ys = pts.Select(p => p.Loss).Concat(references?.Select(r => r.Loss) ?? []).Where(v => v > 0 && double.IsFinite(v)).ToList();
        double lo = ys.Count > 0 ? Math.Log10(ys.Min()) : 0, hi = ys.Count > 0 ? Math.Log10(ys.Max()) : 1;
        if (window is { } win) (lo, hi) = (Math.Log10(win.MinLoss), Math.Log10(win.MaxLoss));
        double pad = Math.Max(0.05, (hi - lo) * 0.05);
        if (window is null) { lo -= pad; hi += pad; }
        double X(double sec) => L + (W - L - R) * Math.Min(sec, maxX) / maxX;
        // Inside a window, what lies beyond it runs along its edge.
        double Y(double v) => T + (H - T - B) * (1 - (Math.Clamp(Math.Log10(v), lo, hi) - lo) / (hi - lo));
        var inv = CultureInfo.InvariantCulture;
        var sb = Begin(W, H, title);
        // y ticks at 1, 2, 5 × 10^e inside the range
        for (int e = (int)Math.Floor(lo); e <= (int)Math.Ceiling(hi); e++)
        {
            foreach (double m in hi - lo < 1 ? new[] { 1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0 } : new[] { 1.0, 2.0, 5.0 })
            {
                double v = m * Math.Pow(10, e), lv = Math.Log10(v);
                if (lv < lo || lv > hi) continue;
                double y = Y(v);
                sb.Append(inv, $"<line x1=\"{L}\" y1=\"{y:F1}\" x2=\"{W - R}\" y2=\"{y:F1}\" stroke=\"#dddddd\"/>");
                sb.Append(inv, $"<text x=\"{L - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{TickLabel(v)}</text>\n");
            }
        }
        XAxisAndFrame(sb, W, H, L, R, T, B, maxX, X, "wall time (s)");
        int legend = 0;
        string[] dashes = ["2 3", "7 4", "1 6"];
        foreach ((string label, double loss) in references ?? [])
        {
            string dash = dashes[legend % dashes.Length];
            double y = Y(loss), ly = T + 10 + 18 * legend++;
            sb.Append(inv, $"<line x1=\"{L}\" y1=\"{y:F1}\" x2=\"{W - R}\" y2=\"{y:F1}\" stroke=\"#888888\" stroke-dasharray=\"{dash}\"/>");
            sb.Append(inv, $"<line x1=\"{W - R + 10}\" y1=\"{ly}\" x2=\"{W - R + 30}\" y2=\"{ly}\" stroke=\"#888888\" stroke-dasharray=\"{dash}\"/>");
            sb.Append(inv, $"<text x=\"{W - R + 35}\" y=\"{ly + 4}\">{Escape(label)}</text>\n");
        }
        for (int ri = 0; ri < runs.Count; ri++)
        {
            string color = RunColors[ri % RunColors.Length];
            var line = runs[ri].Rows.Where(p => p.Loss > 0 && double.IsFinite(p.Loss) && p.Seconds <= maxX)
                .Select(p => string.Create(inv, $"{X(p.Seconds):F1},{Y(p.Loss):F1}")).ToList();
            if (line.Count == 0) continue;
            sb.Append(inv, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.6\" points=\"{string.Join(' ', line)}\"/>\n");
            double ly = T + 10 + 18 * legend++;
            sb.Append(inv, $"<line x1=\"{W - R + 10}\" y1=\"{ly}\" x2=\"{W - R + 30}\" y2=\"{ly}\" stroke=\"{color}\" stroke-width=\"2\"/>");
            sb.Append(inv, $"<text x=\"{W - R + 35}\" y=\"{ly + 4}\">{Escape(runs[ri].Label)}</text>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    // Plain numbers where they are short (25000, 0.5), exponents beyond.
    private static string TickLabel(double v) => v is >= 0.01 and < 1e6
        ? v.ToString("0.###", CultureInfo.InvariantCulture)
        : v.ToString("G3", CultureInfo.InvariantCulture);

    /// <summary>A zoom on a loss-against-time chart: time from 0 to <see cref="MaxSeconds"/>, losses between the two bounds (log scale).</summary>
    public sealed record PlotWindow(double MaxSeconds, double MinLoss, double MaxLoss);

    /// <summary>The SVG element, white background and title every chart starts with.</summary>
    private static StringBuilder Begin(double w, double h, string title)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(inv, $"<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n");
        sb.Append(inv, $"<text x=\"{w / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>\n");
        return sb;
    }

    /// <summary>Six x ticks from 0 to <paramref name="maxX"/>, the x label and the plot frame.</summary>
    private static void XAxisAndFrame(StringBuilder sb, double W, double H, double L, double R, double T, double B, double maxX, Func<double, double> X, string label)
    {
        var inv = CultureInfo.InvariantCulture;
        for (int i = 0; i <= 5; i++)
        {
            double x = maxX * i / 5;
            sb.Append(inv, $"<text x=\"{X(x):F1}\" y=\"{H - B + 18}\" text-anchor=\"middle\">{x:F0}</text>\n");
        }
        sb.Append(inv, $"<text x=\"{(L + W - R) / 2}\" y=\"{H - 10}\" text-anchor=\"middle\">{label}</text>\n");
        sb.Append(inv, $"<rect x=\"{L}\" y=\"{T}\" width=\"{W - L - R}\" height=\"{H - T - B}\" fill=\"none\" stroke=\"#444444\"/>\n");
    }

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
