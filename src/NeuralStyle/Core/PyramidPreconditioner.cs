using System.Numerics.Tensors;
using NeuralStyle.Tensors.Optim;

namespace NeuralStyle.Core;

/// <summary>
/// An L-BFGS preconditioner for an image (h×w×c, channels interleaved): M = Σₖ αₖ·4ᵏ·(Dᵏ)ᵀDᵏ, where D blurs with the
/// binomial filter [1,4,6,4,1]/16 (edges mirrored) and keeps every second pixel each way. Each term passes the image's
/// structure coarser than 2ᵏ pixels at gain αₖ, so a step moves large areas together as readily as single pixels: plain
/// L-BFGS starts from H₀ = γI, which changes low frequencies only as fast as the gradient's pixel-level noise lets it.
/// M is symmetric positive definite (the k = 0 term is α₀I, every other a Gram form), as L-BFGS needs. An instance
/// keeps its scratch buffers: one caller at a time.
/// </summary>
public sealed class PyramidPreconditioner : ILinearOperator
{
    private static readonly float[] Binomial = [1 / 16f, 4 / 16f, 6 / 16f, 4 / 16f, 1 / 16f];
    private readonly int _w, _h, _c;
    private readonly double[] _alpha;
    private readonly (int W, int H)[] _sizes;
    // Scratch, allocated once (large arrays would otherwise land on the large-object heap at every application):
    // each channel's plane, each coarser level's downsampled image, each finer level's upsampled image, the half-way
    // image of D and U between two levels (the same size for both; never in use by both at once), a padded row.
    private readonly float[][] _planes, _down, _up, _mid;
    private readonly float[] _pad;

    /// <summary>The most levels an option may ask for (a 512 px image is down to its 16 px floor after 5).</summary>
    public const int MaxLevels = 12;

    /// <summary>Refuses a level count outside 0…<see cref="MaxLevels"/>, naming <paramref name="option"/>.</summary>
    public static void CheckLevels(int levels, string option)
    {
        if (levels is < 0 or > MaxLevels)
            throw new OptionException(option, $"{OptionException.Ref(option)} must be between 0 and {MaxLevels}.");
    }

    /// <summary>The preconditioner of a w×h RGB image over <paramref name="levels"/> equal-gain levels; null for 0 (plain L-BFGS).</summary>
    public static PyramidPreconditioner? ForImage(int width, int height, int levels)
        => levels > 0 ? new PyramidPreconditioner(width, height, 3, levels, levelWeight: 1) : null;

