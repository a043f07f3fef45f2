using System.Runtime.InteropServices;
using NeuralStyle.Weights.Protobuf;

namespace NeuralStyle.Weights.Caffe;

/// <summary>One blob of a Caffe layer: its shape and float data (null when it was larger than the reader keeps).</summary>
public sealed record CaffeBlob(int[] Shape, float[]? Data);

/// <summary>One layer of a Caffe net: name, type (V2 string; V1 enums are given their V2 names), blobs, convolution geometry.</summary>
/// <param name="Pad">The convolution's padding (Caffe's default 0) when it has a convolution_param; null otherwise.</param>
/// <param name="Stride">The convolution's stride (default 1) when it has a convolution_param; null otherwise.</param>
public sealed record CaffeLayer(string Name, string Type, IReadOnlyList<CaffeBlob> Blobs, int? Pad, int? Stride);

/// <summary>
/// Reads the layers of a Caffe <c>.caffemodel</c> (a protobuf <c>NetParameter</c>) in either layer format: V2
/// (<c>layer</c>, field 100, string types, blobs field 7) and the legacy V1 (<c>layers</c>, field 2, enum types, blobs
/// field 6), as in jcjohnson/neural-style's VGG files. The file is walked in place, not loaded: blobs larger than
/// <c>maxBlobBytes</c> (VGG's fully-connected layers) are skipped. Any problem is a <see cref="WeightFormatException"/>.
/// </summary>
public static class CaffeModel
{
    private const string Format = "Caffe model";

    /// <summary>NetParameter's fields and their wire types: what a Caffe file can start with.</summary>
    private static readonly Dictionary<int, int> NetFields = new()
    {
        [1] = 2, [2] = 2, [3] = 2, [4] = 0, [5] = 0, [6] = 2, [7] = 0, [8] = 2, [100] = 2,
    };

    /// <summary>
    /// True when <paramref name="head"/> starts like a NetParameter: a known field with its wire type and, for a
    /// length-delimited one, a length that fits in the file. Only meaningful once the other formats' magic numbers
    /// were ruled out (protobuf has none).
    /// </summary>
    public static bool LooksLikeCaffe(ReadOnlySpan<byte> head, long fileLength)
    {
        try
        {
            var r = new ProtoReader(head, Format);
            (int field, int wire) = r.ReadTag();
            if (!NetFields.TryGetValue(field, out int expected) || wire != expected) return false;
            if (wire != 2) return true;
            ulong len = r.ReadVarint();
            return len <= (ulong)fileLength;
        }
        catch (WeightFormatException)
        {
            return false;
        }
    }

    public static IReadOnlyList<CaffeLayer> ReadLayers(string path, long maxBlobBytes = 64L << 20)
    {
        ArgumentNullException.ThrowIfNull(path);
        using (FileStream file = WeightFileStream.OpenRead(path, "Caffe model")) return ReadLayers(file, maxBlobBytes);
    }

