namespace NeuralStyle.Gatys;

/// <summary>
/// One row of progress: the loss terms of the image after <see cref="Iteration"/> optimiser steps (row 0 = the
/// initial image). Consumed by the progress bar, the JSON-lines log and the plot alike.
/// </summary>
public sealed record ProgressRecord(
    int Iteration,
    int TotalIterations,
    double Seconds,
    double Loss,
    double Content,
    double Style,
    double Tv,
    IReadOnlyDictionary<string, double> Terms,
    string Stage = "")
{
    /// <summary>Iterations per second so far and the estimated time left.</summary>
    public (double Rate, TimeSpan? Remaining) Speed()
    {
        if (Iteration <= 0 || Seconds <= 0) return (0, null);
        double rate = Iteration / Seconds;
        return (rate, TimeSpan.FromSeconds(Math.Max(0, TotalIterations - Iteration) / rate));
    }
}

/// <summary>What a stylisation ended with.</summary>
public sealed record StylizeResult(NeuralStyle.Imaging.Image Image, int Iterations, double Seconds, bool Cancelled, string? Failure)
{
    public bool Succeeded => Failure is null;
}
