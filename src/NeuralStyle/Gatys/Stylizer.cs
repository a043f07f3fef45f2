using System.Diagnostics;
using NeuralStyle.Imaging;
using NeuralStyle.Losses;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Optim;

namespace NeuralStyle.Gatys;

/// <summary>
/// Gatys et al.'s optimisation-based style transfer (spec §2): builds the loss graph once, then lets L-BFGS or Adam
/// move the image. Reports every evaluation as a <see cref="ProgressRecord"/>.
/// </summary>
public sealed class Stylizer
{
    private readonly StylizeOptions _o;
    private readonly Backbone _backbone;

    public Stylizer(StylizeOptions options, Backbone backbone)
    {
        _o = options;
        _backbone = backbone;
    }

    /// <summary>Called with every progress row.</summary>
    public Action<ProgressRecord>? Progress { get; set; }

    /// <summary>Called every <see cref="StylizeOptions.SaveEvery"/> iterations with the current image.</summary>
    public Action<int, Image>? Snapshot { get; set; }

    /// <summary>The output size for a content image of the given size.</summary>
    public (int Width, int Height) OutputSize(int contentWidth, int contentHeight) => _o.Size.Apply(contentWidth, contentHeight);

    /// <summary>Runs the whole stylisation. Content and styles are RGB images in [0,1] (alpha already composited).</summary>
    public StylizeResult Run(Image content, IReadOnlyList<Image> styles, CancellationToken cancel = default)
    {
        Problem p = Prepare(content, styles);
        return Optimize(p, cancel);
    }

    // ---- setting up -----------------------------------------------------------------------------------------------

    /// <summary>The built loss graph and everything the optimiser needs.</summary>
    public sealed class Problem
    {
        internal Problem(Graph graph, Value x, Value total, IReadOnlyList<Value> terms, int width, int height,
            FlavorTransform transform, float[] contentRgb, bool pixelSpace)
        {
            Graph = graph; X = x; Total = total; Terms = terms; Width = width; Height = height;
            Transform = transform; ContentRgb = contentRgb; PixelSpace = pixelSpace;
        }

        public Graph Graph { get; }
        /// <summary>The optimised variable (1,H,W,3): input space, or [0,1] pixels when <see cref="PixelSpace"/>.</summary>
        public Value X { get; }
        public Value Total { get; }
        public IReadOnlyList<Value> Terms { get; }
        public int Width { get; }
        public int Height { get; }
        public FlavorTransform Transform { get; }
        public float[] ContentRgb { get; }
        public bool PixelSpace { get; }

        /// <summary>Recomputes the loss at the current X and returns the row of terms.</summary>
        public (double Loss, double Content, double Style, double Tv, Dictionary<string, double> Terms) Evaluate(bool withGradient)
        {
            Graph.Forward();
            if (withGradient) Graph.Backward(Total);
            return ReadTerms();
        }

        public (double Loss, double Content, double Style, double Tv, Dictionary<string, double> Terms) ReadTerms()
        {
            var d = new Dictionary<string, double>(Terms.Count);
            double c = 0, s = 0, tv = 0;
            foreach (Value t in Terms)
            {
                double v = t.Data[0];
                d[t.Name!] = v;
                if (t.Name!.StartsWith("content:", StringComparison.Ordinal)) c += v;
                else if (t.Name.StartsWith("style:", StringComparison.Ordinal)) s += v;
                else tv += v;
            }
            return (Total.Data[0], c, s, tv, d);
        }

        /// <summary>The current image as RGB pixels in [0,1].</summary>
        public Image CurrentImage() => ToImage(X.Data);

        internal Image ToImage(float[] x)
        {
            if (PixelSpace) return ImageTensors.FromRgb(x, Width, Height);
            var rgb = new float[x.Length];
            Transform.Inverse(x, rgb);
            return ImageTensors.FromRgb(rgb, Width, Height);
        }
    }

