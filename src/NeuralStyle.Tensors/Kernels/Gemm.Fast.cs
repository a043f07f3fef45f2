// Fast driver of Gemm (GotoBLAS-style blocking on the Tile8x32 microkernel):
//   for each 256-deep slice of k: pack op(B) into 32-column panels [k][32], op(A) into 8-row panels [k][8]
//   (zero-padded at the edges), run the 8×32 MulAcc tile, then C = alpha·tile + (first slice ? beta·C : C).
// Threads split the rows of C (or its columns when there are too few rows); beta = 0 never reads C.
using System.Buffers;

namespace NeuralStyle.Tensors.Kernels;

public static unsafe partial class Gemm
{
    private const int Kc = 256;   // depth of one packed slice
    private const int Mc = 64;    // rows of A packed at once
    private const int Nc = 256;   // columns of B packed at once

    private static void SgemmFast(bool transA, bool transB, int m, int n, int k, float alpha, float[] a, int aOffset, int lda,
                                  float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0 || alpha == 0f)
        {
            for (int i = 0; i < m; i++)
            {
                var row = c.AsSpan(cOffset + (i * ldc), n);
                if (beta == 0f)
                {
                    row.Clear();
                }
                else if (beta != 1f)
                {
                    System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
                }
            }

            return;
        }

        int rowTiles = (m + 7) / 8, colTiles = (n + 31) / 32;
        double flopsPerRowTile = 2.0 * 8 * n * k;
        double flopsPerColTile = 2.0 * 32 * m * k;
        bool splitRows = rowTiles >= Math.Min(KernelThreading.MaxDegree, 2) * 2 || rowTiles >= colTiles;
        int minTiles = (int)Math.Clamp(Math.Ceiling(2e6 / (splitRows ? flopsPerRowTile : flopsPerColTile)), 1, int.MaxValue);

        KernelThreading.For(splitRows ? rowTiles : colTiles, minTiles, (t0, t1) =>
        {
            int i0 = splitRows ? t0 * 8 : 0, i1 = splitRows ? Math.Min(m, t1 * 8) : m;
            int j0 = splitRows ? 0 : t0 * 32, j1 = splitRows ? n : Math.Min(n, t1 * 32);
            Block(transA, transB, i0, i1, j0, j1, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
        });
    }

    /// <summary>Computes rows [i0, i1) × columns [j0, j1) of C.</summary>
    private static void Block(bool transA, bool transB, int i0, int i1, int j0, int j1, int k, float alpha,
                              float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc)
    {
        float[] bPack = ArrayPool<float>.Shared.Rent(Nc * Kc);
        float[] aPack = ArrayPool<float>.Shared.Rent(Mc * Kc);
        float[] tile = ArrayPool<float>.Shared.Rent(8 * 32);
        try
        {
            fixed (float* aP = aPack, bP = bPack, tP = tile, cP = c)
            {
                for (int jc = j0; jc < j1; jc += Nc)
                {
                    int nc = Math.Min(Nc, j1 - jc);
                    for (int pc = 0; pc < k; pc += Kc)
                    {
                        int kc = Math.Min(Kc, k - pc);
                        bool first = pc == 0;
                        PackB(transB, b, bOffset, ldb, pc, kc, jc, nc, bPack);
                        for (int ic = i0; ic < i1; ic += Mc)
                        {
                            int mc = Math.Min(Mc, i1 - ic);
                            PackA(transA, a, aOffset, lda, pc, kc, ic, mc, aPack);
                            for (int jr = 0; jr < nc; jr += 32)
                            {
                                int cols = Math.Min(32, nc - jr);
                                float* bPanel = bP + ((long)jr * kc);
                                for (int ir = 0; ir < mc; ir += 8)
                                {
                                    int rows = Math.Min(8, mc - ir);
                                    new Span<float>(tP, 256).Clear();
                                    Tile8x32.MulAcc(aP + ((long)ir * kc), 8, 0, bPanel, 32, 0, kc, 1, tP);
                                    Store(tP, rows, cols, alpha, first ? beta : 1f, cP + cOffset + ((long)(ic + ir) * ldc) + jc + jr, ldc);
                                }
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(tile);
            ArrayPool<float>.Shared.Return(aPack);
            ArrayPool<float>.Shared.Return(bPack);
        }
    }

    /// <summary>C[r, j] = alpha·tile[r, j] + beta·C[r, j] (beta = 0: C not read).</summary>
    private static void Store(float* tile, int rows, int cols, float alpha, float beta, float* c, int ldc)
    {
        for (int r = 0; r < rows; r++)
        {
            var src = new ReadOnlySpan<float>(tile + (r * 32), cols);
            var dst = new Span<float>(c + ((long)r * ldc), cols);
            if (beta == 0f)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(src, alpha, dst);
            }
            else if (beta == 1f)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(src, alpha, dst, dst);
            }
            else
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(dst, beta, dst);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(src, alpha, dst, dst);
            }
        }
    }

    /// <summary>Packs op(B)[pc…pc+kc, jc…jc+nc] as 32-column panels, each [kc][32], zero-padded.</summary>
    private static void PackB(bool transB, float[] b, int bOffset, int ldb, int pc, int kc, int jc, int nc, float[] dst)
    {
        for (int jr = 0; jr < nc; jr += 32)
        {
            int cols = Math.Min(32, nc - jr);
            int panel = jr * kc;
            for (int p = 0; p < kc; p++)
            {
                var d = dst.AsSpan(panel + (p * 32), 32);
                if (!transB)
                {
                    b.AsSpan(bOffset + ((pc + p) * ldb) + jc + jr, cols).CopyTo(d);
                }
                else
                {
                    int src = bOffset + ((jc + jr) * ldb) + pc + p;
                    for (int j = 0; j < cols; j++)
                    {
                        d[j] = b[src + (j * ldb)];
                    }
                }

                if (cols < 32)
                {
                    d.Slice(cols).Clear();
                }
            }
        }
    }

    /// <summary>Packs op(A)[ic…ic+mc, pc…pc+kc] as 8-row panels, each [kc][8], zero-padded.</summary>
    private static void PackA(bool transA, float[] a, int aOffset, int lda, int pc, int kc, int ic, int mc, float[] dst)
    {
        for (int ir = 0; ir < mc; ir += 8)
        {
            int rows = Math.Min(8, mc - ir);
            int panel = ir * kc;
            if (transA)
            {
                for (int p = 0; p < kc; p++)
                {
                    var d = dst.AsSpan(panel + (p * 8), 8);
                    a.AsSpan(aOffset + ((pc + p) * lda) + ic + ir, rows).CopyTo(d);
                    if (rows < 8)
                    {
                        d.Slice(rows).Clear();
                    }
                }
            }
            else
            {
                if (rows < 8)
                {
                    dst.AsSpan(panel, kc * 8).Clear();
                }

                for (int r = 0; r < rows; r++)
                {
                    int src = aOffset + ((ic + ir + r) * lda) + pc;
                    for (int p = 0; p < kc; p++)
                    {
                        dst[panel + (p * 8) + r] = a[src + p];
                    }
                }
            }
        }
    }
}
