using System.Globalization;
using System.Text;

namespace NeuralStyle.Core;

/// <summary>
/// An SVG line chart of the loss curves (total, content, style, and "tv": every other term, e.g. inter-frame) against iterations, log-scale y, like the
/// figure of seed 004. Several runs (e.g. single-scale vs coarse-to-fine) can share one plot.
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
        var sb = new StringBuilder();
        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(inv, $"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n");
        sb.Append(inv, $"<text x=\"{W / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>\n");
        for (double e = lo; e <= hi; e++)
        {
            double y = Y(Math.Pow(10, e));
            sb.Append(inv, $"<line x1=\"{L}\" y1=\"{y:F1}\" x2=\"{W - R}\" y2=\"{y:F1}\" stroke=\"#dddddd\"/>");
            sb.Append(inv, $"<text x=\"{L - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">1e{e:F0}</text>\n");
        }
        for (int i = 0; i <= 5; i++)
        {
            double it = maxX * i / 5;
            sb.Append(inv, $"<text x=\"{X(it):F1}\" y=\"{H - B + 18}\" text-anchor=\"middle\">{it:F0}</text>\n");
        }
        sb.Append(inv, $"<text x=\"{(L + W - R) / 2}\" y=\"{H - 10}\" text-anchor=\"middle\">iteration</text>\n");
        sb.Append(inv, $"<rect x=\"{L}\" y=\"{T}\" width=\"{W - L - R}\" height=\"{H - T - B}\" fill=\"none\" stroke=\"#444444\"/>\n");
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

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
