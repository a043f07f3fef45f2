using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Kernels;
using NeuralStyle.Tensors.Training;

namespace NeuralStyle.Models.StyleBank;

/// <summary>
/// StyleBank (Chen et al. 2017; spec §6): an encoder E shared by every style (TransformerNet's first three layers:
/// 9×9 3→32, 3×3 s2 32→64, 3×3 s2 64→128, each reflection-padded with instance norm and ReLU), one 3×3 128→128
/// filter set Kᵢ with bias per style (reflection-padded, no norm, no ReLU), and a decoder D (upsample ×2 + 3×3
/// 128→64, IN, ReLU; upsample ×2 + 3×3 64→32, IN, ReLU; 9×9 32→3). Pixels are RGB 0–255 in and out, as the fast
/// style networks'. Parameter names: <c>encoder.*</c>, <c>decoder.*</c>, <c>bank.{i}.weight|bias</c>.
/// </summary>
public sealed class StyleBankNet
{
    public const int FeatureChannels = 128;

    private StyleBankNet(ParameterSet parameters, List<string> styles)
    {
        Parameters = parameters;
        _styles = styles;
    }

    private readonly List<string> _styles;

    /// <summary>Every weight: the encoder's, the decoder's and one filter set per style.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The styles' names, in bank order.</summary>
    public IReadOnlyList<string> Styles => _styles;

    /// <summary>The (name, shape) of the encoder's and decoder's parameters.</summary>
    public static IReadOnlyList<(string Name, int[] Shape)> SharedLayout()
    {
        var l = new List<(string, int[])>();
        void Conv(string name, int cin, int cout, int k)
        {
            l.Add(($"{name}.weight", [cout, cin, k, k]));
            l.Add(($"{name}.bias", [cout]));
        }
        void Norm(string name, int c)
        {
            l.Add(($"{name}.weight", [c]));
            l.Add(($"{name}.bias", [c]));
        }
        Conv("encoder.conv1", 3, 32, 9); Norm("encoder.in1", 32);
        Conv("encoder.conv2", 32, 64, 3); Norm("encoder.in2", 64);
        Conv("encoder.conv3", 64, FeatureChannels, 3); Norm("encoder.in3", FeatureChannels);
        Conv("decoder.deconv1", FeatureChannels, 64, 3); Norm("decoder.in4", 64);
        Conv("decoder.deconv2", 64, 32, 3); Norm("decoder.in5", 32);
        Conv("decoder.deconv3", 32, 3, 9);
        return l;
    }

    /// <summary>A fresh network with <paramref name="styles"/> filter sets, initialised as PyTorch initialises convolutions.</summary>
    public static StyleBankNet Random(IEnumerable<string> styles, ulong seed)
    {
        var rng = new Rng(seed);
        var set = new ParameterSet();
        int fanIn = 0;
        foreach ((string name, int[] shape) in SharedLayout())
        {
            if (shape.Length == 4) fanIn = shape[1] * shape[2] * shape[3]; // a conv's bias follows its weight
            set.Add(name, shape, Initial(rng, name, shape, fanIn));
        }
        var net = new StyleBankNet(set, []);
        foreach (string s in styles) net.AddStyle(s, rng);
        return net;
    }

