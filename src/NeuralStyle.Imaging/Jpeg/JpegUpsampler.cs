using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralStyle.Imaging.Jpeg;

/// <summary>
/// libjpeg-turbo's "fancy" (triangular) h2v1 and h2v2 upsampling of one row (jdsample.c), with an AVX2 path.
/// Both paths are exact: every output is (3·near + far + bias) >> 2 (h2v1) or the 2-D version >> 4 (h2v2), computed
/// in 16-bit lanes, and two outputs per input are stored as one little-endian ushort (even | odd << 8).
/// </summary>
internal static class JpegUpsampler
{
    /// <summary>src: dw ≥ 3 samples; dst: 2·dw samples.</summary>
    public static unsafe void H2V1FancyRow(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        int dw = src.Length;
        int v = src[0];
        dst[0] = (byte)v;
        dst[1] = (byte)((v * 3 + src[1] + 2) >> 2);
        int col = 1;
        fixed (byte* s = src)
        fixed (byte* d = dst)
        {
            if (Avx2.IsSupported)
            {
                var one = Vector256.Create((ushort)1);
                var two = Vector256.Create((ushort)2);
                for (; col + 16 <= dw - 1; col += 16)
                {
                    var cur = Avx2.ConvertToVector256Int16(s + col).AsUInt16();
                    var prev = Avx2.ConvertToVector256Int16(s + col - 1).AsUInt16();
                    var next = Avx2.ConvertToVector256Int16(s + col + 1).AsUInt16();
                    var c3 = cur * 3;
                    var even = Vector256.ShiftRightLogical(c3 + prev + one, 2);
                    var odd = Vector256.ShiftRightLogical(c3 + next + two, 2);
                    (even | Vector256.ShiftLeft(odd, 8)).Store((ushort*)(d + 2 * col));
                }
            }
            for (; col < dw - 1; col++)
            {
                int c3 = s[col] * 3;
                d[2 * col] = (byte)((c3 + s[col - 1] + 1) >> 2);
                d[2 * col + 1] = (byte)((c3 + s[col + 1] + 2) >> 2);
            }
        }
        v = src[dw - 1];
        dst[2 * dw - 2] = (byte)((v * 3 + src[dw - 2] + 1) >> 2);
        dst[2 * dw - 1] = (byte)v;
    }

    /// <summary>near: the input row, far: the row above (upper output) or below (lower output); dw ≥ 3; sums ≥ dw.</summary>
    public static unsafe void H2V2FancyRow(ReadOnlySpan<byte> near, ReadOnlySpan<byte> far, Span<ushort> sums, Span<byte> dst)
    {
        int dw = near.Length;
        fixed (byte* n = near)
        fixed (byte* f = far)
        fixed (ushort* sm = sums)
        fixed (byte* d = dst)
        {
            int x = 0;
            if (Avx2.IsSupported)
            {
                for (; x + 16 <= dw; x += 16)
                {
                    var a = Avx2.ConvertToVector256Int16(n + x).AsUInt16();
                    var b = Avx2.ConvertToVector256Int16(f + x).AsUInt16();
                    (a * 3 + b).Store(sm + x);
                }
            }
            for (; x < dw; x++) sm[x] = (ushort)(n[x] * 3 + f[x]);

            d[0] = (byte)((sm[0] * 4 + 8) >> 4);
            d[1] = (byte)((sm[0] * 3 + sm[1] + 7) >> 4);
            int col = 1;
            if (Avx2.IsSupported)
            {
                var eight = Vector256.Create((ushort)8);
                var seven = Vector256.Create((ushort)7);
                for (; col + 16 <= dw - 1; col += 16)
                {
                    var cur = Vector256.Load(sm + col) * 3;
                    var even = Vector256.ShiftRightLogical(cur + Vector256.Load(sm + col - 1) + eight, 4);
                    var odd = Vector256.ShiftRightLogical(cur + Vector256.Load(sm + col + 1) + seven, 4);
                    (even | Vector256.ShiftLeft(odd, 8)).Store((ushort*)(d + 2 * col));
                }
            }
            for (; col < dw - 1; col++)
            {
                int cur = sm[col] * 3;
                d[2 * col] = (byte)((cur + sm[col - 1] + 8) >> 4);
                d[2 * col + 1] = (byte)((cur + sm[col + 1] + 7) >> 4);
            }
            d[2 * dw - 2] = (byte)((sm[dw - 1] * 3 + sm[dw - 2] + 8) >> 4);
            d[2 * dw - 1] = (byte)((sm[dw - 1] * 4 + 7) >> 4);
        }
    }
}
