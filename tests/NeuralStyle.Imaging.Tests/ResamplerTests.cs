using NeuralStyle.Imaging.Png;

namespace NeuralStyle.Imaging.Tests;

public class ResamplerTests
{
    /// <summary>Maximum |ours − PIL| against PIL's float ('F' mode) resize, in [0, 1] units.</summary>
    private const float FloatTolerance = 1e-5f;

    private static Image Source(string name) => PngDecoder.Decode(TestFiles.Read($"resample/{name}.png"));

    [Theory]
    [InlineData("src_rgb_96x64", ResampleFilter.Lanczos3, "lanczos", 37, 23)]
    [InlineData("src_rgb_96x64", ResampleFilter.Lanczos3, "lanczos", 48, 32)]
    [InlineData("src_rgb_96x64", ResampleFilter.Lanczos3, "lanczos", 131, 77)]
    [InlineData("src_rgb_96x64", ResampleFilter.Lanczos3, "lanczos", 150, 40)]
    [InlineData("src_rgb_96x64", ResampleFilter.Lanczos3, "lanczos", 96, 64)]
    [InlineData("src_rgb_96x64", ResampleFilter.Bicubic, "bicubic", 37, 23)]
    [InlineData("src_rgb_96x64", ResampleFilter.Bicubic, "bicubic", 131, 77)]
    [InlineData("src_rgb_96x64", ResampleFilter.Bilinear, "bilinear", 37, 23)]
    [InlineData("src_rgb_96x64", ResampleFilter.Bilinear, "bilinear", 131, 77)]
    [InlineData("src_l_41x29", ResampleFilter.Lanczos3, "lanczos", 13, 10)]
    [InlineData("src_l_41x29", ResampleFilter.Lanczos3, "lanczos", 100, 71)]
    public void Resize_TestImage_MatchesPilFloatResize(string source, ResampleFilter filter, string pilName, int w, int h)
    {
        Image result = Resampler.Resize(Source(source), w, h, filter);
        float[] expected = TestFiles.ReadF32($"resample/{source}_{pilName}_{w}x{h}.f32");
        Assert.Equal((w, h), (result.Width, result.Height));
        Assert.Equal(expected.Length, result.Data.Length);
        float worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - result.Data[i]));
        Assert.True(worst <= FloatTolerance, $"max |ours − PIL| = {worst}");
    }

    [Theory]
    [InlineData(37, 23)]
    [InlineData(48, 32)]
    [InlineData(131, 77)]
    [InlineData(150, 40)]
    public void Resize_RgbTestImage_MatchesPil8BitLanczosWithinOneLevel(int w, int h)
    {
        Image result = Resampler.Resize(Source("src_rgb_96x64"), w, h);
        var pil = TestFiles.ReadPam($"resample/src_rgb_96x64_lanczos8_{w}x{h}.pam");
        int worst = 0, off = 0;
        for (int i = 0; i < pil.Samples.Length; i++)
        {
            int ours = PngEncoder.Quantize(result.Data[i], 255);
            int d = Math.Abs(ours - pil.Samples[i]);
            worst = Math.Max(worst, d);
            if (d > 0) off++;
        }
        // PIL rounds to 8 bits between its two passes and uses 22-bit fixed-point weights, so about one sample
        // in five lands one level away; never more.
        Assert.True(worst <= 1, $"max difference {worst} levels");
        Assert.True(off < pil.Samples.Length * 0.3, $"{off} of {pil.Samples.Length} samples differ");
    }

    [Theory]
    [InlineData(ResampleFilter.Lanczos3)]
    [InlineData(ResampleFilter.Bicubic)]
    [InlineData(ResampleFilter.Bilinear)]
    [InlineData(ResampleFilter.Box)]
    public void Resize_ConstantImageAnyChannels_StaysConstant(ResampleFilter filter)
    {
        for (int channels = 1; channels <= 4; channels++)
        {
            var image = new Image(13, 7, channels);
            for (int i = 0; i < image.Data.Length; i++) image.Data[i] = 0.1f * (1 + i % channels);
            foreach (var (w, h) in new[] { (5, 3), (29, 17), (1, 1), (13, 20) })
            {
                Image result = Resampler.Resize(image, w, h, filter);
                for (int i = 0; i < result.Data.Length; i++)
                    Assert.Equal(0.1f * (1 + i % channels), result.Data[i], 1e-5);
            }
        }
    }

    [Fact]
    public void Resize_BoxHalving_AveragesPixelPairs()
    {
        var image = new Image(4, 2, 1, [0f, 0.2f, 0.4f, 0.6f, 1f, 0.8f, 0.6f, 0.4f]);
        Image result = Resampler.Resize(image, 2, 1, ResampleFilter.Box);
        Assert.Equal(0.5f, result.Data[0], 1e-6);
        Assert.Equal(0.5f, result.Data[1], 1e-6);
    }

    [Fact]
    public void Resize_OvershootingLanczos_ClampsToUnitRange()
    {
        var image = new Image(8, 1, 1, [0, 0, 0, 1, 1, 0, 0, 0]);
        Image result = Resampler.Resize(image, 29, 1);
        Assert.All(result.Data, v => Assert.InRange(v, 0f, 1f));
        Assert.Contains(result.Data, v => v == 0f); // the negative lobes were clamped
    }

    [Theory]
    [InlineData(451, 300, 200, 200, 133)]
    [InlineData(300, 451, 200, 133, 200)]
    [InlineData(10, 10, 4, 4, 4)]
    [InlineData(1000, 1, 10, 10, 1)]
    public void ResizeToLongEdge_KeepsAspectRatio(int w, int h, int edge, int ew, int eh)
    {
        Image result = Resampler.ResizeToLongEdge(new Image(w, h, 1), edge);
        Assert.Equal((ew, eh), (result.Width, result.Height));
    }

    [Theory]
    [InlineData(512, 683, 400, 400, 533)] // torchvision Resize(400) truncates 533.59
    [InlineData(683, 512, 400, 533, 400)]
    public void ResizeToShortEdge_TruncatesLikeTorchvision(int w, int h, int edge, int ew, int eh)
    {
        Image result = Resampler.ResizeToShortEdge(new Image(w, h, 3), edge);
        Assert.Equal((ew, eh), (result.Width, result.Height));
    }

    [Fact]
    public void Scale_BilinearUpsample_MatchesHalfPixelLinearInterpolation()
    {
        // PyTorch interpolate(scale_factor=2, mode="bilinear", align_corners=False) of [0, 1] is [0, .25, .75, 1].
        var image = new Image(2, 1, 1, [0f, 1f]);
        Image result = Resampler.Scale(image, 2.0, ResampleFilter.Bilinear);
        Assert.Equal((4, 2), (result.Width, result.Height));
        float[] expected = [0f, 0.25f, 0.75f, 1f];
        for (int x = 0; x < 4; x++) Assert.Equal(expected[x], result[x, 1, 0], 1e-6);
    }

    [Fact]
    public void Resize_SameSize_ReturnsEqualCopy()
    {
        Image source = Source("src_l_41x29");
        Image result = Resampler.Resize(source, 41, 29);
        Assert.NotSame(source, result);
        Assert.Equal(source.Data, result.Data);
    }
}

