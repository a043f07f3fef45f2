using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Kernels;
using NeuralStyle.Tensors.Training;

namespace NeuralStyle.Models.StyleBank;

/// <summary>What a bank knows of one style: its name, the image it was trained from (a file name) and its training steps.</summary>
public sealed record StyleBankStyle(string Name)
{
    public string? Source { get; init; }
    public long Steps { get; init; }
}

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
        _info = [.. styles.Select(s => new StyleBankStyle(s))];
    }

    private readonly List<string> _styles;
    private readonly List<StyleBankStyle> _info;

    /// <summary>
    /// Every weight: the encoder's, the decoder's and one filter set per style. <see cref="RemoveStyle"/> and
    /// <see cref="RenameStyle"/> replace the set (the weight arrays themselves are kept), so bind it after them.
    /// </summary>
    public ParameterSet Parameters { get; private set; }

    /// <summary>The styles' names, in bank order.</summary>
    public IReadOnlyList<string> Styles => _styles;

    /// <summary>What is known of each style (its name, the image it was trained from, its training steps), in bank order.</summary>
    public IReadOnlyList<StyleBankStyle> StyleInfo => _info;

    /// <summary>Optimiser steps the shared encoder and decoder have had (0 for a fresh network).</summary>
    public long SharedSteps { get; set; }

    /// <summary>Records what is known of style <paramref name="index"/> (the name stays; use <see cref="RenameStyle"/>).</summary>
    public void SetStyleInfo(int index, string? source, long steps)
    {
        if ((uint)index >= (uint)_styles.Count) throw new ArgumentException($"The bank has no style number {index}; it holds {_styles.Count}.", nameof(index));
        if (steps < 0) throw new ArgumentException("A style's training steps cannot be negative.", nameof(steps));
        _info[index] = _info[index] with { Source = source, Steps = steps };
    }

    /// <summary>Builds a network over given weights (what <see cref="StyleBankFile.Load"/> uses); the set must hold exactly this network's parameters.</summary>
    public static StyleBankNet FromParameters(ParameterSet parameters, IEnumerable<string> styles)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(styles);
        List<string> names = [.. styles];
        foreach (string name in names) CheckName(name);
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
            throw new ArgumentException("The bank's style names must be unique.", nameof(styles));
        var expected = ExpectedLayout(names.Count);
        foreach ((string name, int[] shape) in expected)
        {
            if (!parameters.Contains(name)) throw new ArgumentException($"The StyleBank weights have no '{name}'.", nameof(parameters));
            if (!parameters[name].Shape.SequenceEqual(shape))
                throw new ArgumentException($"The StyleBank weight '{name}' has shape [{string.Join(",", parameters[name].Shape)}], expected [{string.Join(",", shape)}].", nameof(parameters));
        }
        if (parameters.Count != expected.Count)
            throw new ArgumentException($"The StyleBank weights hold {parameters.Count} tensors, but {names.Count} styles need {expected.Count}.", nameof(parameters));
        return new StyleBankNet(parameters, names);
    }

    /// <summary>The (name, shape) of every parameter of a bank of <paramref name="styles"/> styles, in file order.</summary>
    public static IReadOnlyList<(string Name, int[] Shape)> ExpectedLayout(int styles)
    {
        var l = SharedLayout().ToList();
        for (int i = 0; i < styles; i++)
        {
            l.Add((BankWeight(i), [FeatureChannels, FeatureChannels, 3, 3]));
            l.Add((BankBias(i), [FeatureChannels]));
        }
        return l;
    }

    private static void CheckName(string name)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A style needs a non-empty name.", nameof(name));
        if (name.Trim() != name) throw new ArgumentException($"The style name '{name}' starts or ends with white space.", nameof(name));
        if (name.Any(char.IsControl)) throw new ArgumentException("A style name cannot hold control characters.", nameof(name));
    }

    /// <summary>
    /// Removes a style (by name or index): its filter set goes and the later ones move down one number, so the bank
    /// stays dense (bank.0 … bank.{n−2}); every other weight keeps its values. The last style cannot be removed.
    /// </summary>
    public void RemoveStyle(string nameOrIndex)
    {
        int k = IndexOf(nameOrIndex);
        if (_styles.Count == 1) throw new ArgumentException($"'{_styles[k]}' is the bank's only style; a bank needs at least one.", nameof(nameOrIndex));
        var set = new ParameterSet();
        foreach (Parameter p in Parameters)
        {
            string name = p.Name;
            if (TryParseBank(name, out int i, out string? part))
            {
                if (i == k) continue;
                if (i > k) name = $"bank.{i - 1}.{part}";
            }
            set.Add(name, p.Shape, p.Data, p.Trainable); // the same arrays: untouched weights keep their bytes
        }
        Parameters = set;
        _styles.RemoveAt(k);
        _info.RemoveAt(k);
    }

    /// <summary>Renames a style (given by name or index); names are unique and non-empty.</summary>
    public void RenameStyle(string nameOrIndex, string newName)
    {
        int k = IndexOf(nameOrIndex);
        CheckName(newName);
        if (_styles[k] == newName) return;
        if (_styles.Contains(newName)) throw new ArgumentException($"The bank already has a style named '{newName}'.", nameof(newName));
        _styles[k] = newName;
        _info[k] = _info[k] with { Name = newName };
    }

    private static bool TryParseBank(string name, out int index, out string? part)
    {
        index = -1;
        part = null;
        string[] pieces = name.Split('.');
        if (pieces.Length != 3 || pieces[0] != "bank") return false;
        part = pieces[2];
        return int.TryParse(pieces[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index);
    }

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
        CheckName(name);
        if (_styles.Contains(name)) throw new ArgumentException($"The bank already has a style named '{name}'.", nameof(name));
        int i = _styles.Count;
        int[] wShape = [FeatureChannels, FeatureChannels, 3, 3], bShape = [FeatureChannels];
        Parameters.Add(BankWeight(i), wShape, Initial(rng, BankWeight(i), wShape, FeatureChannels * 9));
        Parameters.Add(BankBias(i), bShape, Initial(rng, BankBias(i), bShape, FeatureChannels * 9));
        _styles.Add(name);
        _info.Add(new StyleBankStyle(name));
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

    /// <summary>Freezes the encoder, the decoder and every filter set except <paramref name="trainable"/> (incremental learning).</summary>
    public void FreezeAllBut(IEnumerable<int> trainable)
    {
        var keep = trainable.ToHashSet();
        foreach (Parameter p in Parameters)
            p.Trainable = TryParseBank(p.Name, out int i, out _) && keep.Contains(i);
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
