using System.Buffers.Binary;
using System.IO.Compression;
using NeuralStyle.Imaging.Png;

namespace NeuralStyle.Imaging.Tests.Png;

public class PngDecoderTests
{
    public static TheoryData<string> SuiteFiles() => new(TestFiles.List("png-suite", "*.png"));

    public static TheoryData<string> CodecFiles() => new(TestFiles.List("codec", "*.png"));

    [Theory]
    [MemberData(nameof(SuiteFiles))]
    public void Decode_GeneratedSuiteFile_MatchesExpectedPixelsExactly(string name) =>
        AssertMatchesPam(Path.Combine("png-suite", name));

    [Theory]
    [MemberData(nameof(CodecFiles))]
    public void Decode_SampleAndPilWrittenFile_MatchesPilPixelsExactly(string name) =>
        AssertMatchesPam(Path.Combine("codec", name));

    private static void AssertMatchesPam(string pngPath)
    {
        Image image = PngDecoder.Decode(TestFiles.Read(pngPath));
        var pam = TestFiles.ReadPam(Path.ChangeExtension(pngPath, ".pam"));
        Assert.Equal((pam.Width, pam.Height, pam.Depth), (image.Width, image.Height, image.Channels));
        float[] expected = pam.ToFloats();
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] != image.Data[i])
                Assert.Fail($"{pngPath}: sample {i} (x {i / pam.Depth % pam.Width}, y {i / pam.Depth / pam.Width}, c {i % pam.Depth}) is {image.Data[i]}, expected {expected[i]}.");
        }
    }

    [Fact]
    public void Decode_SixteenBitGrey_KeepsFullPrecision()
    {
        Image image = PngDecoder.Decode(TestFiles.Read("codec/pil_i16.png"));
        // The fixture stores v * 257 + 3: the low byte is not a copy of the high byte, so 8-bit precision would show.
        var pam = TestFiles.ReadPam("codec/pil_i16.pam");
        Assert.Equal(pam.Samples[0] / 65535f, image.Data[0]);
        Assert.NotEqual(MathF.Round(image.Data[0] * 255) / 255, image.Data[0]);
    }

    [Fact]
    public void Decode_ReportsHeaderAndColourChunks()
    {
        PngDecoder.Decode(TestFiles.Read("png-suite/ct3_d4_trns_17x9_i.png"), null, out PngInfo info);
        Assert.Equal(new PngInfo(17, 9, 4, PngColorType.Palette, true, true, 0.45455, null, false), info);
    }

    [Fact]
    public void Decode_WrongSignature_ThrowsImageFormatException()
    {
        byte[] data = TestFiles.Read("codec/palette_color.png");
        data[1] = (byte)'Q';
        var ex = Assert.Throws<ImageFormatException>(() => PngDecoder.Decode(data));
        Assert.Contains("signature", ex.Message);
    }

    [Fact]
    public void Decode_BadCrc_ThrowsNamingTheChunk()
    {
        byte[] data = TestFiles.Read("codec/palette_color.png");
        data[8 + 8 + 13] ^= 0x01; // a CRC byte of IHDR
        var ex = Assert.Throws<ImageFormatException>(() => PngDecoder.Decode(data));
        Assert.Contains("CRC mismatch in the IHDR chunk", ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(20)]
    [InlineData(40)]
    [InlineData(200)]
    [InlineData(1000)]
    public void Decode_TruncatedFile_ThrowsImageFormatException(int keep)
    {
        byte[] data = TestFiles.Read("codec/palette_color.png")[..keep];
        Assert.Throws<ImageFormatException>(() => PngDecoder.Decode(data));
    }

    [Fact]
    public void Decode_MissingTrailingChunksOnly_ThrowsTruncated()
    {
        byte[] full = TestFiles.Read("codec/palette_color.png");
        var ex = Assert.Throws<ImageFormatException>(() => PngDecoder.Decode(full[..^12])); // IEND removed
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void Decode_AbsurdDimensions_RefusedBeforeAllocating()
    {
        byte[] data = BuildPng(100_000, 100_000, 8, 0, ZLib(new byte[10]));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<ImageFormatException>(() => PngDecoder.Decode(data));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("MaxPixels", ex.Message);
        Assert.True(allocated < 1_000_000, $"allocated {allocated} bytes before refusing");
    }

    [Fact]
    public void Decode_ImageAboveConfiguredLimit_Refused()
    {
        byte[] data = TestFiles.Read("codec/palette_color.png"); // 10×10
        Assert.Equal(10, PngDecoder.Decode(data, new DecoderOptions { MaxPixels = 100 }).Width);
        Assert.Throws<ImageFormatException>(() => PngDecoder.Decode(data, new DecoderOptions { MaxPixels = 99 }));
    }

    [Fact]
    public void Decode_ZipBombInIdat_StopsAtTheExpectedByteCount()
    {
        // 64×64 grey needs 64 × 65 bytes, but the IDAT inflates to 64 MiB of zero rows.
        byte[] bomb;
        using (var ms = new MemoryStream())
        {
            using (var z = new ZLibStream(ms, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                var zeros = new byte[1 << 20];
                for (int i = 0; i < 64; i++) z.Write(zeros);
            }
            bomb = ms.ToArray();
        }
        byte[] data = BuildPng(64, 64, 8, 0, bomb);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Image image = PngDecoder.Decode(data);
        watch.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.All(image.Data, v => Assert.Equal(0f, v));
        Assert.True(allocated < 4 * bomb.Length + 200_000, $"allocated {allocated} bytes");
        Assert.True(watch.ElapsedMilliseconds < 3000, $"took {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void Decode_IdatShorterThanImage_ThrowsTruncatedIdat()
    {
        byte[] data = BuildPng(16, 16, 8, 0, ZLib(new byte[16 * 17 - 5]));
        var ex = Assert.Throws<ImageFormatException>(() => PngDecoder.Decode(data));
        Assert.Contains("truncated IDAT", ex.Message);
    }

    [Fact]
    public void Decode_CorruptDeflateStream_ThrowsImageFormatException()
    {
        byte[] z = ZLib(Enumerable.Range(0, 4 * 5).Select(i => (byte)(i * 37)).ToArray());
        z[2] = 0xFF; // an invalid deflate block type
        Assert.Throws<ImageFormatException>(() => PngDecoder.Decode(BuildPng(4, 4, 8, 0, z)));
    }

    [Fact]
    public void Decode_UnknownFilterType_ThrowsImageFormatException()
    {
        byte[] raw = new byte[2 * 3];
        raw[0] = 5;
        var ex = Assert.Throws<ImageFormatException>(() => PngDecoder.Decode(BuildPng(2, 2, 8, 0, ZLib(raw))));
        Assert.Contains("filter type 5", ex.Message);
    }

    [Theory]
    [InlineData(3, 0)] // grey with depth 3
    [InlineData(4, 2)] // RGB with depth 4
    [InlineData(8, 5)] // colour type 5
    public void Decode_InvalidDepthOrColourType_ThrowsImageFormatException(int depth, int colorType)
    {
        Assert.Throws<ImageFormatException>(() => PngDecoder.Decode(BuildPng(2, 2, depth, colorType, ZLib(new byte[64]))));
    }

    [Fact]
    public void Decode_PaletteImageWithoutPlte_ThrowsImageFormatException()
    {
        var ex = Assert.Throws<ImageFormatException>(() => PngDecoder.Decode(BuildPng(2, 2, 8, 3, ZLib(new byte[6]))));
        Assert.Contains("PLTE", ex.Message);
    }

    [Fact]
    public void Decode_UnknownCriticalChunk_ThrowsNamingIt()
    {
        byte[] png = BuildPng(2, 2, 8, 0, ZLib(new byte[6]), extra: ("ABCD", [1, 2, 3]));
        var ex = Assert.Throws<ImageFormatException>(() => PngDecoder.Decode(png));
        Assert.Contains("ABCD", ex.Message);
    }

    [Fact]
    public void Decode_UnknownAncillaryChunk_Skipped()
    {
        byte[] png = BuildPng(2, 2, 8, 0, ZLib([0, 10, 20, 0, 30, 40]), extra: ("abCD", [1, 2, 3]));
        Assert.Equal([10 / 255f, 20 / 255f, 30 / 255f, 40 / 255f], PngDecoder.Decode(png).Data);
    }

    /// <summary>Builds a PNG from a header and a ready zlib stream (correct CRCs), with an optional extra chunk before IDAT.</summary>
    internal static byte[] BuildPng(int width, int height, int depth, int colorType, byte[] zlib, (string Type, byte[] Body)? extra = null)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)depth;
        ihdr[9] = (byte)colorType;
        WriteChunk(ms, "IHDR", ihdr);
        if (extra is { } e) WriteChunk(ms, e.Type, e.Body);
        WriteChunk(ms, "IDAT", zlib);
        WriteChunk(ms, "IEND", []);
        return ms.ToArray();
    }

    internal static void WriteChunk(Stream s, string type, byte[] body)
    {
        var word = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
        s.Write(word);
        byte[] typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(body);
        BinaryPrimitives.WriteUInt32BigEndian(word, CrcReference(typeBytes.Concat(body).ToArray()));
        s.Write(word);
    }

    /// <summary>Bitwise CRC-32 (no table), independent of the codec's table-driven one.</summary>
    internal static uint CrcReference(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }

    internal static byte[] ZLib(byte[] raw)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
        return ms.ToArray();
    }
}
