using System.Buffers.Binary;

namespace NeuralStyle.Weights.Onnx;

/// <summary>ONNX tensor element types (TensorProto.DataType) this reader knows by name.</summary>
public enum OnnxDataType
{
    Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9,
    Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13,
}

/// <summary>An ONNX <c>ModelProto</c>: the parts a weights reader needs (everything else is skipped on read).</summary>
public sealed class OnnxModel
{
    public long IrVersion { get; set; } = 7;
    public string ProducerName { get; set; } = "";
    public string ProducerVersion { get; set; } = "";
    public string DocString { get; set; } = "";

    /// <summary>(domain, version) pairs; "" is the default ai.onnx domain.</summary>
    public List<(string Domain, long Version)> OpsetImports { get; } = [];

    public OnnxGraph Graph { get; set; } = new();

    /// <summary>The default-domain opset version (0 when the file declares none).</summary>
    public long Opset => OpsetImports.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
}

/// <summary>An ONNX <c>GraphProto</c>: nodes in topological order, initializers, inputs and outputs.</summary>
public sealed class OnnxGraph
{
    public string Name { get; set; } = "";
    public List<OnnxNode> Nodes { get; } = [];
    public List<OnnxTensor> Initializers { get; } = [];
    public List<OnnxValueInfo> Inputs { get; } = [];
    public List<OnnxValueInfo> Outputs { get; } = [];
    public List<OnnxValueInfo> ValueInfo { get; } = [];
}

/// <summary>An ONNX <c>NodeProto</c>: one operator application.</summary>
public sealed class OnnxNode
{
    public string Name { get; set; } = "";
    public string OpType { get; set; } = "";
    public string Domain { get; set; } = "";
    public List<string> Inputs { get; } = [];
    public List<string> Outputs { get; } = [];
    public List<OnnxAttribute> Attributes { get; } = [];

    public OnnxAttribute? Attribute(string name) => Attributes.FirstOrDefault(a => a.Name == name);
}

/// <summary>ONNX attribute kinds (AttributeProto.AttributeType).</summary>
public enum OnnxAttributeType { Undefined = 0, Float = 1, Int = 2, String = 3, Tensor = 4, Graph = 5, Floats = 6, Ints = 7, Strings = 8, Tensors = 9, Graphs = 10 }

/// <summary>An ONNX <c>AttributeProto</c> (graph-valued attributes are kept only as their kind: no subgraphs are read).</summary>
public sealed class OnnxAttribute
{
    public string Name { get; set; } = "";
    public OnnxAttributeType Type { get; set; }
    public float F { get; set; }
    public long I { get; set; }
    public byte[] S { get; set; } = [];
    public OnnxTensor? T { get; set; }
    public List<float> Floats { get; } = [];
    public List<long> Ints { get; } = [];
    public List<byte[]> Strings { get; } = [];

    public string StringValue => System.Text.Encoding.UTF8.GetString(S);

    public static OnnxAttribute Int(string name, long v) => new() { Name = name, Type = OnnxAttributeType.Int, I = v };

    public static OnnxAttribute Float(string name, float v) => new() { Name = name, Type = OnnxAttributeType.Float, F = v };

    public static OnnxAttribute String(string name, string v) => new() { Name = name, Type = OnnxAttributeType.String, S = System.Text.Encoding.UTF8.GetBytes(v) };

    public static OnnxAttribute IntList(string name, params long[] v)
    {
        var a = new OnnxAttribute { Name = name, Type = OnnxAttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }
}

/// <summary>An ONNX <c>TensorProto</c>: dims, element type and data in <c>raw_data</c> or a typed field.</summary>
public sealed class OnnxTensor
{
    /// <summary>Elements a tensor may declare: 2^31 − 1 (protobuf messages are under 2 GB anyway).</summary>
    public const long MaxElements = int.MaxValue;

    public string Name { get; set; } = "";
    public OnnxDataType DataType { get; set; }
    public List<long> Dims { get; } = [];
    public byte[]? RawData { get; set; }
    public List<float> FloatData { get; } = [];
    public List<int> Int32Data { get; } = [];
    public List<long> Int64Data { get; } = [];
    public List<double> DoubleData { get; } = [];

    /// <summary>True when the data lives in another file (external_data): not supported.</summary>
    public bool IsExternal { get; set; }

