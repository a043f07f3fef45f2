using NeuralStyle.Tensors.Optim;

namespace NeuralStyle.Core;

/// <summary>
/// An L-BFGS preconditioner for an image (h×w×c, channels interleaved): M = Σₖ αₖ·4ᵏ·(Dᵏ)ᵀDᵏ, where D blurs with the
/// binomial filter [1,4,6,4,1]/16 (edges mirrored) and keeps every second pixel each way. Each term passes the image's
/// structure coarser than 2ᵏ pixels at gain αₖ, so a step moves large areas together as readily as single pixels: plain
/// L-BFGS starts from H₀ = γI, which changes low frequencies only as fast as the gradient's pixel-level noise lets it.
/// M is symmetric positive definite (the k = 0 term is α₀I, every other a Gram form), as L-BFGS needs.
/// </summary>
public sealed class PyramidPreconditioner : ILinearOperator
{
    private static readonly float[] Binomial = [1 / 16f, 4 / 16f, 6 / 16f, 4 / 16f, 1 / 16f];
    private readonly int _w, _h, _c;
    private readonly double[] _alpha;
    private readonly (int W, int H)[] _sizes;

    /// <param name="levels">Coarser levels beyond the image itself (each halves the size; fewer when the image gets
    /// smaller than 8 pixels a side).</param>
    /// <param name="levelWeight">αₖ = levelWeightᵏ (1: every level at the same gain).</param>
    public PyramidPreconditioner(int width, int height, int channels, int levels, double levelWeight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(levels);
        if (!(levelWeight > 0) || !double.IsFinite(levelWeight)) throw new ArgumentOutOfRangeException(nameof(levelWeight), "The level weight must be a positive number.");
        _w = width; _h = height; _c = channels;
        var sizes = new List<(int, int)> { (width, height) };
        while (sizes.Count <= levels && Math.Min(sizes[^1].Item1, sizes[^1].Item2) >= 16)
            sizes.Add(((sizes[^1].Item1 + 1) / 2, (sizes[^1].Item2 + 1) / 2));
        _sizes = [.. sizes];
        _alpha = Enumerable.Range(0, _sizes.Length).Select(k => Math.Pow(levelWeight, k)).ToArray();
    }

    /// <summary>The levels in use, the image itself included.</summary>
    public int LevelCount => _sizes.Length;

    public void Apply(ReadOnlySpan<float> v, Span<float> result)
    {
        int n = _w * _h * _c;
        if (v.Length != n || result.Length != n) throw new ArgumentException($"The preconditioner works on vectors of {n} values.");
        int plane = _w * _h;
        var levels = new float[_sizes.Length][];
        for (int ch = 0; ch < _c; ch++)
        {
            var p = new float[plane];
            for (int i = 0; i < plane; i++) p[i] = v[i * _c + ch];
            levels[0] = p;
            for (int k = 1; k < _sizes.Length; k++) levels[k] = Down(levels[k - 1], _sizes[k - 1], _sizes[k]);
            // Horner from the coarsest: r = α_K v_K; r ← α_k v_k + U(r) going finer, U = 4·Dᵀ.
            float[] r = Scaled(levels[^1], _alpha[^1]);
            for (int k = _sizes.Length - 2; k >= 0; k--)
            {
                float[] up = Up(r, _sizes[k + 1], _sizes[k]);
                float a = (float)_alpha[k];
                for (int i = 0; i < up.Length; i++) up[i] += a * levels[k][i];
                r = up;
            }
            for (int i = 0; i < plane; i++) result[i * _c + ch] = r[i];
        }
    }

    private static float[] Scaled(float[] a, double s)
    {
        var r = new float[a.Length];
        System.Numerics.Tensors.TensorPrimitives.Multiply(a, (float)s, r);
        return r;
    }

    /// <summary>Mirrors an index into [0, n) about the half-sample edges (… b a | a b c … z | z y …).</summary>
    private static int Mirror(int i, int n)
    {
        while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
        return i;
    }

    /// <summary>D: blur and keep every second pixel, along x then y.</summary>
    private static float[] Down(float[] src, (int W, int H) from, (int W, int H) to)
    {
        var mid = new float[to.W * from.H];
        for (int y = 0; y < from.H; y++)
            for (int j = 0; j < to.W; j++)
            {
                float s = 0;
                for (int t = 0; t < 5; t++) s += Binomial[t] * src[y * from.W + Mirror(2 * j + t - 2, from.W)];
                mid[y * to.W + j] = s;
            }
        var dst = new float[to.W * to.H];
        for (int j = 0; j < to.H; j++)
            for (int x = 0; x < to.W; x++)
            {
                float s = 0;
                for (int t = 0; t < 5; t++) s += Binomial[t] * mid[Mirror(2 * j + t - 2, from.H) * to.W + x];
                dst[j * to.W + x] = s;
            }
        return dst;
    }

    /// <summary>U = 4·Dᵀ: D's exact transpose (each coarse value spread back over the taps that read it), times 2 per axis.</summary>
    private static float[] Up(float[] src, (int W, int H) from, (int W, int H) to)
    {
        var mid = new float[from.W * to.H];
        for (int j = 0; j < from.H; j++)
            for (int t = 0; t < 5; t++)
            {
                int row = Mirror(2 * j + t - 2, to.H);
                float b = 2 * Binomial[t];
                for (int x = 0; x < from.W; x++) mid[row * from.W + x] += b * src[j * from.W + x];
            }
        var dst = new float[to.W * to.H];
        for (int y = 0; y < to.H; y++)
            for (int j = 0; j < from.W; j++)
            {
                float m = mid[y * from.W + j];
                for (int t = 0; t < 5; t++) dst[y * to.W + Mirror(2 * j + t - 2, to.W)] += 2 * Binomial[t] * m;
            }
        return dst;
    }
}
