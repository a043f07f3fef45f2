// Register tiles of 8 rows × 32 columns on Vector512 (16 accumulators, two weight vectors per 16 FMAs).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralStyle.Tensors.Kernels;

internal static unsafe partial class Tile8x32
{
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Conv512(float* x, nint cin, nint rowStride, float* w, float* bias, float* y, nint yStride, bool relu)
    {
        Vector512<float> b0 = Vector512.Load(bias), b1 = Vector512.Load(bias + 16);
        Vector512<float> c00 = b0, c01 = b1;
        Vector512<float> c10 = b0, c11 = b1;
        Vector512<float> c20 = b0, c21 = b1;
        Vector512<float> c30 = b0, c31 = b1;
        Vector512<float> c40 = b0, c41 = b1;
        Vector512<float> c50 = b0, c51 = b1;
        Vector512<float> c60 = b0, c61 = b1;
        Vector512<float> c70 = b0, c71 = b1;
        nint s2 = 2 * cin, s3 = 3 * cin, s4 = 4 * cin, s5 = 5 * cin, s6 = 6 * cin, s7 = 7 * cin;
        for (nint ky = 0; ky < 3; ky++)
        {
            for (nint kx = 0; kx < 3; kx++)
            {
                float* xp = x + (ky * rowStride) + (kx * cin);
                float* wp = w + ((((ky * 3) + kx) * cin) * 32);
                float* end = xp + cin;
                for (; xp < end; xp++, wp += 32)
                {
                    Vector512<float> w0 = Vector512.Load(wp), w1 = Vector512.Load(wp + 16);
                    Vector512<float> v;
                    v = Vector512.Create(xp[0]);
                    c00 = Vector512.FusedMultiplyAdd(v, w0, c00);
                    c01 = Vector512.FusedMultiplyAdd(v, w1, c01);
                    v = Vector512.Create(xp[cin]);
                    c10 = Vector512.FusedMultiplyAdd(v, w0, c10);
                    c11 = Vector512.FusedMultiplyAdd(v, w1, c11);
                    v = Vector512.Create(xp[s2]);
                    c20 = Vector512.FusedMultiplyAdd(v, w0, c20);
                    c21 = Vector512.FusedMultiplyAdd(v, w1, c21);
                    v = Vector512.Create(xp[s3]);
                    c30 = Vector512.FusedMultiplyAdd(v, w0, c30);
                    c31 = Vector512.FusedMultiplyAdd(v, w1, c31);
                    v = Vector512.Create(xp[s4]);
                    c40 = Vector512.FusedMultiplyAdd(v, w0, c40);
                    c41 = Vector512.FusedMultiplyAdd(v, w1, c41);
                    v = Vector512.Create(xp[s5]);
                    c50 = Vector512.FusedMultiplyAdd(v, w0, c50);
                    c51 = Vector512.FusedMultiplyAdd(v, w1, c51);
                    v = Vector512.Create(xp[s6]);
                    c60 = Vector512.FusedMultiplyAdd(v, w0, c60);
                    c61 = Vector512.FusedMultiplyAdd(v, w1, c61);
                    v = Vector512.Create(xp[s7]);
                    c70 = Vector512.FusedMultiplyAdd(v, w0, c70);
                    c71 = Vector512.FusedMultiplyAdd(v, w1, c71);
                }
            }
        }

        if (relu)
        {
            c00 = Vector512.Max(c00, Vector512<float>.Zero);
            c01 = Vector512.Max(c01, Vector512<float>.Zero);
            c10 = Vector512.Max(c10, Vector512<float>.Zero);
            c11 = Vector512.Max(c11, Vector512<float>.Zero);
            c20 = Vector512.Max(c20, Vector512<float>.Zero);
            c21 = Vector512.Max(c21, Vector512<float>.Zero);
            c30 = Vector512.Max(c30, Vector512<float>.Zero);
            c31 = Vector512.Max(c31, Vector512<float>.Zero);
            c40 = Vector512.Max(c40, Vector512<float>.Zero);
            c41 = Vector512.Max(c41, Vector512<float>.Zero);
            c50 = Vector512.Max(c50, Vector512<float>.Zero);
            c51 = Vector512.Max(c51, Vector512<float>.Zero);
            c60 = Vector512.Max(c60, Vector512<float>.Zero);
            c61 = Vector512.Max(c61, Vector512<float>.Zero);
            c70 = Vector512.Max(c70, Vector512<float>.Zero);
            c71 = Vector512.Max(c71, Vector512<float>.Zero);
        }

        c00.Store(y + (0 * yStride));
        c01.Store(y + (0 * yStride) + 16);
        c10.Store(y + (1 * yStride));
        c11.Store(y + (1 * yStride) + 16);
        c20.Store(y + (2 * yStride));
        c21.Store(y + (2 * yStride) + 16);
        c30.Store(y + (3 * yStride));
        c31.Store(y + (3 * yStride) + 16);
        c40.Store(y + (4 * yStride));
        c41.Store(y + (4 * yStride) + 16);
        c50.Store(y + (5 * yStride));
        c51.Store(y + (5 * yStride) + 16);
        c60.Store(y + (6 * yStride));
        c61.Store(y + (6 * yStride) + 16);
        c70.Store(y + (7 * yStride));
        c71.Store(y + (7 * yStride) + 16);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void MulAcc512(float* a, nint aK, nint aR, nint aRow, float* b, nint bK, nint bRow, nint count, nint rows, float* acc)
    {
        Vector512<float> c00 = Vector512.Load(acc + 0), c01 = Vector512.Load(acc + 16);
        Vector512<float> c10 = Vector512.Load(acc + 32), c11 = Vector512.Load(acc + 48);
        Vector512<float> c20 = Vector512.Load(acc + 64), c21 = Vector512.Load(acc + 80);
        Vector512<float> c30 = Vector512.Load(acc + 96), c31 = Vector512.Load(acc + 112);
        Vector512<float> c40 = Vector512.Load(acc + 128), c41 = Vector512.Load(acc + 144);
        Vector512<float> c50 = Vector512.Load(acc + 160), c51 = Vector512.Load(acc + 176);
        Vector512<float> c60 = Vector512.Load(acc + 192), c61 = Vector512.Load(acc + 208);
        Vector512<float> c70 = Vector512.Load(acc + 224), c71 = Vector512.Load(acc + 240);
        nint s2 = 2 * aR, s3 = 3 * aR, s4 = 4 * aR, s5 = 5 * aR, s6 = 6 * aR, s7 = 7 * aR;
        for (nint r = 0; r < rows; r++)
        {
            float* ap = a + (r * aRow);
            float* bp = b + (r * bRow);
            for (nint p = 0; p < count; p++, ap += aK, bp += bK)
            {
                Vector512<float> w0 = Vector512.Load(bp), w1 = Vector512.Load(bp + 16);
                Vector512<float> v;
                v = Vector512.Create(ap[0]);
                c00 = Vector512.FusedMultiplyAdd(v, w0, c00);
                c01 = Vector512.FusedMultiplyAdd(v, w1, c01);
                v = Vector512.Create(ap[aR]);
                c10 = Vector512.FusedMultiplyAdd(v, w0, c10);
                c11 = Vector512.FusedMultiplyAdd(v, w1, c11);
                v = Vector512.Create(ap[s2]);
                c20 = Vector512.FusedMultiplyAdd(v, w0, c20);
                c21 = Vector512.FusedMultiplyAdd(v, w1, c21);
                v = Vector512.Create(ap[s3]);
                c30 = Vector512.FusedMultiplyAdd(v, w0, c30);
                c31 = Vector512.FusedMultiplyAdd(v, w1, c31);
                v = Vector512.Create(ap[s4]);
                c40 = Vector512.FusedMultiplyAdd(v, w0, c40);
                c41 = Vector512.FusedMultiplyAdd(v, w1, c41);
                v = Vector512.Create(ap[s5]);
                c50 = Vector512.FusedMultiplyAdd(v, w0, c50);
                c51 = Vector512.FusedMultiplyAdd(v, w1, c51);
                v = Vector512.Create(ap[s6]);
                c60 = Vector512.FusedMultiplyAdd(v, w0, c60);
                c61 = Vector512.FusedMultiplyAdd(v, w1, c61);
                v = Vector512.Create(ap[s7]);
                c70 = Vector512.FusedMultiplyAdd(v, w0, c70);
                c71 = Vector512.FusedMultiplyAdd(v, w1, c71);
            }
        }

        c00.Store(acc + 0);
        c01.Store(acc + 16);
        c10.Store(acc + 32);
        c11.Store(acc + 48);
        c20.Store(acc + 64);
        c21.Store(acc + 80);
        c30.Store(acc + 96);
        c31.Store(acc + 112);
        c40.Store(acc + 128);
        c41.Store(acc + 144);
        c50.Store(acc + 160);
        c51.Store(acc + 176);
        c60.Store(acc + 192);
        c61.Store(acc + 208);
        c70.Store(acc + 224);
        c71.Store(acc + 240);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void MulStore512(float* a, nint aK, nint aR, float* b, nint bK, nint count, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c00 = Vector512<float>.Zero, c01 = Vector512<float>.Zero;
        Vector512<float> c10 = Vector512<float>.Zero, c11 = Vector512<float>.Zero;
        Vector512<float> c20 = Vector512<float>.Zero, c21 = Vector512<float>.Zero;
        Vector512<float> c30 = Vector512<float>.Zero, c31 = Vector512<float>.Zero;
        Vector512<float> c40 = Vector512<float>.Zero, c41 = Vector512<float>.Zero;
        Vector512<float> c50 = Vector512<float>.Zero, c51 = Vector512<float>.Zero;
        Vector512<float> c60 = Vector512<float>.Zero, c61 = Vector512<float>.Zero;
        Vector512<float> c70 = Vector512<float>.Zero, c71 = Vector512<float>.Zero;
        nint s2 = 2 * aR, s3 = 3 * aR, s4 = 4 * aR, s5 = 5 * aR, s6 = 6 * aR, s7 = 7 * aR;
        float* ap = a;
        float* bp = b;
        for (nint p = 0; p < count; p++, ap += aK, bp += bK)
        {
            Vector512<float> w0 = Vector512.Load(bp), w1 = Vector512.Load(bp + 16);
            Vector512<float> v;
            v = Vector512.Create(ap[0]);
            c00 = Vector512.FusedMultiplyAdd(v, w0, c00);
            c01 = Vector512.FusedMultiplyAdd(v, w1, c01);
            v = Vector512.Create(ap[aR]);
            c10 = Vector512.FusedMultiplyAdd(v, w0, c10);
            c11 = Vector512.FusedMultiplyAdd(v, w1, c11);
            v = Vector512.Create(ap[s2]);
            c20 = Vector512.FusedMultiplyAdd(v, w0, c20);
            c21 = Vector512.FusedMultiplyAdd(v, w1, c21);
            v = Vector512.Create(ap[s3]);
            c30 = Vector512.FusedMultiplyAdd(v, w0, c30);
            c31 = Vector512.FusedMultiplyAdd(v, w1, c31);
            v = Vector512.Create(ap[s4]);
            c40 = Vector512.FusedMultiplyAdd(v, w0, c40);
            c41 = Vector512.FusedMultiplyAdd(v, w1, c41);
            v = Vector512.Create(ap[s5]);
            c50 = Vector512.FusedMultiplyAdd(v, w0, c50);
            c51 = Vector512.FusedMultiplyAdd(v, w1, c51);
            v = Vector512.Create(ap[s6]);
            c60 = Vector512.FusedMultiplyAdd(v, w0, c60);
            c61 = Vector512.FusedMultiplyAdd(v, w1, c61);
            v = Vector512.Create(ap[s7]);
            c70 = Vector512.FusedMultiplyAdd(v, w0, c70);
            c71 = Vector512.FusedMultiplyAdd(v, w1, c71);
        }

        var va = Vector512.Create(alpha);
        if (beta == 0f)
        {
            (c00 * va).Store(c + (0 * ldc));
            (c01 * va).Store(c + (0 * ldc) + 16);
            (c10 * va).Store(c + (1 * ldc));
            (c11 * va).Store(c + (1 * ldc) + 16);
            (c20 * va).Store(c + (2 * ldc));
            (c21 * va).Store(c + (2 * ldc) + 16);
            (c30 * va).Store(c + (3 * ldc));
            (c31 * va).Store(c + (3 * ldc) + 16);
            (c40 * va).Store(c + (4 * ldc));
            (c41 * va).Store(c + (4 * ldc) + 16);
            (c50 * va).Store(c + (5 * ldc));
            (c51 * va).Store(c + (5 * ldc) + 16);
            (c60 * va).Store(c + (6 * ldc));
            (c61 * va).Store(c + (6 * ldc) + 16);
            (c70 * va).Store(c + (7 * ldc));
            (c71 * va).Store(c + (7 * ldc) + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            ((c00 * va) + (Vector512.Load(c + (0 * ldc)) * vb)).Store(c + (0 * ldc));
            ((c01 * va) + (Vector512.Load(c + (0 * ldc) + 16) * vb)).Store(c + (0 * ldc) + 16);
            ((c10 * va) + (Vector512.Load(c + (1 * ldc)) * vb)).Store(c + (1 * ldc));
            ((c11 * va) + (Vector512.Load(c + (1 * ldc) + 16) * vb)).Store(c + (1 * ldc) + 16);
            ((c20 * va) + (Vector512.Load(c + (2 * ldc)) * vb)).Store(c + (2 * ldc));
            ((c21 * va) + (Vector512.Load(c + (2 * ldc) + 16) * vb)).Store(c + (2 * ldc) + 16);
            ((c30 * va) + (Vector512.Load(c + (3 * ldc)) * vb)).Store(c + (3 * ldc));
            ((c31 * va) + (Vector512.Load(c + (3 * ldc) + 16) * vb)).Store(c + (3 * ldc) + 16);
            ((c40 * va) + (Vector512.Load(c + (4 * ldc)) * vb)).Store(c + (4 * ldc));
            ((c41 * va) + (Vector512.Load(c + (4 * ldc) + 16) * vb)).Store(c + (4 * ldc) + 16);
            ((c50 * va) + (Vector512.Load(c + (5 * ldc)) * vb)).Store(c + (5 * ldc));
            ((c51 * va) + (Vector512.Load(c + (5 * ldc) + 16) * vb)).Store(c + (5 * ldc) + 16);
            ((c60 * va) + (Vector512.Load(c + (6 * ldc)) * vb)).Store(c + (6 * ldc));
            ((c61 * va) + (Vector512.Load(c + (6 * ldc) + 16) * vb)).Store(c + (6 * ldc) + 16);
            ((c70 * va) + (Vector512.Load(c + (7 * ldc)) * vb)).Store(c + (7 * ldc));
            ((c71 * va) + (Vector512.Load(c + (7 * ldc) + 16) * vb)).Store(c + (7 * ldc) + 16);
        }
    }
}
