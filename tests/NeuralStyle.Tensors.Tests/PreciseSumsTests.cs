namespace NeuralStyle.Tensors.Tests;

public class PreciseSumsTests
{
    /// <summary>Sum, L1 and dot against plain double loops at lengths around the 4096 block and a long vector.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(4095)]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData(1_000_003)]
    public void Reductions_MatchDoubleReference(int n)
    {
        var a = new float[n];
        var b = new float[n];
        new Rng(1).FillUniform(a, -1, 1);
        new Rng(2).FillUniform(b, -1, 1);
        double sum = 0, l1 = 0, dot = 0;
        for (int i = 0; i < n; i++)
        {
            sum += a[i];
            l1 += Math.Abs(a[i]);
            dot += (double)a[i] * b[i];
        }
        double scale = 1e-7 * (1 + l1);
        Assert.Equal(sum, PreciseSums.Sum(a), scale);
        Assert.Equal(l1, PreciseSums.SumOfMagnitudes(a), scale);
        Assert.Equal(dot, PreciseSums.Dot(a, b), scale);
    }
}
