using NeuralStyle.Imaging;

namespace NeuralStyle.Bench;

/// <summary>Deterministic test images (the same formulas as synthetic_rgb in bench/peers/peer.py).</summary>
internal static class Synthetic
{
    public static Image Content(int w, int h) => Make(w, h, (x, y) => (
        0.5 + 0.5 * Math.Sin(x * 0.031 + y * 0.017),
        0.5 + 0.5 * Math.Cos(x * 0.023 - y * 0.029),
        0.5 + 0.5 * Math.Sin((x + y) * 0.011)));

    public static Image Style(int w, int h) => Make(w, h, (x, y) => (
        0.5 + 0.5 * Math.Sin(x * 0.13) * Math.Cos(y * 0.07),
        0.5 + 0.5 * Math.Sin(x * 0.05 + y * 0.11),
        0.5 + 0.5 * Math.Cos(x * 0.09) * Math.Sin(y * 0.15)));

    private static Image Make(int w, int h, Func<double, double, (double R, double G, double B)> f)
    {
        var img = new Image(w, h, 3);
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                (double r, double g, double b) = f(x, y);
                int i = ((y * w) + x) * 3;
                img.Data[i] = (float)r;
                img.Data[i + 1] = (float)g;
                img.Data[i + 2] = (float)b;
            }
        }

        return img;
    }

    /// <summary>Deterministic N(0, scale²)-ish values (sum of uniforms), enough to exercise the kernels.</summary>
    public static float[] Random(int length, ulong seed, float scale = 1f)
    {
        var a = new float[length];
        ulong s = seed * 0x9E3779B97F4A7C15UL + 1;
        for (int i = 0; i < a.Length; i++)
        {
            double sum = 0;
            for (int k = 0; k < 4; k++)
            {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                sum += (s >> 11) * (1.0 / (1UL << 53));
            }

            a[i] = (float)((sum - 2.0) * 1.7320508 * scale);
        }

        return a;
    }
}
