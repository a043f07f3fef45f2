// Single-precision GEMM, row-major.
// C (m×n) = alpha·op(A)·op(B) + beta·C
// op(A) (m×k): A stored m×k, or k×m when transA.   op(B) (k×n): B stored k×n, or n×k when transB.
// beta = 0 overwrites C without reading it (NaN garbage in C is ignored).
// Gram matrix of F (M×C): Gram(M, C, 1/norm, F, 0, G, 0), which computes FᵀF by symmetry.
namespace NeuralStyle.Tensors.Kernels;

/// <summary>Row-major single-precision matrix multiply (fast path and reference).</summary>
public static partial class Gemm
{
    /// <summary>C (m×n) = alpha·op(A)·op(B) + beta·C (row-major; A stored k×m when transA, B stored n×k when transB).</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float[] a, int aOffset, int lda,
                             float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc)
    {
        Check(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
        SgemmFast(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
    }

    /// <summary>Reference of <see cref="Sgemm"/>: a plain triple loop with a double accumulator.</summary>
    public static void SgemmReference(bool transA, bool transB, int m, int n, int k, float alpha, float[] a, int aOffset, int lda,
                                      float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc)
    {
        Check(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[aOffset + (p * lda) + i] : a[aOffset + (i * lda) + p];
                    float bv = transB ? b[bOffset + (j * ldb) + p] : b[bOffset + (p * ldb) + j];
                    sum += (double)av * bv;
                }

                int at = cOffset + (i * ldc) + j;
                c[at] = beta == 0f ? (float)(alpha * sum) : (float)((alpha * sum) + ((double)beta * c[at]));
            }
        }
    }

    /// <summary>
    /// G (c×c) = alpha·FᵀF for F (m×c, row-major): a Gram matrix, computed by symmetry. Strips of 32 rows produce only
    /// the blocks on and above the diagonal (about half the multiply-adds once c is a few strips wide) and the rest is
    /// mirrored, so G is exactly symmetric. Agrees with <see cref="GramReference"/> to rounding.
    /// </summary>
    public static void Gram(int m, int c, float alpha, float[] f, int fOffset, float[] g, int gOffset)
    {
        KernelChecks.Matrix(f, fOffset, m, c, c, nameof(f));
        KernelChecks.Matrix(g, gOffset, c, c, c, nameof(g));
        if (c < 2 * GramStrip)
        {
            SgemmFast(true, false, c, c, m, alpha, f, fOffset, c, f, fOffset, c, 0f, g, gOffset, c);
            return;
        }
        for (int i0 = 0; i0 < c; i0 += GramStrip)
        {
            int rows = Math.Min(GramStrip, c - i0);
            SgemmFast(true, false, rows, c - i0, m, alpha, f, fOffset + i0, c, f, fOffset + i0, c, 0f, g, gOffset + (i0 * c) + i0, c);
        }
        // Below each strip's diagonal block: the mirror of what the earlier strips computed.
        for (int i = GramStrip; i < c; i++)
        {
            int stripStart = i / GramStrip * GramStrip;
            for (int j = 0; j < stripStart; j++) g[gOffset + (i * c) + j] = g[gOffset + (j * c) + i];
        }
    }

    // Measured (VGG-19's style layers, 2 threads): 32-row strips beat 64 and 128 for every width from 64 to 512.
    private const int GramStrip = 32;

    /// <summary>Reference of <see cref="Gram"/>: the plain triple loop of <see cref="SgemmReference"/> over every entry.</summary>
    public static void GramReference(int m, int c, float alpha, float[] f, int fOffset, float[] g, int gOffset)
        => SgemmReference(true, false, c, c, m, alpha, f, fOffset, c, f, fOffset, c, 0f, g, gOffset, c);

    private static void Check(bool transA, bool transB, int m, int n, int k, float[] a, int aOffset, int lda,
                              float[] b, int bOffset, int ldb, float[] c, int cOffset, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
        {
            KernelChecks.Throw($"Sgemm sizes must be non-negative (got m={m}, n={n}, k={k}).");
        }

        KernelChecks.Matrix(a, aOffset, transA ? k : m, transA ? m : k, lda, nameof(a));
        KernelChecks.Matrix(b, bOffset, transB ? n : k, transB ? k : n, ldb, nameof(b));
        KernelChecks.Matrix(c, cOffset, m, n, ldc, nameof(c));
    }
}
