using System.Diagnostics;
using System.Globalization;
using NeuralStyle.Imaging;
using NeuralStyle.Losses;
using NeuralStyle.Models;
using NeuralStyle.Models.Johnson;
using NeuralStyle.Models.Training;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Training;

namespace NeuralStyle.FastStyle;

/// <summary>The losses of one training step: the total and every named term (content:LAYER, style:LAYER, tv, …).</summary>
public sealed record TrainStep(double Loss, IReadOnlyDictionary<string, double> Terms);

/// <summary>Where a training run writes and what it calls back (all optional).</summary>
public sealed record TrainRun
{
    /// <summary>The checkpoint written every <see cref="TrainOptions.CheckpointEvery"/> steps, at the end and on interruption.</summary>
    public string? CheckpointPath { get; init; }
    /// <summary>A checkpoint to continue from (loaded, and checked, before any step).</summary>
    public string? ResumeFrom { get; init; }
    /// <summary>Writes the model; called at the end and on interruption.</summary>
    public Action<TransformerNet>? SaveModel { get; init; }
    /// <summary>Called every <see cref="TrainOptions.PreviewEvery"/> steps with the step and the current network.</summary>
    public Action<int, TransformerNet>? Preview { get; init; }
}

/// <summary>How a training run ended.</summary>
public sealed record TrainResult(int Steps, double Seconds, bool Cancelled, string? Failure, TrainStep? Last, int SkippedImages);

/// <summary>
/// Trains a Johnson TransformerNet for one style (spec §5, pytorch/examples' recipe): the network's parameters are bound
/// into one training graph (a batch input; the loss network frozen as constants), Adam updates them, content is the MSE
/// of the loss network's features of output and input at one layer, style the MSE of per-sample Gram matrices
/// F·Fᵀ/(C·h·w) against the style image's (broadcast over the batch) summed over layers. With
/// <see cref="TrainOptions.NormalizeTerms"/> the terms are divided by their targets' mean squares (spec §7).
/// </summary>
public sealed class FastStyleTrainer
{
    private readonly TrainOptions _o;
    private readonly Backbone _backbone;
    private readonly FlavorTransform _tf;
    private readonly LayerRef _contentRef;
    private readonly LayerRef[] _styleRefs;
    private readonly Dictionary<string, float[]> _styleGrams = new(StringComparer.Ordinal);
    private Graph? _graph;
    private Value? _x, _total;
    private List<Value> _terms = [];
    private ParameterBinding? _binding;

    /// <param name="style">The style image (RGB in [0,1]), used at its own size unless <see cref="TrainOptions.StyleSize"/>.</param>
    /// <param name="network">The network to train; null: a fresh one of <see cref="TrainOptions.Architecture"/> seeded with <see cref="TrainOptions.Seed"/>.</param>
    public FastStyleTrainer(TrainOptions options, Backbone backbone, Image style, TransformerNet? network = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(style);
        options.Validate();
        _o = options;
        _backbone = backbone;
        _tf = backbone.Transform;
        TransformerArchitecture arch = TransformerArchitecture.Find(options.Architecture)!;
        Network = network ?? TransformerNet.Random(arch, options.Seed);
        if (Network.Architecture != arch)
            throw new OptionException(nameof(TrainOptions.Architecture), $"The network to train is {Network.Architecture.Name}, not {{Architecture}} {arch.Name}.");
        _contentRef = Layers.Resolve(backbone.Net, [options.ContentLayer], nameof(TrainOptions.ContentLayer))[0];
        _styleRefs = Layers.Resolve(backbone.Net, options.StyleLayers, nameof(TrainOptions.StyleLayers));
        Optimizer = new AdamOptimizer(Network.Parameters, options.LearningRate);
        ComputeStyleGrams(style);
    }

    public TrainOptions Options => _o;
    public TransformerNet Network { get; }
    public AdamOptimizer Optimizer { get; }

