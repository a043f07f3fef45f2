using System.IO.Compression;
using System.Text.Json;

namespace NeuralStyle.Weights.Tests;

public class TorchFileTests
{
    private static readonly int[] Vgg19ConvIndices = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34];

    [Theory]
    [InlineData("tensors.zip.pth")]
    [InlineData("tensors.legacy.pth")]
    public void Load_TinyStateDict_MatchesPyTorchValuesExactly(string file)
    {
        var expected = SafeTensors.Read(Fixtures.Path("tensors.expected.safetensors"));
        var actual = WeightFile.Load(Fixtures.Path(file));

        Assert.Equal(expected.Keys.OrderBy(k => k, StringComparer.Ordinal), actual.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (name, e) in expected)
        {
            var a = actual[name];
            Assert.Equal(name, a.Name);
            Assert.Equal(e.Shape, a.Shape);
            Assert.Equal(e.Data, a.Data);
        }
    }

    [Theory]
    [InlineData("tensors.zip.pth")]
    [InlineData("tensors.legacy.pth")]
    public void Load_TinyStateDict_ViewsScalarsAndIntegersHaveTheRightLayout(string file)
    {
        var t = WeightFile.Load(Fixtures.Path(file));

        Assert.Equal([5, 3], t["transposed"].Shape);            // (3,5).t()
        Assert.Equal([5], t["slice"].Shape);
        Assert.Empty(t["scalar"].Shape);
        Assert.Equal([3.5f], t["scalar"].Data);
        Assert.Equal([7f], t["num_batches_tracked"].Data);        // int64 buffer converted to float
        Assert.Equal([-2f, -1f, 0f, 1f, 2f, 3f], t["int_buf"].Data);
        Assert.Equal([2, 3], t["int_buf"].Shape);
        Assert.Equal([0, 3], t["empty"].Shape);
        Assert.Empty(t["empty"].Data);
        // shared_row = base[1], shared_col = base[:, 2]: they meet at base[1][2].
        Assert.Equal(t["shared_row"].Data[2], t["shared_col"].Data[1]);
        Assert.NotEqual(t["shared_row"].Data, t["shared_col"].Data);
    }

    [Fact]
    public void Load_ZipAndLegacyOfSameStateDict_GiveIdenticalTensors()
    {
        var zip = WeightFile.Load(Fixtures.Path("vgg19_narrow.zip.pth"));
        var legacy = WeightFile.Load(Fixtures.Path("vgg19_narrow.legacy.pth"));
        Assert.Equal(zip.Keys, legacy.Keys);
        foreach (var k in zip.Keys)
        {
            Assert.Equal(zip[k].Shape, legacy[k].Shape);
            Assert.Equal(zip[k].Data, legacy[k].Data);
        }
    }

    [Theory]
    [InlineData("vgg19_narrow.zip.pth")]
    [InlineData("vgg19_narrow.legacy.pth")]
    public void Load_NarrowVgg19_MatchesExpectedStatistics(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("vgg19_narrow.expected.json")));
        var actual = WeightFile.Load(Fixtures.Path(file));
        Assert.Equal(doc.RootElement.EnumerateObject().Select(p => p.Name), actual.Keys);

        foreach (var p in doc.RootElement.EnumerateObject())
        {
            var t = actual[p.Name];
            Assert.Equal(p.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()), t.Shape);
            Assert.Equal(t.ElementCount, t.Data.Length);
            double sum = 0, abs = 0;
            foreach (float x in t.Data) { sum += x; abs += Math.Abs(x); }
            Assert.Equal(p.Value.GetProperty("sum").GetDouble(), sum, 1e-6 * Math.Max(1, abs));
            Assert.Equal(p.Value.GetProperty("abs_sum").GetDouble(), abs, 1e-6 * Math.Max(1, abs));
            var first = p.Value.GetProperty("first").EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();
            Assert.Equal(first, t.Data.Take(first.Length));
            Assert.Equal((float)p.Value.GetProperty("last").GetDouble(), t.Data[^1]);
        }
    }

    [Fact]
    public void Load_NarrowVgg19_HasTorchvisionVgg19KeyLayout()
    {
        var t = WeightFile.Load(Fixtures.Path("vgg19_narrow.zip.pth"));
        var featureKeys = t.Keys.Where(k => k.StartsWith("features.", StringComparison.Ordinal)).ToList();
        var expectedKeys = Vgg19ConvIndices.SelectMany(i => new[] { $"features.{i}.weight", $"features.{i}.bias" }).ToList();
        Assert.Equal(expectedKeys, featureKeys);
        Assert.Equal(4, t["features.0.weight"].Shape.Length);
        Assert.Equal(3, t["features.0.weight"].Shape[1]); // RGB input
        Assert.Contains("classifier.0.weight", t.Keys);
        Assert.Contains("classifier.6.bias", t.Keys);
    }

    [Theory]
    [InlineData("vgg19_narrow.zip.pth")]
    [InlineData("vgg19_narrow.legacy.pth")]
    [InlineData("tensors.zip.pth")]
    public void Load_WithKeyFilter_ReturnsOnlyAcceptedKeysWithSameData(string file)
    {
        var all = WeightFile.Load(Fixtures.Path(file));
        var firstKey = all.Keys.First();
        bool Filter(string k) => k.StartsWith("features.", StringComparison.Ordinal) || k == firstKey;
        var some = WeightFile.Load(Fixtures.Path(file), Filter);

        Assert.Equal(all.Keys.Where(Filter), some.Keys);
        Assert.NotEqual(all.Count, some.Count);
        foreach (var k in some.Keys) Assert.Equal(all[k].Data, some[k].Data);
    }

    [Fact]
    public void Load_LegacyWithFilter_NeverReadsTheSkippedStorages()
    {
        // Chop into the last storage of the file (legacy files order storages by key, so which tensor owns it is not
        // known here): loading everything fails, and leaving out exactly one tensor (the owner) succeeds.
        using var dir = new TempDir();
        var bytes = Fixtures.Bytes("vgg19_narrow.legacy.pth");
        var keys = WeightFile.Load(Fixtures.Path("vgg19_narrow.legacy.pth")).Keys.ToList();
        string path = dir.Write("chopped.pth", bytes[..^3]);

        var ex = Assert.Throws<WeightFormatException>(() => WeightFile.Load(path));
        Assert.Contains("truncated", ex.Message);
        int loadable = 0;
        foreach (var skip in keys)
        {
            try
            {
                Assert.Equal(keys.Count - 1, WeightFile.Load(path, k => k != skip).Count);
                loadable++;
            }
            catch (WeightFormatException)
            {
            }
        }
        Assert.Equal(1, loadable);
    }

    [Fact]
    public void Load_ZipWithFilter_NeverOpensTheSkippedStorages()
    {
        using var dir = new TempDir();
        string path = dir.File("pruned.pth");
        using (var src = ZipFile.OpenRead(Fixtures.Path("vgg19_narrow.zip.pth")))
        using (var dst = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            // Storage keys are numbered in order of first use: the highest belongs to classifier.6.bias.
            int last = src.Entries.Where(e => e.FullName.Contains("/data/")).Max(e => int.Parse(e.Name));
            foreach (var e in src.Entries.Where(e => !e.FullName.EndsWith("/data/" + last, StringComparison.Ordinal)))
            {
                using var from = e.Open();
                using var to = dst.CreateEntry(e.FullName, CompressionLevel.NoCompression).Open();
                from.CopyTo(to);
            }
        }

        var ex = Assert.Throws<WeightFormatException>(() => WeightFile.Load(path));
        Assert.Contains("no data for storage", ex.Message);
        Assert.Equal(32, WeightFile.Load(path, k => k.StartsWith("features.", StringComparison.Ordinal)).Count);
    }

    [Fact]
    public void Load_WholePickledModule_RejectedNamingTheClass()
    {
        var ex = Assert.Throws<WeightFormatException>(() => WeightFile.Load(Fixtures.Path("whole_module.zip.pth")));
        Assert.Contains("torch.nn.modules.linear.Linear", ex.Message);
        Assert.Contains("state_dict", ex.Message);
    }

    [Fact]
    public void Load_FixtureCallingOsSystem_RejectedNamingTheGlobal()
    {
        var ex = Assert.Throws<WeightFormatException>(() => WeightFile.Load(Fixtures.Path("malicious_os_system.pth")));
        Assert.Contains("'os.system'", ex.Message);
        Assert.Contains("refused", ex.Message);
    }

    public static TheoryData<string, string, bool> HostileGlobals => new()
    {
        { "builtins", "eval", false },
        { "__builtin__", "eval", false },
        { "subprocess", "Popen", true },
        { "posix", "system", false },
        { "torch", "load", true },
        { "torch._utils", "_rebuild_qtensor", false },
        { "collections", "defaultdict", true },
    };

    [Theory]
    [MemberData(nameof(HostileGlobals))]
    public void Load_ZipPickleWithHostileGlobal_RejectedNamingIt(string module, string name, bool stackGlobal)
    {
        using var dir = new TempDir();
        var pkl = HostilePickle(module, name, stackGlobal);
        string path = dir.Write("evil.pth", TorchZip.Make(pkl, new()));
        var ex = Assert.Throws<WeightFormatException>(() => WeightFile.Load(path));
        Assert.Contains($"'{module}.{name}'", ex.Message);
    }

    [Theory]
    [MemberData(nameof(HostileGlobals))]
    public void Load_LegacyPickleWithHostileGlobal_RejectedNamingIt(string module, string name, bool stackGlobal)
    {
        using var dir = new TempDir();
        string path = dir.Write("evil.pth", [.. TorchLegacy.Header(), .. HostilePickle(module, name, stackGlobal)]);
        var ex = Assert.Throws<WeightFormatException>(() => WeightFile.Load(path));
        Assert.Contains($"'{module}.{name}'", ex.Message);
    }

    [Fact]
    public void Load_HostileGlobalThatIsNeverCalled_StillRejected()
    {
        // GLOBAL os.system, POP it, then an ordinary empty OrderedDict: naming the global alone is refused.
        var pkl = new PickleBuilder().Proto().Global("os", "system").Op('0')
            .Global("collections", "OrderedDict").Op(')').Op('R').Stop().ToArray();
        using var dir = new TempDir();
        string path = dir.Write("evil.pth", TorchZip.Make(pkl, new()));
        var ex = Assert.Throws<WeightFormatException>(() => WeightFile.Load(path));
        Assert.Contains("'os.system'", ex.Message);
    }

    private static byte[] HostilePickle(string module, string name, bool stackGlobal)
    {
        var b = new PickleBuilder().Proto(stackGlobal ? 4 : 2);
        b = stackGlobal ? b.Str(module).Str(name).Op(0x93) : b.Global(module, name);
        return b.Str("echo pwned").Op(0x85).Op('R').Stop().ToArray();
    }

    [Fact]
    public void Load_HandBuiltStridedView_CopiesTheRightElements()
    {
        // storage 0..11, view offset 1, size (2,3), stride (6,2): [[1,3,5],[7,9,11]]
        var storage = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        using var dir = new TempDir();
        string path = dir.Write("view.pth", TorchZip.Make(TorchZip.OneTensorPickle("FloatStorage", 12, 1, [2, 3], [6, 2]), new() { ["0"] = TorchZip.F32(storage) }));
        var t = WeightFile.Load(path)["w"];
        Assert.Equal([2, 3], t.Shape);
        Assert.Equal([1f, 3f, 5f, 7f, 9f, 11f], t.Data);
    }

    [Theory]
    [InlineData(12, 3, new[] { 10 }, new[] { 1 })]       // offset + size > numel
    [InlineData(12, 0, new[] { 2, 3 }, new[] { 6, 3 })]  // last index 6 + 6 = 12
    [InlineData(12, 0, new[] { 13 }, new[] { 1 })]
    public void Load_ViewReachingOutsideItsStorage_Rejected(int numel, int offset, int[] size, int[] stride)
    {
        using var dir = new TempDir();
        var data = new byte[numel * 4];
        string path = dir.Write("bad.pth", TorchZip.Make(TorchZip.OneTensorPickle("FloatStorage", numel, offset, size, stride), new() { ["0"] = data }));
        var ex = Assert.Throws<WeightFormatException>(() => WeightFile.Load(path));
        Assert.Contains("outside its storage", ex.Message);
    }

    [Fact]
    public void Load_StorageEntryShorterThanDeclared_Rejected()
    {
        using var dir = new TempDir();
        string path = dir.Write("short.pth", TorchZip.Make(TorchZip.OneTensorPickle("FloatStorage", 12, 0, [12], [1]), new() { ["0"] = new byte[40] }));
        var ex = Assert.Throws<WeightFormatException>(() => WeightFile.Load(path));
        Assert.Contains("corrupt", ex.Message);
    }

    [Fact]
    public void Load_HugeDeclaredStorage_RejectedWithoutAllocating()
    {
        using var dir = new TempDir();
        long before = GC.GetAllocatedBytesForCurrentThread();
        string path = dir.Write("huge.pth", TorchZip.Make(TorchZip.OneTensorPickle("FloatStorage", int.MaxValue, 0, [int.MaxValue], [1]), new() { ["0"] = new byte[16] }));
        Assert.Throws<WeightFormatException>(() => WeightFile.Load(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 << 20);
    }

    [Theory]
    [InlineData("HalfStorage", 2)]
    [InlineData("BFloat16Storage", 2)]
    [InlineData("LongStorage", 8)]
    [InlineData("ByteStorage", 1)]
    public void Load_HandBuiltNonFloatStorages_ConvertedToFloat(string storage, int elementSize)
    {
        var raw = new byte[3 * elementSize];
        var expected = new[] { 1f, -2f, 0.5f };
        for (int i = 0; i < 3; i++)
        {
            var span = raw.AsSpan(i * elementSize);
            switch (storage)
            {
                case "HalfStorage": System.Buffers.Binary.BinaryPrimitives.WriteHalfLittleEndian(span, (Half)expected[i]); break;
                case "BFloat16Storage": System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)(BitConverter.SingleToInt32Bits(expected[i]) >> 16)); break;
                case "LongStorage": expected[i] = i * 1000 - 7; System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(span, i * 1000 - 7); break;
                default: expected[i] = 250 + i; span[0] = (byte)(250 + i); break;
            }
        }
        using var dir = new TempDir();
        string path = dir.Write("t.pth", TorchZip.Make(TorchZip.OneTensorPickle(storage, 3, 0, [3], [1]), new() { ["0"] = raw }));
        Assert.Equal(expected, WeightFile.Load(path)["w"].Data);
    }

    [Theory]
    [InlineData("tensors.zip.pth")]
    [InlineData("tensors.legacy.pth")]
    [InlineData("vgg19_narrow.legacy.pth")]
    public void Load_TruncatedAnywhere_ThrowsWeightFormatException(string file)
    {
        var bytes = Fixtures.Bytes(file);
        using var dir = new TempDir();
        int step = Math.Max(1, bytes.Length / 150);
        for (int len = 1; len < bytes.Length; len += step)
        {
            string path = dir.Write("t.pth", bytes[..len]);
            Assert.Throws<WeightFormatException>(() => WeightFile.Load(path));
        }
    }

    [Theory]
    [InlineData("tensors.zip.pth")]
    [InlineData("tensors.legacy.pth")]
    public void Load_RandomlyCorruptedBytes_LoadsOrThrowsWeightFormatExceptionOnly(string file)
    {
        var original = Fixtures.Bytes(file);
        var rng = new Random(42);
        using var dir = new TempDir();
        int rejected = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            var bytes = (byte[])original.Clone();
            for (int k = 0; k < 1 + trial % 3; k++) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            string path = dir.Write("c.pth", bytes);
            try
            {
                WeightFile.Load(path);
            }
            catch (WeightFormatException)
            {
                rejected++;
            }
        }
        Assert.InRange(rejected, 1, 300);
    }

    [Fact]
    public void Load_CorruptZipCentralDirectory_ThrowsWeightFormatException()
    {
        var bytes = Fixtures.Bytes("tensors.zip.pth");
        int eocd = bytes.Length - 22; // end-of-central-directory record (no comment)
        Assert.Equal((byte)'P', bytes[eocd]);
        bytes[eocd + 16] ^= 0x5a; // central directory offset
        using var dir = new TempDir();
        string path = dir.Write("c.pth", bytes);
        var ex = Assert.Throws<WeightFormatException>(() => WeightFile.Load(path));
        Assert.Contains("zip", ex.Message);
    }

    [Fact]
    public void Load_WrongMagic_ThrowsNotRecognised()
    {
        using var dir = new TempDir();
        var rng = new Random(7);
        var junk = new byte[1000];
        rng.NextBytes(junk);
        junk[0] = 0x13;
        var ex = Assert.Throws<WeightFormatException>(() => WeightFile.Load(dir.Write("junk.pth", junk)));
        Assert.Contains("not a recognised weights file", ex.Message);
    }

    [Fact]
    public void Load_PickleWithoutTorchMagic_ThrowsNotPyTorch()
    {
        using var dir = new TempDir();
        var pkl = new PickleBuilder().Proto().Int(5).Stop().ToArray();
        var ex = Assert.Throws<WeightFormatException>(() => WeightFile.Load(dir.Write("p.pth", pkl)));
        Assert.Contains("magic number", ex.Message);
    }

    [Fact]
    public void Load_EmptyOrMissingFile_ThrowsWeightFormatException()
    {
        using var dir = new TempDir();
        Assert.Contains("empty", Assert.Throws<WeightFormatException>(() => WeightFile.Load(dir.Write("e.pth", []))).Message);
        Assert.Contains("does not exist", Assert.Throws<WeightFormatException>(() => WeightFile.Load(dir.File("missing.pth"))).Message);
    }

    [Fact]
    public void Load_ZipOfWeightFiles_SaysToExtractIt()
    {
        using var dir = new TempDir();
        string path = dir.File("saved_models.zip");
        using (var z = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using var s = z.CreateEntry("saved_models/candy.pth").Open();
            s.Write(Fixtures.Bytes("tensors.zip.pth"));
        }
        var ex = Assert.Throws<WeightFormatException>(() => WeightFile.Load(path));
        Assert.Contains("extract", ex.Message);
    }

    [Fact]
    public void Load_SafeTensorsFile_DetectedByContentNotExtension()
    {
        using var dir = new TempDir();
        string path = dir.File("weights.pth"); // misleading extension
        SafeTensors.Write(path, [new WeightTensor("a", [2], [1f, 2f])]);
        Assert.Equal([1f, 2f], WeightFile.Load(path)["a"].Data);
    }

    [Fact]
    public void Load_LegacyCheckpointWithNestedStateDict_FlattensKeys()
    {
        // Python 2 style: OrderedDict([[k, v]]) built by REDUCE with a list of pairs, nested in a plain dict with an int.
        var inner = new PickleBuilder().Proto()
            .Op('}').Str("epoch").Int(3).Op('s')
            .Str("state_dict").Global("collections", "OrderedDict")
            .Op(']').Op(']').Mark().Str("w");
        var pkl = TorchLegacy.AppendTensor(inner, "FloatStorage", "k0", 2)
            .Op('e').Op('a').Op(0x85).Op('R').Op('s').Stop().ToArray();
        var keys = new PickleBuilder().Proto().Op(']').Str("k0").Op('a').Stop().ToArray();
        var data = new byte[8 + 8];
        data[0] = 2;
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(8), 1.5f);
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(12), -4f);
        using var dir = new TempDir();
        string path = dir.Write("ckpt.pth", [.. TorchLegacy.Header(), .. pkl, .. keys, .. data]);

        var t = WeightFile.Load(path);
        Assert.Equal(["state_dict.w"], t.Keys);
        Assert.Equal([1.5f, -4f], t["state_dict.w"].Data);
    }
}

