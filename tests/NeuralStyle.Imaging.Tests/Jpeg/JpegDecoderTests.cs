using NeuralStyle.Imaging.Jpeg;

namespace NeuralStyle.Imaging.Tests.Jpeg;

/// <summary>
/// Decoder against libjpeg-turbo 2.1.5: expected pixels are `djpeg -pnm` output with its defaults (islow IDCT and
/// "fancy" triangular upsampling), made by tools/jpeg/make_fixtures.py. The requirement is ±1 per sample.
/// </summary>
public class JpegDecoderTests
{
    public static TheoryData<string> FixtureNames()
    {
        var data = new TheoryData<string>();
        foreach (var n in JpegFixtures.JpegNamesWithExpected()) data.Add(n);
        return data;
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Decode_ReferenceFixture_MatchesDjpegWithinOneLevel(string name)
    {
        var (expected, w, h, ch) = JpegFixtures.ReadPnmGz(name + ".pnm.gz");
        byte[] actual = JpegDecoder.DecodeToBytes(JpegFixtures.Read(name + ".jpg"), out int aw, out int ah, out int ac);
        Assert.Equal((w, h, ch), (aw, ah, ac));
        int maxDiff = 0, firstBad = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            int d = Math.Abs(expected[i] - actual[i]);
            if (d > maxDiff) maxDiff = d;
            if (d > 1 && firstBad < 0) firstBad = i;
        }
        Assert.True(maxDiff <= 1, $"{name}: max difference {maxDiff} at sample {firstBad} (pixel {firstBad / ch % w},{firstBad / ch / w}).");
    }

    /// <summary>Stronger than the ±1 requirement: with the same integer IDCT, upsampling and colour tables, the
    /// decoder reproduces djpeg bit for bit on every fixture.</summary>
    [Fact]
    public void Decode_AllReferenceFixtures_BitExactWithDjpeg()
    {
        var mismatched = new List<string>();
        foreach (string name in JpegFixtures.JpegNamesWithExpected())
        {
            var (expected, _, _, _) = JpegFixtures.ReadPnmGz(name + ".pnm.gz");
            byte[] actual = JpegDecoder.DecodeToBytes(JpegFixtures.Read(name + ".jpg"), out _, out _, out _);
            if (!expected.AsSpan().SequenceEqual(actual)) mismatched.Add(name);
        }
        Assert.Empty(mismatched);
    }

    [Fact]
    public void Decode_Rocket_ReturnsFloatImageMatchingBytes()
    {
        byte[] file = JpegFixtures.Read("rocket.jpg");
        Image image = JpegDecoder.Decode(file);
        byte[] bytes = JpegDecoder.DecodeToBytes(file, out int w, out int h, out int c);
        Assert.Equal((640, 427, 3), (image.Width, image.Height, image.Channels));
        Assert.Equal((w, h, c), (image.Width, image.Height, image.Channels));
        for (int i = 0; i < bytes.Length; i += 97) Assert.Equal(bytes[i] / 255.0, image.Data[i], 1e-6);
    }

    [Fact]
    public void Decode_ProgressiveTranscode_EqualsBaselineExactly()
    {
        byte[] baseline = JpegDecoder.DecodeToBytes(JpegFixtures.Read("rocket.jpg"), out _, out _, out _);
        byte[] progressive = JpegDecoder.DecodeToBytes(JpegFixtures.Read("rocket_progressive.jpg"), out _, out _, out _);
        Assert.Equal(baseline, progressive);
    }

    [Fact]
    public void Decode_Greyscale_ReturnsOneChannel()
    {
        Image image = JpegDecoder.Decode(JpegFixtures.Read("grey.jpg"));
        Assert.Equal(1, image.Channels);
    }

    [Theory]
    [InlineData(1, 13, 7)]
    [InlineData(2, 13, 7)]
    [InlineData(4, 13, 7)]
    [InlineData(5, 7, 13)]
    [InlineData(6, 7, 13)]
    [InlineData(8, 7, 13)]
    public void Decode_ExifOrientation_ReturnsUprightDimensions(int orientation, int width, int height)
    {
        Image image = JpegDecoder.Decode(JpegFixtures.Read($"exif_orient{orientation}.jpg"));
        Assert.Equal((width, height), (image.Width, image.Height));
    }

    [Fact]
    public void Decode_Truncated_ThrowsImageFormatException()
    {
        var ex = Assert.Throws<ImageFormatException>(() => JpegDecoder.Decode(JpegFixtures.Read("truncated.jpg")));
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void Decode_PixelCountAboveLimit_ThrowsBeforeDecoding()
    {
        var options = new DecoderOptions { MaxPixels = 640 * 427 - 1 };
        var ex = Assert.Throws<ImageFormatException>(() => JpegDecoder.Decode(JpegFixtures.Read("rocket.jpg"), options));
        Assert.Contains("MaxPixels", ex.Message);
    }
}
