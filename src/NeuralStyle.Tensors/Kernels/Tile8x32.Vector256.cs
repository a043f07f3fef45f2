// Register tiles on Vector256 (AVX2 + FMA): an 8×32 tile is computed as four 4×16 sub-tiles (8 accumulators each).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralStyle.Tensors.Kernels;

internal static unsafe partial class Tile8x32
{
    private static void Conv256(float* x, nint cin, nint rowStride, float* w, float* bias, float* y, nint yStride, bool relu)
    {
        for (nint p0 = 0; p0 < 8; p0 += 4)
        {
            for (nint h = 0; h < 32; h += 16)
            {
                Conv256Sub(x + (p0 * cin), cin, rowStride, w + h, bias + h, y + (p0 * yStride) + h, yStride, relu);
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Conv256Sub(float* x, nint cin, nint rowStride, float* w, float* bias, float* y, nint yStride, bool relu)
    {
        Vector256<float> b0 = Vector256.Load(bias), b1 = Vector256.Load(bias + 8);
        Vector256<float> c00 = b0, c01 = b1;
        Vector256<float> c10 = b0, c11 = b1;
        Vector256<float> c20 = b0, c21 = b1;
        Vector256<float> c30 = b0, c31 = b1;
        nint s2 = 2 * cin, s3 = 3 * cin;
        for (nint ky = 0; ky < 3; ky++)
        {
            for (nint kx = 0; kx < 3; kx++)
            {
                float* xp = x + (ky * rowStride) + (kx * cin);
                float* wp = w + ((((ky * 3) + kx) * cin) * 32);
                float* end = xp + cin;
                for (; xp < end; xp++, wp += 32)
                {
                    Vector256<float> w0 = Vector256.Load(wp), w1 = Vector256.Load(wp + 8);
                    Vector256<float> v;
                    v = Vector256.Create(xp[0]);
                    c00 = Vector256.FusedMultiplyAdd(v, w0, c00);
                    c01 = Vector256.FusedMultiplyAdd(v, w1, c01);
                    v = Vector256.Create(xp[cin]);
                    c10 = Vector256.FusedMultiplyAdd(v, w0, c10);
                    c11 = Vector256.FusedMultiplyAdd(v, w1, c11);
                    v = Vector256.Create(xp[s2]);
                    c20 = Vector256.FusedMultiplyAdd(v, w0, c20);
                    c21 = Vector256.FusedMultiplyAdd(v, w1, c21);
                    v = Vector256.Create(xp[s3]);
                    c30 = Vector256.FusedMultiplyAdd(v, w0, c30);
                    c31 = Vector256.FusedMultiplyAdd(v, w1, c31);
                }
            }
        }

        if (relu)
        {
            c00 = Vector256.Max(c00, Vector256<float>.Zero);
            c01 = Vector256.Max(c01, Vector256<float>.Zero);
            c10 = Vector256.Max(c10, Vector256<float>.Zero);
            c11 = Vector256.Max(c11, Vector256<float>.Zero);
            c20 = Vector256.Max(c20, Vector256<float>.Zero);
            c21 = Vector256.Max(c21, Vector256<float>.Zero);
            c30 = Vector256.Max(c30, Vector256<float>.Zero);
            c31 = Vector256.Max(c31, Vector256<float>.Zero);
        }

        c00.Store(y + (0 * yStride));
        c01.Store(y + (0 * yStride) + 8);
        c10.Store(y + (1 * yStride));
        c11.Store(y + (1 * yStride) + 8);
        c20.Store(y + (2 * yStride));
        c21.Store(y + (2 * yStride) + 8);
        c30.Store(y + (3 * yStride));
        c31.Store(y + (3 * yStride) + 8);
    }

    private static void MulAcc256(float* a, nint aK, nint aR, nint aRow, float* b, nint bK, nint bRow, nint count, nint rows, float* acc)
    {
        for (nint r0 = 0; r0 < 8; r0 += 4)
        {
            for (nint h = 0; h < 32; h += 16)
            {
                MulAcc256Sub(a + (r0 * aR), aK, aR, aRow, b + h, bK, bRow, count, rows, acc + (r0 * 32) + h);
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void MulAcc256Sub(float* a, nint aK, nint aR, nint aRow, float* b, nint bK, nint bRow, nint count, nint rows, float* acc)
    {
        Vector256<float> c00 = Vector256.Load(acc + 0), c01 = Vector256.Load(acc + 8);
        Vector256<float> c10 = Vector256.Load(acc + 32), c11 = Vector256.Load(acc + 40);
        Vector256<float> c20 = Vector256.Load(acc + 64), c21 = Vector256.Load(acc + 72);
        Vector256<float> c30 = Vector256.Load(acc + 96), c31 = Vector256.Load(acc + 104);
        nint s2 = 2 * aR, s3 = 3 * aR;
        for (nint r = 0; r < rows; r++)
        {
            float* ap = a + (r * aRow);
            float* bp = b + (r * bRow);
            for (nint p = 0; p < count; p++, ap += aK, bp += bK)
            {
                Vector256<float> w0 = Vector256.Load(bp), w1 = Vector256.Load(bp + 8);
                Vector256<float> v;
                v = Vector256.Create(ap[0]);
                c00 = Vector256.FusedMultiplyAdd(v, w0, c00);
                c01 = Vector256.FusedMultiplyAdd(v, w1, c01);
                v = Vector256.Create(ap[aR]);
                c10 = Vector256.FusedMultiplyAdd(v, w0, c10);
                c11 = Vector256.FusedMultiplyAdd(v, w1, c11);
                v = Vector256.Create(ap[s2]);
                c20 = Vector256.FusedMultiplyAdd(v, w0, c20);
                c21 = Vector256.FusedMultiplyAdd(v, w1, c21);
                v = Vector256.Create(ap[s3]);
                c30 = Vector256.FusedMultiplyAdd(v, w0, c30);
                c31 = Vector256.FusedMultiplyAdd(v, w1, c31);
            }
        }

        c00.Store(acc + 0);
        c01.Store(acc + 8);
        c10.Store(acc + 32);
        c11.Store(acc + 40);
        c20.Store(acc + 64);
        c21.Store(acc + 72);
        c30.Store(acc + 96);
        c31.Store(acc + 104);
    }
}