/// <summary>Builds PyTorch zip-format files by hand (System.IO.Compression, stored entries).</summary>
internal static class TorchZip
{
    public static byte[] Make(byte[] dataPkl, Dictionary<string, byte[]> storages)
    {
        var ms = new MemoryStream();
        using (var z = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Add(string name, byte[] content)
            {
                using var s = z.CreateEntry(name, CompressionLevel.NoCompression).Open();
                s.Write(content);
            }
            Add("archive/data.pkl", dataPkl);
            Add("archive/version", "3\n"u8.ToArray());
            foreach (var (k, v) in storages) Add("archive/data/" + k, v);
        }
        return ms.ToArray();
    }

    /// <summary>OrderedDict {"w": _rebuild_tensor_v2(storage "0", offset, size, stride, False, {})}.</summary>
    public static byte[] OneTensorPickle(string storageType, long numel, int offset, int[] size, int[] stride)
    {
        var b = new PickleBuilder().Proto().Global("collections", "OrderedDict").Op(')').Op('R')
            .Mark().Str("w").Global("torch._utils", "_rebuild_tensor_v2")
            .Mark().Mark().Str("storage").Global("torch", storageType).Str("0").Str("cpu");
        b = numel > int.MaxValue ? b.Op(0x8a).Byte(8).Raw(BitConverter.GetBytes(numel)) : b.Int((int)numel);
        b = b.Tuple().Op('Q').Int(offset).Mark();
        foreach (int s in size) b = b.Int(s);
        b = b.Tuple().Mark();
        foreach (int s in stride) b = b.Int(s);
        return b.Tuple().Op(0x89).Op('}').Tuple().Op('R').Op('u').Stop().ToArray();
    }

