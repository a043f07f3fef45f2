using System.Buffers.Binary;
using System.Text;

namespace NeuralStyle.Weights.Tests;

public class SafeTensorsTests
{
    /// <summary>A safetensors file by hand: 8-byte LE header length, JSON header, data.</summary>
    private static byte[] Build(string headerJson, byte[] data, ulong? declaredLength = null)
    {
        var h = Encoding.UTF8.GetBytes(headerJson);
        var result = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, declaredLength ?? (ulong)h.Length);
        h.CopyTo(result, 8);
        data.CopyTo(result, 8 + h.Length);
        return result;
    }

    [Fact]
    public void Write_ThenRead_RoundTripsNamesShapesAndValues()
    {
        using var dir = new TempDir();
        var tensors = new[]
        {
            new WeightTensor("features.0.weight", [2, 1, 2, 2], [1f, -2f, 3.5f, float.MaxValue, 0f, -0f, 1e-30f, 7f]),
            new WeightTensor("features.0.bias", [2], [0.25f, -0.125f]),
            new WeightTensor("scalar", [], [42f]),
            new WeightTensor("empty", [0, 4], []),
        };
        string path = dir.File("out.safetensors");
        SafeTensors.Write(path, tensors);

        var back = SafeTensors.Read(path);
        Assert.Equal(tensors.Select(t => t.Name), back.Keys);
        foreach (var t in tensors)
        {
            Assert.Equal(t.Shape, back[t.Name].Shape);
            Assert.Equal(t.Data, back[t.Name].Data);
        }
    }

    [Fact]
    public void Write_Header_IsPaddedToEightBytesAndDataFollowsInOrder()
    {
        using var dir = new TempDir();
        string path = dir.File("o.safetensors");
        SafeTensors.Write(path, [new WeightTensor("a", [1], [1f]), new WeightTensor("bb", [2], [2f, 3f])]);
        var bytes = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        Assert.Equal(8 + n + 12, bytes.Length);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.Contains("\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", header);
        Assert.Contains("\"bb\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}", header);
        Assert.Equal(3f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(8 + n + 8))));
    }

    [Fact]
    public void Write_OverExistingFile_ReplacesItAndLeavesNoTemporaryFiles()
    {
        using var dir = new TempDir();
        string path = dir.File("w.safetensors");
        SafeTensors.Write(path, [new WeightTensor("a", [1], [1f])]);
        SafeTensors.Write(path, [new WeightTensor("b", [1], [2f])]);
        Assert.Equal(["b"], SafeTensors.Read(path).Keys);
        Assert.Equal(["w.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Write_InvalidTensor_ThrowsAndKeepsTheOldFileIntact()
    {
        using var dir = new TempDir();
        string path = dir.File("w.safetensors");
        SafeTensors.Write(path, [new WeightTensor("a", [1], [1f])]);
        var before = File.ReadAllBytes(path);

        Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, [new WeightTensor("x", [3], [1f, 2f])]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, [new WeightTensor("x", [1], [1f]), new WeightTensor("x", [1], [2f])]));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Read_HandBuiltHalfBFloatIntAndDoubleData_ConvertedToFloat()
    {
        var data = new byte[2 * 2 + 2 * 2 + 8 * 2 + 8];
        BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(0), (Half)1.5f);
        BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(2), (Half)(-0.25f));
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(4), 0x4040); // bf16 3.0
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(6), 0xBF80); // bf16 -1.0
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(8), 123456);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(16), -9);
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(24), 0.1);
        string header = """
            {"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},
             "b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},
             "i":{"dtype":"I64","shape":[2],"data_offsets":[8,24]},
             "d":{"dtype":"F64","shape":[],"data_offsets":[24,32]},
             "__metadata__":{"format":"pt"}}
            """;
        using var dir = new TempDir();
        var t = SafeTensors.Read(dir.Write("m.safetensors", Build(header, data)));
        Assert.Equal([1.5f, -0.25f], t["h"].Data);
        Assert.Equal([3f, -1f], t["b"].Data);
        Assert.Equal([123456f, -9f], t["i"].Data);
        Assert.Equal([0.1f], t["d"].Data);
        Assert.Empty(t["d"].Shape);
        Assert.DoesNotContain("__metadata__", t.Keys);
    }

    [Fact]
    public void Read_WithFilter_ReturnsOnlyAcceptedKeys()
    {
        using var dir = new TempDir();
        string path = dir.File("f.safetensors");
        SafeTensors.Write(path, [new WeightTensor("features.0.weight", [1], [1f]), new WeightTensor("classifier.0.weight", [1], [2f])]);
        var t = SafeTensors.Read(path, k => k.StartsWith("features.", StringComparison.Ordinal));
        Assert.Equal(["features.0.weight"], t.Keys);
    }

    [Theory]
    [InlineData(ulong.MaxValue)]
    [InlineData(1UL << 40)]
    [InlineData(200UL << 20)]
    public void Read_AbsurdHeaderLength_ThrowsWithoutAllocating(ulong declared)
    {
        using var dir = new TempDir();
        string path = dir.Write("a.safetensors", Build("{}", new byte[16], declared));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<WeightFormatException>(() => SafeTensors.Read(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Contains("header declares", ex.Message);
        Assert.Throws<WeightFormatException>(() => WeightFile.Load(path));
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,800]}}""", "outside")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,4]}}""", "outside")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[-4,4]}}""", "outside")]
    [InlineData("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", "shape needs")]
    [InlineData("""{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}""", "invalid dimension")]
    [InlineData("""{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}""", "invalid dimension")]
    [InlineData("""{"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}""", "unsupported dtype")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2]}}""", "header")]
    [InlineData("""{"w":{"dtype":3,"shape":[2],"data_offsets":[0,8]}}""", "header")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999999]}}""", "header")]
    [InlineData("""{"w": [1, 2""", "not valid JSON")]
    [InlineData("""[1,2,3]""", "not a JSON object")]
    public void Read_BadHeader_ThrowsClearWeightFormatException(string header, string messagePart)
    {
        using var dir = new TempDir();
        string path = dir.Write("b.safetensors", Build(header, new byte[8]));
        var ex = Assert.Throws<WeightFormatException>(() => SafeTensors.Read(path));
        Assert.Contains(messagePart, ex.Message);
    }

    [Fact]
    public void Read_TruncatedFile_ThrowsWeightFormatException()
    {
        using var dir = new TempDir();
        string path = dir.File("t.safetensors");
        SafeTensors.Write(path, [new WeightTensor("a", [64], new float[64])]);
        var bytes = File.ReadAllBytes(path);
        foreach (int len in new[] { 0, 3, 7, 8, 12, 40, bytes.Length - 1 })
        {
            string p = dir.Write("cut.safetensors", bytes[..len]);
            Assert.Throws<WeightFormatException>(() => SafeTensors.Read(p));
        }
    }
}
