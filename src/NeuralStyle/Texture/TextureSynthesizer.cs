using NeuralStyle.Imaging;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Autograd;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Texture;

/// <summary>What a synthesis ended with: one image per frame.</summary>
public sealed record TextureResult(IReadOnlyList<Image> Frames, int Iterations, double Seconds, bool Cancelled, string? Failure);

/// <summary>
/// Multi-scale neural texture synthesis (spec §4; Snelgrove 2017): matches normalised Gram matrices of a feature
/// network on every level of a Gaussian pyramid of the output to those of the sources.
/// </summary>
public sealed class TextureSynthesizer
{
    private readonly TextureOptions _o;
    private readonly Backbone _backbone;
    private readonly FlavorTransform _tf;

    public TextureSynthesizer(TextureOptions options, Backbone backbone)
    {
        if (options.Octaves < 1) throw new OptionException(nameof(TextureOptions.Octaves), "{Octaves} must be at least 1.");
        if (options.Count < 1) throw new OptionException(nameof(TextureOptions.Count), "{Count} must be at least 1.");
        PyramidPreconditioner.CheckLevels(options.PreconditionLevels, nameof(TextureOptions.PreconditionLevels));
        Layers.Resolve(backbone.Net, options.Layers, nameof(TextureOptions.Layers));
        _o = options;
        _backbone = backbone;
        _tf = backbone.Transform;
    }

    public Action<ProgressRecord>? Progress { get; set; }

    /// <summary>Called every SaveEvery iterations with the current frames.</summary>
    public Action<int, IReadOnlyList<Image>>? Snapshot { get; set; }

    private PyramidBorder Border => _o.Padding switch
    {
        TexturePadding.Valid => PyramidBorder.Valid,
        TexturePadding.Circular => PyramidBorder.Wrap,
        _ => PyramidBorder.Reflect,
    };

    private ConvPadding Conv => _o.Padding switch
    {
        TexturePadding.Valid => ConvPadding.Valid,
        TexturePadding.Circular => ConvPadding.Circular,
        _ => ConvPadding.Zero,
    };

    public TextureResult Run(IReadOnlyList<Image> sources, CancellationToken cancel = default)
    {
        LossProblem p = Prepare(sources);
        var settings = new OptimizerSettings
        {
            Kind = OptimizerKind.Lbfgs,
            Iterations = _o.Iterations,
            LbfgsHistory = _o.LbfgsHistory,
            StrongWolfe = _o.StrongWolfe,
            // The frames lie one below the other in X: one tall image to the pyramid (it blurs across their seams a little).
            Preconditioner = PyramidPreconditioner.ForImage(_o.Width, _o.OutputHeight * _o.Count, _o.PreconditionLevels),
            ToleranceGrad = _o.Tol,
            ToleranceChange = _o.Tol,
            SaveEvery = _o.SaveEvery,
            BlowUpHint = "{Mul} (or use fewer {Octaves})",
        };
        OptimizeOutcome r = ImageOptimizer.Run(p, settings, Progress, (k, x) => Snapshot?.Invoke(k, Frames(x)), cancel);
        return new TextureResult(Frames(r.Result), r.Iterations, r.Seconds, r.Cancelled, r.Failure);
    }

    /// <summary>Splits the optimised batch (count,H,W,3) in input space into RGB frames.</summary>
    public IReadOnlyList<Image> Frames(float[] x)
    {
        int w = _o.Width, h = _o.OutputHeight, per = w * h * 3;
        var frames = new List<Image>();
        var rgb = new float[per];
        for (int f = 0; f < _o.Count; f++)
        {
            _tf.Inverse(x.AsSpan(f * per, per), rgb);
            frames.Add(ImageTensors.FromRgb(rgb, w, h));
        }
        return frames;
    }

    /// <summary>Sources resized as asked (--source-width / --source-scale, Lanczos) and made RGB.</summary>
    public IReadOnlyList<Image> PrepareSources(IReadOnlyList<Image> sources) => sources.Select(s =>
    {
        Image rgb = s.Channels == 3 ? s : ImageIO.ToRgb(s);
        if (_o.SourceWidth is { } sw) return ImageOps.Resize(rgb, sw, Math.Max(1, (int)((long)sw * rgb.Height / rgb.Width)));
        if (_o.SourceScale is { } sc) return ImageOps.Resize(rgb, Math.Max(1, (int)(rgb.Width * sc)), Math.Max(1, (int)(rgb.Height * sc)));
        return rgb;
    }).ToList();