    public static byte[] F32(float[] values)
    {
        var b = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, b, 0, b.Length);
        return b;
    }
}

/// <summary>Builds PyTorch legacy-format streams by hand.</summary>
internal static class TorchLegacy
{
    /// <summary>The three header pickles: magic number, protocol version 1001, sys info.</summary>
    public static byte[] Header()
    {
        byte[] magic = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
        var b = new PickleBuilder().Proto().Op(0x8a).Byte(10).Raw(magic).Stop()
            .Proto().Op('M').Byte(1001 & 0xff).Byte(1001 >> 8).Stop()
            .Proto().Op('}').Str("little_endian").Op(0x88).Op('s').Stop();
        return b.ToArray();
    }

    /// <summary>Appends a 1-d contiguous tensor of a legacy storage (6-field persistent id).</summary>
    public static PickleBuilder AppendTensor(PickleBuilder b, string storageType, string key, int numel) =>
        b.Global("torch._utils", "_rebuild_tensor_v2")
            .Mark().Mark().Str("storage").Global("torch", storageType).Str(key).Str("cpu").Int(numel).Op('N').Tuple().Op('Q')
            .Int(0).Mark().Int(numel).Tuple().Mark().Int(1).Tuple().Op(0x89).Op('}').Tuple().Op('R');
}

