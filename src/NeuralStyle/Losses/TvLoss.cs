using NeuralStyle.Tensors;

namespace NeuralStyle.Losses;

/// <summary>Total variation of an image x (1,H,W,C) in the space it is given in.</summary>
public sealed record TvLoss(double Weight, TvScheme Scheme)
{
    public const string TermName = "tv";

    public Value Build(Graph g, Value x)
    {
        int h = x.Shape[1], w = x.Shape[2];
        if (h < 2 || w < 2) throw new ArgumentException("The image is too small for a TV term.");
        if (Scheme == TvScheme.L1)
        {
            Value dh = g.Sub(g.Slice(x, 1, 1, h - 1), g.Slice(x, 1, 0, h - 1));
            Value dw = g.Sub(g.Slice(x, 2, 1, w - 1), g.Slice(x, 2, 0, w - 1));
            return g.Scale(g.Add(g.Sum(g.Abs(dh)), g.Sum(g.Abs(dw))), (float)Weight, TermName);
        }
        // keras: a = (x[i,j] − x[i+1,j])², b = (x[i,j] − x[i,j+1])² over i < H−1, j < W−1; Σ (a + b)^1.25
        Value corner = g.Slice(g.Slice(x, 1, 0, h - 1), 2, 0, w - 1);
        Value down = g.Slice(g.Slice(x, 1, 1, h - 1), 2, 0, w - 1);
        Value right = g.Slice(g.Slice(x, 1, 0, h - 1), 2, 1, w - 1);
        Value a = g.Square(g.Sub(corner, down));
        Value b = g.Square(g.Sub(corner, right));
        return g.Scale(g.Sum(g.Pow(g.Add(a, b), 1.25f)), (float)Weight, TermName);
    }
}
