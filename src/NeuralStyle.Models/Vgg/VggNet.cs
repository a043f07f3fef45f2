using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Kernels;
using NeuralStyle.Weights;

namespace NeuralStyle.Models.Vgg;

public enum PoolingKind { Max, Avg }

/// <summary>
/// A VGG-16/19 feature network (torchvision's <c>features</c> layout: keys <c>features.N.weight</c>/<c>.bias</c>)
/// that is run only up to the deepest layer a loss needs.
/// </summary>
public sealed class VggNet : IFeatureNetwork
{
    private readonly float[]?[] _weights;
    private readonly float[]?[] _biases;
    private readonly int[] _outChannels;

    private VggNet(VggArchitecture arch, float[]?[] weights, float[]?[] biases, int[] outChannels)
    {
        Layers = VggLayers.For(arch);
        _weights = weights;
        _biases = biases;
        _outChannels = outChannels;
    }

    public VggLayers Layers { get; }
    public VggArchitecture Architecture => Layers.Architecture;

    public string DisplayName => Architecture == VggArchitecture.Vgg19 ? "VGG-19" : "VGG-16";

    public LayerRef Resolve(string name) => Layers.Resolve(name);

    /// <summary>VGG's activations are smoothed nowhere by default.</summary>
    public IReadOnlyList<string> DefaultSmoothedLayers => [];

    /// <summary>Every pool up to <paramref name="deepest"/> halves the input; each needs at least 2×2.</summary>
    public bool CanReach(int h, int w, int deepest)
    {
        int pools = Layers.Modules.Take(deepest + 1).Count(m => m.Kind == LayerKind.Pool);
        return Math.Min(h, w) >> pools >= 1 && Math.Min(h, w) >= 2 << Math.Max(0, pools - 1);
    }

    /// <summary>The convolutions' weights to <paramref name="deepest"/> and their packings for the 3×3 kernels.</summary>
    public long WeightBytes(int deepest)
    {
        long bytes = 4 * ParameterCount(deepest);
        int inC = 3;
        for (int i = 0; i <= deepest && i < Layers.Modules.Count; i++)
        {
            if (Layers.Modules[i].Kind != LayerKind.Conv) continue;
            bytes += Conv3x3Weights.FrozenBytes(_outChannels[i], inC); // packed, or Winograd-transformed where that route wins
            inC = _outChannels[i];
        }
        return bytes;
    }

    /// <summary>Output channels of module <paramref name="index"/> (conv, relu or pool).</summary>
    public int ChannelsAt(int index) => _outChannels[index];

    /// <summary>Weights and biases of the convolutions up to module <paramref name="deepest"/>.</summary>
    public long ParameterCount(int deepest)
    {
        long n = 0;
        for (int i = 0; i <= deepest && i < _weights.Length; i++)
            n += (_weights[i]?.LongLength ?? 0) + (_biases[i]?.LongLength ?? 0);
        return n;
    }

    /// <summary>Multiply-adds per output pixel … per input pixel up to and including module <paramref name="deepest"/>.</summary>
    public double MacsPerInputPixel(int deepest)
    {
        double macs = 0, area = 1;
        int inC = 3;
        foreach (VggModule m in Layers.Modules)
        {
            if (m.Index > deepest) break;
            if (m.Kind == LayerKind.Conv) macs += area * _outChannels[m.Index] * inC * 9;
            if (m.Kind == LayerKind.Pool) area /= 4;
            inC = _outChannels[m.Index];
        }
        return macs;
    }

    /// <summary>Reads the conv weights of <c>features</c> from a state dict, checking every key and shape.</summary>
    public static VggNet FromStateDict(VggArchitecture arch, IReadOnlyDictionary<string, WeightTensor> sd)
    {
        VggLayers layers = VggLayers.For(arch);
        int n = layers.Modules.Count;
        var w = new float[]?[n];
        var b = new float[]?[n];
        var outC = new int[n];
        string archName = arch == VggArchitecture.Vgg19 ? "VGG-19" : "VGG-16";
        int inC = 3;
        int blockWidth = 0, block = 0;
        foreach (VggModule m in layers.Modules)
        {
            if (m.Kind == LayerKind.Conv)
            {
                string wk = $"features.{m.Index}.weight", bk = $"features.{m.Index}.bias";
                if (!sd.TryGetValue(wk, out WeightTensor? wt) || !sd.TryGetValue(bk, out WeightTensor? bt))
                    throw new ModelWeightsException(
                        $"The weights file has no key '{(sd.ContainsKey(wk) ? bk : wk)}' ({m.CaffeName} of {archName}); {Guess(sd, arch)}");
                if (m.Block != block)
                {
                    block = m.Block;
                    blockWidth = wt.Shape.Length == 4 ? wt.Shape[0] : -1;
                }
                int[] expected = [blockWidth, inC, 3, 3];
                if (!wt.Shape.AsSpan().SequenceEqual(expected))
                    throw new ModelWeightsException(
                        $"Weight '{wk}' has shape [{string.Join(",", wt.Shape)}], expected [{string.Join(",", expected)}] for {archName}; {Guess(sd, arch)}");
                if (bt.Shape.Length != 1 || bt.Shape[0] != blockWidth)
                    throw new ModelWeightsException(
                        $"Bias '{bk}' has shape [{string.Join(",", bt.Shape)}], expected [{blockWidth}] for {archName}.");
                w[m.Index] = wt.Data;
                b[m.Index] = bt.Data;
                inC = blockWidth;
            }
            outC[m.Index] = inC;
        }
        return new VggNet(arch, w, b, outC);
    }

