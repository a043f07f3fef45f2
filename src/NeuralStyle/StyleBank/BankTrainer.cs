using System.Globalization;
using System.Text.Json.Nodes;
using NeuralStyle.Imaging;
using NeuralStyle.Losses;
using NeuralStyle.Models.StyleBank;
using NeuralStyle.Models.Training;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Training;

namespace NeuralStyle.StyleBank;

/// <summary>A style to train: its name in the bank, the image (RGB in [0,1]) and where it came from (a file name, kept in the bank).</summary>
public sealed record BankStyleImage(string Name, Image Image, string? Source = null);

/// <summary>One training step: which branch, the loss of its forward pass (before the update) and every named term.</summary>
/// <param name="Styles">The style of each sample (stylising steps); empty for an auto-encoder step.</param>
/// <param name="BalanceScale">The factor the auto-encoder gradient was scaled by (gradient balancing), else null.</param>
public sealed record BankTrainStep(bool AutoEncoder, double Loss, IReadOnlyDictionary<string, double> Terms, int[] Styles, double? BalanceScale) : ITrainingStep;

/// <summary>Where a bank training run writes and what it calls back (all optional; save e.g. with <c>StyleBankFile.Save(path, net, trainer.FileMetadata())</c>).</summary>
public sealed record BankTrainRun : TrainingRun<StyleBankNet>;

/// <summary>How a bank training run ended.</summary>
public sealed record BankTrainResult : TrainingOutcome<BankTrainStep>
{
    internal BankTrainResult(TrainingOutcome<BankTrainStep> outcome) : base(outcome) { }
}

/// <summary>
/// Trains a StyleBank (spec §6). A new bank: the "T+1" schedule — <see cref="BankTrainingOptions.T"/> stylising steps
/// (E → Kᵢ → D, updating E, the filter sets the batch used and D; the batch's samples carry styles cycling through all
/// of them) then one auto-encoder step (E → D, updating E and D), balanced by <see cref="BankTrainingOptions.Balancing"/>.
/// Incremental learning (a bank given): the new styles' filter sets alone train, on the stylising branch only; every
/// other weight is a frozen constant and keeps its bits. Losses: α·MSE of VGG features at the content layer, β·Σ MSE
/// of per-sample Grams G/(C·h·w) against each sample's style, γ·L1 TV of the [0,1] output; the auto-encoder loss is
/// mean((O − I)²) on the 0–255 pixels the network sees.
/// </summary>
public sealed class BankTrainer
{
    private readonly BankTrainingOptions _o;
    private readonly Backbone _backbone;
    private readonly LossNetwork _loss;
    private readonly int[] _trained;
    private readonly string?[] _sources;
    // Per trained style (position in _trained), per style layer: the target Gram G/(C·h·w).
    private readonly List<Dictionary<string, float[]>> _styleGrams = [];
    private readonly int[] _styleOfSample, _targetOfSample;
    private Graph? _sg, _ag;
    private Value? _sx, _stotal, _ax, _aloss;
    private List<Value> _sterms = [];
    private ParameterBinding? _sbind, _abind;
    private double _lastStylizeNorm = double.NaN;