    /// <summary>Number of elements the dims describe (1 for a scalar); throws for negative or absurd dims.</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Dims)
            {
                if (d < 0) throw new WeightFormatException($"The ONNX tensor '{Name}' has a negative dimension.");
                n *= d;
                if (n > MaxElements) throw new WeightFormatException($"The ONNX tensor '{Name}' declares more than {MaxElements} elements.");
            }
            return n;
        }
    }

    /// <summary>The data as float32 (float, double and integer tensors are converted); checks the count against the dims.</summary>
    public float[] ToFloats()
    {
        long n = ElementCount;
        if (IsExternal) throw new WeightFormatException($"The ONNX tensor '{Name}' keeps its data in an external file, which is not supported.");
        var result = new float[CheckCount(n)];
        if (RawData is { } raw)
        {
            int size = ElementSize(DataType);
            if ((long)raw.Length != n * size)
                throw new WeightFormatException($"The ONNX tensor '{Name}' has {raw.Length} bytes of data for {n} elements of {DataType}.");
            for (int i = 0; i < n; i++)
            {
                var b = raw.AsSpan(i * size, size);
                result[i] = DataType switch
                {
                    OnnxDataType.Float => BinaryPrimitives.ReadSingleLittleEndian(b),
                    OnnxDataType.Double => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
                    OnnxDataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(b),
                    OnnxDataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(b),
                    OnnxDataType.Float16 => (float)BinaryPrimitives.ReadHalfLittleEndian(b),
                    OnnxDataType.UInt8 or OnnxDataType.Bool => b[0],
                    OnnxDataType.Int8 => (sbyte)b[0],
                    _ => throw Unsupported(),
                };
            }
            return result;
        }
        switch (DataType)
        {
            case OnnxDataType.Float: Copy(FloatData, result, v => v); break;
            case OnnxDataType.Double: Copy(DoubleData, result, v => (float)v); break;
            case OnnxDataType.Int64: Copy(Int64Data, result, v => v); break;
            case OnnxDataType.Int32 or OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Bool or OnnxDataType.Int16 or OnnxDataType.UInt16:
                Copy(Int32Data, result, v => v); break;
            case OnnxDataType.Float16: Copy(Int32Data, result, v => (float)BitConverter.UInt16BitsToHalf((ushort)v)); break;
            default: throw Unsupported();
        }
        return result;
    }

    /// <summary>The data as int64 (for shapes, pads and indices); float data is truncated.</summary>
    public long[] ToInt64s()
    {
        long n = ElementCount;
        if (DataType == OnnxDataType.Int64 && RawData is null)
        {
            if (Int64Data.Count != n) throw CountMismatch(Int64Data.Count, n);
            return [.. Int64Data];
        }
        if (DataType == OnnxDataType.Int64 && RawData is { } raw)
        {
            if (raw.Length != n * 8) throw new WeightFormatException($"The ONNX tensor '{Name}' has {raw.Length} bytes of data for {n} int64 elements.");
            var r = new long[n];
            for (int i = 0; i < n; i++) r[i] = BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(i * 8));
            return r;
        }
        return ToFloats().Select(f => float.IsFinite(f) ? (long)f : 0).ToArray();
    }

    private void Copy<T>(List<T> source, float[] into, Func<T, float> convert)
    {
        if (source.Count != into.Length) throw CountMismatch(source.Count, into.Length);
        for (int i = 0; i < into.Length; i++) into[i] = convert(source[i]);
    }

    private int CheckCount(long n)
    {
        long available = RawData?.LongLength ?? Math.Max(Math.Max(FloatData.Count, Int32Data.Count), Math.Max(Int64Data.Count, DoubleData.Count));
        // Never allocate for elements that the file does not hold: a 4-byte dims field can declare billions.
        if (RawData is null && n > available) throw CountMismatch(available, n);
        if (RawData is not null && n > available) throw new WeightFormatException($"The ONNX tensor '{Name}' has {available} bytes of data for {n} elements.");
        return (int)n;
    }

    private WeightFormatException CountMismatch(long have, long want)
        => new($"The ONNX tensor '{Name}' holds {have} values but its dims [{string.Join(",", Dims)}] need {want}.");

    private WeightFormatException Unsupported() => new($"The ONNX tensor '{Name}' has element type {DataType}, which is not supported.");

    private static int ElementSize(OnnxDataType t) => t switch
    {
        OnnxDataType.Float or OnnxDataType.Int32 or OnnxDataType.UInt32 => 4,
        OnnxDataType.Double or OnnxDataType.Int64 or OnnxDataType.UInt64 => 8,
        OnnxDataType.Float16 or OnnxDataType.Int16 or OnnxDataType.UInt16 => 2,
        OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Bool => 1,
        _ => 1,
    };

    /// <summary>A float tensor stored as raw little-endian bytes (how exporters write weights).</summary>
    public static OnnxTensor FromFloats(string name, ReadOnlySpan<float> data, params long[] dims)
    {
        var raw = new byte[data.Length * 4];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), data[i]);
        var t = new OnnxTensor { Name = name, DataType = OnnxDataType.Float, RawData = raw };
        t.Dims.AddRange(dims);
        return t;
    }

    /// <summary>An int64 tensor (pads, shapes).</summary>
    public static OnnxTensor FromInt64s(string name, long[] data, params long[] dims)
    {
        var t = new OnnxTensor { Name = name, DataType = OnnxDataType.Int64 };
        t.Int64Data.AddRange(data);
        t.Dims.AddRange(dims);
        return t;
    }
}

/// <summary>An ONNX <c>ValueInfoProto</c> of a tensor: name, element type and shape (a dim is a number or a name).</summary>
public sealed class OnnxValueInfo
{
    public string Name { get; set; } = "";
    public OnnxDataType ElementType { get; set; }

    /// <summary>The shape (null: unknown rank); each dim has a value, a symbolic name, or neither.</summary>
    public List<(long? Value, string? Param)>? Shape { get; set; }
}
