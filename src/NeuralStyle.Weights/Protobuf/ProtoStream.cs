namespace NeuralStyle.Weights.Protobuf;

/// <summary>
/// Walks the fields of protobuf messages in a seekable stream without loading them: for files too large to hold
/// (a Caffe VGG is 550 MB, most of it in layers we skip). Every length is checked against the end of the enclosing
/// message before it is used; small payloads are read into arrays for <see cref="ProtoReader"/>.
/// </summary>
internal sealed class ProtoStream(Stream stream, string format)
{
    /// <summary>The current position in the stream.</summary>
    public long Position => stream.Position;

    /// <summary>Reads the next tag of the message that ends at <paramref name="end"/>.</summary>
    public (int Field, int WireType) ReadTag(long end)
    {
        ulong tag = ReadVarint(end);
        if (tag >> 3 is 0 or > int.MaxValue) throw ProtoReader.Corrupt("a field number is invalid", format);
        return ((int)(tag >> 3), (int)(tag & 7));
    }

    public ulong ReadVarint(long end)
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (stream.Position >= end) throw ProtoReader.Truncated(format);
            int b = stream.ReadByte();
            if (b < 0) throw ProtoReader.Truncated(format);
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw ProtoReader.Corrupt("a varint is longer than 10 bytes", format);
    }

    /// <summary>The length of a length-delimited field, checked to fit before <paramref name="end"/>.</summary>
    public long ReadLength(long end)
    {
        ulong len = ReadVarint(end);
        if (len > (ulong)(end - stream.Position)) throw ProtoReader.Truncated(format);
        return (long)len;
    }

    /// <summary>Reads <paramref name="length"/> bytes (already checked by <see cref="ReadLength"/>).</summary>
    public byte[] ReadBytes(long length)
    {
        if (length > Array.MaxLength) throw ProtoReader.Corrupt($"a field of {length} bytes is too large", format);
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    public void Seek(long position) => stream.Position = position;

    /// <summary>Skips a field of the given wire type.</summary>
    public void Skip(int wireType, long end)
    {
        switch (wireType)
        {
            case 0: ReadVarint(end); break;
            case 1: Advance(8, end); break;
            case 2: Advance(ReadLength(end), end); break;
            case 5: Advance(4, end); break;
            default: throw ProtoReader.Corrupt($"wire type {wireType} is not valid here", format);
        }
    }

    private void Advance(long n, long end)
    {
        if (n > end - stream.Position) throw ProtoReader.Truncated(format);
        stream.Position += n;
    }
}
