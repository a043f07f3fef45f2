using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Kernels;
using NeuralStyle.Weights;
using NeuralStyle.Weights.Keras;

namespace NeuralStyle.Models.ResNet;

/// <summary>
/// ResNet-50 as a feature network (spec §1) in torchvision's V1.5 or Keras' V1 layout, batch norm folded into the
/// convolution before it at load. Run only up to the deepest layer a loss needs; the stem's max pool pads with −∞
/// (torchvision) where Keras pads with zeros first, which is the same after the ReLU.
/// </summary>
public sealed class ResNet50 : IFeatureNetwork
{
    /// <summary>PyTorch's BatchNorm2d eps.</summary>
    public const double TorchvisionEps = 1e-5;

    /// <summary>keras.applications.ResNet50's BatchNormalization epsilon.</summary>
    public const double KerasEps = 1.001e-5;

    /// <summary>One convolution with its batch norm folded in: y = conv(x; W, B) = BN(raw); raw = (y − Shift)/Scale.</summary>
    private sealed record ConvUnit(int ConvIndex, string Name, int Out, int In, int Kernel, int Stride, float[] Weight, float[] Bias,
        float[] BnScale, float[] BnShift);

    private sealed record Block(ConvUnit U1, ConvUnit U2, ConvUnit U3, ConvUnit? Shortcut, int AddIndex, int OutIndex);

    private readonly ConvUnit _stem;
    private readonly Block[] _blocks;

    private ResNet50(ResNetLayout layout, ResNetLayers layers, ConvUnit stem, Block[] blocks)
    {
        Layout = layout;
        Layers = layers;
        _stem = stem;
        _blocks = blocks;
    }

    public ResNetLayout Layout { get; }

    public ResNetLayers Layers { get; }

    public string DisplayName => Layout == ResNetLayout.Keras ? "ResNet-50 (Keras V1)" : "ResNet-50 (torchvision V1.5)";

    public LayerRef Resolve(string name) => Layers.Resolve(name);

    public int ChannelsAt(int index) => Layers.Nodes[index].Channels;

    /// <summary>SWAG smooths the outputs of layer3 and layer4 (spec §1).</summary>
    public IReadOnlyList<string> DefaultSmoothedLayers { get; } = ["layer3", "layer4"];

    /// <summary>Zero-padded convolutions keep every feature map at least 1×1; an input smaller than the layer's stride has nothing left to describe.</summary>
    public bool CanReach(int h, int w, int deepest) => Math.Min(h, w) >= Layers.Nodes[deepest].Stride;

    public long WeightBytes(int deepest)
    {
        long bytes = 0;
        foreach (ConvUnit u in Units().Where(u => u.ConvIndex <= deepest))
        {
            bytes += 4L * (u.Weight.Length + u.Bias.Length);
            if (u.Kernel == 3 && u.Stride == 1) bytes += Conv3x3Weights.FrozenBytes(u.Out, u.In);
        }
        return bytes;
    }

    /// <summary>Multiply-adds of one forward pass over an h×w input to the last block (zero-padded convolutions).</summary>
    public double ForwardMacs(int h, int w)
    {
        double macs = 0;
        int Out(int size, int k, int stride) => (size + 2 * (k / 2) - k) / stride + 1;
        (int sh, int sw) = (Out(h, 7, 2), Out(w, 7, 2));
        macs += (double)sh * sw * _stem.Out * _stem.In * 49;
        (sh, sw) = ((sh - 1) / 2 + 1, (sw - 1) / 2 + 1); // 3×3 s2 max pool, padding 1
        foreach (Block b in _blocks)
        {
            (int h1, int w1) = (Out(sh, 1, b.U1.Stride), Out(sw, 1, b.U1.Stride));
            (int h2, int w2) = (Out(h1, 3, b.U2.Stride), Out(w1, 3, b.U2.Stride));
            macs += (double)h1 * w1 * b.U1.Out * b.U1.In + (double)h2 * w2 * b.U2.Out * b.U2.In * 9 + (double)h2 * w2 * b.U3.Out * b.U3.In;
            if (b.Shortcut is { } sc) macs += (double)h2 * w2 * sc.Out * sc.In;
            (sh, sw) = (h2, w2);
        }
        return macs;
    }