    /// <summary>The name checkpoints of this network carry (a checkpoint loads only into the same one).</summary>
    public string CheckpointArchitecture => "fast-style:" + Network.Architecture.Name;

    /// <summary>Called with each step's progress row.</summary>
    public Action<ProgressRecord>? Progress { get; set; }

    /// <summary>Messages for the user (skipped images).</summary>
    public Action<string>? Info { get; set; }

    private float[] InputScale => [.. _tf.Scale.Select(s => s / 255f)];

    private void ComputeStyleGrams(Image style)
    {
        Image s = ImageIO.ToRgb(style);
        if (_o.StyleSize is { } size) s = Resampler.Resize(s, size, size, ResampleFilter.Lanczos3);
        var g = new Graph(GraphMode.Inference);
        Value x = g.Input([1, s.Height, s.Width, 3], name: "style");
        Value input = g.ChannelAffine(x, _tf.Permutation, InputScale, _tf.Shift, "style_input");
        Dictionary<string, Value> f = Layers.Build(_backbone.Net, g, input, _styleRefs, _o.EffectivePooling, nameof(TrainOptions.StyleSize));
        var grams = new Dictionary<string, Value>();
        foreach (LayerRef r in _styleRefs)
        {
            Value v = f[r.Name];
            grams[r.Name] = g.Keep(g.Gram(v, 1f / ((float)v.Shape[1] * v.Shape[2] * v.Shape[3]), $"style_gram:{r.Name}"));
        }
        for (int i = 0; i < s.Data.Length; i++) x.Data[i] = s.Data[i] * 255f;
        g.Forward();
        foreach ((string name, Value v) in grams) _styleGrams[name] = (float[])v.Data.Clone();
    }

    /// <summary>The style's target Gram Â = G/(C·h·w) at a style layer.</summary>
    public float[] StyleGram(string layer) => _styleGrams[layer];

    /// <summary>
    /// One optimiser step on <paramref name="batch"/> (BatchSize×ImageSize×ImageSize×3 interleaved RGB, 0–255): forward,
    /// backward, Adam. Returns the losses of the forward pass (before the update). The graph is built on the first call.
    /// </summary>
    public TrainStep Step(ReadOnlySpan<float> batch)
    {
        int s = _o.ImageSize, n = _o.BatchSize;
        if (batch.Length != n * s * s * 3)
            throw new ArgumentException($"A batch holds {n}×{s}×{s}×3 = {n * s * s * 3} values, got {batch.Length}.", nameof(batch));
        if (_graph is null) Build(batch);
        else
        {
            batch.CopyTo(_x!.Data);
            _graph.Forward();
        }
        _graph!.Backward(_total!);
        _binding!.ReadGradients();
        var terms = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (Value t in _terms) terms[t.Name!] = t.Data[0];
        var step = new TrainStep(_total!.Data[0], terms);
        Optimizer.Step();
        return step;
    }

