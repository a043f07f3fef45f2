using NeuralStyle.Models.Training;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Kernels;
using NeuralStyle.Tensors.Training;
using NeuralStyle.Weights;

namespace NeuralStyle.Models.Tests.Training;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ns-checkpoint-" + Guid.NewGuid().ToString("N")[..8]);

    public CheckpointTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private const int Samples = 10, Batch = 3, H = 6, W = 5;

    /// <summary>
    /// A small training run built from nothing but its seeds: conv3x3+ReLU → Gram and mean losses (plus a frozen
    /// conv), shuffled mini-batches of a synthetic dataset drawn by the Rng, Gaussian input noise from the same Rng.
    /// </summary>
    private sealed class Run
    {
        private static readonly float[][] Dataset = MakeDataset();
        private readonly Graph _graph = new();
        private readonly ParameterBinding _binding;
        private readonly Value _x, _loss;
        private readonly int[] _batch = new int[Batch];
        private readonly float[] _noise = new float[7]; // odd: a Gaussian spare is pending between steps

        public Run(string optimizer, ulong initSeed, ulong rngSeed)
        {
            Parameters = new ParameterSet();
            var init = new Rng(initSeed);
            foreach (var (name, shape) in new (string, int[])[]
            {
                ("body.conv.weight", [6, 3, 3, 3]), ("body.conv.bias", [6]), ("head.weight", [4, 6, 3, 3]), ("head.bias", [4]),
            })
            {
                Parameter p = Parameters.Add(name, shape);
                init.FillUniform(p.Data, -0.3, 0.3);
            }
            Parameters.Freeze("head.bias");
            Optimizer = optimizer == "adam"
                ? new AdamOptimizer(Parameters, 0.01, weightDecay: 1e-4, schedule: new StepDecay(3, 0.5))
                : new SgdOptimizer(Parameters, 0.05, momentum: 0.9, weightDecay: 1e-3, schedule: new StepDecay(3, 0.5));
            Rng = new Rng(rngSeed);
            Data = new ShuffledOrder(Samples, Rng);
            State = new TrainingState { Architecture = "tiny-conv", Parameters = Parameters, Optimizer = Optimizer, Rng = Rng, Data = Data };

            _binding = Parameters.Bind(_graph);
            _x = _graph.Input([Batch, H, W, 3]);
            Value f = _graph.Conv3x3(_x, _binding["body.conv.weight"], _binding["body.conv.bias"], ConvPadding.Zero, relu: true);
            Value o = _graph.Conv3x3(f, _binding["head.weight"], _binding["head.bias"], ConvPadding.Valid);
            var targetGram = new float[Batch * 6 * 6];
            new Rng(99).FillUniform(targetGram, 0, 0.5);
            Value gram = _graph.Gram(f, 1f / (H * W));
            Value style = _graph.Mean(_graph.Square(_graph.Sub(gram, _graph.Constant(targetGram, [Batch, 6, 6]))));
            _loss = _graph.Add(style, _graph.Scale(_graph.Mean(_graph.Square(o)), 0.1f));
        }

        public ParameterSet Parameters { get; }
        public IOptimizer Optimizer { get; }
        public Rng Rng { get; }
        public ShuffledOrder Data { get; }
        public TrainingState State { get; }

        private static float[][] MakeDataset()
        {
            var rng = new Rng(2024);
            var d = new float[Samples][];
            for (int i = 0; i < Samples; i++)
            {
                d[i] = new float[H * W * 3];
                rng.FillUniform(d[i], -1, 1);
            }
            return d;
        }

        public void Steps(int count)
        {
            for (int s = 0; s < count; s++)
            {
                Data.NextBatch(_batch);
                for (int i = 0; i < Batch; i++) Dataset[_batch[i]].CopyTo(_x.Data, i * H * W * 3);
                Rng.FillGaussian(_noise, 0, 0.05);
                for (int i = 0; i < _noise.Length; i++) _x.Data[i * 11] += _noise[i];
                _graph.Forward();
                _graph.Backward(_loss);
                _binding.ReadGradients();
                Optimizer.Step();
            }
        }

        public byte[] ParameterBytes() => [.. Parameters.SelectMany(p => p.Data.SelectMany(BitConverter.GetBytes))];
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("sgd")]
    public void Resume_AfterSaveAndLoadIntoFreshObjects_IsBitExact(string optimizer)
    {
        const int n = 8; // the schedule halves the rate at steps 3 and 6; the data order crosses epochs (10 samples, batch 3)
        var straight = new Run(optimizer, initSeed: 1, rngSeed: 7);
        straight.Steps(n);

        string path = Path.Combine(_dir, $"{optimizer}.safetensors");
        var first = new Run(optimizer, initSeed: 1, rngSeed: 7);
        first.Steps(n / 2);
        Checkpoint.Save(path, first.State, new Dictionary<string, string> { ["options"] = "{\"style_weight\": 5}" });
        byte[] atSave = first.ParameterBytes();
        first = null;
        GC.Collect();

        // Fresh objects from other seeds: everything that matters must come from the file.
        var resumed = new Run(optimizer, initSeed: 2, rngSeed: 8);
        IReadOnlyDictionary<string, string> metadata = Checkpoint.Load(path, resumed.State);
        Assert.Equal(atSave, resumed.ParameterBytes());
        Assert.Equal("{\"style_weight\": 5}", metadata["options"]);
        Assert.Equal(n / 2, resumed.Optimizer.Steps);
        Assert.False(resumed.Parameters["head.bias"].Trainable);
        resumed.Steps(n / 2);

        Assert.Equal(straight.ParameterBytes(), resumed.ParameterBytes());
        Assert.Equal(straight.Optimizer.CurrentLearningRate, resumed.Optimizer.CurrentLearningRate);
        Assert.Equal(straight.Rng.NextUInt64(), resumed.Rng.NextUInt64());
        Assert.Equal(straight.Data.ExportPosition().Permutation, resumed.Data.ExportPosition().Permutation);
    }

    [Fact]
    public void Save_IsOneSafetensorsFileWithTheDocumentedEntries()
    {
        var run = new Run("adam", 1, 7);
        run.Steps(2);
        string path = Path.Combine(_dir, "c.safetensors");
        Checkpoint.Save(path, run.State);
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(_dir).Select(Path.GetFileName)); // no temporary left behind
        var tensors = SafeTensors.Read(path);
        Assert.Contains("params.body.conv.weight", tensors.Keys);
        Assert.Contains("optim.exp_avg.body.conv.weight", tensors.Keys);
        Assert.Contains("optim.exp_avg_sq.head.weight", tensors.Keys);
        Assert.DoesNotContain("optim.exp_avg.head.bias", tensors.Keys); // frozen: never stepped
        var meta = SafeTensors.ReadMetadata(path);
        Assert.Equal(Checkpoint.Format, meta["format"]);
        Assert.Equal("tiny-conv", meta["architecture"]);
        Assert.Equal("2", meta["step"]);
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(path, run.State, new Dictionary<string, string> { ["step"] = "x" }));
    }

    private CheckpointException LoadFails(string path, TrainingState into) => Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, into));

    [Fact]
    public void Load_RejectsWhatDoesNotFit_WithOneClearSentence_AndChangesNothing()
    {
        var run = new Run("adam", 1, 7);
        run.Steps(2);
        string path = Path.Combine(_dir, "c.safetensors");
        Checkpoint.Save(path, run.State);

        var fresh = new Run("adam", 3, 9);
        byte[] before = fresh.ParameterBytes();
        Assert.Contains("architecture 'tiny-conv', not 'other-net'", LoadFails(path, fresh.State with { Architecture = "other-net" }).Message);
        Assert.Contains("sgd optimiser", LoadFails(path, fresh.State with { Optimizer = new SgdOptimizer(fresh.Parameters, 0.1) }).Message);

        var wider = new ParameterSet();
        foreach (Parameter p in fresh.Parameters) wider.Add(p.Name, p.Name == "head.bias" ? [5] : p.Shape);
        Assert.Contains("stores 'head.bias' with shape [4], but the network's is [5]", LoadFails(path, new TrainingState { Architecture = "tiny-conv", Parameters = wider }).Message);

        var more = new ParameterSet();
        foreach (Parameter p in fresh.Parameters) more.Add(p.Name, p.Shape);
        more.Add("tail.weight", [2]);
        Assert.Contains("no tensor for the parameter 'tail.weight'", LoadFails(path, new TrainingState { Architecture = "tiny-conv", Parameters = more }).Message);

        var fewer = new ParameterSet();
        foreach (Parameter p in fresh.Parameters.Where(p => p.Name != "head.bias")) fewer.Add(p.Name, p.Shape);
        Assert.Contains("has the parameter 'head.bias', which the network does not have", LoadFails(path, new TrainingState { Architecture = "tiny-conv", Parameters = fewer }).Message);

        var differentData = new ShuffledOrder(Samples + 1, fresh.Rng);
        Assert.Contains("trained on 10 samples", LoadFails(path, fresh.State with { Data = differentData }).Message);

        Assert.Equal(before, fresh.ParameterBytes());
        Assert.Equal(0, fresh.Optimizer.Steps);

        // A weights-only checkpoint cannot restore an optimiser; a file that is not a checkpoint says so.
        string weightsOnly = Path.Combine(_dir, "w.safetensors");
        Checkpoint.Save(weightsOnly, new TrainingState { Architecture = "tiny-conv", Parameters = run.Parameters });
        Assert.Contains("no optimizer state", LoadFails(weightsOnly, fresh.State).Message);
        Checkpoint.Load(weightsOnly, new TrainingState { Architecture = "tiny-conv", Parameters = fresh.Parameters });
        Assert.Equal(run.ParameterBytes(), fresh.ParameterBytes());

        string plain = Path.Combine(_dir, "plain.safetensors");
        SafeTensors.Write(plain, [new WeightTensor("x", [1], [1f])]);
        Assert.Contains("is not a NeuralStyle training checkpoint", LoadFails(plain, fresh.State).Message);
        string garbage = Path.Combine(_dir, "garbage.safetensors");
        File.WriteAllBytes(garbage, [1, 2, 3]);
        Assert.Contains("cannot be read", LoadFails(garbage, fresh.State).Message);
        Assert.Contains("does not exist", LoadFails(Path.Combine(_dir, "missing.safetensors"), fresh.State).Message);
    }
}