    /// <param name="styles">The styles to train (names unique, not already in <paramref name="bank"/>).</param>
    /// <param name="bank">null: a new bank of <paramref name="styles"/> seeded with <see cref="BankTrainingOptions.Seed"/>;
    /// otherwise incremental learning — the styles are added to this bank and only their filter sets train.</param>
    public BankTrainer(BankTrainingOptions options, Backbone backbone, IReadOnlyList<BankStyleImage> styles, StyleBankNet? bank = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(styles);
        options.Validate();
        if (styles.Count == 0) throw new OptionException("Styles", "{Styles} names no style to train.");
        var names = styles.Select(s => s.Name).ToList();
        string? twice = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (twice is not null) throw new OptionException("Styles", $"The style name '{twice}' is given twice in {{Styles}}.");
        _o = options;
        _backbone = backbone;
        Incremental = bank is not null;
        try
        {
            if (bank is null) Network = StyleBankNet.Random(names, options.Seed);
            else
            {
                Network = bank;
                var rng = new Rng(options.Seed);
                foreach (string name in names) Network.AddStyle(name, rng);
            }
        }
        catch (ArgumentException e)
        {
            throw new OptionException("Styles", e.Message, e);
        }
        _trained = [.. names.Select(Network.IndexOf)];
        _sources = [.. styles.Select(s => s.Source)];
        if (Incremental) Network.FreezeAllBut(_trained);
        _loss = new LossNetwork(backbone, options.ContentLayer, options.StyleLayers, options.Pooling);
        LearningRateSchedule schedule = options.DecayEvery > 0 ? new StepDecay(options.DecayEvery, options.DecayFactor) : new ConstantRate();
        Optimizer = new AdamOptimizer(Network.Parameters, options.LearningRate, schedule: schedule);
        if (!Incremental && options.Balancing == BranchBalancing.SeparateOptimizers)
            AutoEncoderOptimizer = new AdamOptimizer(Network.Parameters, options.LearningRate, schedule: schedule);
        _styleOfSample = new int[options.BatchSize];
        _targetOfSample = new int[options.BatchSize];
        foreach (BankStyleImage s in styles) _styleGrams.Add(_loss.StyleGrams(s.Image, options.StyleSize));
    }

    public BankTrainingOptions Options => _o;
    public StyleBankNet Network { get; }

    /// <summary>True when styles are being added to an existing bank (only their filter sets train).</summary>
    public bool Incremental { get; }

    /// <summary>The bank indices of the styles this run trains.</summary>
    public IReadOnlyList<int> TrainedStyles => _trained;

    /// <summary>The optimiser of every step (with <see cref="BranchBalancing.SeparateOptimizers"/>: of the stylising steps).</summary>
    public AdamOptimizer Optimizer { get; }

    /// <summary>The auto-encoder steps' own optimiser with <see cref="BranchBalancing.SeparateOptimizers"/>, else null.</summary>
    public AdamOptimizer? AutoEncoderOptimizer { get; }

    /// <summary>Steps done so far (both branches), including those before a resume.</summary>
    public long StepsDone { get; private set; }

    /// <summary>Called with each step's progress row.</summary>
    public Action<ProgressRecord>? Progress { get; set; }

    /// <summary>Messages for the user (skipped images).</summary>
    public Action<string>? Info { get; set; }

    /// <summary>The name checkpoints of this run carry (a checkpoint loads only into the same kind of run).</summary>
    public string CheckpointArchitecture => Incremental ? "stylebank:add-style" : "stylebank";

    /// <summary>Whether step <paramref name="step"/> (0-based) is an auto-encoder step: the last of every T+1 (never when adding styles).</summary>
    public bool IsAutoEncoderStep(long step) => !Incremental && step % (_o.T + 1) == _o.T;

    /// <summary>The style of each sample at step <paramref name="step"/>: the trained styles cycling over the stylising steps' samples.</summary>
    public int[] StylesAt(long step)
    {
        long stylised = Incremental ? step : step / (_o.T + 1) * _o.T + Math.Min(step % (_o.T + 1), _o.T);
        var styles = new int[_o.BatchSize];
        for (int s = 0; s < styles.Length; s++) styles[s] = _trained[(int)((stylised * _o.BatchSize + s) % _trained.Length)];
        return styles;
    }

    /// <summary>The target Gram G/(C·h·w) of trained style <paramref name="trainedIndex"/> (position in <see cref="TrainedStyles"/>) at a style layer.</summary>
    public float[] StyleGram(int trainedIndex, string layer) => _styleGrams[trainedIndex][layer];

    /// <summary>
    /// The schedule's next step on <paramref name="batch"/> (BatchSize×ImageSize×ImageSize×3 interleaved RGB, 0–255):
    /// forward, backward, balancing, Adam. Returns the losses of the forward pass (before the update).
    /// </summary>
    public BankTrainStep Step(ReadOnlySpan<float> batch)
    {
        int s = _o.ImageSize, n = _o.BatchSize;
        if (batch.Length != n * s * s * 3)
            throw new ArgumentException($"A batch holds {n}×{s}×{s}×3 = {n * s * s * 3} values, got {batch.Length}.", nameof(batch));
        BankTrainStep r = IsAutoEncoderStep(StepsDone) ? AutoEncoderStep(batch) : StylizeStep(batch);
        StepsDone++;
        return r;
    }

