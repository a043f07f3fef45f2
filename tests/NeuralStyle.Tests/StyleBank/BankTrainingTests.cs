using NeuralStyle.Core;
using NeuralStyle.Imaging;
using NeuralStyle.Models.StyleBank;
using NeuralStyle.StyleBank;
using NeuralStyle.Tensors;
using NeuralStyle.TestSupport;
using NeuralStyle.Tests.FastStyle;
using NeuralStyle.Weights;
using Xunit.Abstractions;

namespace NeuralStyle.Tests.StyleBank;

/// <summary>StyleBank training against PyTorch (tools/fixtures/engine/bank_train.py), exact resume, incremental learning.</summary>
public sealed class BankTrainingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-bank-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string File_(string name) => Fixtures.Engine("bank_train", name);

    private static readonly string[] StyleNames = ["starry", "shipwreck", "matisse"];

    /// <summary>The fixture's initial weights: frac(sin(12.9898 i + 78.233 j) · 43758.5453) · 2 − 1, scaled per kind.</summary>
    private static void SetFixtureWeights(StyleBankNet net)
    {
        var layout = StyleBankNet.ExpectedLayout(net.Styles.Count);
        for (int j = 0; j < layout.Count; j++)
        {
            (string name, int[] shape) = layout[j];
            float[] data = net.Parameters[name].Data;
            bool norm = name.Contains(".in", StringComparison.Ordinal), weight = name.EndsWith(".weight", StringComparison.Ordinal);
            double fanIn = shape.Length == 4 ? shape[1] * shape[2] * shape[3] : 0;
            for (int i = 0; i < data.Length; i++)
            {
                double u = FastStyleTrainingTests.InitValue(j, i);
                data[i] = (float)(!norm && weight ? u / Math.Sqrt(fanIn) : norm && weight ? 1.0 + 0.1 * u : 0.1 * u);
            }
        }
    }

    private static (float[][] Batches, BankStyleImage[] Styles) Data()
    {
        var d = SafeTensors.Read(File_("data.safetensors"));
        int per = 4 * 3 * 32 * 32;
        var batches = new float[3][];
        for (int s = 0; s < 3; s++)
            batches[s] = Fixtures.ToNhwc(new WeightTensor("b", [4, 3, 32, 32], d["batches"].Data.AsSpan(s * per, per).ToArray()));
        var styles = new BankStyleImage[3];
        for (int i = 0; i < 3; i++)
        {
            float[] nhwc = Fixtures.ToNhwc(new WeightTensor("s", [1, 3, 32, 32], d["styles"].Data.AsSpan(i * 3 * 32 * 32, 3 * 32 * 32).ToArray()));
            styles[i] = new BankStyleImage(StyleNames[i], new Image(32, 32, 3, [.. nhwc.Select(v => v / 255f)]), $"{StyleNames[i]}.jpg");
        }
        return (batches, styles);
    }

    private static BankTrainingOptions FixtureOptions => new() { ImageSize = 32, BatchSize = 4, T = 2, DecayEvery = 0, CheckpointEvery = 0 };

    /// <summary>Biases feeding an instance norm (conv biases before a norm, every filter set's bias, which the decoder's first norm removes): zero gradient in exact arithmetic, so rounding noise.</summary>
    private static bool NoiseOnly(string name) => name is "encoder.conv1.bias" or "encoder.conv2.bias" or "encoder.conv3.bias"
        or "decoder.deconv1.bias" or "decoder.deconv2.bias" || (name.StartsWith("bank.", StringComparison.Ordinal) && name.EndsWith(".bias", StringComparison.Ordinal));

    [Fact]
    public void Forward_MatchesPyTorch()
    {
        (float[][] batches, _) = Data();
        var net = StyleBankNet.Random(StyleNames, 1);
        SetFixtureWeights(net);
        var want = SafeTensors.Read(File_("forward.safetensors"));
        var g = new Graph(GraphMode.Inference);
        Value P(string name) => g.Constant(net.Parameters[name].Data, net.Parameters[name].Shape, name);
        var cache = new Dictionary<string, Value>();
        Value Cached(string name) => cache.TryGetValue(name, out Value? v) ? v : cache[name] = P(name);
        Value x = g.Input([4, 32, 32, 3]);
        Value f = g.Keep(StyleBankNet.Encode(g, Cached, x));
        Value kf = g.Keep(net.Stylize(g, Cached, f, [0, 1, 2, 0]));
        Value stylised = g.Keep(StyleBankNet.Decode(g, Cached, kf));
        Value reconstruction = g.Keep(StyleBankNet.Decode(g, Cached, f));
        batches[0].CopyTo(x.Data, 0);
        g.Forward();
        int half = 2 * 8 * 8 * 128;
        Assert.True(Fixtures.RelativeError(f.Data.AsSpan(0, half), want["features"].Data) <= 1e-4, "E");
        Assert.True(Fixtures.RelativeError(kf.Data.AsSpan(0, half), want["bank"].Data) <= 1e-4, "K");
        Assert.True(Fixtures.RelativeError(stylised.Data, want["stylised"].Data) <= 1e-4, "D(K E)");
        Assert.True(Fixtures.RelativeError(reconstruction.Data, want["reconstruction"].Data) <= 1e-4, "D(E)");
    }

    [Fact]
    public void SixStepsOfTPlusOne_MatchPyTorch()
    {
        (float[][] batches, BankStyleImage[] styles) = Data();
        var want = SafeTensors.Read(File_("train.safetensors"));
        var trainer = new BankTrainer(FixtureOptions, FastStyleTrainingTests.NarrowVgg16(), styles);
        SetFixtureWeights(trainer.Network);
        var initial = trainer.Network.Parameters.ToDictionary(p => p.Name, p => (float[])p.Data.Clone());
        var rows = new List<BankTrainStep>();
        for (int s = 0; s < 6; s++)
        {
            rows.Add(trainer.Step(batches[s % 3]));
            if (s != 0) continue;
            // The first step's gradients (before any update): every parameter, unused filter sets zero.
            foreach (var p in trainer.Network.Parameters)
            {
                if (NoiseOnly(p.Name)) continue;
                double norm = Math.Sqrt(p.Grad.Sum(v => (double)v * v));
                double wantNorm = want["grad_norm." + p.Name].Data[0];
                Assert.True(Fixtures.Relative(norm, wantNorm) <= 1e-3, $"|grad {p.Name}| {norm} vs PyTorch {wantNorm}");
                float[] head = want["grad_head." + p.Name].Data;
                if (wantNorm > 0) Assert.True(Fixtures.RelativeError(p.Grad.AsSpan(0, head.Length), head) <= 1e-3, $"grad {p.Name}");
            }
        }
        Assert.Equal([false, false, true, false, false, true], rows.Select(r => r.AutoEncoder));
        Assert.Equal([0, 1, 2, 0], rows[0].Styles);
        Assert.Equal([1, 2, 0, 1], rows[1].Styles);
        Assert.Equal([2, 0, 1, 2], rows[3].Styles);

        void Compare(string what, int s, double got)
        {
            double w = want["loss." + what].Data[s];
            output.WriteLine($"step {s} {what}: {got:G6} (PyTorch {w:G6})");
            Assert.True(Fixtures.Relative(got, w) <= 1e-3, $"{what} step {s}: {got} vs PyTorch {w}");
        }
        for (int s = 0; s < 6; s++)
        {
            BankTrainStep r = rows[s];
            Compare("total", s, r.Loss);
            if (r.AutoEncoder)
            {
                Compare("reconstruction", s, r.Terms["reconstruction"]);
                // The second scale is a ratio of gradient norms after four Adam steps; see the movement check below.
                double w = want["loss.scale"].Data[s], got = r.BalanceScale!.Value;
                output.WriteLine($"step {s} scale: {got:G6} (PyTorch {w:G6})");
                Assert.True(Fixtures.Relative(got, w) <= (s < 3 ? 1e-3 : 2e-2), $"scale step {s}: {got} vs PyTorch {w}");
                continue;
            }
            Compare("content", s, r.Terms["content:relu4_2"]);
            foreach (string l in new[] { "relu1_2", "relu2_2", "relu3_2", "relu4_2" }) Compare("style." + l, s, r.Terms["style:" + l]);
            Compare("tv", s, r.Terms["tv"]);
        }
        // After six steps: how far each parameter moved. Adam's first steps are ≈ lr·sign(g), so the near-zero gradient
        // elements whose sign float32 and float64 disagree on move a full lr the other way; the losses above stay within
        // 1e-3 of PyTorch's at every step, the movements within 1e-2 (measured: ≤ 4e-3).
        foreach (var p in trainer.Network.Parameters)
        {
            if (NoiseOnly(p.Name)) continue;
            double delta = Math.Sqrt(p.Data.Zip(initial[p.Name], (a, b) => ((double)a - b) * ((double)a - b)).Sum());
            double w = want["delta_norm." + p.Name].Data[0];
            output.WriteLine($"{p.Name}: moved {delta:G6} vs PyTorch {w:G6}");
            Assert.True(Fixtures.Relative(delta, w) <= 1e-2, $"{p.Name}: moved {delta} vs PyTorch {w}");
        }
    }

    private string MakeDataset(int count, int size = 40)
    {
        string dir = Path.Combine(_dir, "data");
        Directory.CreateDirectory(dir);
        var rng = new Random(7);
        for (int k = 0; k < count; k++)
        {
            var img = new Image(size + k, size, 3);
            for (int i = 0; i < img.Data.Length; i++) img.Data[i] = (float)rng.NextDouble();
            ImageIO.Save(img, Path.Combine(dir, $"img{k}.png"));
        }
        return dir;
    }

    private static BankTrainingOptions SmallOptions(int steps, BranchBalancing balancing = BranchBalancing.GradientNorm) => new()
    {
        ImageSize = 32, BatchSize = 2, Steps = steps, Seed = 5, CheckpointEvery = 0, DecayEvery = 2, Balancing = balancing,
    };

    [Theory]
    [InlineData(BranchBalancing.GradientNorm)]
    [InlineData(BranchBalancing.SeparateOptimizers)]
    public void Resume_FromTheMiddle_GivesBitIdenticalWeights(BranchBalancing balancing)
    {
        string dataDir = MakeDataset(5); // 5 images, batch 2: batches span epochs
        BankStyleImage[] styles = Data().Styles;

        var straight = new BankTrainer(SmallOptions(8, balancing), FastStyleTrainingTests.NarrowVgg16(), styles);
        straight.Train(ImageFolderDataset.Scan(dataDir), new BankTrainRun());

        // Stop after 5 steps: right before an auto-encoder step, whose scale needs the saved stylising-gradient norm.
        string ckpt = Path.Combine(_dir, "half.ckpt.safetensors");
        var first = new BankTrainer(SmallOptions(5, balancing), FastStyleTrainingTests.NarrowVgg16(), styles);
        Assert.Equal(5, first.Train(ImageFolderDataset.Scan(dataDir), new BankTrainRun { CheckpointPath = ckpt }).Steps);
        var second = new BankTrainer(SmallOptions(8, balancing), FastStyleTrainingTests.NarrowVgg16(), styles);
        BankTrainResult r2 = second.Train(ImageFolderDataset.Scan(dataDir), new BankTrainRun { ResumeFrom = ckpt });
        Assert.Equal(8, r2.Steps);

        foreach (var p in straight.Network.Parameters)
            Assert.Equal(p.Data, second.Network.Parameters[p.Name].Data);
        Assert.NotEqual(straight.Network.Parameters[0].Data, first.Network.Parameters[0].Data);
    }

    [Fact]
    public void AddStyle_LeavesSharedLayersAndOldStylesBitIdentical_InTheFileAndInTheirOutputs()
    {
        string dataDir = MakeDataset(4);
        BankStyleImage[] styles = Data().Styles;
        string before = Path.Combine(_dir, "two.safetensors"), after = Path.Combine(_dir, "three.safetensors");
        var original = StyleBankNet.Random(StyleNames[..2], 3);
        StyleBankFile.Save(before, original);

        StyleBankNet bank = StyleBankFile.Load(before);
        var trainer = new BankTrainer(SmallOptions(3) with { BatchSize = 2 }, FastStyleTrainingTests.NarrowVgg16(), [styles[2]], bank);
        Assert.True(trainer.Incremental);
        float[] newInitial = (float[])bank.Parameters[StyleBankNet.BankWeight(2)].Data.Clone();
        BankTrainResult r = trainer.Train(ImageFolderDataset.Scan(dataDir), new BankTrainRun { SaveModel = net => StyleBankFile.Save(after, net, trainer.FileMetadata()) });
        Assert.Equal(3, r.Steps);

        var old = SafeTensors.Read(before);
        var @new = SafeTensors.Read(after);
        foreach ((string name, WeightTensor t) in old) Assert.Equal(t.Data, @new[name].Data); // E, D, K0, K1 bit for bit
        Assert.NotEqual(newInitial, @new[StyleBankNet.BankWeight(2)].Data);                 // the new set trained
        StyleBankNet reloaded = StyleBankFile.Load(after);
        Assert.Equal([.. StyleNames], reloaded.Styles);
        Assert.Equal(3, reloaded.StyleInfo[2].Steps);
        Assert.Equal("matisse.jpg", reloaded.StyleInfo[2].Source);

        var img = new float[20 * 24 * 3];
        new Rng(4).FillUniform(img, 0, 255);
        foreach (string style in StyleNames[..2])
            Assert.Equal(new BankApplier(original).Apply(img, 24, 20, new BankRecipe.Single(style)),
                new BankApplier(reloaded).Apply(img, 24, 20, new BankRecipe.Single(style)));
    }

    [Fact]
    public void Progress_ReportsBothBranches()
    {
        string dataDir = MakeDataset(4);
        var trainer = new BankTrainer(SmallOptions(3) with { PreviewEvery = 2 }, FastStyleTrainingTests.NarrowVgg16(), Data().Styles);
        var records = new List<ProgressRecord>();
        trainer.Progress = records.Add;
        int previews = 0;
        trainer.Train(ImageFolderDataset.Scan(dataDir), new BankTrainRun { Preview = (_, _) => previews++ });
        Assert.Equal(["stylise", "stylise", "auto-encoder"], records.Select(r => r.Stage));
        Assert.Contains("content:relu4_2", records[0].Terms.Keys);
        Assert.Contains("reconstruction", records[2].Terms.Keys);
        Assert.All(records, r => Assert.True(r.LearningRate > 0 && r.ImagesPerSecond > 0));
        Assert.Equal(1, previews); // every 2 of the 3 steps
    }

    [Fact]
    public void BadOptions_AreRefusedNamingTheOption()
    {
        var e = Assert.Throws<OptionException>(() => new BankTrainer(new BankTrainingOptions { ImageSize = 30 }, FastStyleTrainingTests.NarrowVgg16(), Data().Styles));
        Assert.Equal(nameof(BankTrainingOptions.ImageSize), e.Option);
        var twice = Assert.Throws<OptionException>(() => new BankTrainer(FixtureOptions, FastStyleTrainingTests.NarrowVgg16(), [Data().Styles[0], Data().Styles[0]]));
        Assert.Contains("twice", twice.Message);
    }
}
