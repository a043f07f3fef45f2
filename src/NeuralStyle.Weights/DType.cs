using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace NeuralStyle.Weights;

/// <summary>Element types found in weight files. Everything is converted to float32 on load.</summary>
internal enum DType
{
    Float32, Float64, Float16, BFloat16, Int64, Int32, Int16, Int8, UInt8, Bool,
}

internal static class DTypes
{
    public static int Size(DType t) => t switch
    {
        DType.Float32 or DType.Int32 => 4,
        DType.Float64 or DType.Int64 => 8,
        DType.Float16 or DType.BFloat16 or DType.Int16 => 2,
        _ => 1,
    };

    /// <summary>The torch storage class names torch.save writes (torch.FloatStorage etc.).</summary>
    public static DType? FromTorchStorage(string name) => name switch
    {
        "FloatStorage" => DType.Float32,
        "DoubleStorage" => DType.Float64,
        "HalfStorage" => DType.Float16,
        "BFloat16Storage" => DType.BFloat16,
        "LongStorage" => DType.Int64,
        "IntStorage" => DType.Int32,
        "ShortStorage" => DType.Int16,
        "CharStorage" => DType.Int8,
        "ByteStorage" => DType.UInt8,
        "BoolStorage" => DType.Bool,
        _ => null,
    };

    public static DType? FromSafeTensors(string name) => name switch
    {
        "F32" => DType.Float32,
        "F64" => DType.Float64,
        "F16" => DType.Float16,
        "BF16" => DType.BFloat16,
        "I64" => DType.Int64,
        "I32" => DType.Int32,
        "I16" => DType.Int16,
        "I8" => DType.Int8,
        "U8" => DType.UInt8,
        "BOOL" => DType.Bool,
        _ => null,
    };

    /// <summary>Reads element <paramref name="index"/> of little-endian <paramref name="raw"/> as float32.</summary>
    public static float Read(ReadOnlySpan<byte> raw, DType t, long index)
    {
        int i = checked((int)(index * Size(t)));
        return t switch
        {
            DType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(raw[i..]),
            DType.Float64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[i..]),
            DType.Float16 => (float)BinaryPrimitives.ReadHalfLittleEndian(raw[i..]),
            DType.BFloat16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw[i..]) << 16),
            DType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(raw[i..]),
            DType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(raw[i..]),
            DType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(raw[i..]),
            DType.Int8 => (sbyte)raw[i],
            DType.UInt8 => raw[i],
            DType.Bool => raw[i] != 0 ? 1f : 0f,
            _ => throw new InvalidOperationException(),
        };
    }

    /// <summary>Copies a strided view of <paramref name="raw"/> (element offset, sizes, strides) into a new contiguous float array.</summary>
    /// <remarks>The caller has checked that every index the view touches lies inside <paramref name="raw"/>.</remarks>
    public static float[] CopyStrided(ReadOnlySpan<byte> raw, DType t, long offset, int[] size, long[] stride)
    {
        long count = 1;
        foreach (int s in size) count *= s;
        var result = new float[count];
        if (count == 0) return result;

        bool contiguous = true;
        long expect = 1;
        for (int d = size.Length - 1; d >= 0; d--)
        {
            if (size[d] != 1 && stride[d] != expect) { contiguous = false; break; }
            expect *= size[d];
        }
        if (contiguous && t == DType.Float32 && BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(raw.Slice(checked((int)(offset * 4)), checked((int)(count * 4)))).CopyTo(result);
            return result;
        }
        if (contiguous)
        {
            for (long i = 0; i < count; i++) result[i] = Read(raw, t, offset + i);
            return result;
        }

        // General strided walk with an odometer over the dimensions.
        int rank = size.Length;
        var idx = new int[rank];
        long pos = offset;
        for (long i = 0; i < count; i++)
        {
            result[i] = Read(raw, t, pos);
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++idx[d] < size[d]) { pos += stride[d]; break; }
                pos -= (long)(size[d] - 1) * stride[d];
                idx[d] = 0;
            }
        }
        return result;
    }
}
