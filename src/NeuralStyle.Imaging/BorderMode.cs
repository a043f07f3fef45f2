namespace NeuralStyle.Imaging;

/// <summary>How filters read samples outside the image.</summary>
public enum BorderMode
{
    /// <summary>Mirror about the edge sample without repeating it (… c b | a b c d | c b …), like numpy/PyTorch "reflect".</summary>
    Reflect,

    /// <summary>Periodic (… c d | a b c d | a b …), for tileable textures (PyTorch "circular").</summary>
    Wrap,
}

internal static class Border
{
    /// <summary>Maps any integer index to [0, n) with the given mode; any distance from the image is allowed.</summary>
    public static int Index(int i, int n, BorderMode mode)
    {
        if ((uint)i < (uint)n) return i;
        if (mode == BorderMode.Wrap)
        {
            int r = i % n;
            return r < 0 ? r + n : r;
        }
        if (n == 1) return 0;
        int period = 2 * n - 2;
        int m = Math.Abs(i) % period;
        return m >= n ? period - m : m;
    }
}