public class LegacyFormatTests
{
    [Fact]
    public void Load_Python2StyleLegacyFileWithStorageView_ReadsTheView()
    {
        // torch < 0.4 on Python 2: SHORT_BINSTRING keys, and a persistent id with view metadata
        // (view_key, offset 2, size 3) into a root storage of 6 floats.
        var b = new PickleBuilder().Proto().Op('}')
            .Op('U').Byte(1).Raw("w"u8.ToArray())
            .Global("torch._utils", "_rebuild_tensor")
            .Mark().Mark().Op('U').Byte(7).Raw("storage"u8.ToArray()).Global("torch", "FloatStorage")
            .Op('U').Byte(4).Raw("root"u8.ToArray()).Op('U').Byte(3).Raw("cpu"u8.ToArray()).Int(6)
            .Mark().Op('U').Byte(4).Raw("view"u8.ToArray()).Int(2).Int(3).Tuple()
            .Tuple().Op('Q').Int(1).Mark().Int(2).Tuple().Mark().Int(1).Tuple().Tuple().Op('R')
            .Op('s').Stop();
        var keys = new PickleBuilder().Proto().Op(']').Op('U').Byte(4).Raw("root"u8.ToArray()).Op('a').Stop();
        var data = new byte[8 + 24];
        data[0] = 6;
        for (int i = 0; i < 6; i++) BitConverter.GetBytes(10f * i).CopyTo(data, 8 + 4 * i);
        using var dir = new TempDir();
        string path = dir.Write("old.pth", [.. TorchLegacy.Header(), .. b.ToArray(), .. keys.ToArray(), .. data]);

        // view starts at root[2]; tensor offset 1 within the view, 2 elements: root[3], root[4]
        var t = WeightFile.Load(path);
        Assert.Equal([30f, 40f], t["w"].Data);
    }