    /// <summary>Adds a freshly initialised filter set for a new style (incremental learning trains only it).</summary>
    public int AddStyle(string name, Rng rng)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A style needs a name.", nameof(name));
        if (_styles.Contains(name)) throw new ArgumentException($"The bank already has a style named '{name}'.", nameof(name));
        int i = _styles.Count;
        int[] wShape = [FeatureChannels, FeatureChannels, 3, 3], bShape = [FeatureChannels];
        Parameters.Add(BankWeight(i), wShape, Initial(rng, BankWeight(i), wShape, FeatureChannels * 9));
        Parameters.Add(BankBias(i), bShape, Initial(rng, BankBias(i), bShape, FeatureChannels * 9));
        _styles.Add(name);
        return i;
    }

    public static string BankWeight(int style) => $"bank.{style}.weight";

    public static string BankBias(int style) => $"bank.{style}.bias";

    /// <summary>The index of a style given by name or by number.</summary>
    public int IndexOf(string nameOrIndex)
    {
        int i = _styles.IndexOf(nameOrIndex);
        if (i >= 0) return i;
        if (int.TryParse(nameOrIndex, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int k) && k < _styles.Count) return k;
        throw new ArgumentException($"The bank has no style '{nameOrIndex}'; it holds {string.Join(", ", _styles)}.", nameof(nameOrIndex));
    }

    /// <summary>nn.Conv2d's default initialisation, U(±1/√fan-in) for weights and biases; instance norm: weight 1, bias 0.</summary>
    private static float[] Initial(Rng rng, string name, int[] shape, int convFanIn)
    {
        var data = new float[Value.Numel(shape)];
        if (name.Contains(".in", StringComparison.Ordinal))
        {
            if (name.EndsWith(".weight", StringComparison.Ordinal)) Array.Fill(data, 1f);
            return data;
        }
        double bound = 1 / Math.Sqrt(convFanIn);
        rng.FillUniform(data, -bound, bound);
        return data;
    }

    // ---- building --------------------------------------------------------------------------------------------------

    private static Value Conv(Graph g, Func<string, Value> p, Value x, string name, int stride)
        => g.Conv2d(x, p($"{name}.weight"), p($"{name}.bias"), stride, ConvPadding.Reflect, name: name);

    private static Value Norm(Graph g, Func<string, Value> p, Value x, string name, bool relu)
        => g.InstanceNorm(x, p($"{name}.weight"), p($"{name}.bias"), 1e-5f, relu, name);

    /// <summary>E: (N,H,W,3) 0–255 -> features F (N,⌈⌈H/2⌉/2⌉,…,128).</summary>
    public static Value Encode(Graph g, Func<string, Value> p, Value x)
    {
        Value y = Norm(g, p, Conv(g, p, x, "encoder.conv1", 1), "encoder.in1", true);
        y = Norm(g, p, Conv(g, p, y, "encoder.conv2", 2), "encoder.in2", true);
        return Norm(g, p, Conv(g, p, y, "encoder.conv3", 2), "encoder.in3", true);
    }

    /// <summary>D: features (N,h,w,128) -> (N,4h,4w,3) pixels 0–255 (not clamped).</summary>
    public static Value Decode(Graph g, Func<string, Value> p, Value f)
    {
        Value y = Norm(g, p, Conv(g, p, g.UpsampleNearest(f, 2), "decoder.deconv1", 1), "decoder.in4", true);
        y = Norm(g, p, Conv(g, p, g.UpsampleNearest(y, 2), "decoder.deconv2", 1), "decoder.in5", true);
        return Conv(g, p, y, "decoder.deconv3", 1);
    }

    /// <summary>The stylising branch: sample n of the batch through the filter set <paramref name="styleOfSample"/>[n] (read at every pass).</summary>
    public Value Stylize(Graph g, Func<string, Value> p, Value features, int[] styleOfSample)
        => g.FilterBank(features, Enumerable.Range(0, _styles.Count).Select(i => p(BankWeight(i))).ToList(),
            Enumerable.Range(0, _styles.Count).Select(i => (Value?)p(BankBias(i))).ToList(), styleOfSample, ConvPadding.Reflect);

    /// <summary>Linear fusion: (Σ wᵢKᵢ) ⊗ F with the weights normalised to sum 1 (a zero weight leaves a style out).</summary>
    public Value Blend(Graph g, Func<string, Value> p, Value features, IReadOnlyList<(int Style, double Weight)> weights)
    {
        double sum = weights.Sum(w => w.Weight);
        if (weights.Count == 0 || weights.Any(w => !(w.Weight >= 0)) || !(sum > 0))
            throw new ArgumentException("Blend weights must be non-negative with a positive sum.", nameof(weights));
        float[] normalised = weights.Select(w => (float)(w.Weight / sum)).ToArray();
        Value wv = g.Constant(normalised, [normalised.Length], "blend");
        Value kernel = g.WeightedSum(weights.Select(w => p(BankWeight(w.Style))).ToList(), wv, "blend.weight");
        Value bias = g.WeightedSum(weights.Select(w => p(BankBias(w.Style))).ToList(), wv, "blend.bias");
        return g.Conv2d(features, kernel, bias, 1, ConvPadding.Reflect, name: "blend");
    }

    /// <summary>Region fusion: Σᵢ Kᵢ ⊗ (Mᵢ × F), masks (N or 1, h, w, 1) at the feature resolution.</summary>
    public Value Regions(Graph g, Func<string, Value> p, Value features, IReadOnlyList<(int Style, Value Mask)> regions)
        => g.RegionFusion(features, regions.Select(r => p(BankWeight(r.Style))).ToList(),
            regions.Select(r => (Value?)p(BankBias(r.Style))).ToList(), regions.Select(r => r.Mask).ToList(), ConvPadding.Reflect);
}
