using System.Diagnostics;
using NeuralStyle.Imaging.Jpeg;

namespace NeuralStyle.Imaging.Tests.Jpeg;

/// <summary>Hostile input: every malformed file ends in an image or an ImageFormatException, quickly.</summary>
public class JpegRobustnessTests
{
    private static readonly string[] Seeds =
    [
        "s420.jpg", "s444_prog.jpg", "s420_prog_restart.jpg", "grey_prog.jpg", "cmyk.jpg", "exif_orient6.jpg",
        "s420_restart1row.jpg", "smixed_prog.jpg", "s422.jpg", "s440_prog.jpg", "size13x7_420.jpg", "enc_q95_444.jpg",
    ];

    /// <summary>Splits a JPEG into marker segments (up to SOS) and the rest.</summary>
    private static List<(int Start, int Length)> Segments(byte[] d)
    {
        var list = new List<(int, int)>();
        int p = 2;
        while (p + 4 <= d.Length && d[p] == 0xFF && d[p + 1] != 0xDA)
        {
            int len = (d[p + 2] << 8) | d[p + 3];
            if (p + 2 + len > d.Length) break;
            list.Add((p, 2 + len));
            p += 2 + len;
        }
        return list;
    }

    internal static byte[] Mutate(byte[] seed, Random rng)
    {
        byte[] d = (byte[])seed.Clone();
        switch (rng.Next(7))
        {
            case 0: // flip a few random bytes anywhere
            {
                int n = 1 + rng.Next(8);
                for (int i = 0; i < n; i++) d[rng.Next(d.Length)] = (byte)rng.Next(256);
                return d;
            }
            case 1: // flip bytes in the headers (where the structure is)
            {
                var segs = Segments(d);
                int end = segs.Count > 0 ? segs[^1].Start + segs[^1].Length + 14 : 64;
                end = Math.Min(end, d.Length);
                int n = 1 + rng.Next(4);
                for (int i = 0; i < n; i++) d[rng.Next(end)] = (byte)rng.Next(256);
                return d;
            }
            case 2: // truncate
                return d[..rng.Next(d.Length)];
            case 3: // swap two header segments
            {
                var segs = Segments(d);
                if (segs.Count < 2) return d[..(d.Length / 2)];
                int a = rng.Next(segs.Count), b = rng.Next(segs.Count);
                if (a > b) (a, b) = (b, a);
                if (a == b) return d;
                var (sa, la) = segs[a];
                var (sb, lb) = segs[b];
                var result = new List<byte>();
                result.AddRange(d[..sa]);
                result.AddRange(d[sb..(sb + lb)]);
                result.AddRange(d[(sa + la)..sb]);
                result.AddRange(d[sa..(sa + la)]);
                result.AddRange(d[(sb + lb)..]);
                return result.ToArray();
            }
            case 4: // drop a header segment (missing tables, missing frame...)
            {
                var segs = Segments(d);
                if (segs.Count == 0) return d;
                var (s, l) = segs[rng.Next(segs.Count)];
                return [.. d[..s], .. d[(s + l)..]];
            }
            case 5: // insert random bytes, sometimes a marker, into the entropy-coded data
            {
                int at = rng.Next(d.Length);
                byte[] ins = rng.Next(2) == 0 ? [0xFF, (byte)rng.Next(0xC0, 0x100)] : [(byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256)];
                return [.. d[..at], .. ins, .. d[at..]];
            }
            default: // corrupt a segment length field
            {
                var segs = Segments(d);
                if (segs.Count == 0) return d;
                var (s, _) = segs[rng.Next(segs.Count)];
                d[s + 2] = (byte)rng.Next(256);
                d[s + 3] = (byte)rng.Next(256);
                return d;
            }
        }
    }

