using System.Buffers.Binary;

namespace NeuralStyle.Weights.Protobuf;

/// <summary>
/// A bounds-checked protobuf wire-format reader over a byte span. Every length is checked against the bytes that
/// remain before anything is allocated, so a hostile file costs at most its own size; any violation throws
/// <see cref="WeightFormatException"/> with one sentence naming the kind of file (ONNX, Caffe, …).
/// </summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _format;
    private int _pos;

    /// <param name="data">The message's bytes.</param>
    /// <param name="format">How errors name the file, e.g. "ONNX file" or "Caffe model".</param>
    public ProtoReader(ReadOnlySpan<byte> data, string format = DefaultFormat)
    {
        _data = data;
        _format = format;
        _pos = 0;
    }

    private const string DefaultFormat = "ONNX file";

    public readonly bool AtEnd => _pos >= _data.Length;

    public readonly int Remaining => _data.Length - _pos;

    /// <summary>The next field number and wire type.</summary>
    public (int Field, int WireType) ReadTag()
    {
        ulong tag = ReadVarint();
        int field = (int)(tag >> 3);
        int wire = (int)(tag & 7);
        if (tag >> 3 > int.MaxValue || field == 0) throw Corrupt("a field number is invalid", _format);
        return (field, wire);
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_pos >= _data.Length) throw Truncated(_format);
            byte b = _data[_pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw Corrupt("a varint is longer than 10 bytes", _format);
    }

    public long ReadInt64() => (long)ReadVarint();

    /// <summary>An int32 field (negative values are sign-extended 10-byte varints on the wire).</summary>
    public int ReadInt32()
    {
        long v = (long)ReadVarint();
        if (v is < int.MinValue or > int.MaxValue) throw Corrupt("an int32 field is out of range", _format);
        return (int)v;
    }

    public float ReadFixed32Float()
    {
        if (Remaining < 4) throw Truncated(_format);
        float v = BinaryPrimitives.ReadSingleLittleEndian(_data.Slice(_pos, 4));
        _pos += 4;
        return v;
    }

    public double ReadFixed64Double()
    {
        if (Remaining < 8) throw Truncated(_format);
        double v = BinaryPrimitives.ReadDoubleLittleEndian(_data.Slice(_pos, 8));
        _pos += 8;
        return v;
    }

    /// <summary>The payload of a length-delimited field (a view: nothing is copied).</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        ulong len = ReadVarint();
        if (len > (ulong)Remaining) throw Truncated(_format);
        var s = _data.Slice(_pos, (int)len);
        _pos += (int)len;
        return s;
    }

    public string ReadString()
    {
        var bytes = ReadBytes();
        if (bytes.Length > 1 << 20) throw Corrupt("a name is longer than 1 MB", _format);
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Skips a field of the given wire type (groups, types 3/4, are refused: neither ONNX nor Caffe uses them).</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0: ReadVarint(); break;
            case 1: Advance(8); break;
            case 2: ReadBytes(); break;
            case 5: Advance(4); break;
            default: throw Corrupt($"wire type {wireType} is not valid here", _format);
        }
    }

    private void Advance(int n)
    {
        if (Remaining < n) throw Truncated(_format);
        _pos += n;
    }

    /// <summary>Appends a repeated int64 field, packed (wire type 2) or not (0).</summary>
    public void ReadInt64s(int wireType, List<long> into)
    {
        if (wireType == 0)
        {
            into.Add(ReadInt64());
            return;
        }
        if (wireType != 2) throw Corrupt("a repeated integer field has the wrong wire type", _format);
        var inner = new ProtoReader(ReadBytes(), _format);
        while (!inner.AtEnd) into.Add(inner.ReadInt64());
    }

    /// <summary>Appends a repeated int32 field, packed or not.</summary>
    public void ReadInt32s(int wireType, List<int> into)
    {
        if (wireType == 0)
        {
            into.Add(ReadInt32());
            return;
        }
        if (wireType != 2) throw Corrupt("a repeated integer field has the wrong wire type", _format);
        var inner = new ProtoReader(ReadBytes(), _format);
        while (!inner.AtEnd) into.Add(inner.ReadInt32());
    }

    /// <summary>Appends a repeated float field, packed (wire type 2) or not (5).</summary>
    public void ReadFloats(int wireType, List<float> into)
    {
        if (wireType == 5)
        {
            into.Add(ReadFixed32Float());
            return;
        }
        if (wireType != 2) throw Corrupt("a repeated float field has the wrong wire type", _format);
        var bytes = ReadBytes();
        if (bytes.Length % 4 != 0) throw Corrupt("a packed float field's length is not a multiple of 4", _format);
        for (int i = 0; i < bytes.Length; i += 4) into.Add(BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i, 4)));
    }

    /// <summary>Appends a repeated double field, packed (wire type 2) or not (1).</summary>
    public void ReadDoubles(int wireType, List<double> into)
    {
        if (wireType == 1)
        {
            into.Add(ReadFixed64Double());
            return;
        }
        if (wireType != 2) throw Corrupt("a repeated double field has the wrong wire type", _format);
        var bytes = ReadBytes();
        if (bytes.Length % 8 != 0) throw Corrupt("a packed double field's length is not a multiple of 8", _format);
        for (int i = 0; i < bytes.Length; i += 8) into.Add(BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(i, 8)));
    }

    public static void Expect(int wireType, int expected, string what, string format = DefaultFormat)
    {
        if (wireType != expected) throw Corrupt($"the field {what} has wire type {wireType}, expected {expected}", format);
    }

    public static WeightFormatException Truncated(string format = DefaultFormat) =>
        new($"The {format} is truncated or corrupt (a field runs past the end of its message).");

    public static WeightFormatException Corrupt(string why, string format = DefaultFormat) => new($"The {format} is corrupt: {why}.");
}