    private IEnumerable<ConvUnit> Units()
    {
        yield return _stem;
        foreach (Block b in _blocks)
        {
            yield return b.U1;
            yield return b.U2;
            yield return b.U3;
            if (b.Shortcut is not null) yield return b.Shortcut;
        }
    }

    // ---- shapes of the two layouts ------------------------------------------------------------------------------

    /// <summary>(name, out, in, kernel, stride) of every convolution, in the order of <see cref="Units"/>.</summary>
    private static List<(string Name, int Out, int In, int Kernel, int Stride, int ConvIndex)> Specs(ResNetLayout layout, ResNetLayers layers)
    {
        int b = layers.BaseWidth;
        var specs = new List<(string, int, int, int, int, int)> { ("conv1_conv", b, 3, 7, 2, 0) };
        int inC = b;
        for (int s = 0; s < ResNetLayers.BlocksPerStage.Length; s++)
        {
            int mid = b << s, outC = 4 * mid;
            for (int k = 0; k < ResNetLayers.BlocksPerStage[s]; k++)
            {
                int stride = k == 0 && s > 0 ? 2 : 1;
                string p = $"conv{s + 2}_block{k + 1}";
                int Index(string n) => layers.Resolve(n).Index;
                (int s1, int s2) = layout == ResNetLayout.Keras ? (stride, 1) : (1, stride);
                specs.Add(($"{p}_1_conv", mid, inC, 1, s1, Index($"{p}_1_conv")));
                specs.Add(($"{p}_2_conv", mid, mid, 3, s2, Index($"{p}_2_conv")));
                specs.Add(($"{p}_3_conv", outC, mid, 1, 1, Index($"{p}_3_conv")));
                if (k == 0) specs.Add(($"{p}_0_conv", outC, inC, 1, stride, Index($"{p}_0_conv")));
                inC = outC;
            }
        }
        return specs;
    }

    /// <summary>The torchvision state-dict prefix of a Keras convolution name (<c>conv3_block2_1_conv</c> -> <c>layer2.1.conv1</c>).</summary>
    private static (string Conv, string Bn) TorchvisionKeys(string kerasName)
    {
        if (kerasName == "conv1_conv") return ("conv1", "bn1");
        string[] p = kerasName.Split('_'); // convS, blockB, U, conv
        int stage = p[0][4] - '0', block = int.Parse(p[1][5..], System.Globalization.CultureInfo.InvariantCulture), unit = p[2][0] - '0';
        string prefix = $"layer{stage - 1}.{block - 1}";
        return unit == 0 ? ($"{prefix}.downsample.0", $"{prefix}.downsample.1") : ($"{prefix}.conv{unit}", $"{prefix}.bn{unit}");
    }

    private static ResNet50 Assemble(ResNetLayout layout, ResNetLayers layers, IReadOnlyList<ConvUnit> units)
    {
        var blocks = new List<Block>();
        int i = 1;
        for (int s = 0; s < ResNetLayers.BlocksPerStage.Length; s++)
        {
            for (int k = 0; k < ResNetLayers.BlocksPerStage[s]; k++)
            {
                string p = $"conv{s + 2}_block{k + 1}";
                ConvUnit u1 = units[i++], u2 = units[i++], u3 = units[i++];
                ConvUnit? sc = k == 0 ? units[i++] : null;
                blocks.Add(new Block(u1, u2, u3, sc, layers.Resolve($"{p}_add").Index, layers.Resolve($"{p}_out").Index));
            }
        }
        return new ResNet50(layout, layers, units[0], [.. blocks]);
    }

    private static ConvUnit Fold(string name, int convIndex, int o, int inC, int k, int stride, float[] weight, float[]? bias,
        float[] gamma, float[] beta, float[] mean, float[] variance, double eps)
    {
        (float[] w, float[] b) = BatchNormFolding.Fold(weight, bias, gamma, beta, mean, variance, eps);
        var scale = new float[o];
        var shift = new float[o];
        for (int c = 0; c < o; c++)
        {
            double sc = gamma[c] / Math.Sqrt(variance[c] + eps);
            scale[c] = (float)sc;
            shift[c] = (float)(beta[c] - mean[c] * sc);
        }
        return new ConvUnit(convIndex, name, o, inC, k, stride, w, b, scale, shift);
    }

    // ---- loaders --------------------------------------------------------------------------------------------------