    /// <param name="levels">Coarser levels beyond the image itself (each halves the size; fewer once a side would drop
    /// below 8 pixels).</param>
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
        int last = _sizes.Length - 1;
        _planes = Enumerable.Range(0, channels).Select(_ => new float[width * height]).ToArray();
        // Level 0 is the plane itself (no _down[0]); the coarsest level is never upsampled into (no _up[last]).
        _down = Enumerable.Range(0, last + 1).Select(k => k == 0 ? [] : new float[_sizes[k].W * _sizes[k].H]).ToArray();
        _up = Enumerable.Range(0, last + 1).Select(k => k == last ? [] : new float[_sizes[k].W * _sizes[k].H]).ToArray();
        // Between levels k−1 and k: D's half-way image is (k's width × k−1's height), and so is U's (from k back to k−1).
        _mid = Enumerable.Range(0, last + 1).Select(k => k == 0 ? [] : new float[_sizes[k].W * _sizes[k - 1].H]).ToArray();
        _pad = new float[2 * width + 8];
    }

    /// <summary>The levels in use, the image itself included.</summary>
    public int LevelCount => _sizes.Length;

    public void Apply(ReadOnlySpan<float> v, Span<float> result)
    {
        int n = _w * _h * _c;
        if (v.Length != n || result.Length != n) throw new ArgumentException($"The preconditioner works on vectors of {n} values.");
        int plane = _w * _h;
        for (int i = 0, k = 0; i < plane; i++)
            for (int ch = 0; ch < _c; ch++, k++) _planes[ch][i] = v[k];
        int last = _sizes.Length - 1;
        for (int ch = 0; ch < _c; ch++)
        {
            float[] level0 = _planes[ch];
            float[] Level(int k) => k == 0 ? level0 : _down[k];
            for (int k = 1; k <= last; k++) Down(Level(k - 1), _sizes[k - 1], _sizes[k], _mid[k], _down[k]);
            // Horner from the coarsest: r = α_K v_K; r ← α_k v_k + U(r) going finer, U = 4·Dᵀ.
            float[] r = Level(last);
            TensorPrimitives.Multiply(r, (float)_alpha[last], r);
            for (int k = last - 1; k >= 0; k--)
            {
                Up(r, _sizes[k + 1], _sizes[k], _mid[k + 1], _up[k], _pad);
                TensorPrimitives.MultiplyAdd(Level(k), (float)_alpha[k], _up[k], _up[k]);
                r = _up[k];
            }
            if (!ReferenceEquals(r, level0)) r.CopyTo(level0, 0);
        }
        for (int i = 0, k = 0; i < plane; i++)
            for (int ch = 0; ch < _c; ch++, k++) result[k] = _planes[ch][i];
    }

    /// <summary>Mirrors an index into [0, n) about the half-sample edges (… b a | a b c … z | z y …).</summary>
    private static int Mirror(int i, int n)
    {
        while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
        return i;
    }

    /// <summary>D: blur and keep every second pixel, along x (through a row padded by mirroring) then y (whole rows).</summary>
    private static void Down(float[] src, (int W, int H) from, (int W, int H) to, float[] mid, float[] dst)
    {
        float b0 = Binomial[0], b1 = Binomial[1], b2 = Binomial[2];
        for (int y = 0; y < from.H; y++)
        {
            ReadOnlySpan<float> row = src.AsSpan(y * from.W, from.W);
            Span<float> o = mid.AsSpan(y * to.W, to.W);
            for (int j = 0; j < to.W; j++)
            {
                int c = 2 * j;
                if (c >= 2 && c + 2 < from.W)
                    o[j] = b0 * (row[c - 2] + row[c + 2]) + b1 * (row[c - 1] + row[c + 1]) + b2 * row[c];
                else
                {
                    float sum = 0;
                    for (int t = 0; t < 5; t++) sum += Binomial[t] * row[Mirror(c + t - 2, from.W)];
                    o[j] = sum;
                }
            }
        }
        Array.Clear(dst);
        for (int j = 0; j < to.H; j++)
        {
            Span<float> o = dst.AsSpan(j * to.W, to.W);
            for (int t = 0; t < 5; t++)
                TensorPrimitives.MultiplyAdd(mid.AsSpan(Mirror(2 * j + t - 2, from.H) * to.W, to.W), Binomial[t], o, o);
        }
    }

    /// <summary>U = 4·Dᵀ: D's exact transpose (each coarse value spread back over the taps that read it), times 2 per
    /// axis: along y by whole rows, along x into a padded row whose overhang is folded back by the same mirroring.</summary>
    private static void Up(float[] src, (int W, int H) from, (int W, int H) to, float[] mid, float[] dst, float[] pad)
    {
        Array.Clear(mid);
        for (int j = 0; j < from.H; j++)
        {
            ReadOnlySpan<float> row = src.AsSpan(j * from.W, from.W);
            for (int t = 0; t < 5; t++)
            {
                Span<float> o = mid.AsSpan(Mirror(2 * j + t - 2, to.H) * from.W, from.W);
                TensorPrimitives.MultiplyAdd(row, 2 * Binomial[t], o, o);
            }
        }
        float c0 = 2 * Binomial[0], c1 = 2 * Binomial[1], c2 = 2 * Binomial[2];
        int padLength = 2 * from.W + 4;
        for (int y = 0; y < to.H; y++)
        {
            Span<float> p = pad.AsSpan(0, padLength);
            p.Clear();
            ReadOnlySpan<float> m = mid.AsSpan(y * from.W, from.W);
            for (int j = 0; j < from.W; j++)
            {
                float v = m[j];
                int c = 2 * j + 2;
                p[c - 2] += c0 * v; p[c - 1] += c1 * v; p[c] += c2 * v; p[c + 1] += c1 * v; p[c + 2] += c0 * v;
            }
            Span<float> o = dst.AsSpan(y * to.W, to.W);
            p.Slice(2, to.W).CopyTo(o);
            for (int e = 0; e < padLength; e++)
                if (e < 2 || e >= to.W + 2) o[Mirror(e - 2, to.W)] += p[e];
        }
    }
}
