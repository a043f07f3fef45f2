using NeuralStyle.Imaging;
using NeuralStyle.Losses;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Autograd;
using NeuralStyle.Tensors.Optim;

namespace NeuralStyle.Gatys;

/// <summary>
/// Gatys et al.'s optimisation-based style transfer (spec §2): builds the loss graph once per scale, then lets
/// L-BFGS or Adam move the image; coarse-to-fine runs start each scale from the upsampled previous result.
/// </summary>
public sealed class Stylizer
{
    private readonly StylizeOptions _o;
    private readonly Backbone _backbone;
    private readonly ActivationSmoothing _smoothing;

    public Stylizer(StylizeOptions options, Backbone backbone)
    {
        // Mistakes in the options surface here, before any image is touched.
        LayerRef[] content = Layers.Resolve(backbone.Net, options.ContentLayers, nameof(StylizeOptions.ContentLayers));
        LayerRef[] style = Layers.Resolve(backbone.Net, options.StyleLayers, nameof(StylizeOptions.StyleLayers));
        options.EffectiveStyleLayerWeights();
        options.CheckOptimisation();
        _smoothing = ActivationSmoothing.Resolve(backbone.Net, options.ActivationSmoothing, options.SmoothingTemperature, options.SmoothedLayers,
            content.Concat(style), nameof(StylizeOptions.ActivationSmoothing), nameof(StylizeOptions.SmoothingTemperature), nameof(StylizeOptions.SmoothedLayers));
        _o = options;
        _backbone = backbone;
    }

    /// <summary>The activation smoothing in effect (the options resolved against the network).</summary>
    public ActivationSmoothing Smoothing => _smoothing;

    /// <summary>Called with every progress row.</summary>
    public Action<ProgressRecord>? Progress { get; set; }

    /// <summary>Called every <see cref="StylizeOptions.SaveEvery"/> iterations with the current image.</summary>
    public Action<int, Image>? Snapshot { get; set; }

    /// <summary>The output size for a content image of the given size.</summary>
    public (int Width, int Height) OutputSize(int contentWidth, int contentHeight) => _o.Size.Apply(contentWidth, contentHeight);

    /// <summary>The (width, height) of every scale, coarse to fine; one entry for a single-scale run.</summary>
    public IReadOnlyList<(int Width, int Height)> Schedule(int contentWidth, int contentHeight)
    {
        (int w, int h) = OutputSize(contentWidth, contentHeight);
        int final = Math.Max(w, h);
        if (_o.Scales <= 1 && _o.MinSize is null) return [(w, h)];
        if (!(_o.ScaleFactor > 1)) throw new OptionException(nameof(StylizeOptions.ScaleFactor), "{ScaleFactor} must be greater than 1.");
        var edges = new List<int>();
        if (_o.Scales > 1 && _o.MinSize is null)
        {
            for (int k = _o.Scales - 1; k >= 0; k--) edges.Add((int)Math.Round(final / Math.Pow(_o.ScaleFactor, k)));
        }
        else
        {
            double e = Math.Min(_o.MinSize ?? 128, final);
            while (e < final - 0.5)
            {
                edges.Add((int)Math.Round(e));
                e *= _o.ScaleFactor;
            }
            edges.Add(final);
        }
        return edges.Distinct().Where(e => e >= 16).Select(e =>
            (Math.Max(1, (int)Math.Round((double)w * e / final)), Math.Max(1, (int)Math.Round((double)h * e / final)))).ToList();
    }

    /// <summary>Iterations a coarse scale's stopping rule looks back over (<see cref="StylizeOptions.ScaleStopChange"/>).</summary>
    public const int StopWindow = 10;