    private void Build(ReadOnlySpan<float> batch)
    {
        int s = _o.ImageSize, n = _o.BatchSize;
        var g = new Graph(GraphMode.Training);
        Value x = g.Input([n, s, s, 3], name: "batch");
        batch.CopyTo(x.Data); // built eagerly: the first batch is computed as the graph is built
        ParameterBinding binding = Network.Parameters.Bind(g);
        Value y = Network.CropToInput(g, Network.Build(g, x, name => binding[name]), s, s);
        float[] scale = InputScale;
        Value yIn = g.ChannelAffine(y, _tf.Permutation, scale, _tf.Shift, "output_input");
        Value xIn = g.ChannelAffine(x, _tf.Permutation, scale, _tf.Shift, "batch_input");
        PoolingKind pooling = _o.EffectivePooling;
        LayerRef[] all = [.. _styleRefs.Append(_contentRef).DistinctBy(r => r.Index)];
        Dictionary<string, Value> fy = Layers.Build(_backbone.Net, g, yIn, all, pooling, nameof(TrainOptions.ImageSize));
        Dictionary<string, Value> fx = Layers.Build(_backbone.Net, g, xIn, [_contentRef], pooling, nameof(TrainOptions.ImageSize));

        var terms = new List<Value>();
        double cw = _o.EffectiveContentWeight, sw = _o.EffectiveStyleWeight;
        if (cw > 0)
        {
            Value fc = fx[_contentRef.Name];
            Value mse = g.Mean(g.Square(g.Sub(fy[_contentRef.Name], fc)));
            string name = $"content:{_contentRef.Name}";
            terms.Add(_o.NormalizeTerms
                ? g.Scale(g.Mul(mse, g.Pow(g.Mean(g.Square(fc)), -1f)), (float)cw, name)
                : g.Scale(mse, (float)cw, name));
        }
        if (_o.PixelWeight > 0)
            terms.Add(g.Scale(g.Mul(g.Mean(g.Square(g.Sub(y, x))), g.Pow(g.Mean(g.Square(x)), -1f)), (float)_o.PixelWeight, "content:pixels"));
        if (sw > 0)
        {
            foreach (LayerRef r in _styleRefs)
            {
                Value f = fy[r.Name];
                int c = f.Shape[3];
                Value gram = g.Gram(f, 1f / ((float)c * f.Shape[1] * f.Shape[2]), $"gram:{r.Name}");
                float[] target = _styleGrams[r.Name];
                Value t = g.BroadcastBatch(g.Constant(target, [1, c, c], $"style_target:{r.Name}"), n);
                Value mse = g.Mean(g.Square(g.Sub(gram, t)));
                double factor = _o.NormalizeTerms ? sw / (_styleRefs.Length * MeanSquare(target)) : sw;
                terms.Add(g.Scale(mse, (float)factor, $"style:{r.Name}"));
            }
        }
        if (_o.TvWeight > 0) terms.Add(new TvLoss(_o.TvWeight, TvScheme.L1).Build(g, y));
        if (terms.Count == 0)
            throw new OptionException(nameof(TrainOptions.StyleWeight), "Every loss weight is 0 ({ContentWeight}, {StyleWeight}, {TvWeight}): nothing to train for.");
        Value total = terms[0];
        for (int i = 1; i < terms.Count; i++) total = g.Add(total, terms[i]);
        (_graph, _x, _total, _terms, _binding) = (g, x, total, terms, binding);
    }

    private static double MeanSquare(float[] v)
    {
        double s = 0;
        foreach (float x in v) s += (double)x * x;
        return Math.Max(s / v.Length, 1e-30);
    }

    /// <summary>Steps the run makes over <paramref name="imageCount"/> images: Steps, or Epochs × ⌈images / batch⌉.</summary>
    public int TotalSteps(int imageCount) => _o.Steps ?? checked(_o.Epochs * StepsPerEpoch(imageCount));

    public int StepsPerEpoch(int imageCount) => (imageCount + _o.BatchSize - 1) / _o.BatchSize;