    /// <summary>Builds the loss graph; the optimised X is (count, H, W, 3) in the backbone's input space.</summary>
    public LossProblem Prepare(IReadOnlyList<Image> rawSources)
    {
        if (rawSources.Count == 0) throw new ArgumentException("At least one source image is needed.", nameof(rawSources));
        IReadOnlyList<Image> sources = PrepareSources(rawSources);
        LayerRef[] layers = Layers.Resolve(_backbone.Net, _o.Layers, nameof(TextureOptions.Layers));
        int w = _o.Width, h = _o.OutputHeight, n = _o.Count;

        // Targets: each source's normalised Grams on each level, joined.
        var targets = new float[_o.Octaves][][];
        for (int k = 0; k < sources.Count; k++)
        {
            float[][][] grams = SourceGrams(sources[k], layers, $"source {k + 1} ({sources[k].Width}×{sources[k].Height})");
            for (int l = 0; l < _o.Octaves; l++)
            {
                targets[l] ??= new float[layers.Length][];
                for (int i = 0; i < layers.Length; i++)
                {
                    float[] gk = grams[l][i];
                    if (targets[l][i] is not { } acc) { targets[l][i] = (float[])gk.Clone(); continue; }
                    if (_o.Join == JoinMode.Max) System.Numerics.Tensors.TensorPrimitives.Max(acc, gk, acc);
                    else System.Numerics.Tensors.TensorPrimitives.Add(acc, gk, acc);
                }
            }
        }
        float scale = (float)(_o.Mul * (_o.Join == JoinMode.Average ? 1.0 / sources.Count : 1.0));
        foreach (float[][] level in targets)
            foreach (float[] t in level) System.Numerics.Tensors.TensorPrimitives.Multiply(t, scale, t);

        double? interframeTarget = n > 1 && _o.IfWeight != 0 && _o.Octaves > 1 ? sources.Average(s => ShiftDistance(s, _o.IfShift)) : null;
        var g = new Graph();
        (Value x, List<Value> terms) = BuildLoss(g, targets, interframeTarget);
        var problem = new LossProblem(g, x, LossProblem.SumTerms(g, terms), terms);
        Initialize(x.Data, n, h, w);
        return problem;
    }

    /// <summary>The loss graph over the optimised frames x, given the targets (any values in a shapes-only graph).</summary>
    private (Value X, List<Value> Terms) BuildLoss(Graph g, float[][][] targets, double? interframeTarget)
    {
        LayerRef[] layers = _o.Layers.Select(_backbone.Net.Resolve).ToArray();
        Value x = g.Input([_o.Count, _o.OutputHeight, _o.Width, 3], requiresGrad: true, name: "x");
        List<Value> levels = Pyramid(g, x, "the output");
        var terms = new List<Value>();
        for (int l = 0; l < levels.Count; l++)
        {
            Dictionary<string, Value> feats = Features(g, levels[l], layers, $"level {l} of the output");
            for (int i = 0; i < layers.Length; i++)
                terms.Add(GramTerm(g, feats[layers[i].Name], targets[l][i], $"style:{l}:{layers[i].Name}"));
        }
        if (interframeTarget is { } target) terms.Add(InterframeLoss(g, levels, target));
        return (x, terms);
    }

    /// <summary>Bytes for a texture synthesis: its graphs as planned, the weights and packing, and L-BFGS's state.</summary>
    public static long EstimateBytes(TextureOptions o, IFeatureNetwork net, IReadOnlyList<(int Width, int Height)>? sourceSizes = null)
    {
        var synth = new TextureSynthesizer(o, new Backbone(net, InputFlavor.Torchvision, "estimate"));
        int deepest = o.Layers.Max(l => net.Resolve(l).Index);
        long pixels = (long)o.Width * o.OutputHeight * 3 * o.Count;
        return MemoryBudget.BaseBytes + MemoryBudget.WeightBytes(net, deepest) + synth.PlanGraphBytes(sourceSizes) + 4 * pixels * (2L * o.LbfgsHistory + 8);
    }