    private BankTrainStep StylizeStep(ReadOnlySpan<float> batch)
    {
        int[] styles = StylesAt(StepsDone);
        for (int i = 0; i < styles.Length; i++)
        {
            _styleOfSample[i] = styles[i];
            _targetOfSample[i] = Array.IndexOf(_trained, styles[i]);
        }
        if (_sg is null) BuildStylize(batch);
        else
        {
            batch.CopyTo(_sx!.Data);
            _sg.Forward();
        }
        _sg!.Backward(_stotal!);
        _sbind!.ReadGradients();
        var terms = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (Value t in _sterms) terms[t.Name!] = t.Data[0];
        var result = new BankTrainStep(false, _stotal!.Data[0], terms, styles, null);
        // ‖∂L_K‖ for the next auto-encoder step's balancing (the separate-optimiser mode does not balance).
        if (!Incremental && _o.Balancing == BranchBalancing.GradientNorm) _lastStylizeNorm = SharedGradientNorm();
        var used = styles.ToHashSet();
        // Only the filter sets this batch used move (as torch's Adam skips parameters without a gradient).
        StepOnly(Optimizer, p => !IsBank(p.Name, out int k) || used.Contains(k));
        return result;
    }

    private BankTrainStep AutoEncoderStep(ReadOnlySpan<float> batch)
    {
        if (_ag is null) BuildAutoEncoder(batch);
        else
        {
            batch.CopyTo(_ax!.Data);
            _ag.Forward();
        }
        _ag!.Backward(_aloss!);
        _abind!.ReadGradients();
        double? scale = null;
        if (_o.Balancing == BranchBalancing.GradientNorm)
        {
            // The paper's balancing: ‖∂L_K‖ and ‖∂L_I‖ are the L2 norms of the encoder's and decoder's gradients
            // (all their tensors together), ‖∂L_K‖ from the last stylising step, ‖∂L_I‖ from this one.
            double normI = SharedGradientNorm();
            scale = double.IsFinite(_lastStylizeNorm) && normI > 0 ? _o.Lambda * _lastStylizeNorm / normI : _o.Lambda;
            Network.Parameters.ScaleGradients((float)scale.Value, "encoder");
            Network.Parameters.ScaleGradients((float)scale.Value, "decoder");
        }
        var terms = new Dictionary<string, double>(StringComparer.Ordinal) { [_aloss!.Name!] = _aloss.Data[0] };
        var result = new BankTrainStep(true, _aloss.Data[0], terms, [], scale);
        StepOnly(AutoEncoderOptimizer ?? Optimizer, p => !IsBank(p.Name, out _));
        return result;
    }

    private double SharedGradientNorm()
    {
        double e = Network.Parameters.GradientNorm("encoder"), d = Network.Parameters.GradientNorm("decoder");
        return Math.Sqrt(e * e + d * d);
    }

    private static bool IsBank(string name, out int index)
    {
        index = -1;
        if (!name.StartsWith("bank.", StringComparison.Ordinal)) return false;
        int dot = name.IndexOf('.', 5);
        return int.TryParse(name.AsSpan(5, dot - 5), NumberStyles.None, CultureInfo.InvariantCulture, out index);
    }

    /// <summary>An optimiser step over the trainable parameters <paramref name="include"/> accepts (the others keep their values and moments).</summary>
    private void StepOnly(AdamOptimizer optimizer, Func<Parameter, bool> include)
    {
        var excluded = Network.Parameters.Where(p => p.Trainable && !include(p)).ToList();
        foreach (Parameter p in excluded) p.Trainable = false;
        try
        {
            optimizer.Step();
        }
        finally
        {
            foreach (Parameter p in excluded) p.Trainable = true;
        }
    }

    private Func<string, Value> Lookup(ParameterBinding binding) => name => binding[name];

