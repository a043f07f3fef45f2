using System.Text.RegularExpressions;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Kernels;
using NeuralStyle.Tensors.Training;
using NeuralStyle.Weights;

namespace NeuralStyle.Models.Johnson;

/// <summary>The widths of a Johnson image-transformation network: the full one and Johnson's half-width variant.</summary>
public sealed record TransformerArchitecture(string Name, int C1, int C2, int C3)
{
    /// <summary>pytorch/examples' TransformerNet: 32/64/128 channels (1,679,235 parameters).</summary>
    public static TransformerArchitecture Johnson { get; } = new("johnson", 32, 64, 128);

    /// <summary>Half width: 16/32/64 channels, about 4× cheaper.</summary>
    public static TransformerArchitecture JohnsonHalf { get; } = new("johnson-half", 16, 32, 64);

    public static IReadOnlyList<TransformerArchitecture> All { get; } = [Johnson, JohnsonHalf];

    /// <summary>The architecture called <paramref name="name"/>, or null.</summary>
    public static TransformerArchitecture? Find(string name) => All.FirstOrDefault(a => a.Name == name);
}

/// <summary>
/// Johnson et al.'s feed-forward style network with pytorch/examples' layout and state-dict keys (spec §5): reflection-
/// padded convolutions with bias, instance norm (affine) and ReLU; five residual blocks; nearest ×2 upsampling then a
/// convolution instead of transposed convolutions. Pixels are RGB on a 0–255 scale in and out.
/// </summary>
public sealed class TransformerNet
{
    private static readonly Regex RunningStats = new(@"in\d+\.running_(mean|var)$", RegexOptions.CultureInvariant);

    private TransformerNet(TransformerArchitecture architecture, ParameterSet parameters)
    {
        Architecture = architecture;
        Parameters = parameters;
    }

    public TransformerArchitecture Architecture { get; }

    /// <summary>The weights, named as pytorch/examples' state dict (<c>conv1.conv2d.weight</c>, <c>in1.weight</c>, …).</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The (name, shape) of every parameter, in state-dict order.</summary>
    public static IReadOnlyList<(string Name, int[] Shape)> Layout(TransformerArchitecture a)
    {
        var l = new List<(string, int[])>();
        void Conv(string name, int cin, int cout, int k)
        {
            l.Add(($"{name}.conv2d.weight", [cout, cin, k, k]));
            l.Add(($"{name}.conv2d.bias", [cout]));
        }
        void Norm(string name, int c)
        {
            l.Add(($"{name}.weight", [c]));
            l.Add(($"{name}.bias", [c]));
        }
        Conv("conv1", 3, a.C1, 9); Norm("in1", a.C1);
        Conv("conv2", a.C1, a.C2, 3); Norm("in2", a.C2);
        Conv("conv3", a.C2, a.C3, 3); Norm("in3", a.C3);
        for (int r = 1; r <= 5; r++)
        {
            Conv($"res{r}.conv1", a.C3, a.C3, 3); Norm($"res{r}.in1", a.C3);
            Conv($"res{r}.conv2", a.C3, a.C3, 3); Norm($"res{r}.in2", a.C3);
        }
        Conv("deconv1", a.C3, a.C2, 3); Norm("in4", a.C2);
        Conv("deconv2", a.C2, a.C1, 3); Norm("in5", a.C1);
        Conv("deconv3", a.C1, 3, 9);
        return l;
    }

    /// <summary>
    /// A freshly initialised network as PyTorch initialises one (convolutions: U(±1/√fan-in) for weights and biases,
    /// the default of nn.Conv2d; instance norm: weight 1, bias 0), from a seeded generator.
    /// </summary>
    public static TransformerNet Random(TransformerArchitecture architecture, ulong seed)
    {
        var rng = new Rng(seed);
        var set = new ParameterSet();
        foreach ((string name, int[] shape) in Layout(architecture))
        {
            var data = new float[Value.Numel(shape)];
            if (name.Contains(".conv2d.", StringComparison.Ordinal))
            {
                int fanIn = name.EndsWith(".weight", StringComparison.Ordinal) ? shape[1] * shape[2] * shape[3] : FanInOf(set, name);
                double bound = 1 / Math.Sqrt(fanIn);
                rng.FillUniform(data, -bound, bound);
            }
            else if (name.EndsWith(".weight", StringComparison.Ordinal))
            {
                Array.Fill(data, 1f);
            }
            set.Add(name, shape, data);
        }
        return new TransformerNet(architecture, set);
    }

