using NeuralStyle.IO;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace NeuralStyle.Weights;

/// <summary>Reads and writes the safetensors format: 8-byte little-endian header length, JSON header, raw data.</summary>
public static class SafeTensors
{
    /// <summary>Headers larger than this are refused (real ones are a few kB per hundred tensors).</summary>
    internal const long MaxHeaderBytes = 100L << 20;

    public static IReadOnlyDictionary<string, WeightTensor> Read(string path) => Read(path, static _ => true);

    public static IReadOnlyDictionary<string, WeightTensor> Read(string path, Func<string, bool> keyFilter)
    {
        ArgumentNullException.ThrowIfNull(keyFilter);
        using (FileStream file = WeightFileStream.OpenRead(path)) return ReadCore(file, keyFilter);
    }

    /// <summary>
    /// The header's optional <c>__metadata__</c> string-to-string map (empty when absent). Only the header is read;
    /// a corrupt or non-string map throws <see cref="WeightFormatException"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        using (FileStream file = WeightFileStream.OpenRead(path))
        {
            byte[] header = ReadHeader(file);
            var result = new Dictionary<string, string>();
            try
            {
                using var doc = JsonDocument.Parse(header);
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw new WeightFormatException("The safetensors header is not a JSON object.");
                if (!doc.RootElement.TryGetProperty("__metadata__", out JsonElement meta)) return result;
                if (meta.ValueKind != JsonValueKind.Object) throw new WeightFormatException("The safetensors __metadata__ is not a JSON object.");
                foreach (var prop in meta.EnumerateObject())
                    result[prop.Name] = prop.Value.ValueKind == JsonValueKind.String ? prop.Value.GetString()!
                        : throw new WeightFormatException($"The safetensors __metadata__ entry '{prop.Name}' is not a string.");
            }
            catch (JsonException e)
            {
                throw new WeightFormatException($"The safetensors header is not valid JSON ({e.Message}).", e);
            }
            return result;
        }
    }

    private static byte[] ReadHeader(FileStream file)
    {
        long fileLength = file.Length;
        if (fileLength < 8) throw new WeightFormatException("The safetensors file is truncated (shorter than its 8-byte header length).");
        Span<byte> lenBytes = stackalloc byte[8];
        file.Position = 0;
        file.ReadExactly(lenBytes);
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (headerLen > (ulong)MaxHeaderBytes)
            throw new WeightFormatException($"The safetensors header declares {headerLen} bytes, which is implausibly large (the file is corrupt).");
        if (headerLen > (ulong)(fileLength - 8))
            throw new WeightFormatException($"The safetensors header declares {headerLen} bytes but the file has only {fileLength} (the file is truncated or corrupt).");
        var header = new byte[headerLen];
        file.ReadExactly(header);
        return header;
    }

    internal static Dictionary<string, WeightTensor> ReadCore(FileStream file, Func<string, bool> keyFilter)
    {
        long fileLength = file.Length;
        byte[] header = ReadHeader(file);
        long dataStart = 8 + (long)header.Length;
        long dataLength = fileLength - dataStart;

        var entries = new List<(string Name, DType DType, int[] Shape, long Begin, long End)>();
        try
        {
            using var doc = JsonDocument.Parse(header);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new WeightFormatException("The safetensors header is not a JSON object.");
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__") continue;
                entries.Add(ParseEntry(prop, dataLength));
            }
        }
        catch (JsonException e)
        {
            throw new WeightFormatException($"The safetensors header is not valid JSON ({e.Message}).", e);
        }
        catch (InvalidOperationException e)
        {
            throw new WeightFormatException($"The safetensors header has a field of the wrong type ({e.Message}).", e);
        }
        catch (FormatException e)
        {
            throw new WeightFormatException($"The safetensors header has a number out of range ({e.Message}).", e);
        }

        var result = new Dictionary<string, WeightTensor>();
        foreach (var (name, dtype, shape, begin, end) in entries)
        {
            if (!keyFilter(name)) continue;
            int bytes = checked((int)(end - begin));
            file.Position = dataStart + begin;
            long count = bytes / DTypes.Size(dtype);
            float[] data;
            if (dtype == DType.Float32 && BitConverter.IsLittleEndian)
            {
                data = new float[count];
                file.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
            }
            else
            {
                var raw = new byte[bytes];
                file.ReadExactly(raw);
                data = new float[count];
                for (long i = 0; i < count; i++) data[i] = DTypes.Read(raw, dtype, i);
            }
            result[name] = new WeightTensor(name, shape, data);
        }
        return result;
    }

    private static (string, DType, int[], long, long) ParseEntry(JsonProperty prop, long dataLength)
    {
        string name = prop.Name;
        var v = prop.Value;
        if (v.ValueKind != JsonValueKind.Object) throw Bad(name, "is not an object");
        string dtypeName = Field(v, name, "dtype").GetString() ?? throw Bad(name, "has no dtype");
        var dtype = DTypes.FromSafeTensors(dtypeName) ?? throw Bad(name, $"has the unsupported dtype '{dtypeName}'");
        var shapeEl = Field(v, name, "shape");
        if (shapeEl.GetArrayLength() > 32) throw Bad(name, "has an implausible rank");
        var shape = new int[shapeEl.GetArrayLength()];
        long count = 1;
        int i = 0;
        foreach (var d in shapeEl.EnumerateArray())
        {
            long dim = d.GetInt64();
            if (dim < 0 || dim > int.MaxValue) throw Bad(name, $"has the invalid dimension {dim}");
            shape[i++] = (int)dim;
            count = count == 0 || dim == 0 ? 0 : count * dim;
            if (count > Array.MaxLength) throw Bad(name, "has too many elements to load");
        }
        var offs = Field(v, name, "data_offsets");
        if (offs.GetArrayLength() != 2) throw Bad(name, "does not have two data offsets");
        long begin = offs[0].GetInt64(), end = offs[1].GetInt64();
        if (begin < 0 || end < begin || end > dataLength)
            throw Bad(name, $"has data offsets [{begin}, {end}] outside the {dataLength} data bytes (the file is truncated or corrupt)");
        if (end - begin != count * DTypes.Size(dtype))
            throw Bad(name, $"has {end - begin} data bytes but its shape needs {count * DTypes.Size(dtype)}");
        return (name, dtype, shape, begin, end);
    }

    private static JsonElement Field(JsonElement v, string name, string field) =>
        v.TryGetProperty(field, out var f) ? f : throw Bad(name, $"has no '{field}' field in the header");

    private static WeightFormatException Bad(string name, string what) => new($"The safetensors entry '{name}' {what}.");

    /// <summary>Writes float32 tensors as safetensors, atomically: a temporary file in the same folder renamed into place.</summary>
    public static void Write(string path, IEnumerable<WeightTensor> tensors) => Write(path, tensors, metadata: null);

    /// <summary>
    /// Writes float32 tensors and an optional <c>__metadata__</c> string map as safetensors, atomically: a temporary
    /// file in the same folder renamed into place.
    /// </summary>
    public static void Write(string path, IEnumerable<WeightTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var names = new HashSet<string>();
        foreach (var t in list)
        {
            if (string.IsNullOrEmpty(t.Name) || t.Name == "__metadata__") throw new ArgumentException($"Invalid tensor name '{t.Name}'.", nameof(tensors));
            if (!names.Add(t.Name)) throw new ArgumentException($"The tensor name '{t.Name}' appears twice.", nameof(tensors));
            if (t.Shape.Any(d => d < 0) || t.ElementCount != t.Data.Length)
                throw new ArgumentException($"The tensor '{t.Name}' has {t.Data.Length} values but its shape [{string.Join(", ", t.Shape)}] needs {t.ElementCount}.", nameof(tensors));
        }

        var headerStream = new MemoryStream();
        using (var w = new Utf8JsonWriter(headerStream))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    ArgumentNullException.ThrowIfNull(value, nameof(metadata));
                    w.WriteString(key, value);
                }
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in list)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", "F32");
                w.WriteStartArray("shape");
                foreach (int d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                offset += (long)t.Data.Length * 4;
                w.WriteNumberValue(offset);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        int pad = (int)((8 - headerStream.Length % 8) % 8);
        for (int i = 0; i < pad; i++) headerStream.WriteByte((byte)' ');

        // A cache file: its folder is created when missing.
        AtomicFile.Write(path, f =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)headerStream.Length);
            f.Write(len);
            headerStream.Position = 0;
            headerStream.CopyTo(f);
            foreach (var t in list)
            {
                if (BitConverter.IsLittleEndian) f.Write(MemoryMarshal.AsBytes(t.Data.AsSpan()));
                else
                {
                    var buf = new byte[4];
                    foreach (float x in t.Data)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(buf, x);
                        f.Write(buf);
                    }
                }
            }
        }, createDirectory: true);
    }

}