    private void BuildStylize(ReadOnlySpan<float> batch)
    {
        int s = _o.ImageSize, n = _o.BatchSize;
        var g = new Graph(GraphMode.Training);
        Value x = g.Input([n, s, s, 3], name: "batch");
        batch.CopyTo(x.Data); // built eagerly: the first batch is computed as the graph is built
        ParameterBinding binding = Network.Parameters.Bind(g);
        Func<string, Value> p = Lookup(binding);
        Value y = StyleBankNet.Decode(g, p, Network.Stylize(g, p, StyleBankNet.Encode(g, p, x), _styleOfSample));
        Dictionary<string, Value> fy = _loss.OutputFeatures(g, y);
        var terms = new List<Value>();
        if (_o.ContentWeight > 0) terms.Add(_loss.ContentTerm(g, fy, _loss.InputContentFeatures(g, x), _o.ContentWeight));
        if (_o.StyleWeight > 0)
        {
            foreach (LayerRef r in _loss.Style)
            {
                int c = fy[r.Name].Shape[3];
                var candidates = _styleGrams.Select((grams, i) => g.Constant(grams[r.Name], [1, c, c], $"style_target:{r.Name}:{i}")).ToList();
                // Each sample's target is its style's Gram, chosen afresh at every pass.
                var perSample = Enumerable.Range(0, n).Select(k => g.Choose(candidates, () => _targetOfSample[k])).ToArray();
                Value target = n == 1 ? perSample[0] : g.Concat(0, perSample);
                terms.Add(new StyleLoss(r.Name, _o.StyleWeight, StyleScheme.NeuralStyle, [], s * s).Build(g, fy[r.Name], target));
            }
        }
        if (_o.TvWeight > 0) terms.Add(new TvLoss(_o.TvWeight, TvScheme.L1).Build(g, g.Scale(y, 1f / 255f)));
        Value total = LossProblem.SumTerms(g, terms);
        (_sg, _sx, _stotal, _sterms, _sbind) = (g, x, total, terms, binding);
    }

    private void BuildAutoEncoder(ReadOnlySpan<float> batch)
    {
        int s = _o.ImageSize, n = _o.BatchSize;
        var g = new Graph(GraphMode.Training);
        Value x = g.Input([n, s, s, 3], name: "batch");
        batch.CopyTo(x.Data);
        ParameterBinding binding = Network.Parameters.Bind(g);
        Func<string, Value> p = Lookup(binding);
        Value o = StyleBankNet.Decode(g, p, StyleBankNet.Encode(g, p, x));
        Value loss = g.Mean(g.Square(g.Sub(o, x)), "reconstruction");
        (_ag, _ax, _aloss, _abind) = (g, x, loss, binding);
    }

    /// <summary>Steps the run makes over <paramref name="imageCount"/> images: Steps, or Epochs × ⌈images / batch⌉.</summary>
    public int TotalSteps(int imageCount) => _o.TotalSteps(imageCount);

    public int StepsPerEpoch(int imageCount) => _o.StepsPerEpoch(imageCount);

    /// <summary>
    /// Trains on <paramref name="data"/> until the steps (or epochs) are done or <paramref name="token"/> is cancelled;
    /// either way the checkpoint and the bank are written (through <paramref name="run"/>) before it returns. A
    /// checkpoint of another run kind, bank, optimiser or dataset is refused (<see cref="CheckpointException"/>) before any step.
    /// </summary>
    public BankTrainResult Train(ImageFolderDataset data, BankTrainRun run, CancellationToken token = default)
    {
        var loop = new TrainingLoop<BankTrainStep>
        {
            Settings = _o,
            Step = batch => Step(batch),
            StepsDone = () => StepsDone,
            LoadCheckpoint = LoadCheckpoint,
            SaveCheckpoint = SaveCheckpoint,
            LearningRate = r => (r.AutoEncoder && AutoEncoderOptimizer is { } ae ? ae : Optimizer).CurrentLearningRate,
            Stage = r => r.AutoEncoder ? "auto-encoder" : "stylise",
            Finishing = RecordStyleInfo,
            Progress = p => Progress?.Invoke(p),
            Info = m => Info?.Invoke(m),
        };
        return new BankTrainResult(loop.Run(data, run, Network, token));
    }

    /// <summary>Writes what the bank keeps per style: the source image and the steps of this run (and the shared steps of a new bank).</summary>
    private void RecordStyleInfo()
    {
        for (int i = 0; i < _trained.Length; i++) Network.SetStyleInfo(_trained[i], _sources[i], StepsDone);
        if (!Incremental) Network.SharedSteps = StepsDone;
    }