    private static int FanInOf(ParameterSet set, string biasName)
    {
        int[] w = set[biasName[..^"bias".Length] + "weight"].Shape;
        return w[1] * w[2] * w[3];
    }

    /// <summary>
    /// Reads a pytorch/examples state dict (the old instance-norm <c>running_mean/var</c> keys are ignored); the
    /// architecture follows from conv1's width. Any other missing, extra or mis-shaped key is refused in one sentence.
    /// </summary>
    public static TransformerNet FromStateDict(IReadOnlyDictionary<string, WeightTensor> stateDict, string source = "the model file")
    {
        var keys = stateDict.Keys.Where(k => !RunningStats.IsMatch(k)).ToHashSet(StringComparer.Ordinal);
        if (!stateDict.TryGetValue("conv1.conv2d.weight", out WeightTensor? first) || first.Shape.Length != 4)
            throw new ModelWeightsException($"{source} is not a fast style-transfer network (TransformerNet): it has no 'conv1.conv2d.weight'{Describe(keys)}.");
        TransformerArchitecture? arch = TransformerArchitecture.All.FirstOrDefault(a => a.C1 == first.Shape[0]) ?? InferWidths(stateDict, first);
        if (arch is null)
            throw new ModelWeightsException($"{source} has a conv1 of {first.Shape[0]} channels that does not chain into conv2 and conv3 as a TransformerNet's (32 channels, or 16 for the half-width variant).");
        var set = new ParameterSet();
        foreach ((string name, int[] shape) in Layout(arch))
        {
            if (!stateDict.TryGetValue(name, out WeightTensor? t))
                throw new ModelWeightsException($"{source} has no '{name}', so it is not a {arch.Name} TransformerNet.");
            if (!t.Shape.AsSpan().SequenceEqual(shape))
                throw new ModelWeightsException($"'{name}' in {source} has shape [{string.Join(",", t.Shape)}], expected [{string.Join(",", shape)}] for a {arch.Name} TransformerNet.");
            set.Add(name, shape, (float[])t.Data.Clone());
            keys.Remove(name);
        }
        if (keys.Count > 0)
            throw new ModelWeightsException($"{source} has keys a TransformerNet does not ({string.Join(", ", keys.Order().Take(3))}{(keys.Count > 3 ? ", …" : "")}).");
        return new TransformerNet(arch, set);
    }

    /// <summary>Narrower variants (test fixtures, experiments): the widths read from conv1..conv3 when they chain up.</summary>
    private static TransformerArchitecture? InferWidths(IReadOnlyDictionary<string, WeightTensor> stateDict, WeightTensor conv1)
    {
        if (!stateDict.TryGetValue("conv2.conv2d.weight", out WeightTensor? c2) || !stateDict.TryGetValue("conv3.conv2d.weight", out WeightTensor? c3)
            || c2.Shape.Length != 4 || c3.Shape.Length != 4 || c2.Shape[1] != conv1.Shape[0] || c3.Shape[1] != c2.Shape[0] || conv1.Shape[0] < 1)
            return null;
        return new TransformerArchitecture($"custom-{conv1.Shape[0]}-{c2.Shape[0]}-{c3.Shape[0]}", conv1.Shape[0], c2.Shape[0], c3.Shape[0]);
    }

    private static string Describe(HashSet<string> keys)
        => keys.Count == 0 ? " (it holds no tensors)" : $" (its first keys: {string.Join(", ", keys.Order().Take(3))})";

    /// <summary>The parameters as a state dict in pytorch/examples' layout (for export).</summary>
    public IEnumerable<WeightTensor> StateDict() => Parameters.Select(p => new WeightTensor(p.Name, p.Shape, p.Data));

