using NeuralStyle.Tensors;

namespace NeuralStyle.Losses;

/// <summary>
/// One Gram style term at one layer. <see cref="Target"/> is the (blended) target Gram in the scheme's own
/// normalisation (<see cref="GramAlpha"/>): Ĝ = G/(C·h·w) for neural-style and random-features, raw G otherwise.
/// </summary>
public sealed record StyleLoss(string Layer, double Weight, StyleScheme Scheme, float[] Target, int ImagePixels, bool NormalizeGradient = false)
{
    public string TermName => $"style:{Layer}";

    /// <summary>The factor a raw Gram of a C×h×w feature map is multiplied by in this scheme.</summary>
    public static float GramAlpha(StyleScheme scheme, int c, int h, int w)
        => scheme is StyleScheme.NeuralStyle or StyleScheme.Normalized ? 1f / ((float)c * h * w) : 1f;

    public Value Build(Graph g, Value features)
    {
        int c = features.Shape[3];
        if (Target.Length != c * c)
            throw new ArgumentException($"The style target of {Layer} is not {c}×{c}.");
        return Build(g, features, g.Constant(Target, [1, c, c], $"target:{Layer}"), ContentLoss.MeanSquare(Target));
    }

    /// <summary>
    /// The term against a target given as a graph value: (1, C, C) for every sample, or (N, C, C), one target per
    /// sample (e.g. the styles of a StyleBank batch), in the scheme's normalisation. <see cref="Target"/> is not used;
    /// the random-features normalisation divides by the mean square of the whole target value.
    /// </summary>
    public Value Build(Graph g, Value features, Value target) => Build(g, features, target, null);

    private Value Build(Graph g, Value features, Value target, double? targetMeanSquare)
    {
        int n = features.Shape[0], c = features.Shape[3], h = features.Shape[1], w = features.Shape[2];
        if (target.Rank != 3 || target.Shape[1] != c || target.Shape[2] != c || (target.Shape[0] != 1 && target.Shape[0] != n))
            throw new ArgumentException($"The style target of {Layer} must be (1 or {n})×{c}×{c}, got [{string.Join(",", target.Shape)}].", nameof(target));
        double hw = (double)h * w;
        double scale = Scheme switch
        {
            StyleScheme.Keras => Weight / (4.0 * 9.0 * (double)ImagePixels * ImagePixels),
            StyleScheme.GatysTf => Weight / (4.0 * c * c * hw * hw),
            StyleScheme.Tutorial => Weight / (c * hw),
            StyleScheme.Normalized when targetMeanSquare is { } ms => Weight / ms,
            _ => Weight,
        };
        Value f = NormalizeGradient ? g.GradNormalize(features, (float)Weight) : features;
        Value gram = g.Gram(f, GramAlpha(Scheme, c, h, w), $"gram:{Layer}");
        Value t = target.Shape[0] == n ? target : g.BroadcastBatch(target, n);
        Value d = g.Square(g.Sub(gram, t));
        Value r = Scheme is StyleScheme.Keras or StyleScheme.GatysTf ? g.Sum(d) : g.Mean(d);
        if (Scheme == StyleScheme.Normalized && targetMeanSquare is null) r = g.Mul(r, g.Pow(g.Mean(g.Square(target)), -1f));
        return g.Scale(r, (float)scale, TermName);
    }
}