    /// <summary>
    /// Reads torchvision's ResNet-50 state dict (<c>conv1</c>, <c>bn1</c>, <c>layer1..4</c>, <c>downsample.0/1</c>),
    /// folding every batch norm (eps 1e-5); <c>fc.*</c> and <c>num_batches_tracked</c> are ignored. The widths follow
    /// <c>conv1.weight</c> (64 in the real network), every other shape is checked against them.
    /// </summary>
    public static ResNet50 FromStateDict(IReadOnlyDictionary<string, WeightTensor> sd)
    {
        ArgumentNullException.ThrowIfNull(sd);
        if (!sd.TryGetValue("conv1.weight", out WeightTensor? stemWeight))
            throw new ModelWeightsException($"The weights file has no key 'conv1.weight' (the stem of a torchvision ResNet-50); {Guess(sd)}");
        if (stemWeight.Shape.Length != 4 || stemWeight.Shape[0] < 1 || stemWeight.Shape[1] != 3 || stemWeight.Shape[2] != 7 || stemWeight.Shape[3] != 7)
            throw new ModelWeightsException($"Weight 'conv1.weight' has shape [{string.Join(",", stemWeight.Shape)}], expected [64,3,7,7] for ResNet-50.");
        var layers = new ResNetLayers(stemWeight.Shape[0]);
        var units = new List<ConvUnit>();
        foreach (var spec in Specs(ResNetLayout.Torchvision, layers))
        {
            (string conv, string bn) = TorchvisionKeys(spec.Name);
            float[] w = Tensor(sd, $"{conv}.weight", [spec.Out, spec.In, spec.Kernel, spec.Kernel]);
            float[]? bias = sd.ContainsKey($"{conv}.bias") ? Tensor(sd, $"{conv}.bias", [spec.Out]) : null;
            units.Add(Fold(spec.Name, spec.ConvIndex, spec.Out, spec.In, spec.Kernel, spec.Stride, w, bias,
                Tensor(sd, $"{bn}.weight", [spec.Out]), Tensor(sd, $"{bn}.bias", [spec.Out]),
                Tensor(sd, $"{bn}.running_mean", [spec.Out]), Tensor(sd, $"{bn}.running_var", [spec.Out]), TorchvisionEps));
        }
        return Assemble(ResNetLayout.Torchvision, layers, units);
    }

    private static float[] Tensor(IReadOnlyDictionary<string, WeightTensor> sd, string key, int[] shape)
    {
        if (!sd.TryGetValue(key, out WeightTensor? t))
            throw new ModelWeightsException($"The weights file has no key '{key}' (torchvision ResNet-50); {Guess(sd)}");
        if (!t.Shape.AsSpan().SequenceEqual(shape))
            throw new ModelWeightsException(
                $"Weight '{key}' has shape [{string.Join(",", t.Shape)}], expected [{string.Join(",", shape)}] for ResNet-50; check that the file is a torchvision ResNet-50.");
        return t.Data;
    }

    private static string Guess(IReadOnlyDictionary<string, WeightTensor> sd)
    {
        if (sd.Keys.Any(k => k.StartsWith("features.", StringComparison.Ordinal))) return "this looks like a VGG file: use {Model} vgg19 or vgg16.";
        if (sd.Keys.Any(k => k.StartsWith("layer4.", StringComparison.Ordinal)) && sd.Keys.Any(k => k.EndsWith("conv3.weight", StringComparison.Ordinal)))
            return "it has a different number of blocks than ResNet-50.";
        if (sd.Keys.Any(k => k.StartsWith("layer1.", StringComparison.Ordinal))) return "this looks like a ResNet-18/34 (basic blocks), not ResNet-50.";
        return "it is not a torchvision ResNet-50 file.";
    }