    /// <summary>The iteration budget of each scale of <paramref name="scaleCount"/>, coarse to fine (each scale may stop early by the stopping rule).</summary>
    public IReadOnlyList<int> IterationsPerScale(int scaleCount)
    {
        if (_o.ScaleIterations is { Count: > 0 } list)
        {
            if (list.Any(n => n < 0)) throw new OptionException(nameof(StylizeOptions.ScaleIterations), "{ScaleIterations} must not be negative.");
            // Aligned to the end: the last entry is the final scale's; a shorter schedule keeps the first entry for its
            // first scale (it starts from noise and is the cheapest), dropping middle entries instead.
            return Enumerable.Range(0, scaleCount).Select(k =>
                k == 0 && scaleCount > 1 ? list[0] : list[Math.Max(0, list.Count - scaleCount + k)]).ToArray();
        }
        return Enumerable.Range(0, scaleCount).Select(k => k == 0 && scaleCount > 1 ? _o.InitialIterations ?? _o.Iterations : _o.Iterations).ToArray();
    }

    /// <summary>Runs the whole stylisation. Content and styles are RGB images in [0,1] (alpha already composited).</summary>
    public StylizeResult Run(Image content, IReadOnlyList<Image> styles, CancellationToken cancel = default)
    {
        var schedule = Schedule(content.Width, content.Height);
        IReadOnlyList<int> iterations = IterationsPerScale(schedule.Count);
        int totalRows = iterations.Sum();
        Image? previous = null;
        LbfgsHistory? carried = null;
        (int Width, int Height) carriedSize = default;
        int offset = 0;
        double seconds = 0;
        int finalEdge = Math.Max(schedule[^1].Width, schedule[^1].Height);
        for (int k = 0; k < schedule.Count; k++)
        {
            (int w, int h) = schedule[k];
            bool last = k == schedule.Count - 1;
            double tvFactor = _o.ScaleConsistentTv ? TvScaleFactor((double)finalEdge / Math.Max(w, h)) : 1;
            string stage = schedule.Count > 1 ? $"scale {k + 1}/{schedule.Count} {w}×{h}" : "";
            Problem p = Prepare(content, styles, (w, h), previous, tvFactor);
            OptimizerSettings settings = Settings(iterations[k]) with
            {
                SeedHistory = carried is null ? null : ResampleHistory(carried, carriedSize, (w, h)),
                ReturnHistory = _o.CarryHistory && !last,
                StopRelativeChange = last ? 0 : _o.ScaleStopChange,
                StopWindow = StopWindow,
                Preconditioner = PyramidPreconditioner.ForImage(w, h, _o.PreconditionLevels),
            };
            OptimizeOutcome r = ImageOptimizer.Run(p, settings, Progress,
                (i, x) => Snapshot?.Invoke(i, Finish(p.ToImage(x), p)), cancel, stage, offset, totalRows, seconds);
            offset += r.Iterations;
            seconds += r.Seconds;
            previous = p.ToImage(r.Result);
            if (_o.CarryHistory && r.History is { Count: > 0 } hist) { carried = hist; carriedSize = (w, h); }
            if (r.Failure is not null || r.Cancelled || last)
                return new StylizeResult(Finish(previous, p), offset, seconds, r.Cancelled, r.Failure);
        }
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>How much heavier the TV term weighs at a scale whose long edge is the final one / <paramref name="ratio"/>.</summary>
    private double TvScaleFactor(double ratio) => _o.TvScheme switch
    {
        TvScheme.L1 => ratio,                  // Σ|∇x|: r² times the pixels, each difference 1/r as large
        TvScheme.Keras => Math.Pow(ratio, -0.5), // Σ(a+b)^1.25 of squared differences: r² · r^−2.5
        _ => 1,
    };

    /// <summary>
    /// Carries curvature pairs from one scale to the next: s (a step of the image) is resampled like the image; y (a
    /// change of the gradient) is resampled and divided by the pixel-count ratio, since a loss that averages over pixels
    /// has a per-pixel gradient that many times smaller at the finer size (∇f_fine(Ux) ≈ U∇f_coarse(x) / r²). γ is
    /// recomputed from the newest pair, as L-BFGS itself sets it.
    /// </summary>
    public static LbfgsHistory ResampleHistory(LbfgsHistory h, (int Width, int Height) from, (int Width, int Height) to)
    {
        if (from == to) return h;
        float yScale = (float)((double)from.Width * from.Height / ((double)to.Width * to.Height));
        var steps = h.Steps.Select(s => ResampleBilinear(s, from.Width, from.Height, to.Width, to.Height)).ToList();
        var changes = h.GradientChanges.Select(y =>
        {
            float[] r = ResampleBilinear(y, from.Width, from.Height, to.Width, to.Height);
            System.Numerics.Tensors.TensorPrimitives.Multiply(r, yScale, r);
            return r;
        }).ToList();
        double gamma = h.H0Scale;
        for (int i = steps.Count - 1; i >= 0; i--)
        {
            double sy = PreciseSums.Dot(steps[i], changes[i]), yy = PreciseSums.Dot(changes[i], changes[i]);
            if (sy > 1e-10 && yy > 0) { gamma = sy / yy; break; }
        }
        return new LbfgsHistory(steps, changes, gamma);
    }

    /// <summary>Bilinear resampling (pixel centres aligned, edges clamped) of an h×w×3 field.</summary>
    internal static float[] ResampleBilinear(float[] src, int w, int h, int w2, int h2)
    {
        const int c = 3;
        var dst = new float[w2 * h2 * c];
        double sx = (double)w / w2, sy = (double)h / h2;
        for (int j = 0; j < h2; j++)
        {
            double fy = Math.Clamp((j + 0.5) * sy - 0.5, 0, h - 1);
            int y0 = (int)fy, y1 = Math.Min(y0 + 1, h - 1);
            float ty = (float)(fy - y0);
            for (int i = 0; i < w2; i++)
            {
                double fx = Math.Clamp((i + 0.5) * sx - 0.5, 0, w - 1);
                int x0 = (int)fx, x1 = Math.Min(x0 + 1, w - 1);
                float tx = (float)(fx - x0);
                for (int ch = 0; ch < c; ch++)
                {
                    float a = src[(y0 * w + x0) * c + ch], b = src[(y0 * w + x1) * c + ch];
                    float d = src[(y1 * w + x0) * c + ch], e = src[(y1 * w + x1) * c + ch];
                    dst[(j * w2 + i) * c + ch] = (1 - ty) * ((1 - tx) * a + tx * b) + ty * ((1 - tx) * d + tx * e);
                }
            }
        }
        return dst;
    }

    private OptimizerSettings Settings(int iterations) => new()
    {
        Kind = _o.Optimizer,
        Iterations = iterations,
        LearningRate = _o.LearningRate,
        LbfgsHistory = _o.LbfgsHistory,
        LbfgsRounds = Math.Min(_o.LbfgsRounds, Math.Max(1, iterations)),
        StrongWolfe = _o.StrongWolfe,
        Clamp01 = _o.PixelSpace,
        SaveEvery = _o.SaveEvery,
        AverageDecay = _o.Average,
        BlowUpHint = _o.Optimizer == OptimizerKind.Adam ? "{LearningRate} (or {StyleWeight})" : "{StyleWeight} (or {TvWeight})",
    };

    private Image Finish(Image img, Problem p) => _o.OriginalColors ? ImageOps.KeepColors(img, p.ContentRgb) : img;

    /// <summary>Runs the optimiser on a prepared problem (one scale).</summary>
    public StylizeResult Optimize(Problem p, CancellationToken cancel = default)
    {
        OptimizeOutcome r = ImageOptimizer.Run(p, Settings(_o.Iterations), Progress,
            (i, x) => Snapshot?.Invoke(i, Finish(p.ToImage(x), p)), cancel);
        if (!ReferenceEquals(r.Result, p.X.Data)) r.Result.CopyTo(p.X.Data, 0);
        return new StylizeResult(Finish(p.ToImage(r.Result), p), r.Iterations, r.Seconds, r.Cancelled, r.Failure);
    }

    // ---- setting up -----------------------------------------------------------------------------------------------

    /// <summary>The built loss graph of one scale and what it takes to turn X back into an image.</summary>
    public sealed class Problem(Graph graph, Value x, Value total, IReadOnlyList<Value> terms, int width, int height,
        FlavorTransform transform, float[] contentRgb, bool pixelSpace) : LossProblem(graph, x, total, terms)
    {
        public int Width { get; } = width;
        public int Height { get; } = height;
        public FlavorTransform Transform { get; } = transform;
        public float[] ContentRgb { get; } = contentRgb;
        /// <summary>X is the [0,1] pixel image (else the backbone's input space).</summary>
        public bool PixelSpace { get; } = pixelSpace;

        public Image ToImage(float[] x)
        {
            if (PixelSpace) return ImageTensors.FromRgb(x, Width, Height);
            var rgb = new float[x.Length];
            Transform.Inverse(x, rgb);
            return ImageTensors.FromRgb(rgb, Width, Height);
        }

        internal float[] FromPixels(float[] rgb)
        {
            if (PixelSpace) return rgb;
            var v = new float[rgb.Length];
            Transform.Forward(rgb, v);
            return v;
        }
    }

    /// <summary>Resizes the inputs to the output size, computes the targets and builds the loss graph.</summary>
    public Problem Prepare(Image content, IReadOnlyList<Image> styles) => Prepare(content, styles, OutputSize(content.Width, content.Height), null);

    /// <summary>As <see cref="Prepare(Image, IReadOnlyList{Image})"/> at the given size, optionally starting from an image.</summary>
    public Problem Prepare(Image content, IReadOnlyList<Image> styles, (int Width, int Height) size, Image? start)
        => Prepare(content, styles, size, start, tvFactor: 1);

    private Problem Prepare(Image content, IReadOnlyList<Image> styles, (int Width, int Height) size, Image? start, double tvFactor)
    {
        if (styles.Count == 0) throw new ArgumentException("At least one style image is needed.", nameof(styles));
        double[] blend = NormalizedBlend(styles.Count);
        IFeatureNetwork net = _backbone.Net;
        FlavorTransform tf = _backbone.Transform;
        (int w, int h) = size;
        Image contentSized = ImageOps.Resize(content, w, h);
        float[] contentRgb = ImageTensors.Rgb(contentSized);

        LayerRef[] contentRefs = Layers.Resolve(net, _o.ContentLayers, nameof(StylizeOptions.ContentLayers));
        LayerRef[] styleRefs = Layers.Resolve(net, _o.StyleLayers, nameof(StylizeOptions.StyleLayers));
        int levels = _o.StyleLoss == StyleLossKind.Pyramid ? Math.Max(1, _o.StyleOctaves) : 1;

        // Targets: content features at level 0; blended style Grams per pyramid level (in the scheme's normalisation).
        Dictionary<string, float[]> contentTargets = TargetFeatures(contentRgb, w, h, contentRefs, tf, levels: 1, gram: false)[0];
        var styleTargets = new List<Dictionary<string, float[]>>();
        for (int k = 0; k < styles.Count; k++)
        {
            Image s = StyleSized(styles[k], w, h);
            var perLevel = TargetFeatures(ImageTensors.Rgb(s), s.Width, s.Height, styleRefs, tf, levels, gram: true);
            for (int l = 0; l < perLevel.Count; l++)
            {
                if (styleTargets.Count <= l) styleTargets.Add(styleRefs.ToDictionary(r => r.Name, r => new float[perLevel[l][r.Name].Length]));
                foreach (LayerRef r in styleRefs)
                {
                    float[] acc = styleTargets[l][r.Name], gk = perLevel[l][r.Name];
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(gk, (float)blend[k], acc, acc);
                }
            }
        }

        var g = new Graph();
        (Value x, Value total, List<Value> terms, var surrogates) = BuildLoss(g, w, h, tf, contentTargets, styleTargets, tvFactor);
        var problem = new Problem(g, x, total, terms, w, h, tf, contentRgb, _o.PixelSpace) { Surrogates = surrogates };
        if (start is not null)
            problem.FromPixels(ImageTensors.Rgb(ImageOps.Resize(start, w, h, ResampleFilter.Bicubic))).CopyTo(x.Data, 0);
        else
            Initialize(problem, styles);
        return problem;
    }

    /// <summary>The loss graph of one scale over the optimised image x, given the targets (any values in a shapes-only graph).</summary>
    private (Value X, Value Total, List<Value> Terms, List<(Value, Value)> Surrogates) BuildLoss(Graph g, int w, int h, FlavorTransform tf,
        Dictionary<string, float[]> contentTargets, List<Dictionary<string, float[]>> styleTargets, double tvFactor = 1)
    {
        IFeatureNetwork net = _backbone.Net;
        LayerRef[] contentRefs = Layers.Resolve(net, _o.ContentLayers, nameof(StylizeOptions.ContentLayers));
        LayerRef[] styleRefs = Layers.Resolve(net, _o.StyleLayers, nameof(StylizeOptions.StyleLayers));
        double[] layerWeights = _o.EffectiveStyleLayerWeights();
        int levels = _o.StyleLoss == StyleLossKind.Pyramid ? Math.Max(1, _o.StyleOctaves) : 1;
        int deepestStyle = styleRefs.Max(r => r.Index);
        Value x = g.Input([1, h, w, 3], requiresGrad: true, name: "x");
        Value input = _o.PixelSpace ? g.ChannelAffine(x, tf.Permutation, tf.Scale, tf.Shift, "input") : x;
        var terms = new List<Value>();
        Value level = input;
        for (int l = 0; l < levels; l++)
        {
            if (l > 0)
            {
                if (!CanReach(level.Shape[1] / 2 + 1, level.Shape[2] / 2 + 1, deepestStyle)) break;
                level = g.PyramidReduce(level, PyramidBorder.Reflect, name: $"level{l}");
            }
            IEnumerable<LayerRef> wanted = l == 0 ? contentRefs.Concat(styleRefs).Distinct() : styleRefs;
            Dictionary<string, Value> feats = _smoothing.Apply(g, Layers.Build(net, g, level, wanted, _o.Pooling, nameof(StylizeOptions.Size)), wanted);
            if (l == 0)
            {
                foreach (LayerRef r in contentRefs.Where(_ => _o.ContentWeight != 0))
                    terms.Add(new ContentLoss(r.Name, _o.ContentWeight, _o.ContentScheme, contentTargets[r.Name], _o.NormalizeGradients).Build(g, feats[r.Name]));
            }
            if (l >= styleTargets.Count) break;
            for (int i = 0; i < styleRefs.Length; i++)
            {
                double wgt = _o.StyleWeight * layerWeights[i];
                if (wgt == 0) continue;
                LayerRef r = styleRefs[i];
                string layerName = levels > 1 ? $"{l}:{r.Name}" : r.Name;
                terms.Add(new StyleLoss(layerName, wgt, _o.StyleScheme, styleTargets[l][r.Name], level.Shape[1] * level.Shape[2], _o.NormalizeGradients)
                    .Build(g, feats[r.Name]));
            }
        }
        var surrogates = new List<(Value, Value)>();
        if (_o.TvWeight != 0)
        {
            // The smoothing's ε is given in 0–255 pixel levels; the term is taken on the backbone's input (also when X is
            // the pixel image), so ε is scaled as the input is.
            double epsilon = _o.TvSmoothing > 0 ? _o.TvSmoothing / 255 * tf.Scale.Average(v => Math.Abs(v)) : 0;
            (Value tv, Value? exact) = new TvLoss(_o.TvWeight * tvFactor, _o.TvScheme, epsilon).BuildWithExact(g, input);
            terms.Add(tv);
            if (exact is not null) surrogates.Add((tv, exact));
        }
        if (terms.Count == 0)
            throw new OptionException(nameof(StylizeOptions.StyleWeight), "{ContentWeight}, {StyleWeight} and {TvWeight} are all zero: there is nothing to optimise.");
        return (x, LossProblem.SumTerms(g, terms), terms, surrogates);
    }

    /// <summary>
    /// The bytes the graphs of one w×h scale allocate at their peak (the target passes run one after the other, in
    /// inference mode, before the loss graph), planned from shapes-only builds; the style images are taken at
    /// <paramref name="styleWidth"/>×<paramref name="styleHeight"/>.
    /// </summary>
    public long PlanGraphBytes(int w, int h, int styleWidth, int styleHeight)
    {
        IFeatureNetwork net = _backbone.Net;
        FlavorTransform tf = _backbone.Transform;
        LayerRef[] contentRefs = Layers.Resolve(net, _o.ContentLayers, nameof(StylizeOptions.ContentLayers));
        LayerRef[] styleRefs = Layers.Resolve(net, _o.StyleLayers, nameof(StylizeOptions.StyleLayers));
        int levels = _o.StyleLoss == StyleLossKind.Pyramid ? Math.Max(1, _o.StyleOctaves) : 1;

        var contentPass = new Graph(GraphMode.ShapesOnly);
        var content = TargetPass(contentPass, null, w, h, contentRefs, 1, gram: false);
        var stylePass = new Graph(GraphMode.ShapesOnly);
        var style = TargetPass(stylePass, null, styleWidth, styleHeight, styleRefs, levels, gram: true);
        long targets = content.Concat(style).SelectMany(d => d.Values).Sum(v => 4L * v.Length);

        var loss = new Graph(GraphMode.ShapesOnly);
        (_, Value total, _, _) = BuildLoss(loss, w, h, tf,
            content[0].ToDictionary(kv => kv.Key, kv => new float[kv.Value.Length]),
            style.Select(d => d.ToDictionary(kv => kv.Key, kv => new float[kv.Value.Length])).ToList());
        long passes = Math.Max(contentPass.PlannedPeakBytes(runAs: GraphMode.Inference), stylePass.PlannedPeakBytes(runAs: GraphMode.Inference));
        return targets + Math.Max(passes, loss.PlannedPeakBytes(total));
    }

    /// <summary>The largest <see cref="Graph.PeakAllocatedBytes"/> of the graphs the last <see cref="Prepare(Image, IReadOnlyList{Image})"/> built.</summary>
    public long LastTargetPassPeakBytes { get; private set; }

    /// <summary>True when an image of h×w still has features at module <paramref name="deepest"/>.</summary>
    private bool CanReach(int h, int w, int deepest) => _backbone.Net.CanReach(h, w, deepest);

    private double[] NormalizedBlend(int count)
    {
        if (_o.StyleBlend is null) return Enumerable.Repeat(1.0 / count, count).ToArray();
        if (_o.StyleBlend.Count != count)
            throw new OptionException(nameof(StylizeOptions.StyleBlend), $"{{StyleBlend}} has {_o.StyleBlend.Count} weights for {count} style images.");
        double sum = _o.StyleBlend.Sum();
        if (_o.StyleBlend.Any(b => b < 0 || double.IsNaN(b)) || !(sum > 0))
            throw new OptionException(nameof(StylizeOptions.StyleBlend), "{StyleBlend} weights must be non-negative with a positive sum.");
        return _o.StyleBlend.Select(b => b / sum).ToArray();
    }

    private Image StyleSized(Image style, int w, int h)
    {
        if (_o.StyleToOutputSize) return ImageOps.Resize(style, w, h);
        if (_o.StyleScale <= 0) return style; // --style-scale 0: every style image at its own size
        int longEdge = Math.Max(1, (int)Math.Round(Math.Max(w, h) * _o.StyleScale, MidpointRounding.AwayFromZero));
        return ImageOps.ResizeToLongEdge(style, longEdge);
    }

    /// <summary>
    /// Features (or Grams, in the style scheme's normalisation) of an RGB image at the given layers, for each of
    /// up to <paramref name="levels"/> pyramid levels (fewer when the image gets too small).
    /// </summary>
    private List<Dictionary<string, float[]>> TargetFeatures(float[] rgb, int w, int h, LayerRef[] refs, FlavorTransform tf, int levels, bool gram)
    {
        var g = new Graph(GraphMode.Inference);
        var inputData = new float[rgb.Length];
        tf.Forward(rgb, inputData);
        List<Dictionary<string, Value>> pass = TargetPass(g, inputData, w, h, refs, levels, gram);
        g.Forward();
        LastTargetPassPeakBytes = Math.Max(LastTargetPassPeakBytes, g.PeakAllocatedBytes);
        return pass.Select(d => d.ToDictionary(kv => kv.Key, kv => kv.Value.Data)).ToList();
    }

    /// <summary>The target values (kept) of one image: features or Grams per layer, per pyramid level.</summary>
    private List<Dictionary<string, Value>> TargetPass(Graph g, float[]? inputData, int w, int h, LayerRef[] refs, int levels, bool gram)
    {
        Value level = inputData is null ? g.Input([1, h, w, 3], name: "input") : g.Constant(inputData, [1, h, w, 3], "input");
        int deepest = refs.Max(r => r.Index);
        var result = new List<Dictionary<string, Value>>();
        for (int l = 0; l < levels; l++)
        {
            if (l > 0)
            {
                if (!CanReach(level.Shape[1] / 2 + 1, level.Shape[2] / 2 + 1, deepest)) break;
                level = g.PyramidReduce(level, PyramidBorder.Reflect);
            }
            Dictionary<string, Value> feats = _smoothing.Apply(g, Layers.Build(_backbone.Net, g, level, refs, _o.Pooling, nameof(StylizeOptions.StyleScale)), refs);
            var d = new Dictionary<string, Value>();
            foreach (LayerRef r in refs)
            {
                Value f = feats[r.Name];
                d[r.Name] = g.Keep(gram ? g.Gram(f, StyleLoss.GramAlpha(_o.StyleScheme, f.Shape[3], f.Shape[1], f.Shape[2])) : f);
            }
            result.Add(d);
        }
        return result;
    }

    private void Initialize(Problem p, IReadOnlyList<Image> styles)
    {
        float[] x = p.X.Data;
        var rng = new Rng(_o.Seed);
        switch (_o.Init)
        {
            case InitKind.Image:
                p.FromPixels(p.ContentRgb).CopyTo(x, 0);
                break;
            case InitKind.Style:
                p.FromPixels(ImageTensors.Rgb(ImageOps.Resize(styles[0], p.Width, p.Height))).CopyTo(x, 0);
                break;
            case InitKind.File:
            {
                if (_o.InitPath is null) throw new OptionException(nameof(StylizeOptions.InitPath), "{Init} needs a file path.");
                Image init = ImageOps.Resize(ImageOps.LoadRgb(_o.InitPath), p.Width, p.Height);
                p.FromPixels(ImageTensors.Rgb(init)).CopyTo(x, 0);
                break;
            }
            case InitKind.Noise:
            {
                // 0.6·U(−20, 20) + 0.4·content in input space (gatys-tf); in pixel space the range is scaled to pixels.
                float[] c = p.FromPixels(p.ContentRgb);
                float range = p.PixelSpace ? 20f / 255f : 20f;
                for (int i = 0; i < x.Length; i++)
                    x[i] = 0.6f * (float)(-range + 2 * range * rng.NextDouble()) + 0.4f * c[i];
                if (p.PixelSpace) Clamp01(x);
                break;
            }
            default:
                if (p.PixelSpace) rng.FillUniform(x, 0, 1);
                else rng.FillGaussian(x, 0, 0.001);
                break;
        }
    }

    internal static void Clamp01(float[] x)
    {
        System.Numerics.Tensors.TensorPrimitives.Max(x, 0f, x);
        System.Numerics.Tensors.TensorPrimitives.Min(x, 1f, x);
    }
}