    /// <summary>Reads from a seekable stream positioned at the start of the file.</summary>
    public static IReadOnlyList<CaffeLayer> ReadLayers(Stream stream, long maxBlobBytes = 64L << 20)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("The Caffe model stream must be readable and seekable.", nameof(stream));
        try
        {
            return ReadNet(new ProtoStream(stream, Format), stream.Length, maxBlobBytes);
        }
        catch (EndOfStreamException e)
        {
            throw new WeightFormatException("The Caffe model is truncated.", e);
        }
    }

    private static List<CaffeLayer> ReadNet(ProtoStream s, long end, long maxBlobBytes)
    {
        if (end == 0) throw new WeightFormatException("The Caffe model is empty.");
        var layers = new List<CaffeLayer>();
        bool v1 = false, v2 = false;
        while (s.Position < end)
        {
            (int field, int wire) = s.ReadTag(end);
            if (field is 2 or 100 && wire == 2)
            {
                long length = s.ReadLength(end);
                long layerEnd = s.Position + length;
                layers.Add(ReadLayer(s, layerEnd, maxBlobBytes, v1: field != 100));
                if (field == 100) v2 = true; else v1 = true;
                s.Seek(layerEnd);
            }
            else
            {
                s.Skip(wire, end);
            }
        }
        if (v1 && v2) throw Corrupt("it mixes V1 'layers' and V2 'layer' entries");
        if (layers.Count == 0) throw new WeightFormatException("The Caffe model has no layers.");
        return layers;
    }

    /// <summary>
    /// One layer in either format. The two messages carry the same things under other field numbers: V2's
    /// LayerParameter (name 1, type 2 as a string, blobs 7, convolution 106) and V1's V1LayerParameter (name 4,
    /// type 5 as an enum, blobs 6, convolution 10; its field 1 is the nested V0 layer).
    /// </summary>
    private static CaffeLayer ReadLayer(ProtoStream s, long end, long maxBlobBytes, bool v1)
    {
        (int nameField, int typeField, int blobField, int convField) = v1 ? (4, 5, 6, 10) : (1, 2, 7, 106);
        string name = "", type = "";
        var blobs = new List<CaffeBlob>();
        (int? pad, int? stride) geometry = (null, null);
        while (s.Position < end)
        {
            (int field, int wire) = s.ReadTag(end);
            if (v1 && field == 1 && wire == 2)
                throw new WeightFormatException("The Caffe model uses the V0 layer format (before 2014), which is not supported; upgrade it with Caffe's upgrade_net_proto_binary.");
            if (field == nameField && wire == 2) name = ReadString(s, end);
            else if (field == typeField && wire == (v1 ? 0 : 2)) type = v1 ? V1TypeName(s.ReadVarint(end)) : ReadString(s, end);
            else if (field == blobField && wire == 2) blobs.Add(ReadBlob(s, end, maxBlobBytes));
            else if (field == convField && wire == 2) geometry = ReadConvolution(s, end);
            else s.Skip(wire, end);
        }
        return new CaffeLayer(name, type, blobs, geometry.pad, geometry.stride);
    }

    /// <summary>V1LayerParameter.LayerType values under their V2 names (the ones a VGG file holds, and a few more).</summary>
    private static string V1TypeName(ulong value) => value switch
    {
        1 => "Accuracy", 3 => "Concat", 4 => "Convolution", 5 => "Data", 6 => "Dropout", 8 => "Flatten",
        12 => "ImageData", 14 => "InnerProduct", 15 => "LRN", 17 => "Pooling", 18 => "ReLU", 19 => "Sigmoid",
        20 => "Softmax", 21 => "SoftmaxWithLoss", 22 => "Split", 23 => "TanH", 25 => "Eltwise", 39 => "Deconvolution",
        _ => $"V1 type {value}",
    };

    private static string ReadString(ProtoStream s, long end)
    {
        long length = s.ReadLength(end);
        if (length > 1 << 16) throw Corrupt("a layer name or type is longer than 64 KB");
        return System.Text.Encoding.UTF8.GetString(s.ReadBytes(length));
    }

    private static CaffeBlob ReadBlob(ProtoStream s, long end, long maxBlobBytes)
    {
        long length = s.ReadLength(end);
        if (length > maxBlobBytes)
        {
            s.Seek(s.Position + length);
            return new CaffeBlob([], null);
        }
        byte[] bytes = s.ReadBytes(length);
        var r = new ProtoReader(bytes, Format);
        int[] legacy = [0, 0, 0, 0];
        bool sawLegacy = false;
        List<long>? shape = null;
        var floats = new List<float>();
        List<double>? doubles = null;
        while (!r.AtEnd)
        {
            (int field, int wire) = r.ReadTag();
            switch (field)
            {
                case >= 1 and <= 4 when wire == 0:
                    legacy[field - 1] = r.ReadInt32();
                    sawLegacy = true;
                    break;
                case 5 when wire == 2:
                {
                    ReadOnlySpan<byte> raw = r.ReadBytes();
                    if (raw.Length % 4 != 0) throw Corrupt("a blob's packed data is not a whole number of floats");
                    if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Caffe models are read on little-endian machines only.");
                    floats.AddRange(MemoryMarshal.Cast<byte, float>(raw));
                    break;
                }
                case 5 when wire == 5:
                    floats.Add(r.ReadFixed32Float());
                    break;
                case 7 when wire == 2:
                {
                    shape = [];
                    var sr = new ProtoReader(r.ReadBytes(), Format);
                    while (!sr.AtEnd)
                    {
                        (int f, int w) = sr.ReadTag();
                        if (f == 1) sr.ReadInt64s(w, shape);
                        else sr.Skip(w);
                        if (shape.Count > 8) throw Corrupt($"a blob has more than 8 dimensions");
                    }
                    break;
                }
                case 8:
                    r.ReadDoubles(wire, doubles ??= []);
                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }
        float[] data = floats.Count > 0 || doubles is null ? [.. floats] : doubles.Select(d => (float)d).ToArray();
        int[] dims;
        if (shape is not null)
        {
            dims = new int[shape.Count];
            for (int i = 0; i < dims.Length; i++)
                dims[i] = shape[i] is >= 0 and <= int.MaxValue ? (int)shape[i] : throw Corrupt($"a blob has the dimension {shape[i]}");
        }
        else if (sawLegacy)
        {
            dims = legacy;
            if (dims.Any(d => d < 0)) throw Corrupt("a blob has a negative dimension");
        }
        else
        {
            dims = [data.Length];
        }
        long count = 1;
        foreach (int d in dims) count = Math.Min(count * d, long.MaxValue / int.MaxValue);
        if (count != data.Length) throw Corrupt($"a blob of shape [{string.Join(",", dims)}] holds {data.Length} numbers");
        return new CaffeBlob(dims, data);
    }

    private static (int? Pad, int? Stride) ReadConvolution(ProtoStream s, long end)
    {
        long length = s.ReadLength(end);
        if (length > 1 << 16) throw Corrupt("a convolution_param is longer than 64 KB");
        var r = new ProtoReader(s.ReadBytes(length), Format);
        var pads = new List<int>();
        var strides = new List<int>();
        while (!r.AtEnd)
        {
            (int field, int wire) = r.ReadTag();
            switch (field)
            {
                case 3 or 9 or 10: r.ReadInt32s(wire, pads); break;    // pad, pad_h, pad_w
                case 6 or 13 or 14: r.ReadInt32s(wire, strides); break; // stride, stride_h, stride_w
                default: r.Skip(wire); break;
            }
            if (pads.Count + strides.Count > 64) throw Corrupt("a convolution_param repeats its padding or stride too often");
        }
        // Different values per axis are reported as the first one that is not VGG's.
        int pad = pads.Count == 0 ? 0 : pads.FirstOrDefault(p => p != 1, 1);
        int stride = strides.Count == 0 ? 1 : strides.FirstOrDefault(p => p != 1, 1);
        return (pad, stride);
    }

    private static WeightFormatException Corrupt(string why) => ProtoReader.Corrupt(why, Format);
}