    /// <summary>
    /// The bytes the graphs of a synthesis allocate at their peak (each source pass in inference mode, then the loss
    /// graph), planned from shapes-only builds; sources of the given sizes (default: the output's size).
    /// </summary>
    public long PlanGraphBytes(IReadOnlyList<(int Width, int Height)>? sourceSizes = null)
    {
        LayerRef[] layers = _o.Layers.Select(_backbone.Net.Resolve).ToArray();
        sourceSizes ??= [(_o.Width, _o.OutputHeight)];
        long passes = 0;
        foreach ((int sw, int sh) in sourceSizes)
        {
            var pass = new Graph(GraphMode.ShapesOnly);
            SourcePass(pass, null, sw, sh, layers, "a source");
            passes = Math.Max(passes, pass.PlannedPeakBytes(runAs: GraphMode.Inference));
        }
        var shapes = new Graph(GraphMode.ShapesOnly);
        float[][][] targets = Enumerable.Range(0, _o.Octaves)
            .Select(_ => layers.Select(r => new float[_backbone.Net.ChannelsAt(r.Index) * _backbone.Net.ChannelsAt(r.Index)]).ToArray()).ToArray();
        (_, List<Value> terms) = BuildLoss(shapes, targets, _o.Count > 1 && _o.IfWeight != 0 && _o.Octaves > 1 ? 1.0 : null);
        Value total = LossProblem.SumTerms(shapes, terms);
        long targetBytes = targets.Sum(level => level.Sum(t => 4L * t.Length));
        return targetBytes + Math.Max(passes, shapes.PlannedPeakBytes(total));
    }

    private List<Value> Pyramid(Graph g, Value x, string what)
    {
        var levels = new List<Value> { x };
        for (int l = 1; l < _o.Octaves; l++)
        {
            Value prev = levels[^1];
            try
            {
                levels.Add(g.PyramidReduce(prev, Border, name: $"level{l}"));
            }
            catch (ArgumentException e)
            {
                throw new OptionException(nameof(TextureOptions.Octaves),
                    $"{what} is too small for {_o.Octaves} octaves ({prev.Shape[2]}×{prev.Shape[1]} at level {l - 1}); use fewer {{Octaves}} or a larger size.", e);
            }
        }
        return levels;
    }

    private Dictionary<string, Value> Features(Graph g, Value input, LayerRef[] layers, string what)
    {
        try
        {
            return _backbone.Net.Build(g, input, layers, _o.Pooling, Conv);
        }
        catch (FeatureMapTooSmallException e)
        {
            throw new OptionException(nameof(TextureOptions.Octaves),
                $"{what} ({input.Shape[2]}×{input.Shape[1]}) is too small for layer {layers.MaxBy(r => r.Index).Name} " +
                $"with {{Padding}} {_o.Padding.ToString().ToLowerInvariant()}; use fewer {{Octaves}}, shallower {{Layers}} or a larger size.", e);
        }
    }

    /// <summary>Σ over frames of sum((Ĝ − Â)²), Ĝ = FᵀF/(M·C); divided by Σ Â² when normalising.</summary>
    private Value GramTerm(Graph g, Value f, float[] target, string name)
    {
        int n = f.Shape[0], c = f.Shape[3];
        float alpha = 1f / ((float)f.Shape[1] * f.Shape[2] * c);
        var tiled = new float[n * c * c];
        for (int k = 0; k < n; k++) target.CopyTo(tiled, k * c * c);
        Value d = g.Sub(g.Gram(f, alpha), g.Constant(tiled, [n, c, c], $"target:{name}"));
        double norm = 1;
        if (_o.NormalizeTerms)
        {
            double s = 0;
            foreach (float v in target) s += (double)v * v;
            norm = Math.Max(s, 1e-30);
        }
        return g.Scale(g.Sum(g.Square(d)), (float)(1 / norm), name);
    }

    /// <summary>Normalised Grams of one source on every level: [level][layer].</summary>
    private float[][][] SourceGrams(Image source, LayerRef[] layers, string what)
    {
        var g = new Graph(GraphMode.Inference);
        float[] data = new float[source.Width * source.Height * 3];
        _tf.Forward(source.Data, data);
        Value[][] grams = SourcePass(g, data, source.Width, source.Height, layers, what);
        g.Forward();
        LastSourcePassPeakBytes = Math.Max(LastSourcePassPeakBytes, g.PeakAllocatedBytes);
        return grams.Select(level => level.Select(v => v.Data).ToArray()).ToArray();
    }

    /// <summary>The largest <see cref="Graph.PeakAllocatedBytes"/> of the source passes <see cref="Prepare"/> ran.</summary>
    public long LastSourcePassPeakBytes { get; private set; }

    /// <summary>The normalised Grams (kept) of one source image on every pyramid level.</summary>
    private Value[][] SourcePass(Graph g, float[]? data, int width, int height, LayerRef[] layers, string what)
    {
        Value input = data is null ? g.Input([1, height, width, 3]) : g.Constant(data, [1, height, width, 3]);
        List<Value> levels = Pyramid(g, input, what);
        var result = new Value[levels.Count][];
        for (int l = 0; l < levels.Count; l++)
        {
            Dictionary<string, Value> feats = Features(g, levels[l], layers, $"level {l} of {what}");
            result[l] = layers.Select(r =>
            {
                Value f = feats[r.Name];
                return g.Keep(g.Gram(f, 1f / ((float)f.Shape[1] * f.Shape[2] * f.Shape[3])));
            }).ToArray();
        }
        return result;
    }