    /// <summary>Metadata for <see cref="StyleBankFile.Save"/>: how the bank was trained (as JSON under "training").</summary>
    public IReadOnlyDictionary<string, string> FileMetadata() => new Dictionary<string, string>
    {
        ["training"] = new JsonObject
        {
            ["image_size"] = _o.ImageSize, ["batch_size"] = _o.BatchSize, ["t"] = _o.T, ["lambda"] = _o.Lambda,
            ["balancing"] = _o.Balancing.ToString(), ["learning_rate"] = _o.LearningRate,
            ["content_weight"] = _o.ContentWeight, ["style_weight"] = _o.StyleWeight, ["tv_weight"] = _o.TvWeight,
            ["content_layer"] = _o.ContentLayer, ["style_layers"] = new JsonArray([.. _o.StyleLayers.Select(l => JsonValue.Create(l))]),
            ["loss_network"] = _backbone.Description, ["steps"] = StepsDone,
        }.ToJsonString(),
    };

    // ---- checkpoints ---------------------------------------------------------------------------------------------

    /// <summary>With separate optimisers the auto-encoder's Adam goes into this second file beside the checkpoint.</summary>
    public static string AutoEncoderCheckpointPath(string checkpoint) => checkpoint + ".ae-optimizer";

    private const string StepKey = "bank_step", NormKey = "stylize_grad_norm", StylesKey = "bank_styles";

    private Dictionary<string, string> RunMetadata()
    {
        Dictionary<string, string> meta = _o.RunMetadata(_backbone);
        meta["t"] = _o.T.ToString(CultureInfo.InvariantCulture);
        meta["balancing"] = _o.Balancing.ToString();
        meta[StylesKey] = StylesJson();
        meta[StepKey] = StepsDone.ToString(CultureInfo.InvariantCulture);
        // The exact bits: an auto-encoder step right after a resume scales by it.
        meta[NormKey] = BitConverter.DoubleToUInt64Bits(_lastStylizeNorm).ToString("x16", CultureInfo.InvariantCulture);
        return meta;
    }

    private string StylesJson() => new JsonArray([.. Network.Styles.Select(s => JsonValue.Create(s))]).ToJsonString();

    private TrainingState State(Rng rng, ShuffledOrder order) => new()
    {
        Architecture = CheckpointArchitecture, Parameters = Network.Parameters, Optimizer = Optimizer, Rng = rng, Data = order,
    };

    private void SaveCheckpoint(string path, Rng rng, ShuffledOrder order)
    {
        if (AutoEncoderOptimizer is { } ae)
            Checkpoint.Save(AutoEncoderCheckpointPath(path), new TrainingState { Architecture = CheckpointArchitecture + ":ae", Parameters = Network.Parameters, Optimizer = ae });
        Checkpoint.Save(path, State(rng, order), RunMetadata());
    }

    private void LoadCheckpoint(string path, Rng rng, ShuffledOrder order)
    {
        IReadOnlyDictionary<string, string> meta = Checkpoint.Load(path, State(rng, order));
        _o.CheckResumeMetadata(path, meta,
            ("t", nameof(BankTrainingOptions.T), _o.T.ToString(CultureInfo.InvariantCulture)),
            ("balancing", nameof(BankTrainingOptions.Balancing), _o.Balancing.ToString()));
        string styles = StylesJson();
        if (meta.TryGetValue(StylesKey, out string? saved) && saved != styles)
            throw new CheckpointException($"The checkpoint '{Path.GetFileName(path)}' is of a bank with the styles {saved}, not {styles}.");
        if (AutoEncoderOptimizer is { } ae)
            Checkpoint.Load(AutoEncoderCheckpointPath(path), new TrainingState { Architecture = CheckpointArchitecture + ":ae", Parameters = Network.Parameters, Optimizer = ae });
        StepsDone = long.Parse(meta[StepKey], NumberStyles.None, CultureInfo.InvariantCulture);
        _lastStylizeNorm = BitConverter.UInt64BitsToDouble(ulong.Parse(meta[NormKey], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
    }
}