    [Fact]
    public void Load_LegacyStorageCountDisagreesWithDeclaredSize_Rejected()
    {
        var b = TorchLegacy.AppendTensor(new PickleBuilder().Proto().Op('}').Str("w"), "FloatStorage", "k", 2).Op('s').Stop();
        var keys = new PickleBuilder().Proto().Op(']').Str("k").Op('a').Stop();
        var data = new byte[8 + 12];
        data[0] = 3;
        using var dir = new TempDir();
        string path = dir.Write("bad.pth", [.. TorchLegacy.Header(), .. b.ToArray(), .. keys.ToArray(), .. data]);
        Assert.Contains("corrupt", Assert.Throws<WeightFormatException>(() => WeightFile.Load(path)).Message);
    }

    [Fact]
    public void Load_LegacyHugeDeclaredStorage_RejectedAsTruncatedWithoutAllocating()
    {
        var b = TorchLegacy.AppendTensor(new PickleBuilder().Proto().Op('}').Str("w"), "DoubleStorage", "k", 1 << 26).Op('s').Stop();
        var keys = new PickleBuilder().Proto().Op(']').Str("k").Op('a').Stop();
        var data = new byte[8 + 64];
        BitConverter.GetBytes(1L << 26).CopyTo(data, 0);
        using var dir = new TempDir();
        string path = dir.Write("huge.pth", [.. TorchLegacy.Header(), .. b.ToArray(), .. keys.ToArray(), .. data]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("truncated", Assert.Throws<WeightFormatException>(() => WeightFile.Load(path)).Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 << 20);
    }

    [Fact]
    public void Load_LegacyBigEndianSysInfo_Rejected()
    {
        byte[] magic = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
        var header = new PickleBuilder().Proto().Op(0x8a).Byte(10).Raw(magic).Stop()
            .Proto().Op('M').Byte(1001 & 0xff).Byte(1001 >> 8).Stop()
            .Proto().Op('}').Str("little_endian").Op(0x89).Op('s').Stop().ToArray();
        using var dir = new TempDir();
        string path = dir.Write("be.pth", header);
        Assert.Contains("big-endian", Assert.Throws<WeightFormatException>(() => WeightFile.Load(path)).Message);
    }
}
