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
}
