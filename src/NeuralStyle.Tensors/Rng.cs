namespace NeuralStyle.Tensors;

/// <summary>
/// A small deterministic generator (xoshiro256** seeded by SplitMix64) whose streams are fixed by this code alone,
/// so seeded results do not change with the .NET version.
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spare;

    public Rng(ulong seed)
    {
        ulong z = seed;
        _s0 = SplitMix(ref z); _s1 = SplitMix(ref z); _s2 = SplitMix(ref z); _s3 = SplitMix(ref z);
    }

    /// <summary>A generator that continues exactly where the one that exported <paramref name="state"/> was.</summary>
    public Rng(RngState state) => ImportState(state);

    /// <summary>The exact state: the four xoshiro words and the pending Gaussian of the polar method, if any.</summary>
    public RngState ExportState() => new(_s0, _s1, _s2, _s3, _spare);

    /// <summary>Continues from an exported state (the stream then repeats the exporter's bit for bit).</summary>
    public void ImportState(RngState state)
    {
        if ((state.S0 | state.S1 | state.S2 | state.S3) == 0)
            throw new ArgumentException("An all-zero xoshiro256** state is invalid (the generator would only return zeros).", nameof(state));
        (_s0, _s1, _s2, _s3, _spare) = (state.S0, state.S1, state.S2, state.S3, state.GaussianSpare);
    }

    private static ulong SplitMix(ref ulong z)
    {
        ulong r = z += 0x9E3779B97F4A7C15UL;
        r = (r ^ (r >> 30)) * 0xBF58476D1CE4E5B9UL;
        r = (r ^ (r >> 27)) * 0x94D049BB133111EBUL;
        return r ^ (r >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Standard normal (Box–Muller, polar form).</summary>
    public double NextGaussian()
    {
        if (_spare is double s) { _spare = null; return s; }
        double u, v, r;
        do
        {
            u = 2 * NextDouble() - 1;
            v = 2 * NextDouble() - 1;
            r = u * u + v * v;
        } while (r >= 1 || r == 0);
        double k = Math.Sqrt(-2 * Math.Log(r) / r);
        _spare = v * k;
        return u * k;
    }

    public void FillGaussian(Span<float> dst, double mean = 0, double std = 1)
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = (float)(mean + std * NextGaussian());
    }

    public void FillUniform(Span<float> dst, double low, double high)
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = (float)(low + (high - low) * NextDouble());
    }
}

/// <summary>The complete state of an <see cref="Rng"/> (what a checkpoint stores to resume its stream exactly).</summary>
public readonly record struct RngState(ulong S0, ulong S1, ulong S2, ulong S3, double? GaussianSpare);