    // ---- the inter-frame loss of looping animations ---------------------------------------------------------------

    /// <summary>Per frame f: mean over all Laplacian samples of |lapᵢ(f) − lapᵢ(f+s)|·2^−(i−1). Shape (N).</summary>
    private Value Lap1Distance(Graph g, List<Value> gaussian, int step)
    {
        Value? sum = null;
        long count = 0;
        for (int i = 0; i + 1 < gaussian.Count; i++)
        {
            Value gi = gaussian[i];
            Value lap = g.Sub(gi, g.PyramidExpand(gaussian[i + 1], gi.Shape[1], gi.Shape[2], Border));
            Value diff = g.Abs(g.Sub(lap, g.RollBatch(lap, step)));
            Value s = g.Scale(g.SumPerSample(diff), MathF.Pow(2f, -(i - 1)));
            sum = sum is null ? s : g.Add(sum, s);
            count += lap.Length / lap.Shape[0];
        }
        return g.Scale(sum!, 1f / count);
    }

    private Value InterframeLoss(Graph g, List<Value> levels, double target)
    {
        int n = levels[0].Shape[0];
        Value? loss = null;
        for (int s = 1; s <= _o.IfOrder; s++)
        {
            Value d = Lap1Distance(g, levels, s);
            var t = new float[n];
            Array.Fill(t, (float)(target * s));
            Value e = g.Mean(g.Square(g.Sub(d, g.Constant(t, [n]))));
            loss = loss is null ? e : g.Add(loss, e);
        }
        return g.Scale(loss!, (float)_o.IfWeight, "interframe");
    }

    /// <summary>The lap-1 distance between a source and itself rolled by <paramref name="shift"/> px (interpolated).</summary>
    public double ShiftDistance(Image source, double shift)
    {
        int fl = (int)Math.Floor(shift);
        double a = IntegerShiftDistance(source, fl);
        if (fl == shift) return a;
        double b = IntegerShiftDistance(source, fl + 1);
        double t = shift - fl;
        return a * (1 - t) + b * t;
    }

    private double IntegerShiftDistance(Image source, int shift)
    {
        int w = source.Width, h = source.Height, per = w * h * 3;
        var stack = new float[2 * per];
        _tf.Forward(source.Data, stack.AsSpan(0, per));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int sy = ((y - shift) % h + h) % h, sx = ((x - shift) % w + w) % w;
                Array.Copy(stack, (sy * w + sx) * 3, stack, per + (y * w + x) * 3, 3);
            }
        var g = new Graph(GraphMode.Inference);
        List<Value> levels = Pyramid(g, g.Constant(stack, [2, h, w, 3]), "a source");
        Value d = Lap1Distance(g, levels, 1);
        g.Forward();
        return d.Data[0];
    }

    // ---- initialisation ---------------------------------------------------------------------------------------

    private static readonly float[] CaffeMeanRgb = [123.68f, 116.779f, 103.939f];

    private void Initialize(float[] x, int n, int h, int w)
    {
        var rng = new Rng(_o.Seed);
        int per = w * h * 3;
        var pixels = new float[per];
        for (int f = 0; f < n; f++)
        {
            if (_o.Init == TextureInit.Symmetric)
            {
                // n + flip(n) vertically and horizontally, blurred (σ 50) and scaled, plus N(0, 2): caffe units around the mean.
                var noise = new Image(w, h, 3);
                rng.FillGaussian(noise.Data);
                var sym = new Image(w, h, 3);
                for (int y = 0; y < h; y++)
                    for (int xx = 0; xx < w; xx++)
                        for (int c = 0; c < 3; c++)
                            sym[xx, y, c] = noise[xx, y, c] + noise[xx, h - 1 - y, c] + noise[w - 1 - xx, y, c] + noise[w - 1 - xx, h - 1 - y, c];
                Image blurred = GaussianBlur.Apply(sym, Math.Min(50f, Math.Max(w, h) / 4f), _o.Padding == TexturePadding.Circular ? BorderMode.Wrap : BorderMode.Reflect);
                for (int i = 0; i < per; i++)
                    pixels[i] = (blurred.Data[i] * 2500f + 2f * (float)rng.NextGaussian() + CaffeMeanRgb[i % 3]) / 255f;
            }
            else
            {
                for (int i = 0; i < per; i++) pixels[i] = (10f + (float)rng.NextGaussian()) / 255f;
            }
            _tf.Forward(pixels, x.AsSpan(f * per, per));
        }
    }
}
