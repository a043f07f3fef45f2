using System.Runtime.Intrinsics;

namespace NeuralStyle.Imaging.Jpeg;

/// <summary>8-bit samples ↔ floats in [0, 1], vectorised where the hardware allows.</summary>
internal static class JpegSampleConverter
{
    private const float Scale = 1f / 255f;

    /// <summary>dst[i] = src[i] / 255 (computed as src[i] × (1/255)).</summary>
    public static void BytesToUnitFloats(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && src.Length >= 32)
        {
            var scale = Vector256.Create(Scale);
            for (; i <= src.Length - 32; i += 32)
            {
                var bytes = Vector256.Create(src.Slice(i, 32));
                var (lo16, hi16) = Vector256.Widen(bytes);
                var (a, b) = Vector256.Widen(lo16);
                var (c, d) = Vector256.Widen(hi16);
                (Vector256.ConvertToSingle(a.AsInt32()) * scale).CopyTo(dst.Slice(i, 8));
                (Vector256.ConvertToSingle(b.AsInt32()) * scale).CopyTo(dst.Slice(i + 8, 8));
                (Vector256.ConvertToSingle(c.AsInt32()) * scale).CopyTo(dst.Slice(i + 16, 8));
                (Vector256.ConvertToSingle(d.AsInt32()) * scale).CopyTo(dst.Slice(i + 24, 8));
            }
        }
        for (; i < src.Length; i++) dst[i] = src[i] * Scale;
    }
}
