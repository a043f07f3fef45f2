using System.Buffers.Binary;
using System.IO.Compression;
using NeuralStyle.Imaging.Png;

namespace NeuralStyle.Imaging.Tests.Png;

public class PngEncoderTests
{
    /// <summary>A test image whose samples sit exactly on the levels of <paramref name="bitDepth"/> (so a round trip is lossless).</summary>
    internal static Image Quantized(int width, int height, int channels, int bitDepth, int seed)
    {
        var rng = new Random(seed);
        int max = (1 << bitDepth) - 1;
        var image = new Image(width, height, channels);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < channels; c++)
                {
                    // smooth gradients (favour Sub/Up/Average/Paeth) mixed with noise (favours None)
                    int v = x < width / 2 ? (x * 37 + y * 11 + c * 50) % (max + 1) : rng.Next(max + 1);
                    image[x, y, c] = v / (float)max;
                }
        return image;
    }

    public static TheoryData<int, int, int, int> Layouts()
    {
        var data = new TheoryData<int, int, int, int>();
        foreach (int depth in new[] { 8, 16 })
            for (int channels = 1; channels <= 4; channels++)
                foreach (var (w, h) in new[] { (1, 1), (3, 5), (17, 9), (64, 33) })
                    data.Add(channels, depth, w, h);
        return data;
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Encode_ThenDecode_RoundTripsExactly(int channels, int bitDepth, int width, int height)
    {
        Image image = Quantized(width, height, channels, bitDepth, seed: channels * 100 + width);
        using var ms = new MemoryStream();
        PngEncoder.Encode(image, ms, bitDepth);
        Image back = PngDecoder.Decode(ms.ToArray(), null, out PngInfo info);
        Assert.Equal(bitDepth, info.BitDepth);
        Assert.False(info.Interlaced);
        Assert.True(info.HasSrgbChunk);
        Assert.Equal((width, height, channels), (back.Width, back.Height, back.Channels));
        Assert.Equal(image.Data, back.Data);
    }

    [Fact]
    public void Encode_OutOfRangeAndNaNSamples_ClampedAndRounded()
    {
        var image = new Image(6, 1, 1, [-0.5f, float.NaN, 0.5f, 1.5f, 0.25f, float.PositiveInfinity]);
        using var ms = new MemoryStream();
        PngEncoder.Encode(image, ms);
        Image back = PngDecoder.Decode(ms.ToArray());
        Assert.Equal([0f, 0f, 128 / 255f, 1f, 64 / 255f, 1f], back.Data);
    }

    [Fact]
    public void Encode_SixteenBit_KeepsPrecisionBeyondEightBits()
    {
        var image = new Image(2, 1, 1, [1000 / 65535f, 1001 / 65535f]);
        using var ms = new MemoryStream();
        PngEncoder.Encode(image, ms, 16);
        Image back = PngDecoder.Decode(ms.ToArray());
        Assert.Equal(image.Data, back.Data);
        Assert.NotEqual(back.Data[0], back.Data[1]);
    }

    [Fact]
    public void Encode_RejectsBitDepth12()
    {
        using var ms = new MemoryStream();
        Assert.Throws<ImageFormatException>(() => PngEncoder.Encode(new Image(1, 1, 1), ms, 12));
    }

    [Fact]
    public void Encode_Output_HasValidStructureCrcsAndUsesSeveralFilters()
    {
        Image image = Quantized(64, 33, 3, 8, seed: 1);
        using var ms = new MemoryStream();
        PngEncoder.Encode(image, ms);
        byte[] png = ms.ToArray();
        // Walk the chunks independently of the decoder: IHDR first, IEND last, every CRC right (bitwise reference).
        var types = new List<string>();
        var idat = new MemoryStream();
        int pos = 8;
        while (pos < png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(png, pos + 4, 4);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + length));
            Assert.Equal(PngDecoderTests.CrcReference(png[(pos + 4)..(pos + 8 + length)]), crc);
            if (type == "IDAT") idat.Write(png, pos + 8, length);
            types.Add(type);
            pos += 12 + length;
        }
        Assert.Equal(png.Length, pos);
        Assert.Equal("IHDR", types[0]);
        Assert.Equal("IEND", types[^1]);
        // Inflate with .NET's own zlib and look at the filter byte of each row.
        using var z = new ZLibStream(new MemoryStream(idat.ToArray()), CompressionMode.Decompress);
        var raw = new MemoryStream();
        z.CopyTo(raw);
        Assert.Equal(33 * (1 + 64 * 3), raw.Length);
        var filters = Enumerable.Range(0, 33).Select(y => raw.GetBuffer()[y * (1 + 64 * 3)]).Distinct().ToArray();
        Assert.True(filters.Length >= 2, $"filters used: {string.Join(",", filters)}");
        Assert.All(filters, f => Assert.InRange(f, (byte)0, (byte)4));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Filter_ThenUnfilter_RestoresRow(byte filter)
    {
        var rng = new Random(filter);
        byte[] prev = new byte[31], cur = new byte[31], filtered = new byte[31];
        rng.NextBytes(prev);
        rng.NextBytes(cur);
        PngEncoder.Filter(filter, cur, prev, 3, filtered);
        PngDecoderCore.Unfilter(filter, filtered, prev, 3);
        Assert.Equal(cur, filtered);
    }

    [Fact]
    public void Filter_Heuristic_PicksMinimumSumOfAbsoluteDifferences()
    {
        // A horizontal ramp: Sub turns it into a constant small residual, far below None's sum.
        byte[] prev = new byte[16], cur = Enumerable.Range(0, 16).Select(i => (byte)(100 + i)).ToArray();
        byte[] dst = new byte[16];
        long none = PngEncoder.Filter(0, cur, prev, 1, dst);
        long sub = PngEncoder.Filter(1, cur, prev, 1, dst);
        Assert.True(sub < none);
        Assert.Equal(100 + 15, sub);
    }
}
