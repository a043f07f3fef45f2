using NeuralStyle.Tensors;

namespace NeuralStyle.Losses;

/// <summary>
/// Total variation of an image x (1,H,W,C) in the space it is given in. <paramref name="Smoothing"/> &gt; 0 rounds the L1
/// scheme's |d| into √(d² + ε²) − ε (a surrogate with a continuous gradient; 0: the exact term).
/// </summary>
public sealed record TvLoss(double Weight, TvScheme Scheme, double Smoothing = 0)
{
    public const string TermName = "tv";

    public Value Build(Graph g, Value x) => BuildWithExact(g, x).Term;

    /// <summary>The term to optimise and, when it is smoothed, the exact term computed beside it (else null).</summary>
    public (Value Term, Value? Exact) BuildWithExact(Graph g, Value x)
    {
        int h = x.Shape[1], w = x.Shape[2];
        if (h < 2 || w < 2) throw new ArgumentException("The image is too small for a TV term.");
        if (Scheme == TvScheme.L1)
        {
            Value dh = g.Sub(g.Slice(x, 1, 1, h - 1), g.Slice(x, 1, 0, h - 1));
            Value dw = g.Sub(g.Slice(x, 2, 1, w - 1), g.Slice(x, 2, 0, w - 1));
            Value L1(Value d) => g.Sum(g.Abs(d));
            if (!(Smoothing > 0)) return (g.Scale(g.Add(L1(dh), L1(dw)), (float)Weight, TermName), null);
            Value Smooth(Value d) => g.Sum(g.SmoothAbs(d, (float)Smoothing));
            return (g.Scale(g.Add(Smooth(dh), Smooth(dw)), (float)Weight, TermName), g.Scale(g.Add(L1(dh), L1(dw)), (float)Weight, TermName + ":exact"));
        }
        // keras: a = (x[i,j] − x[i+1,j])², b = (x[i,j] − x[i,j+1])² over i < H−1, j < W−1; Σ (a + b)^1.25
        Value corner = g.Slice(g.Slice(x, 1, 0, h - 1), 2, 0, w - 1);
        Value down = g.Slice(g.Slice(x, 1, 1, h - 1), 2, 0, w - 1);
        Value right = g.Slice(g.Slice(x, 1, 0, h - 1), 2, 1, w - 1);
        Value a = g.Square(g.Sub(corner, down));
        Value b = g.Square(g.Sub(corner, right));
        return (g.Scale(g.Sum(g.Pow(g.Add(a, b), 1.25f)), (float)Weight, TermName), null);
    }
}