    /// <summary>
    /// Reads keras.applications' ResNet-50 from the layers of a Keras weight file, by order as Keras does: the file's
    /// layers with weights are matched one by one to ResNet-50's (conv kernel + bias, then batch norm gamma, beta,
    /// moving mean, moving variance; eps 1.001e-5), every shape checked. Trailing dense layers (the classifier of a
    /// full, non-<c>_notop</c> file) are ignored. Files of Keras ≤ 2.2 (<c>res2a_branch2a</c> names) store each
    /// first block's shortcut after its last convolution; that order is recognised by those names. Keras 3
    /// <c>.weights.h5</c> files name layers by class (<c>conv2d_k</c>, <c>batch_normalization_k</c>, in model order
    /// within each class, the two classes' interleaving not stored): those are dealt out into the same order, since
    /// ResNet-50's sequence of convolutions and of batch norms each is fixed.
    /// </summary>
    public static ResNet50 FromKerasLayers(IReadOnlyList<KerasLayer> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var weighted = layers.Where(l => l.Weights.Count > 0).ToList();
        List<KerasLayer>? convs = null, norms = null;
        if (IsClassNamed(weighted))
        {
            convs = weighted.Where(l => KerasClass(l.Name) == "conv2d").ToList();
            norms = weighted.Where(l => KerasClass(l.Name) == "batch_normalization").ToList();
            weighted = [.. convs, .. weighted.Where(l => KerasClass(l.Name) is not ("conv2d" or "batch_normalization"))];
        }
        if (weighted.Count == 0 || weighted[0].Weights[0].Shape is not [7, 7, 3, > 0])
            throw new ModelWeightsException(
                $"The Keras file does not start with ResNet-50's 7×7 stem convolution (its first layer with weights is '{weighted.FirstOrDefault()?.Name ?? "none"}').");
        var table = new ResNetLayers(weighted[0].Weights[0].Shape[3]);
        bool oldOrder = weighted.Any(l => l.Name.StartsWith("res2a_branch", StringComparison.OrdinalIgnoreCase));
        var specs = Specs(ResNetLayout.Keras, table);

        // The order of the file: conv then bn for the stem; per block 1_conv 1_bn 2_conv 2_bn, then the shortcut and the
        // third convolution interleaved (Keras ≥ 2.3: 0_conv 3_conv 0_bn 3_bn; Keras ≤ 2.2: 2c branch1 bn2c bn1).
        var order = new List<(int Spec, bool Bn)> { (0, false), (0, true) };
        for (int i = 1; i < specs.Count;)
        {
            bool first = specs[i].Name.EndsWith("block1_1_conv", StringComparison.Ordinal);
            order.AddRange([(i, false), (i, true), (i + 1, false), (i + 1, true)]);
            if (!first) order.AddRange([(i + 2, false), (i + 2, true)]);
            else if (oldOrder) order.AddRange([(i + 2, false), (i + 3, false), (i + 2, true), (i + 3, true)]);
            else order.AddRange([(i + 3, false), (i + 2, false), (i + 3, true), (i + 2, true)]);
            i += first ? 4 : 3;
        }
        if (convs is not null && norms is not null)
        {
            int convsNeeded = order.Count(o => !o.Bn), normsNeeded = order.Count - convsNeeded;
            if (convs.Count != convsNeeded || norms.Count != normsNeeded)
                throw new ModelWeightsException(
                    $"The Keras 3 file has {convs.Count} conv2d and {norms.Count} batch_normalization layers with weights but ResNet-50 needs {convsNeeded} and {normsNeeded}; it is not a Keras ResNet-50 file.");
            int nextConv = 0, nextNorm = 0;
            weighted = [.. order.Select(o => o.Bn ? norms[nextNorm++] : convs[nextConv++]), .. weighted.Skip(convs.Count)];
        }
        if (weighted.Count < order.Count)
            throw new ModelWeightsException(
                $"The Keras file has {weighted.Count} layers with weights but ResNet-50 needs {order.Count}; it is not a Keras ResNet-50 file.");
        for (int i = order.Count; i < weighted.Count; i++)
        {
            if (weighted[i].Weights.Any(w => w.Shape.Length > 2))
                throw new ModelWeightsException(
                    $"The Keras file has more layers than ResNet-50 (layer '{weighted[i].Name}' after the last block is not a dense classifier); it is not a Keras ResNet-50 file.");
        }

        var kernels = new float[specs.Count][];
        var biases = new float[specs.Count][];
        var bns = new float[specs.Count][][];
        for (int i = 0; i < order.Count; i++)
        {
            (int si, bool bn) = order[i];
            var spec = specs[si];
            KerasLayer layer = weighted[i];
            int[][] expected = bn
                ? [[spec.Out], [spec.Out], [spec.Out], [spec.Out]]
                : [[spec.Kernel, spec.Kernel, spec.In, spec.Out], [spec.Out]];
            bool fits = layer.Weights.Count == expected.Length
                        && layer.Weights.Zip(expected).All(p => p.First.Shape.AsSpan().SequenceEqual(p.Second));
            if (!fits)
                throw new ModelWeightsException(
                    $"Keras layer {i + 1} with weights ('{layer.Name}') has shapes {Shapes(layer.Weights.Select(w => w.Shape))} where ResNet-50 expects " +
                    $"{(bn ? spec.Name[..^4] + "bn" : spec.Name)} with {Shapes(expected)}; the file is not a Keras ResNet-50 (or not in Keras' layer order).");
            if (bn) bns[si] = layer.Weights.Select(w => w.Data).ToArray();
            else
            {
                kernels[si] = KerasVgg.HwioToOihw(layer.Weights[0], spec.Name).Data;
                biases[si] = layer.Weights[1].Data;
            }
        }
        var units = specs.Select((s, i) => Fold(s.Name, s.ConvIndex, s.Out, s.In, s.Kernel, s.Stride, kernels[i], biases[i],
            bns[i][0], bns[i][1], bns[i][2], bns[i][3], KerasEps)).ToList();
        return Assemble(ResNetLayout.Keras, table, units);
    }

