using NeuralStyle.Imaging.Png;

namespace NeuralStyle.Imaging.Tests;

public class ColorSpaceTests
{
    private static Image Source() => PngDecoder.Decode(TestFiles.Read("colour/src_33x20.png"));

    [Theory]
    [InlineData(0f, 0f)]
    [InlineData(0.04045f, 0.0031308f)]
    [InlineData(0.5f, 0.21404114f)]
    [InlineData(1f, 1f)]
    public void SrgbToLinear_KnownValues_MatchIec61966(float srgb, float linear)
    {
        Assert.Equal(linear, ColorSpace.SrgbToLinear(srgb), 1e-6);
        Assert.Equal(srgb, ColorSpace.LinearToSrgb(linear), 1e-5);
    }

    [Fact]
    public void SrgbToLinear_Image_RoundTripsAndKeepsAlpha()
    {
        var image = new Image(2, 1, 4, [0.1f, 0.5f, 0.9f, 0.3f, 0.0f, 0.2f, 1.0f, 0.7f]);
        Image linear = ColorSpace.SrgbToLinear(image);
        Assert.Equal(0.3f, linear.Data[3]);
        Assert.Equal(0.21404114f, linear.Data[1], 1e-6);
        Image back = ColorSpace.LinearToSrgb(linear);
        for (int i = 0; i < image.Data.Length; i++) Assert.Equal(image.Data[i], back.Data[i], 1e-5);
    }

    [Fact]
    public void RgbToYCbCr_TestImage_MatchesPilWithinOneLevel()
    {
        Image ycc = ColorSpace.RgbToYCbCr(Source());
        var pil = TestFiles.ReadPam("colour/src_33x20_ycbcr.pam");
        for (int i = 0; i < pil.Samples.Length; i++)
            Assert.InRange(ycc.Data[i] * 255f - pil.Samples[i], -1f, 1f);
    }

    [Fact]
    public void YCbCrToRgb_RoundTrip_RestoresRgb()
    {
        Image source = Source();
        Image back = ColorSpace.YCbCrToRgb(ColorSpace.RgbToYCbCr(source));
        for (int i = 0; i < source.Data.Length; i++) Assert.Equal(source.Data[i], back.Data[i], 1e-5);
    }

    [Fact]
    public void RgbToYCbCr_Grey_HasNeutralChroma()
    {
        Image ycc = ColorSpace.RgbToYCbCr(new Image(1, 1, 3, [0.25f, 0.25f, 0.25f]));
        Assert.Equal(0.25f, ycc.Data[0], 1e-6);
        Assert.Equal(128f / 255f, ycc.Data[1], 1e-6);
        Assert.Equal(128f / 255f, ycc.Data[2], 1e-6);
    }

    [Fact]
    public void TransferLuminance_KeepsResultLumaAndContentChroma()
    {
        Image content = Source();
        // A "stylised result": the content's channels rotated, so luma and chroma both differ from the content.
        var result = new Image(content.Width, content.Height, 3);
        for (int i = 0; i < content.Data.Length; i += 3)
        {
            result.Data[i] = 0.2f + 0.5f * content.Data[i + 1];
            result.Data[i + 1] = 0.2f + 0.5f * content.Data[i + 2];
            result.Data[i + 2] = 0.2f + 0.5f * content.Data[i];
        }
        Image mixed = ColorSpace.TransferLuminance(result, content);
        Image y = ColorSpace.RgbToYCbCr(mixed), yr = ColorSpace.RgbToYCbCr(result), yc = ColorSpace.RgbToYCbCr(content);
        int clipped = 0;
        for (int i = 0; i < y.Data.Length; i += 3)
        {
            if (mixed.Data.AsSpan(i, 3).IndexOfAny(0f, 1f) >= 0) { clipped++; continue; }
            Assert.Equal(yr.Data[i], y.Data[i], 1e-4);
            Assert.Equal(yc.Data[i + 1], y.Data[i + 1], 1e-4);
            Assert.Equal(yc.Data[i + 2], y.Data[i + 2], 1e-4);
        }
        Assert.True(clipped < y.Data.Length / 30, $"{clipped} pixels clipped");
    }

