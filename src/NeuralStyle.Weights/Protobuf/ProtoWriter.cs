using System.Buffers.Binary;
using System.Text;

namespace NeuralStyle.Weights.Protobuf;

/// <summary>A protobuf wire-format writer into a growable buffer; nested messages are written by a child writer.</summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _buffer = new();

    public byte[] ToArray() => _buffer.ToArray();

    private void Varint(ulong v)
    {
        while (v >= 0x80)
        {
            _buffer.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        _buffer.WriteByte((byte)v);
    }

    private void Tag(int field, int wire) => Varint(((ulong)field << 3) | (uint)wire);

    public void Int64(int field, long v)
    {
        Tag(field, 0);
        Varint((ulong)v);
    }

    public void Float(int field, float v)
    {
        Tag(field, 5);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, v);
        _buffer.Write(b);
    }

    public void Bytes(int field, ReadOnlySpan<byte> bytes)
    {
        Tag(field, 2);
        Varint((ulong)bytes.Length);
        _buffer.Write(bytes);
    }

    public void String(int field, string? s)
    {
        if (s is null) return;
        Bytes(field, Encoding.UTF8.GetBytes(s));
    }

    public void Message(int field, Action<ProtoWriter> write)
    {
        var child = new ProtoWriter();
        write(child);
        Bytes(field, child.ToArray());
    }

    public void PackedInt64s(int field, IReadOnlyList<long> values)
    {
        if (values.Count == 0) return;
        var child = new ProtoWriter();
        foreach (long v in values) child.Varint((ulong)v);
        Bytes(field, child.ToArray());
    }

    public void PackedFloats(int field, IReadOnlyList<float> values)
    {
        if (values.Count == 0) return;
        var bytes = new byte[values.Count * 4];
        for (int i = 0; i < values.Count; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        Bytes(field, bytes);
    }
}
