using NeuralStyle.Imaging.Jpeg;

namespace NeuralStyle.Imaging.Tests.Jpeg;

public class JpegEncoderTests
{
    private static Image LoadReference(string name)
    {
        var (pixels, w, h, ch) = JpegFixtures.ReadPnmGz(name + ".pnm.gz");
        var image = new Image(w, h, ch);
        for (int i = 0; i < pixels.Length; i++) image.Data[i] = pixels[i] / 255f;
        return image;
    }

    private static double Psnr(Image a, Image b)
    {
        Assert.Equal((a.Width, a.Height, a.Channels), (b.Width, b.Height, b.Channels));
        double se = 0;
        for (int i = 0; i < a.Data.Length; i++)
        {
            double d = (a.Data[i] - b.Data[i]) * 255.0;
            se += d * d;
        }
        double mse = se / a.Data.Length;
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    [Theory]
    [InlineData(JpegSubsampling.Yuv444, true, 38.0)]
    [InlineData(JpegSubsampling.Yuv444, false, 38.0)]
    [InlineData(JpegSubsampling.Yuv420, true, 30.0)]
    public void Encode_RocketQuality95_RoundTripsAbovePsnrBound(JpegSubsampling sampling, bool optimize, double minPsnr)
    {
        Image original = LoadReference("rocket");
        byte[] jpeg = JpegEncoder.EncodeToArray(original, new JpegEncoderOptions { Quality = 95, Subsampling = sampling, OptimizeHuffman = optimize });
        Image decoded = JpegDecoder.Decode(jpeg);
        double psnr = Psnr(original, decoded);
        Assert.True(psnr >= minPsnr, $"PSNR {psnr:F2} dB < {minPsnr} dB");
    }

    [Fact]
    public void Encode_HigherQuality_GivesLargerFileAndHigherPsnr()
    {
        Image original = LoadReference("rocket");
        byte[] low = JpegEncoder.EncodeToArray(original, new JpegEncoderOptions { Quality = 50 });
        byte[] high = JpegEncoder.EncodeToArray(original, new JpegEncoderOptions { Quality = 95 });
        Assert.True(high.Length > low.Length);
        Assert.True(Psnr(original, JpegDecoder.Decode(high)) > Psnr(original, JpegDecoder.Decode(low)) + 3);
    }

    [Fact]
    public void Encode_OptimizedHuffman_IsSmallerThanStandardTables()
    {
        Image original = LoadReference("rocket");
        byte[] opt = JpegEncoder.EncodeToArray(original, new JpegEncoderOptions { OptimizeHuffman = true });
        byte[] std = JpegEncoder.EncodeToArray(original, new JpegEncoderOptions { OptimizeHuffman = false });
        Assert.True(opt.Length < std.Length, $"{opt.Length} >= {std.Length}");
        Assert.Equal(JpegDecoder.DecodeToBytes(opt, out _, out _, out _), JpegDecoder.DecodeToBytes(std, out _, out _, out _));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(13, 7)]
    [InlineData(17, 33)]
    [InlineData(16, 16)]
    public void Encode_OddSizes_DecodeToSameSize(int w, int h)
    {
        foreach (var sampling in new[] { JpegSubsampling.Yuv444, JpegSubsampling.Yuv420 })
        {
            var image = new Image(w, h, 3);
            for (int i = 0; i < image.Data.Length; i++) image.Data[i] = (i * 37 % 256) / 255f;
            byte[] jpeg = JpegEncoder.EncodeToArray(image, new JpegEncoderOptions { Quality = 90, Subsampling = sampling });
            Image back = JpegDecoder.Decode(jpeg);
            Assert.Equal((w, h, 3), (back.Width, back.Height, back.Channels));
        }
    }

    [Fact]
    public void Encode_GreyAndAlpha_WritesGreyscaleAndDropsAlpha()
    {
        var grey = new Image(20, 10, 2);
        for (int y = 0; y < 10; y++)
            for (int x = 0; x < 20; x++)
            {
                grey[x, y, 0] = x / 19f;
                grey[x, y, 1] = 0.25f; // alpha: must not leak into the output
            }
        Image back = JpegDecoder.Decode(JpegEncoder.EncodeToArray(grey, new JpegEncoderOptions { Quality = 100 }));
        Assert.Equal(1, back.Channels);
        for (int x = 0; x < 20; x++) Assert.Equal(x / 19f, back[x, 5, 0], 0.02f);

        var rgba = new Image(8, 8, 4);
        for (int i = 0; i < 64; i++) (rgba.Data[4 * i], rgba.Data[4 * i + 1], rgba.Data[4 * i + 2], rgba.Data[4 * i + 3]) = (0.8f, 0.4f, 0.2f, 0f);
        Image rgb = JpegDecoder.Decode(JpegEncoder.EncodeToArray(rgba, new JpegEncoderOptions { Quality = 100 }));
        Assert.Equal(3, rgb.Channels);
        Assert.Equal(0.8f, rgb[3, 3, 0], 0.02f);
        Assert.Equal(0.4f, rgb[3, 3, 1], 0.02f);
        Assert.Equal(0.2f, rgb[3, 3, 2], 0.02f);
    }

    [Fact]
    public void Encode_QualityScaling_MatchesLibjpegFormula()
    {
        // libjpeg: q<50 → scale 5000/q, else 200-2q; entry = clamp((base*scale+50)/100, 1, 255).
        byte[] basic = [16, 11, 10, 99, 1, 255, 200, 50];
        basic = [.. basic, .. new byte[56]];
        Assert.Equal(new byte[] { 16, 11, 10, 99, 1, 255, 200, 50 }, JpegEncoderCore.ScaleQuant(basic, 50)[..8]);
        Assert.Equal(new byte[] { 2, 1, 1, 10, 1, 26, 20, 5 }, JpegEncoderCore.ScaleQuant(basic, 95)[..8]);
        Assert.Equal(new byte[] { 160, 110, 100, 255, 10, 255, 255, 255 }, JpegEncoderCore.ScaleQuant(basic, 5)[..8]);
        Assert.All(JpegEncoderCore.ScaleQuant(basic, 100), v => Assert.Equal(1, v));
    }

    [Fact]
    public void OptimalTable_SkewedFrequencies_GivesValidLengthLimitedPrefixCode()
    {
        var freq = new long[257];
        for (int i = 0; i < 256; i++) freq[i] = 1L << Math.Min(i / 8, 40); // very skewed: unlimited lengths would exceed 16
        var (bits, values) = JpegEncoderCore.OptimalTable(freq);
        Assert.Equal(256, values.Length);
        Assert.Equal(256, bits.Sum(b => b));
        // Kraft sum < 1 (the all-ones code stays unused) and the decoder's table builder accepts it.
        double kraft = 0;
        for (int l = 1; l <= 16; l++) kraft += bits[l - 1] / Math.Pow(2, l);
        Assert.True(kraft < 1.0);
        _ = new JpegHuffmanTable(bits, values);
    }

    [Fact]
    public void Encode_OutOfRangeAndNaNSamples_AreClampedLikeInRangeOnes()
    {
        var rng = new Random(5);
        var wild = new Image(37, 9, 3);
        var tame = new Image(37, 9, 3);
        for (int i = 0; i < wild.Data.Length; i++)
        {
            float v = (i % 7) switch { 0 => float.NaN, 1 => -3f, 2 => 7f, 3 => float.PositiveInfinity, _ => (float)rng.NextDouble() };
            wild.Data[i] = v;
            tame.Data[i] = float.IsNaN(v) ? 0f : Math.Clamp(v, 0f, 1f);
        }
        Assert.Equal(JpegEncoder.EncodeToArray(tame), JpegEncoder.EncodeToArray(wild));
    }

    [Fact]
    public void Encode_InvalidQuality_Throws()
    {
        var image = new Image(4, 4, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => JpegEncoder.Encode(image, Stream.Null, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => JpegEncoder.Encode(image, Stream.Null, 101));
    }
}

/// <summary>
/// Our encoder → djpeg. tools/jpeg/check_encoder.sh wrote enc_*.jpg with this encoder and decoded them once with
/// libjpeg-turbo's djpeg into enc_*.pnm.gz. Here (no djpeg needed) the encoder must still produce exactly those bytes,
/// and JpegDecoderTests compares our decoder to djpeg's pixels for them; this test also checks djpeg's decode is close
/// to the encoder's input.
/// </summary>
public class JpegEncoderDjpegTests
{
    public static TheoryData<string, string, int, JpegSubsampling, bool> Cases() => new()
    {
        { "enc_q95_444", "s444", 95, JpegSubsampling.Yuv444, true },
        { "enc_q95_420", "s444", 95, JpegSubsampling.Yuv420, true },
        { "enc_q60_444_std", "s444", 60, JpegSubsampling.Yuv444, false },
        { "enc_q90_grey", "grey", 90, JpegSubsampling.Yuv444, true },
        { "enc_q95_420_17x33", "size17x33_444", 95, JpegSubsampling.Yuv420, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encode_CommittedDjpegCase_SameBytesAndDjpegPixelsCloseToInput(string name, string source, int quality, JpegSubsampling sampling, bool optimize)
    {
        var (src, w, h, ch) = JpegFixtures.ReadPnmGz(source + ".pnm.gz");
        var image = new Image(w, h, ch);
        for (int i = 0; i < src.Length; i++) image.Data[i] = src[i] / 255f;
        byte[] encoded = JpegEncoder.EncodeToArray(image, new JpegEncoderOptions { Quality = quality, Subsampling = sampling, OptimizeHuffman = optimize });
        Assert.Equal(JpegFixtures.Read(name + ".jpg"), encoded);

        var (djpeg, dw, dh, dc) = JpegFixtures.ReadPnmGz(name + ".pnm.gz");
        Assert.Equal((w, h, ch), (dw, dh, dc));
        double se = 0;
        for (int i = 0; i < src.Length; i++) se += (src[i] - djpeg[i]) * (double)(src[i] - djpeg[i]);
        double psnr = 10 * Math.Log10(255.0 * 255.0 / Math.Max(se / src.Length, 1e-12));
        double bound = quality >= 95 ? (sampling == JpegSubsampling.Yuv444 ? 40 : 30) : 30;
        Assert.True(psnr >= bound, $"djpeg decode of {name}: PSNR {psnr:F2} dB < {bound}");
    }
}