    /// <summary>Resizes the inputs, computes the targets and builds the loss graph.</summary>
    public Problem Prepare(Image content, IReadOnlyList<Image> styles)
    {
        if (styles.Count == 0) throw new ArgumentException("At least one style image is needed.");
        double[] blend = NormalizedBlend(styles.Count);
        VggNet net = _backbone.Net;
        FlavorTransform tf = FlavorTransform.For(_backbone.Flavor);

        (int w, int h) = OutputSize(content.Width, content.Height);
        Image contentSized = ImageOps.Resize(content, w, h);
        float[] contentRgb = ImageTensors.Rgb(contentSized);

        LayerRef[] contentRefs = _o.ContentLayers.Select(net.Layers.Resolve).ToArray();
        LayerRef[] styleRefs = _o.StyleLayers.Select(net.Layers.Resolve).ToArray();
        double[] layerWeights = _o.EffectiveStyleLayerWeights();

        // Targets: content features, blended style Grams (each in the scheme's normalisation).
        Dictionary<string, float[]> contentTargets = Features(contentRgb, w, h, contentRefs, tf, gram: false);
        var styleTargets = styleRefs.ToDictionary(r => r.Name, _ => (float[]?)null);
        for (int k = 0; k < styles.Count; k++)
        {
            Image s = StyleSized(styles[k], w, h);
            Dictionary<string, float[]> grams = Features(ImageTensors.Rgb(s), s.Width, s.Height, styleRefs, tf, gram: true);
            foreach (LayerRef r in styleRefs)
            {
                float[] gk = grams[r.Name];
                float[] acc = styleTargets[r.Name] ??= new float[gk.Length];
                float bk = (float)blend[k];
                for (int i = 0; i < gk.Length; i++) acc[i] += bk * gk[i];
            }
        }

        var g = new Graph();
        Value x = g.Input([1, h, w, 3], requiresGrad: true, name: "x");
        Value input = _o.PixelSpace ? g.ChannelAffine(x, tf.Permutation, tf.Scale, tf.Shift, "input") : x;
        Dictionary<string, Value> feats = net.Build(g, input, contentRefs.Concat(styleRefs).Distinct(), _o.Pooling);
        var terms = new List<Value>();
        foreach (LayerRef r in contentRefs)
        {
            if (_o.ContentWeight == 0) continue;
            terms.Add(new ContentLoss(r.Name, _o.ContentWeight, _o.ContentScheme, contentTargets[r.Name], _o.NormalizeGradients)
                .Build(g, feats[r.Name]));
        }
        for (int i = 0; i < styleRefs.Length; i++)
        {
            double wgt = _o.StyleWeight * layerWeights[i];
            if (wgt == 0) continue;
            LayerRef r = styleRefs[i];
            terms.Add(new StyleLoss(r.Name, wgt, _o.StyleScheme, styleTargets[r.Name]!, w * h, _o.NormalizeGradients)
                .Build(g, feats[r.Name]));
        }
        if (_o.TvWeight != 0) terms.Add(new TvLoss(_o.TvWeight, _o.TvScheme).Build(g, input));
        if (terms.Count == 0) throw new ArgumentException("Every loss weight is zero: there is nothing to optimise.");
        Value total = terms[0];
        for (int i = 1; i < terms.Count; i++) total = g.Add(total, terms[i]);

        var problem = new Problem(g, x, total, terms, w, h, tf, contentRgb, _o.PixelSpace);
        Initialize(problem, contentSized, styles);
        return problem;
    }

    private double[] NormalizedBlend(int count)
    {
        if (_o.StyleBlend is null) return Enumerable.Repeat(1.0 / count, count).ToArray();
        if (_o.StyleBlend.Count != count)
            throw new ArgumentException($"--style-blend has {_o.StyleBlend.Count} weights for {count} style images.");
        double sum = _o.StyleBlend.Sum();
        if (_o.StyleBlend.Any(b => b < 0 || double.IsNaN(b)) || !(sum > 0))
            throw new ArgumentException("--style-blend weights must be non-negative with a positive sum.");
        return _o.StyleBlend.Select(b => b / sum).ToArray();
    }

    private Image StyleSized(Image style, int w, int h)
    {
        if (_o.StyleToOutputSize) return ImageOps.Resize(style, w, h);
        if (_o.StyleScale <= 0) return style; // --style-scale 0: every style image at its own size
        int longEdge = Math.Max(1, (int)Math.Round(Math.Max(w, h) * _o.StyleScale, MidpointRounding.AwayFromZero));
        return ImageOps.ResizeToLongEdge(style, longEdge);
    }

    /// <summary>Features (or Grams, in the style scheme's normalisation) of an RGB image at the given layers.</summary>
    private Dictionary<string, float[]> Features(float[] rgb, int w, int h, LayerRef[] refs, FlavorTransform tf, bool gram)
    {
        var g = new Graph();
        var inputData = new float[rgb.Length];
        tf.Forward(rgb, inputData);
        Value input = g.Constant(inputData, [1, h, w, 3], "input");
        Dictionary<string, Value> feats = _backbone.Net.Build(g, input, refs, _o.Pooling);
        var result = new Dictionary<string, float[]>();
        foreach (LayerRef r in refs)
        {
            Value f = feats[r.Name];
            if (!gram)
            {
                result[r.Name] = (float[])f.Data.Clone();
                continue;
            }
            Value gv = g.Gram(f, StyleLoss.GramAlpha(_o.StyleScheme, f.Shape[3], f.Shape[1], f.Shape[2]));
            result[r.Name] = gv.Data;
        }
        return result;
    }

