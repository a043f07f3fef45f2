using System.Text.RegularExpressions;
using NeuralStyle.Core;

namespace NeuralStyle.Tests.Core;

public sealed class SvgPlotTests
{
    private static List<ProgressRecord> Run(double scale) =>
        Enumerable.Range(0, 11).Select(k => new ProgressRecord(k, 10, k * 0.5 * scale, 1000.0 / (k + 1),
            new Dictionary<string, double> { ["content:relu4_2"] = 10.0 / (k + 1), ["style:relu1_1"] = 900.0 / (k + 1) })).ToList();

    [Fact]
    public void Render_AgainstIterations_TitleTicksFrameAndOneLinePerSeries()
    {
        string svg = SvgPlot.Render(Run(1), "a < b");
        Assert.StartsWith("<svg xmlns=", svg);
        Assert.Contains(">a &lt; b</text>", svg);
        Assert.Contains(">iteration</text>", svg);
        Assert.Equal(6, Regex.Matches(svg, "text-anchor=\"middle\">(0|2|4|6|8|10)</text>").Count);
        Assert.Contains("fill=\"none\" stroke=\"#444444\"", svg);
        Assert.Equal(3, Regex.Matches(svg, "<polyline").Count); // total, content, style; no TV term here
        Assert.EndsWith("</svg>\n", svg);
    }

    [Fact]
    public void RenderTotalsAgainstTime_OneLinePerRunPlusReferences_TimeAxis()
    {
        string svg = SvgPlot.RenderTotalsAgainstTime([("single", Run(2)), ("fast", Run(0.5))], "schedules", [("target", 200)]);
        Assert.Contains(">wall time (s)</text>", svg);
        Assert.Contains(">10</text>", svg); // the last x tick is the longest run's 10 s
        Assert.Equal(2, Regex.Matches(svg, "<polyline").Count);
        Assert.Contains("stroke-dasharray=\"2 3\"", svg);
        Assert.Contains(">fast</text>", svg);
    }

    [Fact]
    public void RenderTotalsAgainstTime_Window_CutsTimeAndClampsLossesToItsEdges()
    {
        string svg = SvgPlot.RenderTotalsAgainstTime([("single", Run(2))], "zoom", window: new SvgPlot.PlotWindow(4, 150, 300));
        Assert.Contains(">4</text>", svg);      // the last x tick is the window's
        Assert.DoesNotContain(">10</text>", svg);
        Assert.Contains(">300</text>", svg);    // finer y ticks inside less than a decade
        var points = Regex.Match(svg, "points=\"([^\"]*)\"").Groups[1].Value.Split(' ')
            .Select(p => p.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToList();
        Assert.All(points, p => Assert.InRange(p[1], 40, 390)); // inside the frame (top 40, bottom 440 − 50)
        Assert.All(points, p => Assert.InRange(p[0], 70, 530));
    }
}