    /// <summary>Keras 3 <c>.weights.h5</c> layer names are classes with a counter: <c>conv2d</c>, <c>conv2d_12</c>.</summary>
    private static bool IsClassNamed(List<KerasLayer> weighted)
        => weighted.Any(l => KerasClass(l.Name) == "conv2d") && weighted.Any(l => KerasClass(l.Name) == "batch_normalization");

    /// <summary>"conv2d_12" → "conv2d", "batch_normalization" → itself; null for a name that is not a class with a counter.</summary>
    private static string? KerasClass(string name)
    {
        foreach (string cls in (ReadOnlySpan<string>)["conv2d", "batch_normalization", "dense"])
        {
            if (name == cls) return cls;
            if (name.Length > cls.Length + 1 && name.StartsWith(cls + "_", StringComparison.Ordinal)
                && name.AsSpan(cls.Length + 1).IndexOfAnyExceptInRange('0', '9') < 0) return cls;
        }
        return null;
    }

    private static string Shapes(IEnumerable<int[]> shapes) => string.Join(" ", shapes.Select(s => $"[{string.Join(",", s)}]"));

    /// <summary>
    /// A seeded random ResNet-50 for tests and offline use: Kaiming-normal convolutions (fan-in, gain √2), zero conv
    /// biases, identity batch norms except the last of each block (γ = 0.25, so the residual sums stay tame).
    /// </summary>
    /// <param name="baseWidth">The stem's width (64 in ResNet-50; smaller for tests, same depth).</param>
    public static ResNet50 Random(ResNetLayout layout, ulong seed, int baseWidth = 64)
    {
        if (baseWidth < 1) throw new ArgumentException($"A ResNet base width must be positive (got {baseWidth}).", nameof(baseWidth));
        var table = new ResNetLayers(baseWidth);
        var rng = new Rng(seed);
        var units = new List<ConvUnit>();
        foreach (var s in Specs(layout, table))
        {
            var w = new float[s.Out * s.In * s.Kernel * s.Kernel];
            rng.FillGaussian(w, 0, Math.Sqrt(2.0 / (s.In * s.Kernel * s.Kernel)));
            float gamma = s.Name.EndsWith("_3_conv", StringComparison.Ordinal) ? 0.25f : 1f;
            units.Add(Fold(s.Name, s.ConvIndex, s.Out, s.In, s.Kernel, s.Stride, w, null, Fill(s.Out, gamma), new float[s.Out],
                new float[s.Out], Fill(s.Out, 1f), layout == ResNetLayout.Keras ? KerasEps : TorchvisionEps));
        }
        return Assemble(layout, table, units);
    }

    private static float[] Fill(int n, float v)
    {
        var a = new float[n];
        Array.Fill(a, v);
        return a;
    }

