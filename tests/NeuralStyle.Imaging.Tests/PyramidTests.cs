using NeuralStyle.Imaging.Png;

namespace NeuralStyle.Imaging.Tests;

public class PyramidTests
{
    private static Image Source() => PngDecoder.Decode(TestFiles.Read("colour/src_33x20.png"));

    private static void AssertClose(float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (Math.Abs(expected[i] - actual[i]) > tolerance) Assert.Fail($"sample {i}: {actual[i]} vs numpy {expected[i]}");
    }

    [Theory]
    [InlineData(BorderMode.Reflect, "reflect")]
    [InlineData(BorderMode.Wrap, "wrap")]
    public void Reduce_TestImage_MatchesNumpyReference(BorderMode mode, string name)
    {
        Image reduced = Pyramid.Reduce(Source(), mode);
        Assert.Equal((17, 10), (reduced.Width, reduced.Height));
        AssertClose(TestFiles.ReadF32($"colour/reduce_{name}_17x10.f32"), reduced.Data, 1e-6f);
    }

    [Theory]
    [InlineData(BorderMode.Reflect, "reflect")]
    [InlineData(BorderMode.Wrap, "wrap")]
    public void Expand_ReducedTestImage_MatchesNumpyReference(BorderMode mode, string name)
    {
        Image expanded = Pyramid.Expand(Pyramid.Reduce(Source(), mode), 33, 20, mode);
        AssertClose(TestFiles.ReadF32($"colour/expand_{name}_33x20.f32"), expanded.Data, 1e-6f);
    }

    [Fact]
    public void GaussianBlur_TestImage_MatchesNumpyReference()
    {
        Image blurred = GaussianBlur.Apply(Source(), 1.5f);
        AssertClose(TestFiles.ReadF32("colour/blur_reflect_s1.5_33x20.f32"), blurred.Data, 1e-6f);
    }

    [Fact]
    public void Kernel_DefaultA_IsBurtAdelsonFiveTap()
    {
        float[] k = Pyramid.Kernel();
        float[] expected = [0.05f, 0.25f, 0.4f, 0.25f, 0.05f];
        for (int i = 0; i < 5; i++) Assert.Equal(expected[i], k[i], 1e-7);
    }

    [Theory]
    [InlineData(BorderMode.Reflect)]
    [InlineData(BorderMode.Wrap)]
    public void ReduceExpand_ConstantImage_StaysConstant(BorderMode mode)
    {
        var image = new Image(9, 6, 2);
        Array.Fill(image.Data, 0.375f);
        Image up = Pyramid.Expand(Pyramid.Reduce(image, mode), 9, 6, mode);
        Assert.All(up.Data, v => Assert.Equal(0.375f, v, 6));
    }

    [Fact]
    public void Reduce_Wrap_IsShiftEquivariantForTileableImages()
    {
        // Shifting a tileable 16×8 image by 2 pixels shifts its reduction by exactly 1 pixel.
        var rng = new Random(3);
        var image = new Image(16, 8, 1, Enumerable.Range(0, 128).Select(_ => (float)rng.NextDouble()).ToArray());
        var shifted = new Image(16, 8, 1);
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 16; x++) shifted[(x + 2) % 16, y, 0] = image[x, y, 0];
        Image a = Pyramid.Reduce(image, BorderMode.Wrap), b = Pyramid.Reduce(shifted, BorderMode.Wrap);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 8; x++) Assert.Equal(a[x, y, 0], b[(x + 1) % 8, y, 0], 1e-6);
    }

    [Fact]
    public void Gaussian_FourLevels_HalvesSizesRoundingUp()
    {
        Image[] levels = Pyramid.Gaussian(Source(), 4);
        Assert.Equal([(33, 20), (17, 10), (9, 5), (5, 3)], levels.Select(l => (l.Width, l.Height)));
    }

    [Fact]
    public void LaplacianCollapse_RoundTrip_RestoresImage()
    {
        Image source = Source();
        Image back = Pyramid.Collapse(Pyramid.Laplacian(source, 4));
        for (int i = 0; i < source.Data.Length; i++) Assert.Equal(source.Data[i], back.Data[i], 1e-5);
    }

    [Theory]
    [InlineData(-1, 5, 1)]
    [InlineData(-4, 5, 4)]
    [InlineData(5, 5, 3)]
    [InlineData(9, 5, 1)]
    [InlineData(-3, 1, 0)]
    [InlineData(7, 3, 1)]
    public void BorderIndex_Reflect_MirrorsWithoutRepeatingEdge(int i, int n, int expected) =>
        Assert.Equal(expected, Border.Index(i, n, BorderMode.Reflect));

    [Theory]
    [InlineData(-1, 5, 4)]
    [InlineData(5, 5, 0)]
    [InlineData(-11, 5, 4)]
    public void BorderIndex_Wrap_IsPeriodic(int i, int n, int expected) =>
        Assert.Equal(expected, Border.Index(i, n, BorderMode.Wrap));
}
