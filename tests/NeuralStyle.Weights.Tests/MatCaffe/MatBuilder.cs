using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace NeuralStyle.Weights.Tests.MatCaffe;

/// <summary>Builds little-endian MAT-file Level 5 bytes element by element, for hostile and edge-case inputs.</summary>
internal static class MatBuilder
{
    public const int MiInt8 = 1, MiUInt32 = 6, MiInt32 = 5, MiDouble = 9, MiMatrix = 14, MiCompressed = 15;

    public static byte[] Header()
    {
        var h = new byte[128];
        Encoding.ASCII.GetBytes("MATLAB 5.0 MAT-file, written by the NeuralStyle tests".PadRight(116)).CopyTo(h, 0);
        h[124] = 0x00;
        h[125] = 0x01;
        h[126] = (byte)'I';
        h[127] = (byte)'M';
        return h;
    }

    public static byte[] File(params byte[][] elements) => [.. Header(), .. elements.SelectMany(e => e)];

    /// <summary>A tagged element with padding to 8 bytes; <paramref name="declared"/> overrides the size written in the tag.</summary>
    public static byte[] Element(int type, byte[] data, long? declared = null)
    {
        var tag = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(tag, (uint)type);
        BinaryPrimitives.WriteUInt32LittleEndian(tag.AsSpan(4), (uint)(declared ?? data.Length));
        return [.. tag, .. data, .. new byte[(8 - data.Length % 8) % 8]];
    }

    public static byte[] Int32s(params int[] values)
    {
        var b = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(i * 4), values[i]);
        return b;
    }

    /// <summary>An miMATRIX: array flags (class), dimensions, name, then the class's body elements.</summary>
    public static byte[] Matrix(int cls, int[] dims, string name, params byte[][] body) =>
        Element(MiMatrix, [.. Element(MiUInt32, Int32s(cls, 0)), .. Element(MiInt32, Int32s(dims)), .. Element(MiInt8, Encoding.ASCII.GetBytes(name)),
            .. body.SelectMany(b => b)]);

    public static byte[] Doubles(int[] dims, string name, double[] values)
    {
        var data = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(i * 8), values[i]);
        return Matrix(6, dims, name, Element(MiDouble, data));
    }

    public static byte[] Cell(int[] dims, string name, params byte[][] items) => Matrix(1, dims, name, items);

    public static byte[] Compressed(byte[] element, long? declared = null)
    {
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true)) zs.Write(element);
        byte[] data = z.ToArray();
        var tag = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(tag, MiCompressed);
        BinaryPrimitives.WriteUInt32LittleEndian(tag.AsSpan(4), (uint)(declared ?? data.Length));
        return [.. tag, .. data];
    }

    /// <summary>The top-level elements of a (well-formed) file: (offset, whole element bytes).</summary>
    public static List<(int Offset, byte[] Bytes)> TopLevel(byte[] file)
    {
        var list = new List<(int, byte[])>();
        int at = 128;
        while (at + 8 <= file.Length)
        {
            int type = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(at));
            int size = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(at + 4));
            int total = 8 + size + (type == MiCompressed ? 0 : (8 - size % 8) % 8);
            list.Add((at, file[at..Math.Min(file.Length, at + total)]));
            at += total;
        }
        return list;
    }

    public static byte[] Inflate(byte[] compressedElement)
    {
        using var zs = new ZLibStream(new MemoryStream(compressedElement, 8, compressedElement.Length - 8), CompressionMode.Decompress);
        var o = new MemoryStream();
        zs.CopyTo(o);
        return o.ToArray();
    }
}