    private static string Guess(IReadOnlyDictionary<string, WeightTensor> sd, VggArchitecture asked)
    {
        if (sd.Keys.Any(k => k.StartsWith("layer1.", StringComparison.Ordinal) || k == "conv1.weight"))
            return "this looks like a ResNet file, not VGG.";
        if (!sd.Keys.Any(k => k.StartsWith("features.", StringComparison.Ordinal)))
            return "it is not a torchvision-style VGG file (no 'features.N' keys).";
        bool has34 = sd.ContainsKey("features.34.weight"), has28 = sd.ContainsKey("features.28.weight"), has16 = sd.ContainsKey("features.16.weight");
        if (asked == VggArchitecture.Vgg19 && has28 && !has34 && !has16) return "this looks like a VGG-16 file: use {Model} vgg16.";
        if (asked == VggArchitecture.Vgg16 && has34) return "this looks like a VGG-19 file: use {Model} vgg19.";
        return "check that the file matches {Model}.";
    }

    /// <summary>
    /// The seeded random network of spec §7: Kaiming-normal weights (fan-in, gain √2), zero biases, standard widths.
    /// </summary>
    public static VggNet Random(VggArchitecture arch, ulong seed)
    {
        VggLayers layers = VggLayers.For(arch);
        int n = layers.Modules.Count;
        var w = new float[]?[n];
        var b = new float[]?[n];
        var outC = new int[n];
        var rng = new Rng(seed);
        int inC = 3;
        foreach (VggModule m in layers.Modules)
        {
            if (m.Kind == LayerKind.Conv)
            {
                int co = m.OutChannelsStandard;
                var wt = new float[co * inC * 9];
                rng.FillGaussian(wt, 0, Math.Sqrt(2.0 / (inC * 9)));
                w[m.Index] = wt;
                b[m.Index] = new float[co];
                inC = co;
            }
            outC[m.Index] = inC;
        }
        return new VggNet(arch, w, b, outC);
    }

    /// <summary>
    /// Adds the network to <paramref name="graph"/> from <paramref name="input"/> (N,H,W,3 in input space) up to the
    /// deepest requested layer and returns the requested outputs by their canonical names.
    /// </summary>
    public Dictionary<string, Value> Build(Graph graph, Value input, IEnumerable<LayerRef> wanted, PoolingKind pooling,
        ConvPadding padding = ConvPadding.Zero)
    {
        var want = wanted.ToList();
        var result = new Dictionary<string, Value>();
        if (want.Count == 0) return result;
        int deepest = want.Max(r => r.Index);
        var preReluWanted = new HashSet<int>(want.Where(r => Layers.Modules[r.Index].Kind == LayerKind.Conv).Select(r => r.Index));
        var outputs = new Value[deepest + 1];
        Value x = input;
        for (int i = 0; i <= deepest; i++)
        {
            VggModule m = Layers.Modules[i];
            switch (m.Kind)
            {
                case LayerKind.Conv:
                {
                    float[] wd = _weights[i]!;
                    int co = _outChannels[i], ci = wd.Length / (co * 9);
                    Value wv = graph.Constant(wd, [co, ci, 3, 3], $"features.{i}.weight");
                    Value bv = graph.Constant(_biases[i]!, [co], $"features.{i}.bias");
                    bool fuse = !preReluWanted.Contains(i) && i + 1 <= deepest;
                    // A valid (unpadded) convolution shrinks the map by 2: below 3×3 there is nothing left to convolve.
                    if (padding == ConvPadding.Valid && (x.Shape[1] < 3 || x.Shape[2] < 3))
                        throw new FeatureMapTooSmallException(
                            $"The image is too small for {m.CaffeName} without padding: its features are {x.Shape[2]}×{x.Shape[1]} there; use a larger size or shallower layers.");
                    x = graph.Conv3x3(x, wv, bv, padding, relu: fuse, name: fuse ? $"relu{m.Block}_{m.Number}" : m.CaffeName);
                    outputs[i] = x;
                    if (fuse)
                    {
                        outputs[i + 1] = x;
                        i++;
                    }
                    break;
                }
                case LayerKind.Relu:
                    x = graph.Relu(x, m.CaffeName);
                    outputs[i] = x;
                    break;
                default:
                    if (x.Shape[1] < 2 || x.Shape[2] < 2)
                        throw new FeatureMapTooSmallException(
                            $"The image is too small for {m.CaffeName}: its features are {x.Shape[2]}×{x.Shape[1]} there; use a larger size or shallower layers.");
                    x = pooling == PoolingKind.Max ? graph.MaxPool2x2(x, m.CaffeName) : graph.AvgPool2x2(x, m.CaffeName);
                    outputs[i] = x;
                    break;
            }
        }
        foreach (LayerRef r in want) result[r.Name] = outputs[r.Index];
        return result;
    }
}

/// <summary>An input too small to reach a requested layer (a pool would get less than 2×2); one sentence.</summary>
public sealed class FeatureMapTooSmallException(string message) : ArgumentException(message);