    private void Initialize(Problem p, Image contentSized, IReadOnlyList<Image> styles)
    {
        float[] x = p.X.Data;
        var rng = new Rng(_o.Seed);
        float[] FromPixels(float[] rgb)
        {
            if (p.PixelSpace) return rgb;
            var v = new float[rgb.Length];
            p.Transform.Forward(rgb, v);
            return v;
        }
        switch (_o.Init)
        {
            case InitKind.Image:
                FromPixels(p.ContentRgb).CopyTo(x, 0);
                break;
            case InitKind.Style:
                FromPixels(ImageTensors.Rgb(ImageOps.Resize(styles[0], p.Width, p.Height))).CopyTo(x, 0);
                break;
            case InitKind.File:
            {
                if (_o.InitPath is null) throw new ArgumentException("--init needs a file path.");
                Image init = ImageOps.Resize(ImageOps.LoadRgb(_o.InitPath), p.Width, p.Height);
                FromPixels(ImageTensors.Rgb(init)).CopyTo(x, 0);
                break;
            }
            case InitKind.Noise:
            {
                // 0.6·U(−20, 20) + 0.4·content in input space (gatys-tf); in pixel space the range is scaled to pixels.
                float[] c = FromPixels(p.ContentRgb);
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

    // ---- optimising -----------------------------------------------------------------------------------------------

    private sealed class NonFiniteLossException() : Exception("non-finite loss");

    /// <summary>Runs the optimiser on a prepared problem.</summary>
    public StylizeResult Optimize(Problem p, CancellationToken cancel = default)
    {
        int total = _o.Iterations;
        var clock = Stopwatch.StartNew();
        float[] x = p.X.Data;
        float[] lastFinite = (float[])x.Clone();
        int evaluations = 0;
        string? failure = null;

        void Report(int k, (double Loss, double Content, double Style, double Tv, Dictionary<string, double> Terms) r)
            => Progress?.Invoke(new ProgressRecord(k, total, clock.Elapsed.TotalSeconds, r.Loss, r.Content, r.Style, r.Tv, r.Terms));

        void MaybeSnapshot(int k)
        {
            if (_o.SaveEvery > 0 && k > 0 && k % _o.SaveEvery == 0 && k < total) Snapshot?.Invoke(k, p.ToImage(x));
        }

        // One evaluation at the optimiser's current point x (which is the graph's input buffer): row `evaluations`.
        double Objective(float[] xs, float[] grad)
        {
            if (!ReferenceEquals(xs, x)) Array.Copy(xs, x, x.Length);
            var r = p.Evaluate(withGradient: true);
            if (!double.IsFinite(r.Loss)) throw new NonFiniteLossException();
            Array.Copy(x, lastFinite, x.Length);
            Array.Copy(p.X.Grad!, grad, grad.Length);
            Report(evaluations, r);
            MaybeSnapshot(evaluations);
            evaluations++;
            return r.Loss;
        }

        try
        {
            if (total > 0)
            {
                if (_o.Optimizer == OptimizerKind.Adam) RunAdam(p, Objective, total, cancel, ref evaluations);
                else RunLbfgs(x, Objective, total, cancel);
            }
            if (!cancel.IsCancellationRequested || evaluations == 0)
            {
                // The final row: the loss of the image after the last step.
                var r = p.Evaluate(withGradient: false);
                if (!double.IsFinite(r.Loss)) throw new NonFiniteLossException();
                Report(evaluations, r);
            }
        }
        catch (NonFiniteLossException)
        {
            Array.Copy(lastFinite, x, x.Length);
            failure = $"The loss became NaN or infinite at iteration {evaluations}; the last finite image was kept. " +
                      $"Lower {(_o.Optimizer == OptimizerKind.Adam ? "--learning-rate" : "--style-weight")} (or --tv-weight) and try again.";
        }
        return new StylizeResult(p.ToImage(x) is var img && _o.OriginalColors ? ImageOps.KeepColors(img, p.ContentRgb) : img,
            evaluations, clock.Elapsed.TotalSeconds, cancel.IsCancellationRequested, failure);
    }

    private void RunAdam(Problem p, Objective f, int steps, CancellationToken cancel, ref int evaluations)
    {
        float[] x = p.X.Data;
        var grad = new float[x.Length];
        var adam = new Adam(x.Length, _o.LearningRate);
        for (int k = 0; k < steps && !cancel.IsCancellationRequested; k++)
        {
            f(x, grad);
            adam.Step(x, grad);
            if (p.PixelSpace) Clamp01(x);
        }
    }

    private void RunLbfgs(float[] x, Objective f, int evaluations, CancellationToken cancel)
    {
        int rounds = Math.Max(1, _o.LbfgsRounds);
        int perRound = Math.Max(1, evaluations / rounds);
        int done = 0;
        for (int r = 0; r < rounds && done < evaluations && !cancel.IsCancellationRequested; r++)
        {
            int n = r == rounds - 1 ? evaluations - done : perRound;
            var lbfgs = new Lbfgs(x.Length, new LbfgsOptions
            {
                LearningRate = _o.LearningRate,
                MaxIterations = n,
                MaxEvaluations = _o.StrongWolfe ? null : n,
                HistorySize = _o.LbfgsHistory,
                ToleranceGrad = -1,
                ToleranceChange = -1,
                StrongWolfe = _o.StrongWolfe,
            });
            lbfgs.Minimize(x, f, cancel);
            done += n;
        }
    }

    internal static void Clamp01(float[] x)
    {
        System.Numerics.Tensors.TensorPrimitives.Max(x, 0f, x);
        System.Numerics.Tensors.TensorPrimitives.Min(x, 1f, x);
    }
}
