using NeuralStyle.IO;
using NeuralStyle.Weights.Protobuf;

namespace NeuralStyle.Weights.Onnx;

/// <summary>
/// Reads and writes ONNX model files (protobuf <c>ModelProto</c>) with a minimal reader of our own: only the messages
/// a weights reader needs are decoded, unknown fields and subgraphs are skipped. A corrupt, truncated or hostile file
/// ends in a <see cref="WeightFormatException"/> with one sentence, after work and memory bounded by its size.
/// </summary>
public static class OnnxFile
{
    /// <summary>Files larger than this are refused (protobuf itself stops at 2 GB).</summary>
    public const long MaxFileBytes = int.MaxValue;

    public static OnnxModel Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] data;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new WeightFormatException($"The ONNX file '{path}' does not exist.");
            if (info.Length > MaxFileBytes) throw new WeightFormatException($"The ONNX file '{path}' is larger than 2 GB, which ONNX without external data cannot be.");
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WeightFormatException($"The ONNX file '{path}' cannot be read ({e.Message}).", e);
        }
        return Parse(data);
    }

    /// <summary>Decodes a <c>ModelProto</c>. Throws <see cref="WeightFormatException"/> for anything that is not one.</summary>
    public static OnnxModel Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0) throw new WeightFormatException("The ONNX file is empty.");
        var model = new OnnxModel { IrVersion = 0 };
        bool sawGraph = false;
        var r = new ProtoReader(data);
        while (!r.AtEnd)
        {
            (int field, int wire) = r.ReadTag();
            switch (field)
            {
                case 1: ProtoReader.Expect(wire, 0, "ir_version"); model.IrVersion = r.ReadInt64(); break;
                case 2: ProtoReader.Expect(wire, 2, "producer_name"); model.ProducerName = r.ReadString(); break;
                case 3: ProtoReader.Expect(wire, 2, "producer_version"); model.ProducerVersion = r.ReadString(); break;
                case 6: ProtoReader.Expect(wire, 2, "doc_string"); model.DocString = r.ReadString(); break;
                case 7: ProtoReader.Expect(wire, 2, "graph"); model.Graph = ParseGraph(r.ReadBytes()); sawGraph = true; break;
                case 8: ProtoReader.Expect(wire, 2, "opset_import"); model.OpsetImports.Add(ParseOpset(r.ReadBytes())); break;
                default: r.Skip(wire); break;
            }
        }
        if (!sawGraph || model.IrVersion <= 0)
            throw new WeightFormatException("The file is not an ONNX model (it has no graph or no IR version).");
        return model;
    }

    private static (string, long) ParseOpset(ReadOnlySpan<byte> data)
    {
        string domain = "";
        long version = 0;
        var r = new ProtoReader(data);
        while (!r.AtEnd)
        {
            (int field, int wire) = r.ReadTag();
            if (field == 1) { ProtoReader.Expect(wire, 2, "opset domain"); domain = r.ReadString(); }
            else if (field == 2) { ProtoReader.Expect(wire, 0, "opset version"); version = r.ReadInt64(); }
            else r.Skip(wire);
        }
        return (domain, version);
    }

    private static OnnxGraph ParseGraph(ReadOnlySpan<byte> data)
    {
        var g = new OnnxGraph();
        var r = new ProtoReader(data);
        while (!r.AtEnd)
        {
            (int field, int wire) = r.ReadTag();
            switch (field)
            {
                case 1: ProtoReader.Expect(wire, 2, "node"); g.Nodes.Add(ParseNode(r.ReadBytes())); break;
                case 2: ProtoReader.Expect(wire, 2, "graph name"); g.Name = r.ReadString(); break;
                case 5: ProtoReader.Expect(wire, 2, "initializer"); g.Initializers.Add(ParseTensor(r.ReadBytes())); break;
                case 11: ProtoReader.Expect(wire, 2, "input"); g.Inputs.Add(ParseValueInfo(r.ReadBytes())); break;
                case 12: ProtoReader.Expect(wire, 2, "output"); g.Outputs.Add(ParseValueInfo(r.ReadBytes())); break;
                case 13: ProtoReader.Expect(wire, 2, "value_info"); g.ValueInfo.Add(ParseValueInfo(r.ReadBytes())); break;
                default: r.Skip(wire); break;
            }
        }
        return g;
    }

    private static OnnxNode ParseNode(ReadOnlySpan<byte> data)
    {
        var n = new OnnxNode();
        var r = new ProtoReader(data);
        while (!r.AtEnd)
        {
            (int field, int wire) = r.ReadTag();
            switch (field)
            {
                case 1: ProtoReader.Expect(wire, 2, "node input"); n.Inputs.Add(r.ReadString()); break;
                case 2: ProtoReader.Expect(wire, 2, "node output"); n.Outputs.Add(r.ReadString()); break;
                case 3: ProtoReader.Expect(wire, 2, "node name"); n.Name = r.ReadString(); break;
                case 4: ProtoReader.Expect(wire, 2, "op_type"); n.OpType = r.ReadString(); break;
                case 5: ProtoReader.Expect(wire, 2, "attribute"); n.Attributes.Add(ParseAttribute(r.ReadBytes())); break;
                case 7: ProtoReader.Expect(wire, 2, "node domain"); n.Domain = r.ReadString(); break;
                default: r.Skip(wire); break;
            }
        }
        return n;
    }

    private static OnnxAttribute ParseAttribute(ReadOnlySpan<byte> data)
    {
        var a = new OnnxAttribute();
        var r = new ProtoReader(data);
        while (!r.AtEnd)
        {
            (int field, int wire) = r.ReadTag();
            switch (field)
            {
                case 1: ProtoReader.Expect(wire, 2, "attribute name"); a.Name = r.ReadString(); break;
                case 20: ProtoReader.Expect(wire, 0, "attribute type"); a.Type = (OnnxAttributeType)r.ReadInt32(); break;
                case 2: ProtoReader.Expect(wire, 5, "attribute f"); a.F = r.ReadFixed32Float(); break;
                case 3: ProtoReader.Expect(wire, 0, "attribute i"); a.I = r.ReadInt64(); break;
                case 4: ProtoReader.Expect(wire, 2, "attribute s"); a.S = r.ReadBytes().ToArray(); break;
                case 5: ProtoReader.Expect(wire, 2, "attribute t"); a.T = ParseTensor(r.ReadBytes()); break;
                case 7: r.ReadFloats(wire, a.Floats); break;
                case 8: r.ReadInt64s(wire, a.Ints); break;
                case 9: ProtoReader.Expect(wire, 2, "attribute strings"); a.Strings.Add(r.ReadBytes().ToArray()); break;
                default: r.Skip(wire); break; // subgraphs (g, graphs) and tensors lists are never needed
            }
        }
        return a;
    }

    private static OnnxTensor ParseTensor(ReadOnlySpan<byte> data)
    {
        var t = new OnnxTensor();
        var r = new ProtoReader(data);
        while (!r.AtEnd)
        {
            (int field, int wire) = r.ReadTag();
            switch (field)
            {
                case 1: r.ReadInt64s(wire, t.Dims); break;
                case 2: ProtoReader.Expect(wire, 0, "tensor data_type"); t.DataType = (OnnxDataType)r.ReadInt32(); break;
                case 4: r.ReadFloats(wire, t.FloatData); break;
                case 5: r.ReadInt32s(wire, t.Int32Data); break;
                case 7: r.ReadInt64s(wire, t.Int64Data); break;
                case 8: ProtoReader.Expect(wire, 2, "tensor name"); t.Name = r.ReadString(); break;
                case 9: ProtoReader.Expect(wire, 2, "raw_data"); t.RawData = r.ReadBytes().ToArray(); break;
                case 10: r.ReadDoubles(wire, t.DoubleData); break;
                case 13: r.Skip(wire); t.IsExternal = true; break;
                case 14:
                    ProtoReader.Expect(wire, 0, "data_location");
                    if (r.ReadInt64() == 1) t.IsExternal = true;
                    break;
                default: r.Skip(wire); break;
            }
        }
        if (t.Dims.Count > 16) throw ProtoReader.Corrupt($"the tensor '{t.Name}' has {t.Dims.Count} dimensions");
        return t;
    }

    private static OnnxValueInfo ParseValueInfo(ReadOnlySpan<byte> data)
    {
        var v = new OnnxValueInfo();
        var r = new ProtoReader(data);
        while (!r.AtEnd)
        {
            (int field, int wire) = r.ReadTag();
            if (field == 1) { ProtoReader.Expect(wire, 2, "value name"); v.Name = r.ReadString(); }
            else if (field == 2) { ProtoReader.Expect(wire, 2, "value type"); ParseType(r.ReadBytes(), v); }
            else r.Skip(wire);
        }
        return v;
    }

    private static void ParseType(ReadOnlySpan<byte> data, OnnxValueInfo v)
    {
        var r = new ProtoReader(data);
        while (!r.AtEnd)
        {
            (int field, int wire) = r.ReadTag();
            if (field != 1) { r.Skip(wire); continue; }
            ProtoReader.Expect(wire, 2, "tensor_type");
            var tt = new ProtoReader(r.ReadBytes());
            while (!tt.AtEnd)
            {
                (int f2, int w2) = tt.ReadTag();
                if (f2 == 1) { ProtoReader.Expect(w2, 0, "elem_type"); v.ElementType = (OnnxDataType)tt.ReadInt32(); }
                else if (f2 == 2)
                {
                    ProtoReader.Expect(w2, 2, "shape");
                    v.Shape = [];
                    var shape = new ProtoReader(tt.ReadBytes());
                    while (!shape.AtEnd)
                    {
                        (int f3, int w3) = shape.ReadTag();
                        if (f3 != 1) { shape.Skip(w3); continue; }
                        ProtoReader.Expect(w3, 2, "dim");
                        long? value = null;
                        string? param = null;
                        var dim = new ProtoReader(shape.ReadBytes());
                        while (!dim.AtEnd)
                        {
                            (int f4, int w4) = dim.ReadTag();
                            if (f4 == 1) { ProtoReader.Expect(w4, 0, "dim_value"); value = dim.ReadInt64(); }
                            else if (f4 == 2) { ProtoReader.Expect(w4, 2, "dim_param"); param = dim.ReadString(); }
                            else dim.Skip(w4);
                        }
                        v.Shape.Add((value, param));
                    }
                }
                else tt.Skip(w2);
            }
        }
    }

    // ---- writing ------------------------------------------------------------------------------------------------

    /// <summary>Writes the model atomically (temporary file, then rename).</summary>
    public static void Write(string path, OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = Serialize(model);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    public static byte[] Serialize(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var w = new ProtoWriter();
        w.Int64(1, model.IrVersion);
        if (model.ProducerName.Length > 0) w.String(2, model.ProducerName);
        if (model.ProducerVersion.Length > 0) w.String(3, model.ProducerVersion);
        if (model.DocString.Length > 0) w.String(6, model.DocString);
        w.Message(7, gw => WriteGraph(gw, model.Graph));
        foreach ((string domain, long version) in model.OpsetImports)
            w.Message(8, ow => { if (domain.Length > 0) ow.String(1, domain); ow.Int64(2, version); });
        return w.ToArray();
    }

    private static void WriteGraph(ProtoWriter w, OnnxGraph g)
    {
        foreach (OnnxNode n in g.Nodes) w.Message(1, nw => WriteNode(nw, n));
        w.String(2, g.Name);
        foreach (OnnxTensor t in g.Initializers) w.Message(5, tw => WriteTensor(tw, t));
        foreach (OnnxValueInfo v in g.Inputs) w.Message(11, vw => WriteValueInfo(vw, v));
        foreach (OnnxValueInfo v in g.Outputs) w.Message(12, vw => WriteValueInfo(vw, v));
        foreach (OnnxValueInfo v in g.ValueInfo) w.Message(13, vw => WriteValueInfo(vw, v));
    }

    private static void WriteNode(ProtoWriter w, OnnxNode n)
    {
        foreach (string i in n.Inputs) w.String(1, i);
        foreach (string o in n.Outputs) w.String(2, o);
        if (n.Name.Length > 0) w.String(3, n.Name);
        w.String(4, n.OpType);
        foreach (OnnxAttribute a in n.Attributes) w.Message(5, aw => WriteAttribute(aw, a));
        if (n.Domain.Length > 0) w.String(7, n.Domain);
    }

    private static void WriteAttribute(ProtoWriter w, OnnxAttribute a)
    {
        w.String(1, a.Name);
        switch (a.Type)
        {
            case OnnxAttributeType.Float: w.Float(2, a.F); break;
            case OnnxAttributeType.Int: w.Int64(3, a.I); break;
            case OnnxAttributeType.String: w.Bytes(4, a.S); break;
            case OnnxAttributeType.Tensor when a.T is not null: w.Message(5, tw => WriteTensor(tw, a.T)); break;
            case OnnxAttributeType.Floats: w.PackedFloats(7, a.Floats); break;
            case OnnxAttributeType.Ints: w.PackedInt64s(8, a.Ints); break;
            case OnnxAttributeType.Strings: foreach (byte[] s in a.Strings) w.Bytes(9, s); break;
            default: throw new ArgumentException($"The attribute '{a.Name}' of type {a.Type} cannot be written.", nameof(a));
        }
        w.Int64(20, (long)a.Type);
    }

    private static void WriteTensor(ProtoWriter w, OnnxTensor t)
    {
        w.PackedInt64s(1, t.Dims);
        w.Int64(2, (long)t.DataType);
        w.PackedFloats(4, t.FloatData);
        w.PackedInt64s(7, t.Int64Data);
        if (t.Name.Length > 0) w.String(8, t.Name);
        if (t.RawData is not null) w.Bytes(9, t.RawData);
    }

    private static void WriteValueInfo(ProtoWriter w, OnnxValueInfo v)
    {
        w.String(1, v.Name);
        w.Message(2, tw => tw.Message(1, tensor =>
        {
            tensor.Int64(1, (long)v.ElementType);
            if (v.Shape is null) return;
            tensor.Message(2, shape =>
            {
                foreach ((long? value, string? param) in v.Shape)
                    shape.Message(1, dim =>
                    {
                        if (value is { } x) dim.Int64(1, x);
                        else if (param is not null) dim.String(2, param);
                    });
            });
        }));
    }
}
