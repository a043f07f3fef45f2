using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Tests.Kernels;

[Collection(KernelThreadingCollection.Name)]
public class GemmTests
{
    public static TheoryData<bool, bool, int, int, int> Shapes()
    {
        var data = new TheoryData<bool, bool, int, int, int>();
        var shapes = new (int M, int N, int K)[]
        {
            (0, 5, 3), (4, 0, 7), (3, 5, 0), (1, 1, 1), (3, 15, 16), (16, 17, 31), (17, 3, 33), (31, 32, 63),
            (32, 33, 65), (33, 1, 127), (63, 65, 129), (65, 63, 3), (127, 16, 17), (129, 31, 15), (15, 129, 32),
            (8, 64, 600), (70, 70, 300),
            (136, 96, 500), (8, 512, 1500), // large enough to be split between two threads (by rows, by columns)
        };
        foreach (bool transA in new[] { false, true })
        {
            foreach (bool transB in new[] { false, true })
            {
                foreach (var (m, n, k) in shapes)
                {
                    data.Add(transA, transB, m, n, k);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Sgemm_RandomMatrices_MatchesReference(bool transA, bool transB, int m, int n, int k)
    {
        int seed = (m * 1000) + (n * 10) + k;
        foreach (int degree in new[] { 1, 2 })
        {
            using var _ = KernelThreadingCollection.Degree(degree);
            Assert.Null(KernelComparisons.CompareGemm(transA, transB, m, n, k, 1f, 0f, seed));
            Assert.Null(KernelComparisons.CompareGemm(transA, transB, m, n, k, -0.75f, 1f, seed + 1));
        }

        Assert.Null(KernelComparisons.CompareGemm(transA, transB, m, n, k, 2f, 0.5f, seed + 2));
        Assert.Null(KernelComparisons.CompareGemm(transA, transB, m, n, k, 0f, -2f, seed + 3));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(9, 5)]
    [InlineData(40, 63)]
    [InlineData(33, 64)]
    [InlineData(17, 65)]
    [InlineData(70, 100)]
    [InlineData(300, 130)]
    [InlineData(3000, 256)] // long enough to be split between threads inside each strip
    public void Gram_BySymmetry_MatchesReferenceAndIsExactlySymmetric(int m, int c)
    {
        foreach (int degree in new[] { 1, 2 })
        {
            using var _ = KernelThreadingCollection.Degree(degree);
            Assert.Null(KernelComparisons.CompareGram(m, c, 1f / (m * c), seed: m + c));
        }
    }

    [Theory]
    [InlineData(64, 3000)]
    [InlineData(65, 2200)] // k split between threads, edge tiles in both directions
    [InlineData(130, 700)]
    public void Sgemm_GramOfTallMatrix_MatchesReference(int channels, int pixels)
    {
        // The style loss's shape: G = Fᵀ·F / norm with F (M×C), then its gradient shape F·G.
        var f = KernelComparisons.Random(pixels * channels, channels);
        var expected = KernelComparisons.Garbage(channels * channels);
        var actual = KernelComparisons.Garbage(channels * channels);
        float norm = 1f / pixels;
        foreach (int degree in new[] { 1, 2 })
        {
            using var _ = KernelThreadingCollection.Degree(degree);
            Gemm.SgemmReference(true, false, channels, channels, pixels, norm, f, 0, channels, f, 0, channels, 0f, expected, 0, channels);
            Gemm.Sgemm(true, false, channels, channels, pixels, norm, f, 0, channels, f, 0, channels, 0f, actual, 0, channels);
            Assert.Null(KernelComparisons.Compare("gram", actual, expected, expected.Length, pixels));

            var gradExpected = KernelComparisons.Garbage(pixels * channels);
            var gradActual = KernelComparisons.Garbage(pixels * channels);
            Gemm.SgemmReference(false, false, pixels, channels, channels, 1f, f, 0, channels, expected, 0, channels, 0f, gradExpected, 0, channels);
            Gemm.Sgemm(false, false, pixels, channels, channels, 1f, f, 0, channels, expected, 0, channels, 0f, gradActual, 0, channels);
            Assert.Null(KernelComparisons.Compare("gram gradient", gradActual, gradExpected, gradExpected.Length, channels));
        }
    }

    [Fact]
    public void SgemmReference_HandComputed_MatchesTextbook()
    {
        // A = [1 2; 3 4], B = [5 6; 7 8]: AB = [19 22; 43 50]; AᵀB = [26 30; 38 44]; ABᵀ = [17 23; 39 53].
        float[] a = { 1, 2, 3, 4 }, b = { 5, 6, 7, 8 };
        var c = new float[4];
        Gemm.SgemmReference(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2);
        Assert.Equal(new[] { 19f, 22f, 43f, 50f }, c);
        Gemm.SgemmReference(true, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2);
        Assert.Equal(new[] { 26f, 30f, 38f, 44f }, c);
        Gemm.SgemmReference(false, true, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2);
        Assert.Equal(new[] { 17f, 23f, 39f, 53f }, c);
        Gemm.SgemmReference(false, false, 2, 2, 2, 2f, a, 0, 2, b, 0, 2, -1f, c, 0, 2);
        Assert.Equal(new[] { 21f, 21f, 47f, 47f }, c);
    }

    [Fact]
    public void Sgemm_BetaZero_IgnoresNaNInC()
    {
        float[] a = { 1, 2, 3, 4 }, b = { 5, 6, 7, 8 };
        var c = new[] { float.NaN, float.PositiveInfinity, float.NaN, float.NegativeInfinity };
        Gemm.Sgemm(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2);
        Assert.Equal(new[] { 19f, 22f, 43f, 50f }, c);
    }

    [Fact]
    public void Sgemm_MatrixDoesNotFit_Throws()
    {
        Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 2, 2, 1f, new float[3], 0, 2, new float[4], 0, 2, 0f, new float[4], 0, 2));
        Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 2, 2, 1f, new float[4], 0, 1, new float[4], 0, 2, 0f, new float[4], 0, 2));
    }
}
