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
        int c = features.Shape[3], hw = features.Shape[1] * features.Shape[2];
        double scale = Scheme switch
        {
            ContentScheme.GatysTf => Weight / (4.0 * hw * c),
            ContentScheme.Normalized => Weight / MeanSquare(Target),
            _ => Weight,
        };
        Value f = NormalizeGradient ? g.GradNormalize(features, (float)Weight) : features;
        Value d = g.Square(g.Sub(f, g.Constant(Target, features.Shape, $"content_target:{Layer}")));
        Value r = Scheme is ContentScheme.Sum or ContentScheme.GatysTf ? g.Sum(d) : g.Mean(d);
        return g.Scale(r, (float)scale, TermName);
    }

    internal static double MeanSquare(float[] v)
    {
        double s = 0;
        foreach (float x in v) s += (double)x * x;
        return Math.Max(s / v.Length, 1e-30);
    }
}
