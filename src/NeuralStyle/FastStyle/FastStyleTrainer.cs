using NeuralStyle.Imaging;
using NeuralStyle.Losses;
using NeuralStyle.Models.Johnson;
using NeuralStyle.Models.Training;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Training;

namespace NeuralStyle.FastStyle;

/// <summary>The losses of one training step: the total and every named term (content:LAYER, style:LAYER, tv, …).</summary>
public sealed record TrainStep(double Loss, IReadOnlyDictionary<string, double> Terms) : ITrainingStep;

/// <summary>Where a training run writes and what it calls back (all optional).</summary>
public sealed record TrainRun : TrainingRun<TransformerNet>;

/// <summary>How a training run ended.</summary>
public sealed record TrainResult : TrainingOutcome<TrainStep>
{
    internal TrainResult(TrainingOutcome<TrainStep> outcome) : base(outcome) { }
}

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
    private readonly LossNetwork _loss;
    private readonly Dictionary<string, float[]> _styleGrams;
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
        TransformerArchitecture arch = TransformerArchitecture.Find(options.Architecture)!;
        Network = network ?? TransformerNet.Random(arch, options.Seed);
        if (Network.Architecture != arch)
            throw new OptionException(nameof(TrainOptions.Architecture), $"The network to train is {Network.Architecture.Name}, not {{Architecture}} {arch.Name}.");
        _loss = new LossNetwork(backbone, options.ContentLayer, options.StyleLayers, options.EffectivePooling);
        Optimizer = new AdamOptimizer(Network.Parameters, options.LearningRate);
        _styleGrams = _loss.StyleGrams(style, options.StyleSize);
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
        Dictionary<string, Value> fy = _loss.OutputFeatures(g, y);

        var terms = new List<Value>();
        double cw = _o.EffectiveContentWeight, sw = _o.EffectiveStyleWeight;
        if (cw > 0) terms.Add(_loss.ContentTerm(g, fy, _loss.InputContentFeatures(g, x), cw, _o.NormalizeTerms));
        if (_o.PixelWeight > 0)
            terms.Add(g.Scale(g.Mul(g.Mean(g.Square(g.Sub(y, x))), g.Pow(g.Mean(g.Square(x)), -1f)), (float)_o.PixelWeight, "content:pixels"));
        if (sw > 0)
        {
            // Normalised: the mean over layers of each layer's MSE over its target's mean square.
            StyleScheme scheme = _o.NormalizeTerms ? StyleScheme.Normalized : StyleScheme.NeuralStyle;
            double weight = _o.NormalizeTerms ? sw / _loss.Style.Count : sw;
            foreach (LayerRef r in _loss.Style)
                terms.Add(new StyleLoss(r.Name, weight, scheme, _styleGrams[r.Name], s * s).Build(g, fy[r.Name]));
        }
        if (_o.TvWeight > 0) terms.Add(new TvLoss(_o.TvWeight, TvScheme.L1).Build(g, y));
        if (terms.Count == 0)
            throw new OptionException(nameof(TrainOptions.StyleWeight), "Every loss weight is 0 ({ContentWeight}, {StyleWeight}, {TvWeight}): nothing to train for.");
        Value total = LossProblem.SumTerms(g, terms);
        (_graph, _x, _total, _terms, _binding) = (g, x, total, terms, binding);
    }

    /// <summary>Steps the run makes over <paramref name="imageCount"/> images: Steps, or Epochs × ⌈images / batch⌉.</summary>
    public int TotalSteps(int imageCount) => _o.TotalSteps(imageCount);

    public int StepsPerEpoch(int imageCount) => _o.StepsPerEpoch(imageCount);

    /// <summary>
    /// Trains on <paramref name="data"/> until <see cref="TrainOptions.Steps"/> (or the epochs) are done or
    /// <paramref name="token"/> is cancelled; either way the checkpoint and the model are written (through
    /// <paramref name="run"/>) before it returns. A checkpoint of another network, optimiser or dataset is refused
    /// (<see cref="CheckpointException"/>) before any step.
    /// </summary>
    public TrainResult Train(ImageFolderDataset data, TrainRun run, CancellationToken token = default)
    {
        var loop = new TrainingLoop<TrainStep>
        {
            Settings = _o,
            Step = batch => Step(batch),
            StepsDone = () => Optimizer.Steps,
            LoadCheckpoint = (path, rng, order) =>
                _o.CheckResumeMetadata(path, Checkpoint.Load(path, State(rng, order))),
            SaveCheckpoint = (path, rng, order) => Checkpoint.Save(path, State(rng, order), _o.RunMetadata(_backbone)),
            LearningRate = _ => Optimizer.CurrentLearningRate,
            Progress = p => Progress?.Invoke(p),
            Info = m => Info?.Invoke(m),
        };
        return new TrainResult(loop.Run(data, run, Network, token));
    }

    private TrainingState State(Rng rng, ShuffledOrder order) => new()
    {
        Architecture = CheckpointArchitecture, Parameters = Network.Parameters, Optimizer = Optimizer, Rng = rng, Data = order,
    };
}