    // ---- the graph ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Adds the network from <paramref name="input"/> (N,H,W,3 in input space) up to the deepest wanted layer.
    /// <paramref name="pooling"/> does not apply (ResNet has its own max pool); padding must be zero.
    /// </summary>
    public Dictionary<string, Value> Build(Graph graph, Value input, IEnumerable<LayerRef> wanted, PoolingKind pooling,
        ConvPadding padding = ConvPadding.Zero)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var want = wanted.ToList();
        var result = new Dictionary<string, Value>();
        if (want.Count == 0) return result;
        if (padding != ConvPadding.Zero)
            throw new ArgumentException($"ResNet-50 pads its convolutions with zeros only, not {padding.ToString().ToLowerInvariant()}; use a VGG network for that.");
        int deepest = want.Max(r => r.Index);
        var wantedIndices = new HashSet<int>(want.Select(r => r.Index));
        var values = new Value?[deepest + 1];

        Value x = ConvBn(graph, input, _stem, relu: true, wantedIndices, values);
        if (deepest >= 3) x = values[3] = graph.MaxPool(x, 3, 2, 1, "pool1_pool");
        foreach (Block b in _blocks)
        {
            if (b.U1.ConvIndex > deepest) break;
            Value y = ConvBn(graph, x, b.U1, relu: true, wantedIndices, values);
            if (b.U2.ConvIndex > deepest) break;
            y = ConvBn(graph, y, b.U2, relu: true, wantedIndices, values);
            if (b.U3.ConvIndex > deepest) break;
            y = ConvBn(graph, y, b.U3, relu: false, wantedIndices, values);
            Value shortcut = x;
            if (b.Shortcut is { } sc)
            {
                if (sc.ConvIndex > deepest) break;
                shortcut = ConvBn(graph, x, sc, relu: false, wantedIndices, values);
            }
            if (b.AddIndex > deepest) break;
            string prefix = b.U1.Name[..^7]; // conv3_block2
            Value sum = graph.Add(y, shortcut, $"{prefix}_add");
            values[b.AddIndex] = sum;
            if (b.OutIndex > deepest) break;
            x = values[b.OutIndex] = graph.Relu(sum, $"{prefix}_out");
        }
        foreach (LayerRef r in want) result[r.Name] = values[r.Index] ?? throw new InvalidOperationException($"Layer {r.Name} was not built.");
        return result;
    }

    /// <summary>
    /// One folded convolution: nodes ConvIndex (raw conv, recovered from the folded output when wanted), +1 (batch
    /// norm) and, with <paramref name="relu"/>, +2 (ReLU, fused into the convolution unless an earlier node is wanted).
    /// </summary>
    private static Value ConvBn(Graph g, Value x, ConvUnit u, bool relu, HashSet<int> wanted, Value?[] values)
    {
        int raw = u.ConvIndex, bn = raw + 1;
        bool needBn = wanted.Contains(raw) || wanted.Contains(bn) || !relu;
        Value w = g.Constant(u.Weight, [u.Out, u.In, u.Kernel, u.Kernel], $"{u.Name}.weight");
        Value b = g.Constant(u.Bias, [u.Out], $"{u.Name}.bias");
        string bnName = u.Name[..^4] + "bn";
        Value y = g.Conv2d(x, w, b, u.Stride, ConvPadding.Zero, relu: relu && !needBn, name: needBn ? bnName : u.Name[..^4] + "relu");
        if (!needBn)
        {
            Store(values, bn + 1, y);
            return y;
        }
        Store(values, bn, y);
        if (wanted.Contains(raw)) Store(values, raw, PreBatchNorm(g, y, u));
        if (!relu) return y;
        Value r = g.Relu(y, u.Name[..^4] + "relu");
        Store(values, bn + 1, r);
        return r;
    }

    private static void Store(Value?[] values, int index, Value v)
    {
        if (index < values.Length) values[index] = v;
    }

    /// <summary>The convolution's own output, before its batch norm: (y − shift)/scale per channel.</summary>
    private static Value PreBatchNorm(Graph g, Value y, ConvUnit u)
    {
        var scale = new float[u.Out];
        var shift = new float[u.Out];
        var perm = new int[u.Out];
        for (int c = 0; c < u.Out; c++)
        {
            if (u.BnScale[c] == 0 || !float.IsFinite(1f / u.BnScale[c]))
                throw new ArgumentException(
                    $"The batch norm after {u.Name} scales channel {c} by zero, so the convolution's own output cannot be recovered after folding; ask for {u.Name[..^4]}bn instead.");
            perm[c] = c;
            scale[c] = 1f / u.BnScale[c];
            shift[c] = -u.BnShift[c] / u.BnScale[c];
        }
        return g.ChannelAffine(y, perm, scale, shift, u.Name);
    }
}