    [Fact]
    public async Task Decode_ThousandsOfMutatedFiles_ImageOrImageFormatExceptionWithinTimeBound()
    {
        // NEURALSTYLE_FUZZ_CASES / NEURALSTYLE_FUZZ_SEED allow a longer offline run; the suite uses the fixed defaults.
        int cases = int.TryParse(Environment.GetEnvironmentVariable("NEURALSTYLE_FUZZ_CASES"), out int c) ? c : 10000;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("NEURALSTYLE_FUZZ_SEED"), out int s) ? s : 20261123;
        var rng = new Random(seed);
        byte[][] seeds = Seeds.Select(JpegFixtures.Read).ToArray();
        var options = new DecoderOptions { MaxPixels = 1 << 20 };
        int images = 0, rejected = 0;
        var total = Stopwatch.StartNew();
        long slowest = 0;
        for (int i = 0; i < cases; i++)
        {
            byte[] input = Mutate(seeds[i % seeds.Length], rng);
            var sw = Stopwatch.StartNew();
            var task = Task.Run(() =>
            {
                try
                {
                    Image img = JpegDecoder.Decode(input, options);
                    return img.Width > 0 ? 1 : 0;
                }
                catch (ImageFormatException ex)
                {
                    Assert.False(string.IsNullOrWhiteSpace(ex.Message));
                    return 2;
                }
            });
            var finished = await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(5)));
            Assert.True(finished == task, $"case {i} did not finish within 5 s");
            if (await task == 2) rejected++;
            else images++;
            slowest = Math.Max(slowest, sw.ElapsedMilliseconds);
        }
        Assert.True(total.Elapsed < TimeSpan.FromSeconds(60.0 * cases / 10000), $"fuzzing took {total.Elapsed}");
        Assert.True(rejected > cases / 20, $"only {rejected} of {cases} mutations were rejected");
        Assert.True(images > cases / 20, $"only {images} of {cases} mutations decoded");
    }

    private static byte[] Fixture(string name) => JpegFixtures.Read(name);

    /// <summary>Returns the offset of the first marker with this code.</summary>
    private static int FindMarker(byte[] d, int marker)
    {
        for (int i = 0; i + 1 < d.Length; i++)
            if (d[i] == 0xFF && d[i + 1] == marker) return i;
        throw new InvalidOperationException($"marker {marker:X2} not found");
    }

    private static void AssertRejected(byte[] data, string expectedFragment, DecoderOptions? options = null)
    {
        var ex = Assert.Throws<ImageFormatException>(() => JpegDecoder.Decode(data, options));
        Assert.Contains(expectedFragment, ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Decode_NotAJpeg_Throws()
    {
        AssertRejected([0x89, (byte)'P', (byte)'N', (byte)'G', 0, 0], "SOI");
        AssertRejected([], "SOI");
        AssertRejected([0xFF, 0xD8], "SOI");
    }

    [Theory]
    [InlineData(0xC3, "lossless")]
    [InlineData(0xC9, "arithmetic")]
    [InlineData(0xCA, "arithmetic")]
    [InlineData(0xC5, "hierarchical")]
    public void Decode_UnsupportedProcess_ThrowsClearMessage(int sof, string fragment)
    {
        byte[] d = Fixture("s420.jpg");
        d[FindMarker(d, 0xC0) + 1] = (byte)sof;
        AssertRejected(d, fragment);
    }

    [Fact]
    public void Decode_TwelveBitPrecision_ThrowsClearMessage()
    {
        byte[] d = Fixture("s420.jpg");
        d[FindMarker(d, 0xC0) + 4] = 12;
        AssertRejected(d, "12-bit");
    }

    [Fact]
    public void Decode_AbsurdDimensions_RefusedByMaxPixels()
    {
        byte[] d = Fixture("s420.jpg");
        int sof = FindMarker(d, 0xC0);
        d[sof + 5] = 0xFF; d[sof + 6] = 0xFF; // height 65535
        d[sof + 7] = 0xFF; d[sof + 8] = 0xFF; // width 65535
        AssertRejected(d, "MaxPixels");
    }

    [Fact]
    public void Decode_SmallFileClaimingHugeImage_RejectedQuicklyWithoutDecoding()
    {
        byte[] d = Fixture("s420.jpg");
        int sof = FindMarker(d, 0xC0);
        d[sof + 5] = 8000 >> 8; d[sof + 6] = 8000 & 255; // 8000 × 8000: under the default MaxPixels,
        d[sof + 7] = 8000 >> 8; d[sof + 8] = 8000 & 255; // but a few kB cannot hold a million blocks
        long before = GC.GetAllocatedBytesForCurrentThread(); // this thread only: other tests run in parallel
        var sw = Stopwatch.StartNew();
        AssertRejected(d, "truncated");
        Assert.True(sw.ElapsedMilliseconds < 3000, $"took {sw.ElapsedMilliseconds} ms");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "allocated more than 1 MB before refusing");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(0)]
    public void Decode_AbsurdComponentCount_Throws(int count)
    {
        byte[] d = Fixture("s420.jpg");
        d[FindMarker(d, 0xC0) + 9] = (byte)count;
        Assert.Throws<ImageFormatException>(() => JpegDecoder.Decode(d));
    }

    [Theory]
    [InlineData(0x00, "sampling")]
    [InlineData(0x5F, "sampling")]
    [InlineData(0x41, "sampling")]
    public void Decode_AbsurdSamplingFactors_Throws(int factors, string fragment)
    {
        byte[] d = Fixture("s420.jpg");
        d[FindMarker(d, 0xC0) + 11] = (byte)factors; // first component's HV byte
        AssertRejected(d, fragment);
    }

    [Fact]
    public void Decode_MissingHuffmanTables_Throws()
    {
        byte[] d = Fixture("s420.jpg");
        // Rename every DHT marker to a COM marker so the tables are skipped.
        for (int i = 0; i + 1 < FindMarker(d, 0xDA); i++)
            if (d[i] == 0xFF && d[i + 1] == 0xC4) d[i + 1] = 0xFE;
        AssertRejected(d, "Huffman table");
    }

    [Fact]
    public void Decode_MissingQuantizationTables_Throws()
    {
        byte[] d = Fixture("s420.jpg");
        for (int i = 0; i + 1 < FindMarker(d, 0xDA); i++)
            if (d[i] == 0xFF && d[i + 1] == 0xDB) d[i + 1] = 0xFE;
        AssertRejected(d, "quantization table");
    }

    [Fact]
    public void Decode_HuffmanCodesThatDoNotDecode_Throws()
    {
        // A DC table with a single 1-bit code "0": any entropy byte with a leading 1 bit is undecodable.
        byte[] d = Fixture("grey.jpg");
        int sos = FindMarker(d, 0xDA);
        var head = d[..sos].ToList();
        head.AddRange(new byte[] { 0xFF, 0xC4, 0, 3 + 16 + 1, 0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 });
        head.AddRange(d[sos..(sos + 2 + ((d[sos + 2] << 8) | d[sos + 3]))]);
        for (int i = 0; i < 64; i++) head.AddRange(new byte[] { 0xFF, 0x00 }); // all one-bits: never a valid code
        head.AddRange(new byte[] { 0xFF, 0xD9 });
        AssertRejected(head.ToArray(), "Huffman code");
    }

    [Fact]
    public void Decode_OverfullHuffmanTable_Throws()
    {
        byte[] d = Fixture("grey.jpg");
        int dht = FindMarker(d, 0xC4);
        d[dht + 5] = 3; // three codes of length 1 cannot exist
        AssertRejected(d, "Huffman table");
    }

    [Fact]
    public void Decode_ScanBeforeFrame_Throws()
    {
        byte[] d = Fixture("grey.jpg");
        int sof = FindMarker(d, 0xC0);
        d[sof + 1] = 0xFE; // the frame header becomes a comment
        AssertRejected(d, "before the frame");
    }

    [Fact]
    public void Decode_EveryTruncationOfProgressiveFile_ThrowsOrDecodes()
    {
        byte[] d = Fixture("s420_prog_restart.jpg");
        int rejected = 0;
        for (int len = 0; len < d.Length; len += 7)
        {
            try
            {
                JpegDecoder.Decode(d.AsSpan(0, len));
            }
            catch (ImageFormatException)
            {
                rejected++;
            }
        }
        Assert.True(rejected >= d.Length / 7 - 2, $"only {rejected} truncations were rejected");
    }
}
