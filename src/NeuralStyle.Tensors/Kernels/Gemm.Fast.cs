// Fast driver of Gemm on the Tile8x32 microkernel (8 rows × 32 columns of C per register tile).
// For each 256-deep slice of k, every tile of the block accumulates into a per-thread scratch laid out
// [rowTile][colTile][8][32]; C = alpha·scratch + beta·C is written once at the end (beta = 0 never reads C).
// When k fits in one slice, full tiles skip the scratch and are written straight to C.
// Operands are read in place (the tile broadcasts op(A) with any row/k strides; op(B) = B gives 32 contiguous
// floats per k); op(B) = Bᵀ and the partial edge tiles are packed into [k][32] / [k][8] panels.
// Threads split the rows of C (blocks of up to 128 rows), or its columns when C has too few rows; when C is at
// most 512×512 and k is long (the Gram matrix Fᵀ·F of a tall F) they split k and the partial sums are added.
using System.Buffers;
using System.Numerics.Tensors;

namespace NeuralStyle.Tensors.Kernels;

public static unsafe partial class Gemm
{
    private const int Kc = 256;   // depth of one slice
    private const int Mc = 128;   // rows of C per block in the row-split mode

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
                ScaleRow(c.AsSpan(cOffset + (i * ldc), n), beta);
            }

            return;
        }

        var op = new Operands(transA, transB, a, aOffset, lda, b, bOffset, ldb);
        int degree = KernelThreading.MaxDegree;
        double flops = 2.0 * m * n * k;
        int rowTiles = (m + 7) / 8, colTiles = (n + 31) / 32;
        if (degree > 1 && flops > 4e6 && m <= 512 && n <= 512 && k >= 4 * Kc * degree)
        {
            SplitK(op, m, n, k, alpha, beta, c, cOffset, ldc, degree);
            return;
        }

        int blocks = (m + Mc - 1) / Mc;
        if (blocks >= degree || rowTiles >= colTiles)
        {
            // Split rows: 8-row tiles grouped into blocks of up to Mc rows.
            int minTiles = (int)Math.Clamp(Math.Ceiling(2e6 / (2.0 * 8 * n * k)), 1, int.MaxValue);
            KernelThreading.For(rowTiles, minTiles, (t0, t1) =>
                RowBlocks(op, t0 * 8, Math.Min(m, t1 * 8), 0, n, k, alpha, beta, c, cOffset, ldc));
        }
        else
        {
            int minTiles = (int)Math.Clamp(Math.Ceiling(2e6 / (2.0 * 32 * m * k)), 1, int.MaxValue);
            KernelThreading.For(colTiles, minTiles, (t0, t1) =>
                RowBlocks(op, 0, m, t0 * 32, Math.Min(n, t1 * 32), k, alpha, beta, c, cOffset, ldc));
        }
    }

    /// <summary>Single-threaded <see cref="Sgemm"/> without argument checks, for use inside other kernels' threads.</summary>
    internal static void SgemmSerial(bool transA, bool transB, int m, int n, int k, float alpha, float[] a, int aOffset, int lda,
                                     float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        RowBlocks(new Operands(transA, transB, a, aOffset, lda, b, bOffset, ldb), 0, m, 0, n, k, alpha, beta, c, cOffset, ldc);
    }

    /// <summary>C[i0…i1, j0…j1] in blocks of Mc rows, each accumulated over all of k and then stored.</summary>
    private static void RowBlocks(in Operands op, int i0, int i1, int j0, int j1, int k, float alpha, float beta, float[] c, int cOffset, int ldc)
    {
        int colTiles = (j1 - j0 + 31) / 32;
        float[] acc = ArrayPool<float>.Shared.Rent((Mc / 8) * colTiles * 256);
        float[] packs = ArrayPool<float>.Shared.Rent((Mc * Kc) + (32 * Kc));
        try
        {
            for (int ic = i0; ic < i1; ic += Mc)
            {
                int mc = Math.Min(Mc, i1 - ic);
                if (k <= Kc)
                {
                    // One slice: full tiles are written straight to C, the edge tiles go through acc.
                    fixed (float* cPtr = c)
                    {
                        Accumulate(op, ic, mc, j0, j1 - j0, 0, k, acc, packs, new Direct(cPtr + cOffset + ((long)ic * ldc) + j0, ldc, alpha, beta));
                    }

                    Store(acc, mc, j1 - j0, alpha, beta, c, cOffset + (ic * ldc) + j0, ldc, edgesOnly: true);
                    continue;
                }

                Array.Clear(acc, 0, ((mc + 7) / 8) * colTiles * 256);
                Accumulate(op, ic, mc, j0, j1 - j0, 0, k, acc, packs, default);
                Store(acc, mc, j1 - j0, alpha, beta, c, cOffset + (ic * ldc) + j0, ldc, edgesOnly: false);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packs);
            ArrayPool<float>.Shared.Return(acc);
        }
    }

    /// <summary>Each thread sums a range of k for the whole of C; the partial sums are added when storing.</summary>
    private static void SplitK(Operands op, int m, int n, int k, float alpha, float beta, float[] c, int cOffset, int ldc, int degree)
    {
        int chunks = Math.Min(degree, k / Kc);
        int tileFloats = ((m + 7) / 8) * ((n + 31) / 32) * 256;
        var partial = new float[chunks][];
        try
        {
            KernelThreading.For(chunks, 1, (t0, t1) =>
            {
                float[] packs = ArrayPool<float>.Shared.Rent((((m + 7) / 8 * 8) * Kc) + (32 * Kc));
                try
                {
                    for (int t = t0; t < t1; t++)
                    {
                        // Slice boundaries on multiples of Kc.
                        int slices = (k + Kc - 1) / Kc;
                        int k0 = (int)((long)slices * t / chunks) * Kc, k1 = Math.Min(k, (int)((long)slices * (t + 1) / chunks) * Kc);
                        partial[t] = ArrayPool<float>.Shared.Rent(tileFloats);
                        Array.Clear(partial[t], 0, tileFloats);
                        Accumulate(op, 0, m, 0, n, k0, k1, partial[t], packs, default);
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(packs);
                }
            });

            for (int t = 1; t < chunks; t++)
            {
                TensorPrimitives.Add(partial[0].AsSpan(0, tileFloats), partial[t].AsSpan(0, tileFloats), partial[0].AsSpan(0, tileFloats));
            }

            Store(partial[0], m, n, alpha, beta, c, cOffset, ldc, edgesOnly: false);
        }
        finally
        {
            foreach (float[]? p in partial)
            {
                if (p is not null)
                {
                    ArrayPool<float>.Shared.Return(p);
                }
            }
        }
    }

    /// <summary>acc[rowTile][colTile][8][32] += op(A)[i0…i0+mc, k0…k1] · op(B)[k0…k1, j0…j0+nc].</summary>
    /// <remarks>With <paramref name="direct"/> set (k0 = 0, k1 = k ≤ Kc), full tiles are written to C instead (alpha, beta applied); acc then only holds the edge tiles, zeroed here.</remarks>
    private static void Accumulate(in Operands op, int i0, int mc, int j0, int nc, int k0, int k1, float[] acc, float[] packs, Direct direct)
    {
        int rowTiles = (mc + 7) / 8, colTiles = (nc + 31) / 32;
        fixed (float* aBase = op.A, bBase = op.B, accPtr = acc, packPtr = packs)
        {
            float* bPack = packPtr + ((long)rowTiles * 8 * Kc);
            for (int pc = k0; pc < k1; pc += Kc)
            {
                int kc = Math.Min(Kc, k1 - pc);

                // Pack the A panels that cannot be read in place (the partial last one).
                for (int rt = 0; rt < rowTiles; rt++)
                {
                    int rows = Math.Min(8, mc - (rt * 8));
                    if (rows < 8)
                    {
                        PackA(op, pc, kc, i0 + (rt * 8), rows, packPtr + ((long)rt * 8 * kc));
                    }
                }

                for (int ct = 0; ct < colTiles; ct++)
                {
                    int cols = Math.Min(32, nc - (ct * 32));
                    float* bPanel;
                    nint bK;
                    if (!op.TransB && cols == 32)
                    {
                        bPanel = bBase + op.BOffset + ((long)pc * op.Ldb) + j0 + (ct * 32);
                        bK = op.Ldb;
                    }
                    else
                    {
                        PackB(op, pc, kc, j0 + (ct * 32), cols, bPack);
                        bPanel = bPack;
                        bK = 32;
                    }

                    for (int rt = 0; rt < rowTiles; rt++)
                    {
                        int rows = Math.Min(8, mc - (rt * 8));
                        float* aPanel;
                        nint aK, aR;
                        if (rows < 8)
                        {
                            aPanel = packPtr + ((long)rt * 8 * kc);
                            aK = 8;
                            aR = 1;
                        }
                        else if (op.TransA)
                        {
                            aPanel = aBase + op.AOffset + ((long)pc * op.Lda) + i0 + (rt * 8);
                            aK = op.Lda;
                            aR = 1;
                        }
                        else
                        {
                            aPanel = aBase + op.AOffset + ((long)(i0 + (rt * 8)) * op.Lda) + pc;
                            aK = 1;
                            aR = op.Lda;
                        }

                        float* tile = accPtr + ((((long)rt * colTiles) + ct) * 256);
                        if (direct.C is null)
                        {
                            Tile8x32.MulAcc(aPanel, aK, aR, 0, bPanel, bK, 0, kc, 1, tile);
                        }
                        else if (rows == 8 && cols == 32)
                        {
                            Tile8x32.MulStore(aPanel, aK, aR, bPanel, bK, kc, direct.C + ((long)rt * 8 * direct.Ldc) + (ct * 32), direct.Ldc, direct.Alpha, direct.Beta);
                        }
                        else
                        {
                            new Span<float>(tile, 256).Clear();
                            Tile8x32.MulAcc(aPanel, aK, aR, 0, bPanel, bK, 0, kc, 1, tile);
                        }
                    }
                }
            }
        }
    }

    /// <summary>C[r, j] = alpha·acc[r, j] + beta·C[r, j] for an mc × nc block (beta = 0: C not read).</summary>
    private static void Store(float[] acc, int mc, int nc, float alpha, float beta, float[] c, int cStart, int ldc, bool edgesOnly)
    {
        int colTiles = (nc + 31) / 32;
        int fullRows = mc / 8 * 8, fullColTiles = nc / 32;
        fixed (float* accPtr = acc, cPtr = c)
        {
            for (int r = 0; r < mc; r++)
            {
                int rt = r / 8, rr = r % 8;
                for (int ct = 0; ct < colTiles; ct++)
                {
                    if (edgesOnly && r < fullRows && ct < fullColTiles)
                    {
                        continue;
                    }

                    int cols = Math.Min(32, nc - (ct * 32));
                    float* src = accPtr + ((((long)rt * colTiles) + ct) * 256) + (rr * 32);
                    Tile8x32.ScaleStore(src, cPtr + cStart + ((long)r * ldc) + (ct * 32), cols, alpha, beta);
                }
            }
        }
    }

    private static void ScaleRow(Span<float> row, float beta)
    {
        if (beta == 0f)
        {
            row.Clear();
        }
        else if (beta != 1f)
        {
            TensorPrimitives.Multiply(row, beta, row);
        }
    }

    /// <summary>Packs op(B)[pc…pc+kc, j…j+cols] as [kc][32], zero-padded.</summary>
    private static void PackB(in Operands op, int pc, int kc, int j, int cols, float* dst)
    {
        for (int p = 0; p < kc; p++)
        {
            var d = new Span<float>(dst + (p * 32), 32);
            if (!op.TransB)
            {
                op.B.AsSpan(op.BOffset + ((pc + p) * op.Ldb) + j, cols).CopyTo(d);
            }
            else
            {
                int src = op.BOffset + (j * op.Ldb) + pc + p;
                for (int jj = 0; jj < cols; jj++)
                {
                    d[jj] = op.B[src + (jj * op.Ldb)];
                }
            }

            if (cols < 32)
            {
                d.Slice(cols).Clear();
            }
        }
    }

    /// <summary>Packs op(A)[i…i+rows, pc…pc+kc] as [kc][8], zero-padded.</summary>
    private static void PackA(in Operands op, int pc, int kc, int i, int rows, float* dst)
    {
        if (op.TransA)
        {
            for (int p = 0; p < kc; p++)
            {
                var d = new Span<float>(dst + (p * 8), 8);
                op.A.AsSpan(op.AOffset + ((pc + p) * op.Lda) + i, rows).CopyTo(d);
                if (rows < 8)
                {
                    d.Slice(rows).Clear();
                }
            }

            return;
        }

        if (rows < 8)
        {
            new Span<float>(dst, kc * 8).Clear();
        }

        for (int r = 0; r < rows; r++)
        {
            var src = op.A.AsSpan(op.AOffset + ((i + r) * op.Lda) + pc, kc);
            for (int p = 0; p < kc; p++)
            {
                dst[(p * 8) + r] = src[p];
            }
        }
    }

    private readonly struct Direct(float* c, nint ldc, float alpha, float beta)
    {
        public float* C { get; } = c;

        public nint Ldc { get; } = ldc;

        public float Alpha { get; } = alpha;

        public float Beta { get; } = beta;
    }

    private readonly record struct Operands(bool TransA, bool TransB, float[] A, int AOffset, int Lda, float[] B, int BOffset, int Ldb);
}