    /// <summary>
    /// Trains on <paramref name="data"/> until <see cref="TrainOptions.Steps"/> (or the epochs) are done or
    /// <paramref name="token"/> is cancelled; either way the checkpoint and the model are written (through
    /// <paramref name="run"/>) before it returns. A checkpoint of another network, optimiser or dataset is refused
    /// (<see cref="CheckpointException"/>) before any step.
    /// </summary>
    public TrainResult Train(ImageFolderDataset data, TrainRun run, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(run);
        var rng = new Rng(_o.Seed);
        var order = new ShuffledOrder(data.Count, rng);
        if (run.ResumeFrom is { } resume)
        {
            IReadOnlyDictionary<string, string> meta = Checkpoint.Load(resume, new TrainingState
            {
                Architecture = CheckpointArchitecture, Parameters = Network.Parameters, Optimizer = Optimizer, Rng = rng, Data = order,
            });
            CheckResumeMetadata(resume, meta);
        }
        int total = TotalSteps(data.Count), perEpoch = StepsPerEpoch(data.Count);
        int step = checked((int)Optimizer.Steps);
        data.Warn = m => Info?.Invoke(m);
        var clock = Stopwatch.StartNew();
        var recent = new Queue<double>();
        TrainStep? last = null;
        Batch? lastBatch = null;
        string? failure = null;
        using (var feeder = new BatchFeeder(data, order, _o.BatchSize, _o.ImageSize))
        {
            while (step < total && !token.IsCancellationRequested)
            {
                double t0 = clock.Elapsed.TotalSeconds;
                Batch batch = feeder.Take();
                TrainStep r = Step(batch.Pixels);
                step++;
                lastBatch = batch;
                if (!double.IsFinite(r.Loss))
                {
                    failure = string.Create(CultureInfo.InvariantCulture,
                        $"The loss became {r.Loss} at step {step}; lower {{LearningRate}} or the loss weights.");
                    break;
                }
                last = r;
                double dt = clock.Elapsed.TotalSeconds - t0;
                recent.Enqueue(dt);
                if (recent.Count > 10) recent.Dequeue();
                Progress?.Invoke(new ProgressRecord(step, total, clock.Elapsed.TotalSeconds, r.Loss, r.Terms)
                {
                    Epoch = (step - 1) / perEpoch + 1,
                    TotalEpochs = (total + perEpoch - 1) / perEpoch,
                    Batch = (step - 1) % perEpoch + 1,
                    TotalBatches = perEpoch,
                    LearningRate = Optimizer.CurrentLearningRate,
                    ImagesPerSecond = _o.BatchSize * recent.Count / recent.Sum(),
                });
                if (_o.CheckpointEvery > 0 && step % _o.CheckpointEvery == 0 && step < total) SaveCheckpoint(run, data, batch);
                if (_o.PreviewEvery > 0 && step % _o.PreviewEvery == 0) run.Preview?.Invoke(step, Network);
            }
        }
        if (failure is null)
        {
            if (lastBatch is not null) SaveCheckpoint(run, data, lastBatch);
            run.SaveModel?.Invoke(Network);
        }
        return new TrainResult(step, clock.Elapsed.TotalSeconds, token.IsCancellationRequested && step < total, failure, last, data.Skipped);
    }

    private Dictionary<string, string> RunMetadata() => new()
    {
        ["image_size"] = _o.ImageSize.ToString(CultureInfo.InvariantCulture),
        ["batch_size"] = _o.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["loss_network"] = _backbone.Description,
    };

    private void CheckResumeMetadata(string path, IReadOnlyDictionary<string, string> meta)
    {
        foreach ((string key, string option, int value) in new[] { ("image_size", nameof(TrainOptions.ImageSize), _o.ImageSize), ("batch_size", nameof(TrainOptions.BatchSize), _o.BatchSize) })
            if (meta.TryGetValue(key, out string? v) && v != value.ToString(CultureInfo.InvariantCulture))
                throw new OptionException(option, $"The checkpoint '{Path.GetFileName(path)}' was trained with {{{option}}} {v}, not {value}.");
    }

    private void SaveCheckpoint(TrainRun run, ImageFolderDataset data, Batch after)
    {
        if (run.CheckpointPath is not { } path) return;
        // The producer has read ahead: save the order as it stood right after the last consumed batch.
        var rng = new Rng(after.RngAfter);
        var order = new ShuffledOrder(data.Count, rng);
        order.ImportPosition(after.PositionAfter);
        Checkpoint.Save(path, new TrainingState
        {
            Architecture = CheckpointArchitecture, Parameters = Network.Parameters, Optimizer = Optimizer, Rng = rng, Data = order,
        }, RunMetadata());
    }
}