    /// <summary>Multiply-adds per input pixel (at a size divisible by 4).</summary>
    public double MacsPerPixel
    {
        get
        {
            TransformerArchitecture a = Architecture;
            double full = 3.0 * a.C1 * 81, half = a.C1 * a.C2 * 9 / 4.0, quarter = a.C2 * a.C3 * 9 / 16.0 + 10 * a.C3 * a.C3 * 9 / 16.0;
            double up1 = a.C3 * a.C2 * 9 / 4.0, up2 = a.C2 * a.C1 * 9, last = a.C1 * 3.0 * 81;
            return full + half + quarter + up1 + up2 + last;
        }
    }

    /// <summary>
    /// Builds the network on x (N,H,W,3, RGB 0–255) with its parameters taken from <paramref name="weights"/> (a
    /// <see cref="ParameterSet.Bind"/> of <see cref="Parameters"/>, or frozen constants). Returns (N,H',W',3) with
    /// H' = 4·⌈⌈H/2⌉/2⌉ (crop back with <see cref="CropToInput"/>).
    /// </summary>
    public Value Build(Graph g, Value x, Func<string, Value> weights)
    {
        if (x.Rank != 4 || x.Shape[3] != 3) throw new ArgumentException($"TransformerNet takes (N,H,W,3) images, got [{string.Join(",", x.Shape)}].");
        Value Conv(Value input, string name, int stride)
            => g.Conv2d(input, weights($"{name}.conv2d.weight"), weights($"{name}.conv2d.bias"), stride, ConvPadding.Reflect, name: name);
        // Nearest ×2 then the 3×3 conv: fused on frozen weights (inference: 4/9 of the work, no 4× buffer); a training
        // graph keeps the two ops, whose gradients run on the fast 3×3 kernels.
        Value UpConv(Value input, string name)
        {
            Value w = weights($"{name}.conv2d.weight"), b = weights($"{name}.conv2d.bias");
            return w.IsFrozen && !input.RequiresGrad
                ? g.UpsampleConv3x3(input, w, b, name: name)
                : g.Conv2d(g.UpsampleNearest(input, 2), w, b, 1, ConvPadding.Reflect, name: name);
        }
        Value Norm(Value input, string name, bool relu)
            => g.InstanceNorm(input, weights($"{name}.weight"), weights($"{name}.bias"), 1e-5f, relu, name);

        Value y = Norm(Conv(x, "conv1", 1), "in1", true);
        y = Norm(Conv(y, "conv2", 2), "in2", true);
        y = Norm(Conv(y, "conv3", 2), "in3", true);
        for (int r = 1; r <= 5; r++)
        {
            Value h = Norm(Conv(y, $"res{r}.conv1", 1), $"res{r}.in1", true);
            h = Norm(Conv(h, $"res{r}.conv2", 1), $"res{r}.in2", false);
            y = g.Add(h, y, $"res{r}");
        }
        y = Norm(UpConv(y, "deconv1"), "in4", true);
        y = Norm(UpConv(y, "deconv2"), "in5", true);
        return Conv(y, "deconv3", 1);
    }

    /// <summary>Builds the network with every parameter a frozen constant (inference: packed once, no gradients).</summary>
    public Value BuildFrozen(Graph g, Value x) => Build(g, x, name => g.Constant(Parameters[name].Data, Parameters[name].Shape, name));

    /// <summary>The output's top-left H×W (the network rounds sides up to a multiple of 4).</summary>
    public Value CropToInput(Graph g, Value y, int height, int width)
    {
        if (y.Shape[1] != height) y = g.Slice(y, 1, 0, height);
        if (y.Shape[2] != width) y = g.Slice(y, 2, 0, width);
        return y;
    }

    /// <summary>Stylises one RGB image (H,W,3 in 0–255 order NHWC, values 0–255) and returns (H,W,3) values, not clamped.</summary>
    public float[] Stylize(float[] rgb255, int height, int width)
    {
        var g = new Graph(GraphMode.Inference);
        Value x = g.Input([1, height, width, 3], name: "image");
        Value y = g.Keep(CropToInput(g, BuildFrozen(g, x), height, width));
        rgb255.CopyTo(x.Data, 0);
        g.Forward();
        return y.Data;
    }
}
