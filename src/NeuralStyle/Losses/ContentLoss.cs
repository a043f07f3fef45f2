using NeuralStyle.Tensors;

namespace NeuralStyle.Losses;

/// <summary>One content term: weight · reduce((F − Fc)²) at one layer, as a scalar graph node.</summary>
public sealed record ContentLoss(string Layer, double Weight, ContentScheme Scheme, float[] Target, bool NormalizeGradient = false)
{
    public string TermName => $"content:{Layer}";

    public Value Build(Graph g, Value features)
    {
        if (features.Length != Target.Length)
            throw new ArgumentException($"The content target of {Layer} has {Target.Length} values, the features {features.Length}.");
        return Build(g, features, g.Constant(Target, features.Shape, $"content_target:{Layer}"), MeanSquare(Target));
    }

    /// <summary>
    /// The term against a target given as a graph value of the features' shape (e.g. the loss network's features of
    /// the input batch, one per sample). <see cref="Target"/> is not used; the random-features normalisation divides by
    /// the mean square of the whole target value.
    /// </summary>
    public Value Build(Graph g, Value features, Value target) => Build(g, features, target, null);

    private Value Build(Graph g, Value features, Value target, double? targetMeanSquare)
    {
        if (!target.Shape.SequenceEqual(features.Shape))
            throw new ArgumentException($"The content target of {Layer} has shape [{string.Join(",", target.Shape)}], the features [{string.Join(",", features.Shape)}].", nameof(target));
        int c = features.Shape[3], hw = features.Shape[1] * features.Shape[2];
        double scale = Scheme switch
        {
            ContentScheme.GatysTf => Weight / (4.0 * hw * c),
            ContentScheme.Normalized when targetMeanSquare is { } ms => Weight / ms,
            _ => Weight,
        };
        Value f = NormalizeGradient ? g.GradNormalize(features, (float)Weight) : features;
        Value d = g.Square(g.Sub(f, target));
        Value r = Scheme is ContentScheme.Sum or ContentScheme.GatysTf ? g.Sum(d) : g.Mean(d);
        if (Scheme == ContentScheme.Normalized && targetMeanSquare is null) r = g.Mul(r, g.Pow(g.Mean(g.Square(target)), -1f));
        return g.Scale(r, (float)scale, TermName);
    }

    internal static double MeanSquare(float[] v)
    {
        double s = 0;
        foreach (float x in v) s += (double)x * x;
        return Math.Max(s / v.Length, 1e-30);
    }
}
