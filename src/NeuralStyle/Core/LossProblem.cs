using NeuralStyle.Tensors;

namespace NeuralStyle.Core;

/// <summary>
/// The loss terms of one row: total, grouped sums and every named term. <see cref="Optimised"/> is the value the
/// optimiser minimises: the total itself unless a term is stood in for by a smooth surrogate
/// (<see cref="LossProblem.Surrogates"/>), when the row reports the exact terms and the optimiser gets the surrogate's.
/// </summary>
public sealed record LossRow(double Loss, double Content, double Style, double Tv, Dictionary<string, double> Terms)
{
    public double Optimised { get; init; } = Loss;
}

/// <summary>
/// A built loss graph over an optimised image X: every term is a named scalar node whose value is its contribution
/// to <see cref="Total"/>. Names start with <c>content:</c>, <c>style:</c>, or anything else (TV, inter-frame).
/// </summary>
public class LossProblem
{
    public LossProblem(Graph graph, Value x, Value total, IReadOnlyList<Value> terms)
    {
        Graph = graph; X = x; Total = total; Terms = terms;
    }

    public Graph Graph { get; }
    public Value X { get; }
    public Value Total { get; }
    public IReadOnlyList<Value> Terms { get; }

    /// <summary>
    /// Terms optimised through a smooth stand-in: each pair's <c>Surrogate</c> is one of <see cref="Terms"/> (part of
    /// <see cref="Total"/>, differentiated) and <c>Exact</c> a node of the same graph computed beside it (not
    /// differentiated). Rows report the exact value under the surrogate's name and in the total.
    /// </summary>
    public IReadOnlyList<(Value Surrogate, Value Exact)> Surrogates { get; init; } = [];

    /// <summary>Recomputes the loss at the current X (and its gradient in X.Grad).</summary>
    public LossRow Evaluate(bool withGradient)
    {
        Graph.Forward();
        if (withGradient) Graph.Backward(Total);
        return ReadTerms();
    }

    public LossRow ReadTerms()
    {
        var d = new Dictionary<string, double>(Terms.Count);
        double c = 0, s = 0, other = 0, correction = 0;
        foreach (Value t in Terms)
        {
            double v = t.Data[0];
            foreach ((Value surrogate, Value exact) in Surrogates)
            {
                if (!ReferenceEquals(surrogate, t)) continue;
                correction += exact.Data[0] - v;
                v = exact.Data[0];
            }
            d[t.Name!] = v;
            if (t.Name!.StartsWith("content:", StringComparison.Ordinal)) c += v;
            else if (t.Name.StartsWith("style:", StringComparison.Ordinal)) s += v;
            else other += v;
        }
        return new LossRow(Total.Data[0] + correction, c, s, other, d) { Optimised = Total.Data[0] };
    }

    /// <summary>Builds the sum of the terms as one node.</summary>
    public static Value SumTerms(Graph g, IReadOnlyList<Value> terms)
    {
        if (terms.Count == 0) throw new ArgumentException("Every loss weight is zero: there is nothing to optimise.");
        Value total = terms[0];
        for (int i = 1; i < terms.Count; i++) total = g.Add(total, terms[i]);
        return total;
    }
}
