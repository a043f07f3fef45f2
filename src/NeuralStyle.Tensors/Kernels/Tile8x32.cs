// Register-tile microkernels shared by Conv3x3 and Gemm; each produces an 8-row × 32-column tile.
// Conv:   y[p, c] = bias[c] + Σ_{ky,kx,i} x[ky·rowStride + (p+kx)·cin + i] · w[((ky·3+kx)·cin + i)·32 + c]   (p < 8, c < 32)
//         (x: 3 padded NHWC rows, w: one packed [3][3][cin][32] block; relu fused)
// MulAcc: acc[r, c] += Σ_{row<rows} Σ_{k<count} a[row·aRow + k·aK + r·aR] · b[row·bRow + k·bK + c]   (r < 8, c < 32)
//         (acc: 8×32 floats in memory, loaded once and stored once per call)
// MulStore: the same from zero over one run of k, written straight to C as alpha·acc + beta·C.
// Dispatch: Vector512 (AVX-512), else Vector256 + FMA (AVX2), else scalar.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralStyle.Tensors.Kernels;

internal static unsafe partial class Tile8x32
{
    public const int Rows = 8;
    public const int Cols = 32;

    public static void Conv(float* x, nint cin, nint rowStride, float* w, float* bias, float* y, nint yStride, bool relu)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Conv512(x, cin, rowStride, w, bias, y, yStride, relu);
        }
        else if (Vector256.IsHardwareAccelerated && Fma.IsSupported)
        {
            Conv256(x, cin, rowStride, w, bias, y, yStride, relu);
        }
        else
        {
            ConvScalar(x, cin, rowStride, w, bias, y, yStride, relu);
        }
    }

    public static void MulAcc(float* a, nint aK, nint aR, nint aRow, float* b, nint bK, nint bRow, nint count, nint rows, float* acc)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            MulAcc512(a, aK, aR, aRow, b, bK, bRow, count, rows, acc);
        }
        else if (Vector256.IsHardwareAccelerated && Fma.IsSupported)
        {
            MulAcc256(a, aK, aR, aRow, b, bK, bRow, count, rows, acc);
        }
        else
        {
            MulAccScalar(a, aK, aR, aRow, b, bK, bRow, count, rows, acc);
        }
    }

    /// <summary>
    /// c[r·ldc + j] = alpha·Σ_{k&lt;count} a[k·aK + r·aR]·b[k·bK + j] + beta·c[r·ldc + j] for a full 8×32 tile
    /// (beta = 0: c is not read).
    /// </summary>
    public static void MulStore(float* a, nint aK, nint aR, float* b, nint bK, nint count, float* c, nint ldc, float alpha, float beta)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            MulStore512(a, aK, aR, b, bK, count, c, ldc, alpha, beta);
            return;
        }

        float* acc = stackalloc float[Rows * Cols];
        new Span<float>(acc, Rows * Cols).Clear();
        MulAcc(a, aK, aR, 0, b, bK, 0, count, 1, acc);
        for (int r = 0; r < Rows; r++)
        {
            ScaleStore(acc + (r * Cols), c + (r * ldc), Cols, alpha, beta);
        }
    }

    /// <summary>dst[i] = alpha·src[i] + beta·dst[i] for i &lt; count (beta = 0: dst is not read).</summary>
    public static void ScaleStore(float* src, float* dst, int count, float alpha, float beta)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var va = Vector512.Create(alpha);
            var vb = Vector512.Create(beta);
            for (; i <= count - 16; i += 16)
            {
                var v = Vector512.Load(src + i) * va;
                if (beta != 0f)
                {
                    v += Vector512.Load(dst + i) * vb;
                }

                v.Store(dst + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(alpha);
            var vb = Vector256.Create(beta);
            for (; i <= count - 8; i += 8)
            {
                var v = Vector256.Load(src + i) * va;
                if (beta != 0f)
                {
                    v += Vector256.Load(dst + i) * vb;
                }

                v.Store(dst + i);
            }
        }

        for (; i < count; i++)
        {
            dst[i] = beta == 0f ? alpha * src[i] : (alpha * src[i]) + (beta * dst[i]);
        }
    }

    private static void ConvScalar(float* x, nint cin, nint rowStride, float* w, float* bias, float* y, nint yStride, bool relu)
    {
        float* acc = stackalloc float[Rows * Cols];
        for (int p = 0; p < Rows; p++)
        {
            new ReadOnlySpan<float>(bias, Cols).CopyTo(new Span<float>(acc + (p * Cols), Cols));
        }

        for (nint t = 0; t < 9; t++)
        {
            nint ky = t / 3, kx = t % 3;
            for (nint i = 0; i < cin; i++)
            {
                float* wp = w + (((t * cin) + i) * Cols);
                for (nint p = 0; p < Rows; p++)
                {
                    float xv = x[(ky * rowStride) + ((p + kx) * cin) + i];
                    float* ap = acc + (p * Cols);
                    for (int c = 0; c < Cols; c++)
                    {
                        ap[c] += xv * wp[c];
                    }
                }
            }
        }

        for (nint p = 0; p < Rows; p++)
        {
            for (int c = 0; c < Cols; c++)
            {
                float v = acc[(p * Cols) + c];
                y[(p * yStride) + c] = relu ? Math.Max(0f, v) : v;
            }
        }
    }

    private static void MulAccScalar(float* a, nint aK, nint aR, nint aRow, float* b, nint bK, nint bRow, nint count, nint rows, float* acc)
    {
        for (nint r = 0; r < rows; r++)
        {
            for (nint k = 0; k < count; k++)
            {
                float* ap = a + (r * aRow) + (k * aK);
                float* bp = b + (r * bRow) + (k * bK);
                for (int i = 0; i < Rows; i++)
                {
                    float av = ap[i * aR];
                    float* cp = acc + (i * Cols);
                    for (int c = 0; c < Cols; c++)
                    {
                        cp[c] += av * bp[c];
                    }
                }
            }
        }
    }
}
