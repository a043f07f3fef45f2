namespace NeuralStyle.Tensors.Kernels;

public static partial class Gemm
{
    private static void SgemmFast(bool transA, bool transB, int m, int n, int k, float alpha, float[] a, int aOffset, int lda,
                                  float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc)
        => SgemmReference(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
}
