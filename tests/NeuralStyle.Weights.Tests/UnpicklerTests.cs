using System.Numerics;
using NeuralStyle.Weights.Pickle;

namespace NeuralStyle.Weights.Tests;

public class UnpicklerTests
{
    private static object? Run(byte[] pickle, Func<object?[], object?>? persistent = null) =>
        new Unpickler(new MemoryStream(pickle), persistent ?? (_ => throw new InvalidOperationException("no pid expected")), "test pickle").Load();

    [Fact]
    public void Load_Protocol0TextOpcodesAndMemo_BuildTheSameValues()
    {
        // (I42\nL7L\nF0.5\np0\ng0\nt.  ->  (42, 7, 0.5, 0.5)
        var p = new PickleBuilder().Mark().Raw("I42\nL7L\nF0.5\np0\ng0\n"u8.ToArray()).Tuple().Stop().ToArray();
        var t = Assert.IsType<object?[]>(Run(p));
        Assert.Equal(new object?[] { 42L, 7L, 0.5, 0.5 }, t);
    }

    [Fact]
    public void Load_Python2StringsAndBigLong_Decoded()
    {
        // SHORT_BINSTRING 'ab', BINSTRING 'caf\xe9' (latin-1), LONG1 of 10 bytes (torch's magic number)
        byte[] magic = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
        var p = new PickleBuilder().Proto().Mark()
            .Op('U').Byte(2).Raw("ab"u8.ToArray())
            .Op('T').Raw([4, 0, 0, 0, (byte)'c', (byte)'a', (byte)'f', 0xe9])
            .Op(0x8a).Byte(10).Raw(magic)
            .Op(0x8a).Byte(1).Byte(0xff) // -1
            .Tuple().Stop().ToArray();
        var t = Assert.IsType<object?[]>(Run(p));
        Assert.Equal("ab", t[0]);
        Assert.Equal("café", t[1]);
        Assert.Equal(BigInteger.Parse("119547037146038801333356"), t[2]);
        Assert.Equal(-1L, t[3]);
    }

    [Fact]
    public void Load_DictListAndSetItems_KeepInsertionOrderAndReplaceDuplicates()
    {
        var p = new PickleBuilder().Proto().Op('}').Op(0x94)
            .Mark().Str("b").Int(1).Str("a").Int(2).Str("b").Int(3).Op('u')
            .Stop().ToArray();
        var d = Assert.IsType<PyDict>(Run(p));
        Assert.Equal(["b", "a"], d.Items.Select(kv => (string)kv.Key!));
        Assert.Equal([3L, 2L], d.Items.Select(kv => (long)kv.Value!));
    }

    [Fact]
    public void Load_PersistentIdAndRebuildTensor_ProduceAnInertTensorRef()
    {
        var storage = new StorageRef("k", DType.Float32, 6);
        var p = new PickleBuilder().Proto().Global("torch._utils", "_rebuild_tensor")
            .Mark().Str("storage").Op(0x85).Op('Q').Int(1).Mark().Int(2).Int(2).Tuple().Mark().Int(1).Int(2).Tuple().Tuple()
            .Op('R').Stop().ToArray();
        object?[]? seen = null;
        var t = Assert.IsType<TensorRef>(Run(p, pid => { seen = pid; return storage; }));
        Assert.Equal(new object?[] { "storage" }, seen);
        Assert.Same(storage, t.Storage);
        Assert.Equal(1, t.Offset);
        Assert.Equal([2, 2], t.Size);
        Assert.Equal([1L, 2L], t.Stride);
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 2, (byte)'h', 5, (byte)'.' }, "memo entry 5")]
    [InlineData(new byte[] { 0x80, 2, (byte)'0', (byte)'.' }, "empty stack")]
    [InlineData(new byte[] { 0x80, 2, (byte)'t', (byte)'.' }, "MARK is missing")]
    [InlineData(new byte[] { 0x80, 2, (byte)'N', (byte)'N', (byte)'.' }, "not balanced")]
    [InlineData(new byte[] { 0x80, 2, (byte)'i', (byte)'.' }, "opcode 0x69")]
    [InlineData(new byte[] { 0x80, 2, 0x92, (byte)'.' }, "opcode 0x92")]
    [InlineData(new byte[] { 0x80, 9, (byte)'N', (byte)'.' }, "protocol 9")]
    [InlineData(new byte[] { 0x80, 2, (byte)'X', 0xff, 0xff, 0xff, 0x7f, (byte)'.' }, "bytes remain")]
    [InlineData(new byte[] { 0x80, 2, (byte)'N' }, "truncated")]
    [InlineData(new byte[] { 0x80, 2, (byte)'N', (byte)'N', (byte)'a', (byte)'.' }, "not a list")]
    [InlineData(new byte[] { 0x80, 2, (byte)'N', (byte)')', (byte)'R', (byte)'.' }, "not a whitelisted function")]
    public void Load_MalformedPickle_ThrowsWeightFormatException(byte[] pickle, string messagePart)
    {
        var ex = Assert.Throws<WeightFormatException>(() => Run(pickle));
        Assert.Contains(messagePart, ex.Message);
        Assert.Contains("test pickle", ex.Message);
    }

    [Fact]
    public void Load_StorageTypeCalledDirectly_Rejected()
    {
        var p = new PickleBuilder().Proto().Global("torch", "FloatStorage").Op(')').Op('R').Stop().ToArray();
        Assert.Contains("torch.FloatStorage", Assert.Throws<WeightFormatException>(() => Run(p)).Message);
    }

    [Fact]
    public void Load_BuildOnAnythingButDictOrTensor_Rejected()
    {
        var p = new PickleBuilder().Proto().Op(']').Op('}').Op('b').Stop().ToArray();
        Assert.Contains("unexpected object", Assert.Throws<WeightFormatException>(() => Run(p)).Message);
    }

    [Theory]
    [InlineData("collections", "OrderedDict")]
    [InlineData("torch._utils", "_rebuild_tensor_v2")]
    [InlineData("torch._utils", "_rebuild_parameter")]
    [InlineData("torch", "HalfStorage")]
    [InlineData("torch", "BFloat16Storage")]
    public void ResolveGlobal_WhitelistedName_Resolves(string module, string name)
    {
        Assert.Equal(module + "." + name, Unpickler.ResolveGlobal(module, name).QualifiedName);
    }

    [Theory]
    [InlineData("torch", "Storage")]
    [InlineData("torch", "FloatStorage\nos")]
    [InlineData("torch._utils", "_rebuild_device_tensor_from_numpy")]
    [InlineData("numpy.core.multiarray", "_reconstruct")]
    [InlineData("builtins", "getattr")]
    [InlineData("collections.OrderedDict", "")]
    public void ResolveGlobal_AnyOtherName_ThrowsNamingIt(string module, string name)
    {
        var ex = Assert.Throws<WeightFormatException>(() => Unpickler.ResolveGlobal(module, name));
        Assert.Contains($"'{module}.{name}'", ex.Message);
    }
}
