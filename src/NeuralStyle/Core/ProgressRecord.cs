namespace NeuralStyle.Core;

/// <summary>
/// One row of progress, the same for every method: the progress bar, the JSON-lines log, the SVG plot (and the web
/// studio) read only this. <see cref="Step"/> counts iterations of an optimisation (row 0 = the initial image) or
/// steps of a training run. <see cref="Terms"/> holds every named loss term, free-form; names are grouped by what
/// comes before the first ':' (<c>content:relu4_2</c> and <c>content:relu5_1</c> are the group <c>content</c>), a
/// name without ':' is its own group. The optional fields are set by the methods they make sense for.
/// </summary>
public sealed record ProgressRecord(
    int Step,
    int TotalSteps,
    double Seconds,
    double Loss,
    IReadOnlyDictionary<string, double> Terms)
{
    /// <summary>Which part of a run this is, e.g. "scale 2/4 256×192"; empty when the run has one part.</summary>
    public string Stage { get; init; } = "";

    /// <summary>Training: the epoch (1-based) and how many there are.</summary>
    public int? Epoch { get; init; }
    public int? TotalEpochs { get; init; }

    /// <summary>Training: the batch within the epoch (1-based) and how many there are.</summary>
    public int? Batch { get; init; }
    public int? TotalBatches { get; init; }

    /// <summary>Training: the learning rate in effect at this step.</summary>
    public double? LearningRate { get; init; }

    /// <summary>Training: throughput of the last steps.</summary>
    public double? ImagesPerSecond { get; init; }

    /// <summary>The sum of the terms of one group (0 when it has none).</summary>
    public double Group(string name)
    {
        double s = 0;
        foreach ((string k, double v) in Terms)
            if (GroupOf(k) == name) s += v;
        return s;
    }

    /// <summary>Every group in order of first appearance with the sum of its terms.</summary>
    public IReadOnlyList<(string Name, double Value)> Groups()
    {
        var order = new List<string>();
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach ((string k, double v) in Terms)
        {
            string g = GroupOf(k);
            if (sums.TryGetValue(g, out double s)) sums[g] = s + v;
            else { order.Add(g); sums[g] = v; }
        }
        return order.Select(g => (g, sums[g])).ToList();
    }

    /// <summary>Σ content:* terms.</summary>
    public double Content => Group("content");

    /// <summary>Σ style:* terms.</summary>
    public double Style => Group("style");

    /// <summary>Σ of every term outside the content and style groups (TV, inter-frame, …); the log's "tv" field.</summary>
    public double Other
    {
        get
        {
            double s = 0;
            foreach ((string k, double v) in Terms)
                if (GroupOf(k) is not ("content" or "style")) s += v;
            return s;
        }
    }

    public static string GroupOf(string term)
    {
        int colon = term.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? term : term[..colon];
    }

    /// <summary>Steps per second so far and the estimated time left.</summary>
    public (double Rate, TimeSpan? Remaining) Speed()
    {
        if (Step <= 0 || Seconds <= 0) return (0, null);
        double rate = Step / Seconds;
        return (rate, TimeSpan.FromSeconds(Math.Max(0, TotalSteps - Step) / rate));
    }
}
