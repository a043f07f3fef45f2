using System.Globalization;
using NeuralStyle.Weights;
using NeuralStyle.Weights.Onnx;

namespace NeuralStyle.Models.Johnson;

/// <summary>
/// ONNX files of a <see cref="TransformerNet"/>. <see cref="Read(string)"/> walks the graph (Conv, reflect Pad,
/// InstanceNormalization, Relu, Add, Upsample/Resize, with the shape arithmetic exporters put around them folded to
/// constants) and matches it against the network's structure, so the weights are found by position, never by
/// initializer name (the ONNX model zoo's files name them arbitrarily). The file's input shape is ignored: the
/// network runs on our engine at any size. <see cref="Write"/> writes opset 11 with dynamic height and width.
/// </summary>
public static class TransformerNetOnnx
{
    public const string InputName = "input1", OutputName = "output1";

    /// <summary>Reads an ONNX TransformerNet. A corrupt file throws <see cref="WeightFormatException"/>; a valid ONNX
    /// file of another network throws <see cref="ModelWeightsException"/>; both with one sentence.</summary>
    public static TransformerNet Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return FromModel(OnnxFile.Read(path), $"'{Path.GetFileName(path)}'");
    }

    /// <summary>The network held by a parsed ONNX model.</summary>
    public static TransformerNet FromModel(OnnxModel model, string source = "the ONNX file")
    {
        ArgumentNullException.ThrowIfNull(model);
        var tracer = new Tracer(model, source);
        List<Step> actual = tracer.Run();
        List<Step> expected = ExpectedTrace();
        string? mismatch = Compare(actual, expected);
        if (mismatch is not null)
            throw new ModelWeightsException($"{source} is an ONNX model but not a fast style-transfer network (TransformerNet): {mismatch}.");

        // Positions in the trace give the state-dict names: the k-th conv is the k-th conv of Layout, likewise norms.
        var convNames = new List<string>();
        var normNames = new List<string>();
        CollectNames(convNames, normNames);
        var dict = new Dictionary<string, WeightTensor>(StringComparer.Ordinal);
        int c = 0, n = 0;
        foreach (Step s in actual)
        {
            if (s.Kind == "conv")
            {
                string name = convNames[c++];
                dict[$"{name}.conv2d.weight"] = s.Weights[0].ToWeight($"{name}.conv2d.weight");
                dict[$"{name}.conv2d.bias"] = s.Weights[1].ToWeight($"{name}.conv2d.bias");
            }
            else if (s.Kind == "norm")
            {
                string name = normNames[n++];
                dict[$"{name}.weight"] = s.Weights[0].ToWeight($"{name}.weight");
                dict[$"{name}.bias"] = s.Weights[1].ToWeight($"{name}.bias");
            }
        }
        return TransformerNet.FromStateDict(dict, source);
    }

    /// <summary>Writes the network as an ONNX file (atomically): opset 11, input <c>input1</c> float [1,3,H,W] RGB
    /// 0–255 with H and W dynamic, output <c>output1</c> (sides rounded up to a multiple of 4, as the network does).</summary>
    public static void Write(string path, TransformerNet net)
    {
        ArgumentNullException.ThrowIfNull(path);
        OnnxFile.Write(path, ToModel(net));
    }

    /// <summary>The ONNX model of <paramref name="net"/> (see <see cref="Write"/>).</summary>
    public static OnnxModel ToModel(TransformerNet net)
    {
        ArgumentNullException.ThrowIfNull(net);
        var model = new OnnxModel { IrVersion = 6, ProducerName = "NeuralStyle", ProducerVersion = "1", DocString = $"Johnson TransformerNet ({net.Architecture.Name}), RGB 0-255 in and out" };
        model.OpsetImports.Add(("", 11));
        OnnxGraph g = model.Graph;
        g.Name = "TransformerNet";
        foreach (var p in net.Parameters) g.Initializers.Add(OnnxTensor.FromFloats(p.Name, p.Data, p.Shape.Select(d => (long)d).ToArray()));
        g.Initializers.Add(OnnxTensor.FromInt64s("pads_4", [0, 0, 4, 4, 0, 0, 4, 4], 8));
        g.Initializers.Add(OnnxTensor.FromInt64s("pads_1", [0, 0, 1, 1, 0, 0, 1, 1], 8));
        g.Initializers.Add(OnnxTensor.FromFloats("roi_empty", [], 0));
        g.Initializers.Add(OnnxTensor.FromFloats("scales_2", [1, 1, 2, 2], 4));
        g.Inputs.Add(new OnnxValueInfo { Name = InputName, ElementType = OnnxDataType.Float, Shape = [(1, null), (3, null), (null, "height"), (null, "width")] });
        g.Outputs.Add(new OnnxValueInfo { Name = OutputName, ElementType = OnnxDataType.Float, Shape = [(1, null), (3, null), (null, "out_height"), (null, "out_width")] });

        int counter = 0;
        string Node(string op, string[] inputs, string? output = null, params OnnxAttribute[] attributes)
        {
            var node = new OnnxNode { OpType = op, Name = $"{op}_{counter}" };
            node.Inputs.AddRange(inputs);
            node.Outputs.Add(output ?? $"t{counter}");
            node.Attributes.AddRange(attributes);
            counter++;
            g.Nodes.Add(node);
            return node.Outputs[0];
        }
        string Conv(string x, string name, int stride, string? output = null)
        {
            int k = net.Parameters[$"{name}.conv2d.weight"].Shape[2];
            string padded = Node("Pad", [x, k == 9 ? "pads_4" : "pads_1"], null, OnnxAttribute.String("mode", "reflect"));
            return Node("Conv", [padded, $"{name}.conv2d.weight", $"{name}.conv2d.bias"], output,
                OnnxAttribute.IntList("kernel_shape", k, k), OnnxAttribute.IntList("strides", stride, stride), OnnxAttribute.IntList("pads", 0, 0, 0, 0));
        }
        string Norm(string x, string name, bool relu)
        {
            string y = Node("InstanceNormalization", [x, $"{name}.weight", $"{name}.bias"], null, OnnxAttribute.Float("epsilon", 1e-5f));
            return relu ? Node("Relu", [y]) : y;
        }
        string Up(string x) => Node("Resize", [x, "roi_empty", "scales_2"], null, OnnxAttribute.String("mode", "nearest"),
            OnnxAttribute.String("coordinate_transformation_mode", "asymmetric"), OnnxAttribute.String("nearest_mode", "floor"));

        string y = Norm(Conv(InputName, "conv1", 1), "in1", true);
        y = Norm(Conv(y, "conv2", 2), "in2", true);
        y = Norm(Conv(y, "conv3", 2), "in3", true);
        for (int r = 1; r <= 5; r++)
        {
            string h = Norm(Conv(y, $"res{r}.conv1", 1), $"res{r}.in1", true);
            h = Norm(Conv(h, $"res{r}.conv2", 1), $"res{r}.in2", false);
            y = Node("Add", [h, y]);
        }
        y = Norm(Conv(Up(y), "deconv1", 1), "in4", true);
        y = Norm(Conv(Up(y), "deconv2", 1), "in5", true);
        Conv(y, "deconv3", 1, OutputName);
        return model;
    }

    // ---- structure -----------------------------------------------------------------------------------------------

    /// <summary>One layer of the traced network: kind, parameters (kernel, stride), operand ids and weights.</summary>
    private sealed record Step(string Kind, int Output, int[] Inputs, int Kernel = 0, int Stride = 0)
    {
        public Const[] Weights { get; init; } = [];

        public string Describe() => Kind switch
        {
            "conv" => $"a {Kernel}×{Kernel} convolution with stride {Stride}",
            "norm" => "an instance normalisation",
            "relu" => "a ReLU",
            "add" => "an addition",
            "up" => "a ×2 nearest upsampling",
            _ => Kind,
        };
    }

    private static List<Step> ExpectedTrace()
    {
        var steps = new List<Step>();
        int next = 1;
        int Add(string kind, int[] inputs, int k = 0, int s = 0)
        {
            steps.Add(new Step(kind, next, inputs, k, s));
            return next++;
        }
        int ConvNorm(int x, int k, int s, bool relu)
        {
            int y = Add("norm", [Add("conv", [x], k, s)]);
            return relu ? Add("relu", [y]) : y;
        }
        int v = ConvNorm(0, 9, 1, true);
        v = ConvNorm(v, 3, 2, true);
        v = ConvNorm(v, 3, 2, true);
        for (int r = 0; r < 5; r++)
        {
            int h = ConvNorm(ConvNorm(v, 3, 1, true), 3, 1, false);
            v = Add("add", [Math.Min(h, v), Math.Max(h, v)]);
        }
        v = ConvNorm(Add("up", [v]), 3, 1, true);
        v = ConvNorm(Add("up", [v]), 3, 1, true);
        Add("conv", [v], 9, 1);
        return steps;
    }

    private static void CollectNames(List<string> convs, List<string> norms)
    {
        foreach ((string name, _) in TransformerNet.Layout(TransformerArchitecture.Johnson))
        {
            if (name.EndsWith(".conv2d.weight", StringComparison.Ordinal)) convs.Add(name[..^".conv2d.weight".Length]);
            else if (name.EndsWith(".weight", StringComparison.Ordinal)) norms.Add(name[..^".weight".Length]);
        }
    }

    private static string? Compare(List<Step> actual, List<Step> expected)
    {
        for (int i = 0; i < Math.Min(actual.Count, expected.Count); i++)
        {
            Step a = actual[i], e = expected[i];
            if (a.Kind != e.Kind || a.Kernel != e.Kernel || a.Stride != e.Stride)
                return $"layer {i + 1} is {a.Describe()} where the network has {e.Describe()}";
            if (!a.Inputs.AsSpan().SequenceEqual(e.Inputs))
                return $"layer {i + 1} ({a.Describe()}) is connected differently";
        }
        if (actual.Count != expected.Count)
            return $"it has {actual.Count} layers, the network {expected.Count}";
        return null;
    }

    /// <summary>A constant tensor of the graph (initializer, Constant node or folded shape arithmetic).</summary>
    private sealed record Const(long[] Shape, double[] Data)
    {
        public float[]? Floats { get; init; }

        public long Count => Data.LongLength;

        public WeightTensor ToWeight(string name)
            => new(name, Shape.Select(d => (int)d).ToArray(), Floats ?? Data.Select(v => (float)v).ToArray());

        public static Const Scalar(double v) => new([], [v]);

        public static Const Vector(params double[] v) => new([v.Length], v);
    }

    /// <summary>An activation of the network: an id in the trace, its shape at the nominal input size, and a pending
    /// reflection pad (Pad nodes are folded into the convolution that follows).</summary>
    private sealed record Activation(int Id, long[] Shape, long[]? Pads = null);

    /// <summary>Walks the graph once in its (topological) node order.</summary>
    private sealed class Tracer(OnnxModel model, string source)
    {
        private readonly Dictionary<string, object> _values = new(StringComparer.Ordinal);
        private readonly List<Step> _steps = [];
        private int _next = 1;

        public List<Step> Run()
        {
            OnnxGraph g = model.Graph;
            foreach (OnnxTensor t in g.Initializers) _values[t.Name] = FromTensor(t);
            OnnxValueInfo? input = g.Inputs.FirstOrDefault(i => !_values.ContainsKey(i.Name));
            if (input is null) throw Refuse("it has no image input");
            // Shape arithmetic is folded at a nominal size: the declared one when fixed, else 256×256.
            long[] shape = [1, 3, 256, 256];
            if (input.Shape is { Count: 4 } s)
                for (int i = 0; i < 4; i++) if (s[i].Value is > 0 and < 1 << 20 and var v) shape[i] = v;
            if (shape[1] != 3) throw Refuse($"its input has {shape[1]} channels, not 3 (RGB)");
            _values[input.Name] = new Activation(0, shape);
            if (g.Nodes.Count > 100_000) throw Refuse("it has more than 100,000 nodes");
            foreach (OnnxNode node in g.Nodes) Apply(node);
            if (g.Outputs.Count == 0 || !_values.TryGetValue(g.Outputs[0].Name, out object? output) || output is not Activation)
                throw Refuse("its output is not computed from its input");
            return _steps;
        }

        private ModelWeightsException Refuse(string why) => new($"{source} is an ONNX model but not a fast style-transfer network (TransformerNet): {why}.");

        private static Const FromTensor(OnnxTensor t)
        {
            float[] f = t.ToFloats();
            double[] d = new double[f.Length];
            for (int i = 0; i < f.Length; i++) d[i] = f[i];
            if (t.DataType == OnnxDataType.Int64) { long[] l = t.ToInt64s(); for (int i = 0; i < l.Length; i++) d[i] = l[i]; }
            return new Const([.. t.Dims], d) { Floats = t.DataType == OnnxDataType.Float ? f : null };
        }

        private object In(OnnxNode node, int i)
        {
            if (i >= node.Inputs.Count || node.Inputs[i].Length == 0) throw Refuse($"its {node.OpType} node '{node.Name}' lacks input {i + 1}");
            return _values.TryGetValue(node.Inputs[i], out object? v) ? v : throw Refuse($"its {node.OpType} node '{node.Name}' reads '{node.Inputs[i]}', which is computed nowhere before it");
        }

        private Const? OptionalConst(OnnxNode node, int i)
            => i < node.Inputs.Count && node.Inputs[i].Length > 0 ? ConstIn(node, i) : null;

        private Const ConstIn(OnnxNode node, int i)
            => In(node, i) as Const ?? throw Refuse($"its {node.OpType} node '{node.Name}' takes an image where a constant belongs");

        private Activation ImageIn(OnnxNode node, int i)
            => In(node, i) as Activation ?? throw Refuse($"its {node.OpType} node '{node.Name}' does not work on the image");

        private void Set(OnnxNode node, object value)
        {
            if (node.Outputs.Count == 0) throw Refuse($"its {node.OpType} node '{node.Name}' has no output");
            _values[node.Outputs[0]] = value;
        }

        private Activation NewActivation(string kind, int[] inputs, long[] shape, int k = 0, int s = 0, Const[]? weights = null)
        {
            if (_steps.Count > 1000) throw Refuse("it has far more layers than a TransformerNet");
            var step = new Step(kind, _next++, inputs, k, s) { Weights = weights ?? [] };
            _steps.Add(step);
            return new Activation(step.Output, shape);
        }

        private void Apply(OnnxNode node)
        {
            if (node.Domain is not ("" or "ai.onnx")) throw Refuse($"it uses the operator {node.Domain}.{node.OpType}");
            bool image = node.Inputs.Any(n => n.Length > 0 && _values.TryGetValue(n, out object? v) && v is Activation);
            switch (node.OpType)
            {
                case "Pad" when image:
                {
                    Activation x = ImageIn(node, 0);
                    string mode = node.Attribute("mode")?.StringValue ?? "constant";
                    if (mode != "reflect") throw Refuse($"it pads with mode '{mode}' where the network reflects");
                    long[] pads = node.Attribute("pads")?.Ints.ToArray() ?? ConstIn(node, 1).Data.Select(v => (long)v).ToArray();
                    if (pads.Length != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 || pads.Any(p => p is < 0 or > 64))
                        throw Refuse("it pads something other than height and width");
                    if (x.Pads is not null) throw Refuse("it pads twice in a row");
                    Set(node, x with { Shape = [x.Shape[0], x.Shape[1], x.Shape[2] + pads[2] + pads[6], x.Shape[3] + pads[3] + pads[7]], Pads = pads });
                    break;
                }
                case "Conv":
                {
                    Activation x = ImageIn(node, 0);
                    Const w = ConstIn(node, 1);
                    Const b = OptionalConst(node, 2) ?? throw Refuse($"its convolution '{node.Name}' has no bias");
                    if (w.Shape.Length != 4 || w.Shape[2] != w.Shape[3]) throw Refuse($"its convolution '{node.Name}' is not square");
                    int k = (int)w.Shape[2];
                    long stride = node.Attribute("strides")?.Ints.FirstOrDefault(1) ?? 1;
                    if (node.Attribute("strides") is { } st && st.Ints.Any(v => v != stride)) throw Refuse("it has a convolution with unequal strides");
                    if ((node.Attribute("group")?.I ?? 1) != 1 || node.Attribute("dilations") is { } dl && dl.Ints.Any(v => v != 1))
                        throw Refuse("it has a grouped or dilated convolution");
                    if (node.Attribute("pads") is { } own && own.Ints.Any(p => p != 0) || node.Attribute("auto_pad") is { } ap && ap.StringValue is not ("" or "NOTSET" or "VALID"))
                        throw Refuse("it has a zero-padded convolution where the network pads by reflection");
                    long p = k / 2;
                    if (x.Pads is not { } pads || pads[2] != p || pads[3] != p || pads[6] != p || pads[7] != p)
                        throw Refuse($"its {k}×{k} convolution '{node.Name}' is not preceded by a reflection pad of {p}");
                    if (w.Shape[1] != x.Shape[1]) throw Refuse($"its convolution '{node.Name}' expects {w.Shape[1]} channels but gets {x.Shape[1]}");
                    if (stride is < 1 or > 8) throw Refuse($"its convolution '{node.Name}' has stride {stride}");
                    long h = (x.Shape[2] - k) / stride + 1, wd = (x.Shape[3] - k) / stride + 1;
                    Set(node, NewActivation("conv", [x.Id], [x.Shape[0], w.Shape[0], h, wd], k, (int)stride, [w, b]));
                    break;
                }
                case "InstanceNormalization":
                {
                    Activation x = ImageIn(node, 0);
                    float eps = node.Attribute("epsilon")?.F ?? 1e-5f;
                    if (Math.Abs(eps - 1e-5f) > 1e-9f) throw Refuse($"its instance normalisation uses epsilon {eps.ToString(CultureInfo.InvariantCulture)}, not 1e-5");
                    Set(node, NewActivation("norm", [x.Id], x.Shape, weights: [ConstIn(node, 1), ConstIn(node, 2)]));
                    break;
                }
                case "Relu":
                {
                    Activation x = ImageIn(node, 0);
                    Set(node, NewActivation("relu", [x.Id], x.Shape));
                    break;
                }
                case "Add" when image:
                {
                    if (In(node, 0) is not Activation a || In(node, 1) is not Activation b) throw Refuse("it adds a constant to the image");
                    Set(node, NewActivation("add", [Math.Min(a.Id, b.Id), Math.Max(a.Id, b.Id)], a.Shape));
                    break;
                }
                case "Upsample" or "Resize":
                {
                    Activation x = ImageIn(node, 0);
                    string mode = node.Attribute("mode")?.StringValue ?? "nearest";
                    if (mode != "nearest") throw Refuse($"it upsamples with mode '{mode}', not nearest");
                    if (node.Attribute("coordinate_transformation_mode")?.StringValue == "tf_crop_and_resize") throw Refuse("it crops while resizing");
                    double[] scales;
                    if (node.Attribute("scales") is { } sa) scales = sa.Floats.Select(f => (double)f).ToArray();
                    else if (node.OpType == "Upsample" || model.Opset == 10) scales = ConstIn(node, 1).Data;
                    else if (OptionalConst(node, 2) is { Count: > 0 } sc) scales = sc.Data;
                    else if (OptionalConst(node, 3) is { Count: 4 } sizes) scales = sizes.Data.Select((v, i) => v / x.Shape[i]).ToArray();
                    else throw Refuse("it resizes without scales or sizes");
                    if (scales.Length != 4 || scales[0] != 1 || scales[1] != 1 || scales[2] != 2 || scales[3] != 2)
                        throw Refuse($"it resizes by [{string.Join(",", scales.Select(v => v.ToString(CultureInfo.InvariantCulture)))}], not ×2");
                    Set(node, NewActivation("up", [x.Id], [x.Shape[0], x.Shape[1], x.Shape[2] * 2, x.Shape[3] * 2]));
                    break;
                }
                case "Identity" or "Dropout":
                    Set(node, In(node, 0));
                    break;
                case "Shape":
                    Set(node, In(node, 0) switch
                    {
                        Activation a => Const.Vector(a.Shape.Select(v => (double)v).ToArray()),
                        Const c => Const.Vector(c.Shape.Select(v => (double)v).ToArray()),
                        _ => throw new InvalidOperationException(),
                    });
                    break;
                default:
                    if (image) throw Refuse($"it applies {node.OpType} to the image");
                    Set(node, ConstantFolding.Evaluate(node, i => OptionalConst(node, i), Refuse));
                    break;
            }
        }
    }

    /// <summary>The shape arithmetic exporters emit (opset 9–13), evaluated on small constant tensors.</summary>
    private static class ConstantFolding
    {
        private const long MaxElements = 1 << 20;

        public static Const Evaluate(OnnxNode node, Func<int, Const?> input, Func<string, ModelWeightsException> refuse)
        {
            Const Need(int i) => input(i) ?? throw refuse($"its {node.OpType} node '{node.Name}' lacks input {i + 1}");
            long[] Ints(Const c) => c.Data.Select(v => (long)v).ToArray();
            switch (node.OpType)
            {
                case "Constant":
                {
                    OnnxAttribute? a = node.Attribute("value") ?? node.Attribute("value_float") ?? node.Attribute("value_int")
                        ?? node.Attribute("value_floats") ?? node.Attribute("value_ints");
                    if (a is null) throw refuse($"its Constant node '{node.Name}' has no value");
                    return a.Name switch
                    {
                        "value" => a.T is { } t ? FromTensorSafe(t) : throw refuse($"its Constant node '{node.Name}' has no tensor"),
                        "value_float" => Const.Scalar(a.F),
                        "value_int" => Const.Scalar(a.I),
                        "value_floats" => Const.Vector(a.Floats.Select(f => (double)f).ToArray()),
                        _ => Const.Vector(a.Ints.Select(f => (double)f).ToArray()),
                    };
                }
                case "ConstantOfShape":
                {
                    long[] shape = Ints(Need(0));
                    long n = Checked(shape, refuse);
                    double fill = node.Attribute("value")?.T is { } t ? FromTensorSafe(t).Data.FirstOrDefault() : 0;
                    return new Const(shape, Enumerable.Repeat(fill, (int)n).ToArray());
                }
                case "Cast" or "Floor" or "Ceil" or "Neg" or "Sqrt":
                {
                    Const x = Need(0);
                    Func<double, double> f = node.OpType switch
                    {
                        "Floor" => Math.Floor,
                        "Ceil" => Math.Ceiling,
                        "Neg" => v => -v,
                        "Sqrt" => Math.Sqrt,
                        _ => (node.Attribute("to")?.I ?? 1) is 1 or 10 or 11 ? v => v : Math.Truncate,
                    };
                    return x with { Data = x.Data.Select(f).ToArray(), Floats = null };
                }
                case "Add" or "Sub" or "Mul" or "Div":
                {
                    Const a = Need(0), b = Need(1);
                    if (a.Count != b.Count && a.Count != 1 && b.Count != 1) throw refuse($"its {node.OpType} node '{node.Name}' broadcasts in a way this reader does not fold");
                    Const shapeOf = a.Count >= b.Count ? a : b;
                    int n = (int)Math.Max(a.Count, b.Count);
                    var r = new double[n];
                    for (int i = 0; i < n; i++)
                    {
                        double x = a.Data[a.Count == 1 ? 0 : i], y = b.Data[b.Count == 1 ? 0 : i];
                        r[i] = node.OpType switch { "Add" => x + y, "Sub" => x - y, "Mul" => x * y, _ => y == 0 ? 0 : x / y };
                    }
                    return new Const(shapeOf.Shape, r);
                }
                case "Unsqueeze" or "Squeeze" or "Reshape" or "Flatten":
                {
                    Const x = Need(0);
                    long[] shape = node.OpType == "Reshape" ? Ints(Need(1)) : x.Count == 1 && node.OpType == "Unsqueeze" ? [1] : [x.Count];
                    if (node.OpType == "Reshape")
                    {
                        int infer = Array.IndexOf(shape, -1);
                        for (int i = 0; i < shape.Length; i++) if (shape[i] == 0 && i < x.Shape.Length) shape[i] = x.Shape[i];
                        if (infer >= 0)
                        {
                            long known = shape.Where(v => v != -1).Aggregate(1L, (p, v) => p * Math.Max(v, 1));
                            shape[infer] = x.Count / Math.Max(known, 1);
                        }
                        if (Checked(shape, refuse) != x.Count) throw refuse($"its Reshape node '{node.Name}' changes the element count");
                    }
                    return x with { Shape = shape };
                }
                case "Concat":
                {
                    var parts = Enumerable.Range(0, node.Inputs.Count).Select(Need).ToList();
                    if (parts.Any(p => p.Shape.Length > 1)) throw refuse($"its Concat node '{node.Name}' joins tensors of rank above 1");
                    double[] data = parts.SelectMany(p => p.Data).ToArray();
                    if (data.Length > MaxElements) throw refuse("its shape arithmetic is too large");
                    return Const.Vector(data);
                }
                case "Gather":
                {
                    Const x = Need(0), idx = Need(1);
                    if (x.Shape.Length > 1) throw refuse($"its Gather node '{node.Name}' indexes a tensor of rank above 1");
                    var r = Ints(idx).Select(i => i < 0 ? i + x.Count : i).Select(i => i >= 0 && i < x.Count ? x.Data[i] : throw refuse($"its Gather node '{node.Name}' indexes out of range")).ToArray();
                    return new Const(idx.Shape, r);
                }
                case "Slice":
                {
                    Const x = Need(0);
                    long[] starts, ends, axes, steps;
                    if (node.Attribute("starts") is { } st)
                    {
                        starts = [.. st.Ints];
                        ends = [.. node.Attribute("ends")?.Ints ?? []];
                        axes = [.. node.Attribute("axes")?.Ints ?? []];
                        steps = [];
                    }
                    else
                    {
                        starts = Ints(Need(1));
                        ends = Ints(Need(2));
                        axes = input(3) is { } ax ? Ints(ax) : [];
                        steps = input(4) is { } sp ? Ints(sp) : [];
                    }
                    if (x.Shape.Length == 1) return SliceAxis(x.Data, x.Data.Length, 1, starts, ends, axes, steps, 0, refuse, node);
                    if (x.Shape.Length == 2) // the [k, 2] pads table of opset 11 exports: slice rows
                    {
                        int rows = (int)x.Shape[0], cols = (int)x.Shape[1];
                        Const r = SliceAxis(x.Data, rows, cols, starts, ends, axes, steps, 0, refuse, node);
                        return r with { Shape = [r.Count / cols, cols] };
                    }
                    throw refuse($"its Slice node '{node.Name}' slices a tensor of rank above 2");
                }
                case "Transpose":
                {
                    Const x = Need(0);
                    if (x.Shape.Length < 2) return x;
                    if (x.Shape.Length != 2) throw refuse($"its Transpose node '{node.Name}' has rank above 2");
                    int rows = (int)x.Shape[0], cols = (int)x.Shape[1];
                    var r = new double[x.Count];
                    for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) r[j * rows + i] = x.Data[i * cols + j];
                    return new Const([cols, rows], r);
                }
                default:
                    throw refuse($"it uses the operator {node.OpType}");
            }
        }

        private static Const SliceAxis(double[] data, int rows, int cols, long[] starts, long[] ends, long[] axes, long[] steps, int axis,
            Func<string, ModelWeightsException> refuse, OnnxNode node)
        {
            if (starts.Length != 1 || ends.Length != 1 || axes.Length > 1 || (axes.Length == 1 && axes[0] is not (0 or -1 or -2) ) )
                throw refuse($"its Slice node '{node.Name}' is more complex than this reader folds");
            long step = steps.Length == 1 ? steps[0] : 1;
            if (step == 0) throw refuse($"its Slice node '{node.Name}' has step 0");
            long n = rows;
            long Clamp(long v, bool forEnd)
            {
                if (v < 0) v += n;
                return step > 0 ? Math.Clamp(v, 0, n) : Math.Clamp(v, -1, n - 1);
            }
            long start = Clamp(starts[0], false), end = Clamp(ends[0], true);
            var r = new List<double>();
            for (long i = start; step > 0 ? i < end : i > end; i += step)
                for (int j = 0; j < cols; j++) r.Add(data[i * cols + j]);
            _ = axis;
            return new Const([r.Count / Math.Max(cols, 1)], [.. r]);
        }

        private static long Checked(long[] shape, Func<string, ModelWeightsException> refuse)
        {
            long n = 1;
            foreach (long d in shape)
            {
                if (d < 0) throw refuse("its shape arithmetic produces a negative size");
                n *= d;
                if (n > MaxElements) throw refuse("its shape arithmetic is too large");
            }
            return n;
        }

        private static Const FromTensorSafe(OnnxTensor t)
        {
            if (t.ElementCount > MaxElements) return new Const([.. t.Dims], t.ToFloats().Select(v => (double)v).ToArray()) { Floats = t.ToFloats() };
            float[] f = t.ToFloats();
            double[] d = t.DataType == OnnxDataType.Int64 ? t.ToInt64s().Select(v => (double)v).ToArray() : f.Select(v => (double)v).ToArray();
            return new Const([.. t.Dims], d) { Floats = t.DataType == OnnxDataType.Float ? f : null };
        }
    }
}
