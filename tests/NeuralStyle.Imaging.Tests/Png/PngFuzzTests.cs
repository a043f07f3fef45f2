using System.Buffers.Binary;
using System.Diagnostics;
using NeuralStyle.Imaging.Png;

namespace NeuralStyle.Imaging.Tests.Png;

/// <summary>
/// Feeds thousands of mutated sample PNGs (fixed seed) to the decoder: each must end in an image or an
/// <see cref="ImageFormatException"/>, never another exception, and quickly. Half of the mutants get their CRCs
/// repaired so that the damage reaches the inflater, the filters and the sample conversion.
/// </summary>
public class PngFuzzTests
{
    private static readonly string[] Seeds =
    [
        "codec/foo3x5x4indexed.png", "codec/palette_color.png", "codec/chessboard_RGB.png", "codec/pil_p16.png",
        "codec/pil_la.png", "png-suite/ct0_d1_trns_17x9_i.png", "png-suite/ct0_d16_trns_17x9.png",
        "png-suite/ct2_d16_trns_17x9_i.png", "png-suite/ct3_d2_trns_17x9.png", "png-suite/ct4_d8_17x9_i.png",
        "png-suite/ct6_d16_17x9_i.png", "png-suite/ct6_d8_3x5.png",
    ];

    [Fact]
    public void Decode_ThousandsOfMutatedFiles_ImageOrImageFormatExceptionWithinTimeBound()
    {
        var rng = new Random(20261123);
        byte[][] seeds = Seeds.Select(TestFiles.Read).ToArray();
        var options = new DecoderOptions { MaxPixels = 1 << 22 };
        int images = 0, rejected = 0;
        var total = Stopwatch.StartNew();
        long worstMs = 0;
        const int Count = 20000;
        for (int n = 0; n < Count; n++)
        {
            byte[] mutant = Mutate(seeds[rng.Next(seeds.Length)], rng);
            if (rng.Next(2) == 0) RepairCrcs(mutant);
            var one = Stopwatch.StartNew();
            try
            {
                Image image = PngDecoder.Decode(mutant, options);
                Assert.True(image.Width > 0 && image.Height > 0);
                images++;
            }
            catch (ImageFormatException ex)
            {
                Assert.False(string.IsNullOrWhiteSpace(ex.Message));
                rejected++;
            }
            catch (Exception ex)
            {
                Assert.Fail($"mutant {n} threw {ex.GetType().Name}: {ex.Message}\n{Convert.ToBase64String(mutant)}");
            }
            worstMs = Math.Max(worstMs, one.ElapsedMilliseconds);
        }
        Assert.True(total.Elapsed < TimeSpan.FromSeconds(20), $"{Count} mutants took {total.Elapsed}");
        Assert.True(worstMs < 2000, $"slowest mutant took {worstMs} ms");
        // Both outcomes must really occur, or the mutations are too weak or too strong to test anything.
        Assert.True(images > Count / 20, $"only {images} mutants decoded");
        Assert.True(rejected > Count / 4, $"only {rejected} mutants rejected");
    }

    private static byte[] Mutate(byte[] seed, Random rng)
    {
        byte[] data = (byte[])seed.Clone();
        switch (rng.Next(6))
        {
            case 0: // flip a few random bytes (past the signature most of the time)
                for (int i = rng.Next(1, 5); i > 0; i--) data[rng.Next(data.Length)] ^= (byte)rng.Next(1, 256);
                return data;
            case 1: // truncate
                return data[..rng.Next(data.Length)];
            case 2: // swap two chunks
            {
                var chunks = Chunks(data);
                if (chunks.Count < 3) return data;
                int a = rng.Next(chunks.Count), b = rng.Next(chunks.Count);
                (chunks[a], chunks[b]) = (chunks[b], chunks[a]);
                return [.. data[..8], .. chunks.SelectMany(c => c)];
            }
            case 3: // drop or duplicate a chunk
            {
                var chunks = Chunks(data);
                int a = rng.Next(chunks.Count);
                if (rng.Next(2) == 0) chunks.RemoveAt(a); else chunks.Insert(a, chunks[a]);
                return [.. data[..8], .. chunks.SelectMany(c => c)];
            }
            case 4: // overwrite a header field with an extreme value
            {
                int offset = 16 + rng.Next(13);
                data[offset] = (byte)(rng.Next(3) switch { 0 => 0, 1 => 0xFF, _ => rng.Next(256) });
                return data;
            }
            default: // corrupt the middle of the compressed data
            {
                var idat = Chunks(data).FindIndex(c => c.AsSpan(4, 4).SequenceEqual("IDAT"u8));
                int at = 8 + Chunks(data).Take(Math.Max(idat, 0)).Sum(c => c.Length) + 8;
                int len = Math.Min(8, data.Length - at);
                for (int i = 0; i < len; i++) if (rng.Next(2) == 0) data[at + rng.Next(len)] = (byte)rng.Next(256);
                return data;
            }
        }
    }

    /// <summary>The chunks of a (possibly already damaged) file, each with its length, type, body and CRC.</summary>
    private static List<byte[]> Chunks(byte[] data)
    {
        var chunks = new List<byte[]>();
        int pos = 8;
        while (pos + 12 <= data.Length)
        {
            long len = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(pos));
            if (pos + 12 + len > data.Length) break;
            chunks.Add(data[pos..(pos + 12 + (int)len)]);
            pos += 12 + (int)len;
        }
        return chunks;
    }

    private static void RepairCrcs(byte[] data)
    {
        int pos = 8;
        while (pos + 12 <= data.Length)
        {
            long len = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(pos));
            if (pos + 12 + len > data.Length) return;
            uint crc = PngDecoderTests.CrcReference(data[(pos + 4)..(pos + 8 + (int)len)]);
            BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(pos + 8 + (int)len), crc);
            pos += 12 + (int)len;
        }
    }
}