    [Fact]
    public void TransferLuminance_DifferentSizesAndAlpha_ResizesContentAndKeepsAlpha()
    {
        var result = new Image(4, 4, 4);
        for (int i = 0; i < result.Data.Length; i++) result.Data[i] = (i % 4 == 3) ? 0.5f : 0.4f;
        var content = new Image(8, 8, 3);
        for (int i = 0; i < content.Data.Length; i += 3) { content.Data[i] = 0.8f; content.Data[i + 1] = 0.3f; content.Data[i + 2] = 0.3f; }
        Image mixed = ColorSpace.TransferLuminance(result, content);
        Assert.Equal((4, 4, 4), (mixed.Width, mixed.Height, mixed.Channels));
        Assert.Equal(0.5f, mixed[2, 2, 3]);
        Assert.True(mixed[2, 2, 0] > mixed[2, 2, 1], "content's red chroma must show");
        Assert.Equal(0.4f, 0.299f * mixed[1, 1, 0] + 0.587f * mixed[1, 1, 1] + 0.114f * mixed[1, 1, 2], 1e-4);
    }

    [Fact]
    public void MatchHistogram_TestImages_MatchesScikitImageAlgorithm()
    {
        Image source = Source();
        Image reference = PngDecoder.Decode(TestFiles.Read("colour/ref_40x27.png"));
        Image matched = ColorSpace.MatchHistogram(source, reference);
        float[] expected = TestFiles.ReadF32("colour/histmatch_33x20.f32");
        Assert.Equal(expected.Length, matched.Data.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], matched.Data[i], 1e-6);
    }

    [Fact]
    public void MatchHistogram_SameSizeDistinctValues_ReproducesReferenceHistogram()
    {
        var rng = new Random(5);
        var source = new Image(16, 16, 1, Enumerable.Range(0, 256).Select(_ => (float)rng.NextDouble()).ToArray());
        var reference = new Image(16, 16, 1, Enumerable.Range(0, 256).Select(_ => (float)rng.NextDouble() * 0.3f + 0.6f).ToArray());
        Image matched = ColorSpace.MatchHistogram(source, reference);
        Assert.Equal(reference.Data.Order(), matched.Data.Order());
        // and the mapping is monotonic: the brightest source pixel gets the brightest reference value
        Assert.Equal(Array.IndexOf(source.Data, source.Data.Max()), Array.IndexOf(matched.Data, matched.Data.Max()));
    }

    [Fact]
    public void MatchColorStatistics_Result_HasReferenceMeanAndCovariance()
    {
        var rng = new Random(11);
        Image Make(Func<double, double, double, (double, double, double)> f)
        {
            var image = new Image(20, 15, 3);
            for (int i = 0; i < image.Data.Length; i += 3)
            {
                var (r, g, b) = f(rng.NextDouble(), rng.NextDouble(), rng.NextDouble());
                image.Data[i] = (float)r; image.Data[i + 1] = (float)g; image.Data[i + 2] = (float)b;
            }
            return image;
        }
        Image source = Make((u, v, w) => (0.2 + 0.6 * u, 0.3 + 0.2 * u + 0.3 * v, 0.1 + 0.5 * w));
        Image reference = Make((u, v, w) => (0.45 + 0.1 * u, 0.4 + 0.05 * v + 0.1 * u, 0.5 + 0.08 * w - 0.04 * v));
        Image matched = ColorSpace.MatchColorStatistics(source, reference);
        var (mr, cr) = ColorSpace.Statistics(reference);
        var (mm, cm) = ColorSpace.Statistics(matched);
        for (int p = 0; p < 3; p++)
        {
            Assert.Equal(mr[p], mm[p], 1e-5);
            for (int q = 0; q < 3; q++) Assert.Equal(cr[p, q], cm[p, q], 1e-5);
        }
    }

    [Fact]
    public void SymmetricPower_HalfPowerSquared_GivesMatrixBack()
    {
        double[,] m = { { 4, 1, 0.5 }, { 1, 3, 0.2 }, { 0.5, 0.2, 2 } };
        double[,] h = ColorSpace.SymmetricPower(m, 0.5);
        double[,] inv = ColorSpace.SymmetricPower(m, -0.5);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                double sq = 0, id = 0;
                for (int k = 0; k < 3; k++) { sq += h[i, k] * h[k, j]; id += h[i, k] * inv[k, j]; }
                Assert.Equal(m[i, j], sq, 1e-9);
                Assert.Equal(i == j ? 1.0 : 0.0, id, 1e-9);
            }
    }
}