public class ResamplerAlphaTests
{
    private static Image Source() => PngDecoder.Decode(TestFiles.Read("resample/src_rgba_80x60.png"));

    [Theory]
    [InlineData(37, 29)]
    [InlineData(150, 111)]
    public void Resize_Rgba_MatchesPilPremultipliedFloatResize(int w, int h)
    {
        Image result = Resampler.Resize(Source(), w, h);
        float[] expected = TestFiles.ReadF32($"resample/src_rgba_80x60_lanczos_{w}x{h}.f32");
        float worstAlpha = 0, worstColour = 0;
        for (int i = 0; i < expected.Length; i += 4)
        {
            float a = expected[i + 3];
            worstAlpha = Math.Max(worstAlpha, Math.Abs(a - result.Data[i + 3]));
            for (int k = 0; k < 3; k++) // colour compared premultiplied: dividing by a tiny alpha magnifies rounding
                worstColour = Math.Max(worstColour, Math.Abs(expected[i + k] * a - result.Data[i + k] * result.Data[i + 3]));
        }
        Assert.True(worstAlpha <= 1e-5f, $"alpha off by {worstAlpha}");
        Assert.True(worstColour <= 1e-5f, $"premultiplied colour off by {worstColour}");
    }

    [Theory]
    [InlineData(37, 29)]
    [InlineData(150, 111)]
    public void Resize_Rgba_MatchesPil8BitWithinThreeLevelsWhereMostlyOpaque(int w, int h)
    {
        Image result = Resampler.Resize(Source(), w, h);
        var pil = TestFiles.ReadPam($"resample/src_rgba_80x60_lanczos8_{w}x{h}.pam");
        int worst = 0;
        for (int i = 0; i < pil.Samples.Length; i += 4)
        {
            if (pil.Samples[i + 3] < 128) continue;
            for (int k = 0; k < 4; k++)
                worst = Math.Max(worst, Math.Abs(PngEncoder.Quantize(result.Data[i + k], 255) - pil.Samples[i + k]));
        }
        // PIL premultiplies in 8 bits and rounds between passes; un-premultiplying at alpha ≥ 1/2 at most doubles
        // those rounding errors, hence 3 levels rather than the 1 of opaque images.
        Assert.True(worst <= 3, $"max difference {worst} levels");
    }

    [Fact]
    public void Resize_TransparentPixelsWithGarbageColour_DoNotBleed()
    {
        // Left half opaque red, right half fully transparent green: no green may appear in the result.
        var image = new Image(8, 2, 4);
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 8; x++)
            {
                image[x, y, 0] = x < 4 ? 1f : 0f;
                image[x, y, 1] = x < 4 ? 0f : 1f;
                image[x, y, 3] = x < 4 ? 1f : 0f;
            }
        Image result = Resampler.Resize(image, 5, 2);
        for (int x = 0; x < 5; x++)
            if (result[x, 0, 3] > 0) Assert.True(result[x, 0, 1] < 1e-6f, $"green {result[x, 0, 1]} at x {x}");
    }
}
