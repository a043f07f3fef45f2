using System.Buffers.Binary;
using System.Text;

namespace NeuralStyle.Weights.Tests;

/// <summary>A fresh temporary folder, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ns-weights-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, byte[] bytes)
    {
        string p = File(name);
        System.IO.File.WriteAllBytes(p, bytes);
        return p;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

internal static class Fixtures
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
    public static byte[] Bytes(string name) => File.ReadAllBytes(Path(name));
}

/// <summary>Builds raw pickle byte streams opcode by opcode, for hostile and edge-case inputs.</summary>
internal sealed class PickleBuilder
{
    private readonly MemoryStream _s = new();

    public PickleBuilder Proto(int p = 2) => Op(0x80).Byte(p);
    public PickleBuilder Op(int op) { _s.WriteByte((byte)op); return this; }
    public PickleBuilder Byte(int b) { _s.WriteByte((byte)b); return this; }
    public PickleBuilder Raw(byte[] b) { _s.Write(b); return this; }
    public PickleBuilder Global(string module, string name) => Op('c').Raw(Encoding.ASCII.GetBytes(module + "\n" + name + "\n"));
    public PickleBuilder Str(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        Op('X');
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(len, b.Length);
        _s.Write(len);
        _s.Write(b);
        return this;
    }
    public PickleBuilder Int(int v)
    {
        Op('J');
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, v);
        _s.Write(b);
        return this;
    }
    public PickleBuilder Mark() => Op('(');
    public PickleBuilder Tuple() => Op('t');
    public PickleBuilder Stop() => Op('.');
    public byte[] ToArray() => _s.ToArray();
}
