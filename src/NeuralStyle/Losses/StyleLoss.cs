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
        int c = features.Shape[3], h = features.Shape[1], w = features.Shape[2];
        if (Target.Length != c * c)
            throw new ArgumentException($"The style target of {Layer} is not {c}×{c}.");
        double hw = (double)h * w;
        double scale = Scheme switch
        {
            StyleScheme.Keras => Weight / (4.0 * 9.0 * (double)ImagePixels * ImagePixels),
            StyleScheme.GatysTf => Weight / (4.0 * c * c * hw * hw),
            StyleScheme.Tutorial => Weight / (c * hw),
            StyleScheme.Normalized => Weight / ContentLoss.MeanSquare(Target),
            _ => Weight,
        };
        Value f = NormalizeGradient ? g.GradNormalize(features, (float)Weight) : features;
        Value gram = g.Gram(f, GramAlpha(Scheme, c, h, w), $"gram:{Layer}");
        Value d = g.Square(g.Sub(gram, g.Constant(Target, [1, c, c], $"target:{Layer}")));
        Value r = Scheme is StyleScheme.Keras or StyleScheme.GatysTf ? g.Sum(d) : g.Mean(d);
        return g.Scale(r, (float)scale, TermName);
    }
}
