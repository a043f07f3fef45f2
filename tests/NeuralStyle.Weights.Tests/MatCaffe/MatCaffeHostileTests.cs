using System.Buffers.Binary;
using System.Diagnostics;
using NeuralStyle.Weights.Caffe;
using NeuralStyle.Weights.Mat;
using NeuralStyle.TestSupport;
using static NeuralStyle.Weights.Tests.MatCaffe.MatBuilder;

namespace NeuralStyle.Weights.Tests.MatCaffe;

/// <summary>
/// Hostile MAT-files and Caffe models: bombs, lies about sizes, deep nesting, truncation, and thousands of mutants of
/// the fixtures (fixed seed). Each ends in a result or one <see cref="WeightFormatException"/> sentence, quickly and
/// within a bounded allocation.
/// </summary>
public class MatCaffeHostileTests
{
    private static ImportedVgg ReadMat(byte[] bytes) => MatConvNetVgg.FromVariables(MatFile.Read(new MemoryStream(bytes)));

    private static ImportedVgg ReadCaffe(byte[] bytes) => CaffeVgg.FromLayers(CaffeModel.ReadLayers(new MemoryStream(bytes)));

    private static WeightFormatException Refused(Func<object> read, long maxAllocatedBytes = 16 << 20)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<WeightFormatException>(read);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < maxAllocatedBytes, $"allocated {allocated >> 20} MB");
        Assert.DoesNotContain('\n', e.Message);
        Assert.EndsWith(".", e.Message);
        return e;
    }

    [Fact]
    public void Mat_NotAMatFile_OrVersion73_OneSentence()
    {
        Assert.Contains("not a MATLAB Level 5", Refused(() => MatFile.Read(new MemoryStream(new byte[200]))).Message);
        byte[] v73 = Header();
        "MATLAB 7.3 MAT-file"u8.CopyTo(v73);
        Assert.Contains("-v7", Refused(() => MatFile.Read(new MemoryStream(v73))).Message);
        Assert.Contains("no 'layers'", Refused(() => ReadMat(File())).Message);
    }

    [Fact]
    public void Mat_CompressedElementClaimingMoreThanZlibCanProduce_IsRefusedBeforeAllocating()
    {
        // The inner tag says 2 GB; the stream holds a few bytes.
        byte[] inner = Element(MiMatrix, new byte[16], declared: int.MaxValue);
        var e = Refused(() => MatFile.Read(new MemoryStream(File(Compressed(inner)))));
        Assert.Contains("more than zlib can produce", e.Message);
    }

    [Fact]
    public void Mat_CompressedElementShorterThanItClaims_IsTruncated_AfterSmallAllocations()
    {
        // 1 MB of claimed data backed by 8 KB (random, so it compresses too little to look like a lie): the reader's
        // buffer grows with the data, so little is allocated before the stream runs out.
        var random = new Random(3);
        byte[] matrix = Doubles([1, 131072], "w", Enumerable.Range(0, 1024).Select(_ => random.NextDouble()).ToArray());
        BinaryPrimitives.WriteInt32LittleEndian(matrix.AsSpan(4), matrix.Length - 8 + (1 << 20) - 8192); // outer size
        int dataTag = matrix.Length - 1024 * 8 - 8;
        BinaryPrimitives.WriteInt32LittleEndian(matrix.AsSpan(dataTag + 4), 1 << 20);
        Refused(() => MatFile.Read(new MemoryStream(File(Compressed(matrix)))), maxAllocatedBytes: 4 << 20);
    }

    [Fact]
    public void Mat_RealZlibBomb_OfAVariableNobodyAsksFor_IsSkippedWithoutKeepingIt()
    {
        // 64 MB of zeros compress to ~64 KB; the variable is inflated (to find its end) but never kept.
        int n = 8 << 20;
        byte[] bomb = Compressed(Doubles([1, n], "bomb", new double[n]));
        byte[] file = File(bomb, Compressed(Doubles([1, 3], "mean", [1, 2, 3])));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var vars = MatFile.Read(new MemoryStream(file), name => name == "mean");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 << 20);
        Assert.Equal([1.0, 2, 3], ((MatNumeric)vars["mean"]).Values.ToArray());
        // Asked for, it is larger than the reader keeps: shape only.
        before = GC.GetAllocatedBytesForCurrentThread();
        var all = MatFile.Read(new MemoryStream(file), options: new MatReadOptions { MaxArrayElements = 1 << 20 });
        Assert.True(((MatNumeric)all["bomb"]).Skipped);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 << 20);
    }

    [Fact]
    public void Mat_DeepNesting_IsRefused()
    {
        byte[] v = Doubles([1, 1], "", [1]);
        for (int i = 0; i < 200; i++) v = Cell([1, 1], "", v);
        byte[] top = Cell([1, 1], "layers", v);
        Assert.Contains("nested more than", Refused(() => MatFile.Read(new MemoryStream(File(top)))).Message);
    }

    [Theory]
    [InlineData(new[] { 65536, 65536, 65536 })]
    [InlineData(new[] { 1, int.MaxValue })]
    [InlineData(new[] { -1, 3 })]
    public void Mat_AbsurdDimensions_AreRefused(int[] dims)
    {
        Refused(() => MatFile.Read(new MemoryStream(File(Doubles(dims, "x", [1, 2, 3])))));
        Refused(() => MatFile.Read(new MemoryStream(File(Cell(dims, "layers", Doubles([1, 1], "", [1]))))));
    }

    [Fact]
    public void Mat_ManyDimensions_AreRefused()
    {
        Assert.Contains("dimensions", Refused(() => MatFile.Read(new MemoryStream(File(Doubles(Enumerable.Repeat(1, 40).ToArray(), "x", [1]))))).Message);
    }

    [Fact]
    public void Mat_EveryTruncation_OneSentenceOrResult()
    {
        foreach (string name in new[] { "vgg19_filters.mat", "vgg19_meta.mat" })
        {
            byte[] full = MatCaffeFixtures.Bytes(name);
            for (int cut = 0; cut < full.Length; cut += 97)
            {
                try
                {
                    ReadMat(full[..cut]);
                }
                catch (WeightFormatException e)
                {
                    Assert.DoesNotContain('\n', e.Message);
                }
            }
        }
    }

    [Fact]
    public void Caffe_LiesAboutLengthsAndShapes_AreRefused()
    {
        // A layer field claiming 2^62 bytes.
        byte[] huge = [0xA2, 0x06, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40];
        Assert.Contains("truncated", Refused(() => CaffeModel.ReadLayers(new MemoryStream(huge))).Message);
        // A blob whose shape says a billion numbers but holds one.
        byte[] shape = [0x0A, 0x05, 0x80, 0x94, 0xEB, 0xDC, 0x03]; // BlobShape { dim: [1e9] }
        byte[] blob = [0x3A, (byte)shape.Length, .. shape, 0x2A, 0x04, 0, 0, 0x80, 0x3F];
        byte[] layer = [0x0A, 0x01, (byte)'c', 0x3A, (byte)blob.Length, .. blob];
        byte[] net = [0xA2, 0x06, (byte)layer.Length, .. layer];
        Assert.Contains("holds 1 numbers", Refused(() => CaffeModel.ReadLayers(new MemoryStream(net))).Message);
        // Groups (wire types 3/4) and V0 layers.
        Refused(() => CaffeModel.ReadLayers(new MemoryStream(new byte[] { 0x0B, 0x0C })));
        byte[] v0 = [0x12, 0x02, 0x0A, 0x00];
        Assert.Contains("V0", Refused(() => CaffeModel.ReadLayers(new MemoryStream(v0))).Message);
        Assert.Contains("empty", Refused(() => CaffeModel.ReadLayers(new MemoryStream([]))).Message);
    }

    [Fact]
    public void Caffe_EveryTruncation_OneSentenceOrResult()
    {
        byte[] full = MatCaffeFixtures.Bytes("vgg16_v2.caffemodel");
        for (int cut = 0; cut < full.Length; cut += 13)
        {
            try
            {
                ReadCaffe(full[..cut]);
            }
            catch (WeightFormatException e)
            {
                Assert.DoesNotContain('\n', e.Message);
            }
        }
    }

    [Fact]
    public void Fuzz_ThousandsOfMutatedFiles_ResultOrOneSentence_WithinTimeAndMemoryBounds()
    {
        (string Name, byte[] Bytes, bool Mat)[] seeds =
        [
            ("vgg19_beta16.mat", MatCaffeFixtures.Bytes("vgg19_beta16.mat"), true),
            ("vgg19_meta.mat", MatCaffeFixtures.Bytes("vgg19_meta.mat"), true),
            ("vgg19_filters.mat", MatCaffeFixtures.Bytes("vgg19_filters.mat"), true),
            ("vgg19_v1.caffemodel", MatCaffeFixtures.Bytes("vgg19_v1.caffemodel"), false),
            ("vgg16_v2.caffemodel", MatCaffeFixtures.Bytes("vgg16_v2.caffemodel"), false),
        ];
        const int Count = 4000;
        FuzzOutcomes outcomes = Fuzz.Run(Count, new Random(20261211),
            rng =>
            {
                var seed = seeds[rng.Next(seeds.Length)];
                return new Mutant(seed.Mat && rng.Next(2) == 0 ? MutateInsideCompression(seed.Bytes, rng) : Mutate(seed.Bytes, rng), seed.Name);
            },
            m =>
            {
                try
                {
                    ImportedVgg vgg = m.Seed.EndsWith(".mat", StringComparison.Ordinal) ? ReadMat(m.Bytes) : ReadCaffe(m.Bytes);
                    Assert.NotEmpty(vgg.Features);
                    return "loaded";
                }
                catch (WeightFormatException e)
                {
                    Assert.False(string.IsNullOrWhiteSpace(e.Message));
                    Assert.DoesNotContain('\n', e.Message);
                    return "refused";
                }
            },
            maxAllocation: 32 << 20);
        // Both outcomes must occur, or the mutations test nothing.
        Assert.True(outcomes["loaded"] > Count / 20, $"only {outcomes["loaded"]} mutants loaded");
        Assert.True(outcomes["refused"] > Count / 4, $"only {outcomes["refused"]} mutants refused");
    }

    private static readonly uint[] Extremes = [0, 1, 7, 8, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFF0000, 0x00040001];

    private static byte[] Mutate(byte[] seed, Random rng)
    {
        byte[] data = (byte[])seed.Clone();
        switch (rng.Next(5))
        {
            case 0: // flip a few bytes
                for (int i = rng.Next(1, 5); i > 0; i--) data[rng.Next(data.Length)] ^= (byte)rng.Next(1, 256);
                return data;
            case 1: // truncate
                return data[..rng.Next(data.Length)];
            case 2: // an extreme 32-bit word at a 4-byte boundary (MAT sizes, dims, counts; protobuf bytes)
            {
                int at = rng.Next(data.Length / 4) * 4;
                if (at + 4 <= data.Length) BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(at), Extremes[rng.Next(Extremes.Length)]);
                return data;
            }
            case 3: // a varint-looking run of continuation bytes
            {
                int at = rng.Next(data.Length);
                for (int i = 0; i < rng.Next(1, 12) && at + i < data.Length; i++) data[at + i] = (byte)(0x80 | rng.Next(128));
                return data;
            }
            default: // duplicate or drop a range
            {
                int a = rng.Next(data.Length), len = Math.Min(rng.Next(1, 64), data.Length - a);
                return rng.Next(2) == 0 ? [.. data[..(a + len)], .. data[a..]] : [.. data[..a], .. data[(a + len)..]];
            }
        }
    }

    /// <summary>Mutates the inflated contents of one compressed element and compresses it again, so the damage reaches the parser.</summary>
    private static byte[] MutateInsideCompression(byte[] seed, Random rng)
    {
        var top = TopLevel(seed);
        var compressed = top.Where(t => BinaryPrimitives.ReadInt32LittleEndian(t.Bytes) == MiCompressed).ToList();
        if (compressed.Count == 0) return Mutate(seed, rng);
        var pick = compressed[rng.Next(compressed.Count)];
        byte[] inner = Mutate(Inflate(pick.Bytes), rng);
        byte[] again = Compressed(inner);
        return [.. seed[..pick.Offset], .. again, .. seed[(pick.Offset + pick.Bytes.Length)..]];
    }
}
