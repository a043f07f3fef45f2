using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using NeuralStyle.Core;
using NeuralStyle.Models;
using NeuralStyle.Models.Johnson;
using NeuralStyle.Models.Vgg;
using NeuralStyle.StyleBank;
using NeuralStyle.Imaging;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Training;

namespace NeuralStyle.Bench;

/// <summary>
/// The ONNX Runtime peer of the Johnson rows: the same TransformerNet exported by PyTorch (bench/peers/peer.py
/// --export-johnson, opset 13, dynamic H/W) into a temporary folder at bench time, run in this process on the CPU
/// provider with 2 intra-op threads and every graph optimisation.
/// </summary>
internal sealed class OrtJohnson : IDisposable
{
    private static readonly Lazy<(string? Path, string? Why)> Exported = new(Export);
    private readonly InferenceSession _session;
    private readonly OrtValue _input;
    private readonly string[] _inputNames = ["input"], _outputNames = ["output"];

    public OrtJohnson(string onnxPath, int height, int width)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 2, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(onnxPath, options);
        float[] x = Synthetic.Random(3 * height * width, 7, 127.5f);
        for (int i = 0; i < x.Length; i++) x[i] += 127.5f;
        _input = OrtValue.CreateTensorValueFromMemory(x, [1, 3, height, width]);
    }

    public static string Version => typeof(InferenceSession).Assembly.GetName().Version?.ToString() ?? "?";

    /// <summary>The exported model's path, or null with the reason it could not be made.</summary>
    public static string? ModelPath(out string? whyNot)
    {
        (string? path, string? why) = Exported.Value;
        whyNot = why;
        return path;
    }

    public RunResult Run()
    {
        long t0 = Stopwatch.GetTimestamp();
        using IDisposableReadOnlyCollection<OrtValue> outputs = _session.Run(new RunOptions(), _inputNames, [_input], _outputNames);
        return new RunResult(Stopwatch.GetElapsedTime(t0).TotalSeconds);
    }

    public void Dispose()
    {
        _input.Dispose();
        _session.Dispose();
    }

    private static (string?, string?) Export()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"neuralstyle-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "johnson.onnx");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        if (!File.Exists(Peer.Python)) return (null, $"{Peer.Python} was not found (the ONNX file is exported by PyTorch)");
        var psi = new ProcessStartInfo(Peer.Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Peer.FindScript());
        psi.ArgumentList.Add("--export-johnson");
        psi.ArgumentList.Add(path);
        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 && File.Exists(path) ? (path, null) : (null, $"the ONNX export failed: {err.Result.Trim().Split('\n').LastOrDefault()}");
    }
}

/// <summary>The Johnson TransformerNet forward (random weights, batch 1): ours, PyTorch's and ONNX Runtime's.</summary>
internal sealed class JohnsonForwardCase(int size) : BenchCase
{
    private Graph? _g;
    private OrtJohnson? _ort;

    public override string Name => "johnson-fwd";

    public override string Size => $"{size}²";

    public override double Flops => 2 * TransformerNet.Random(TransformerArchitecture.Johnson, 1).MacsPerPixel * size * size;

    public override Dictionary<string, object> PeerSpec => new() { ["kind"] = "johnson_fwd", ["h"] = size, ["w"] = size };

    public override OrtJohnson? Ort => _ort;

    public override string? OrtStatus { get; protected set; }

    public override void Setup()
    {
        _g = Build(size, out _);
        string? path = OrtJohnson.ModelPath(out string? why);
        OrtStatus = why;
        _ort = path is null ? null : new OrtJohnson(path, size, size);
    }

    internal static Graph Build(int size, out Value y)
    {
        TransformerNet net = TransformerNet.Random(TransformerArchitecture.Johnson, 1);
        var g = new Graph(GraphMode.Inference);
        Value x = g.Input([1, size, size, 3], name: "image");
        y = g.Keep(net.BuildFrozen(g, x));
        float[] pixels = Synthetic.Random(x.Length, 7, 127.5f);
        for (int i = 0; i < pixels.Length; i++) x.Data[i] = pixels[i] + 127.5f;
        return g;
    }

    public override RunResult Run()
    {
        long t0 = Stopwatch.GetTimestamp();
        _g!.Forward();
        return new RunResult(Stopwatch.GetElapsedTime(t0).TotalSeconds);
    }

    public override void Teardown()
    {
        _g = null;
        _ort?.Dispose();
        _ort = null;
    }
}

/// <summary>Peak resident memory of one Johnson forward at size², each side in a fresh process (one warm-up, one timed run).</summary>
internal sealed class JohnsonMemoryCase(int size) : BenchCase
{
    public override string Name => "johnson-fwd-mem";

    public override string Size => $"{size}²";

    public override double Flops => 0;

    public override Dictionary<string, object> PeerSpec => new() { ["kind"] = "johnson_fwd", ["h"] = size, ["w"] = size };

    public override bool FreshProcess => true;

    public override void Setup()
    {
    }

    public override RunResult Run() => ChildProcess.Run(["--child", "johnson", "--width", $"{size}", "--height", $"{size}"]);

    public override RunResult? RunOrtFresh(out string? whyNot)
    {
        string? path = OrtJohnson.ModelPath(out whyNot);
        return path is null ? null : ChildProcess.Run(["--child", "johnson-ort", "--width", $"{size}", "--height", $"{size}", "--onnx", path]);
    }

    /// <summary>The child's body: ours (onnx null) or ONNX Runtime's forward, warm-up then one timed run.</summary>
    public static RunResult RunInThisProcess(int size, string? onnx)
    {
        if (onnx is null)
        {
            Graph g = JohnsonForwardCase.Build(size, out _);
            g.Forward();
            long t0 = Stopwatch.GetTimestamp();
            g.Forward();
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            return new RunResult(s, Memory.PeakKb());
        }

        using var ort = new OrtJohnson(onnx, size, size);
        ort.Run();
        return new RunResult(ort.Run().Seconds, Memory.PeakKb());
    }
}

/// <summary>
/// One training step of fast_neural_style (spec §5): TransformerNet forward on a batch, VGG-16 (random, to relu4_3)
/// on the output and on the batch, content 1e5·MSE(relu2_2) + style 1e10·Σ MSE(Gram) at relu1_2/2_2/3_3/4_3,
/// backward to every parameter, one Adam(1e-3) step.
/// </summary>
internal sealed class JohnsonTrainStepCase(int batch, int size) : BenchCase
{
    private static readonly string[] StyleLayers = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"];
    private Graph? _g;
    private Value? _loss;
    private ParameterBinding? _binding;
    private AdamOptimizer? _adam;

    public override string Name => "johnson-train-step";

    public override string Size => $"{batch}×{size}²";

    public override double Flops => 0;

    public override Dictionary<string, object> PeerSpec => new() { ["kind"] = "johnson_train_step", ["n"] = batch, ["h"] = size, ["w"] = size };

    public override void Setup()
    {
        TransformerNet net = TransformerNet.Random(TransformerArchitecture.Johnson, 1);
        VggNet vgg = VggNet.Random(VggArchitecture.Vgg16, Backbone.RandomSeed);
        var layers = StyleLayers.Select(vgg.Layers.Resolve).ToList();
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        float[] scale = [.. std.Select(s => 1 / (255 * s))], shift = [.. mean.Zip(std, (m, s) => -m / s)];

        // The style target: Gram matrices of a random style image, computed once.
        var sg = new Graph(GraphMode.Inference);
        Value style = sg.Input([1, size, size, 3]);
        Synthetic.Random(style.Length, 11, 127.5f).Select(v => v + 127.5f).ToArray().CopyTo(style.Data, 0);
        Dictionary<string, Value> sf = vgg.Build(sg, sg.ChannelAffine(style, [0, 1, 2], scale, shift), layers, PoolingKind.Max);
        var grams = StyleLayers.ToDictionary(l => l, l => sg.Keep(sg.Gram(sf[l], 1f / (sf[l].Shape[1] * sf[l].Shape[2] * sf[l].Shape[3]))));
        sg.Forward();

        _g = new Graph();
        Value x = _g.Input([batch, size, size, 3], name: "batch");
        Synthetic.Random(x.Length, 12, 127.5f).Select(v => v + 127.5f).ToArray().CopyTo(x.Data, 0);
        _binding = net.Parameters.Bind(_g);
        Value y = net.Build(_g, x, name => _binding[name]);
        Dictionary<string, Value> fy = vgg.Build(_g, _g.ChannelAffine(y, [0, 1, 2], scale, shift), layers, PoolingKind.Max);
        Value fx = vgg.Build(_g, _g.ChannelAffine(x, [0, 1, 2], scale, shift), [vgg.Layers.Resolve("relu2_2")], PoolingKind.Max)["relu2_2"];
        Value loss = _g.Scale(_g.Mean(_g.Square(_g.Sub(fy["relu2_2"], fx))), 1e5f);
        foreach (string l in StyleLayers)
        {
            Value f = fy[l];
            int c = f.Shape[3];
            float[] target = new float[batch * c * c];
            for (int b = 0; b < batch; b++) grams[l].Data.CopyTo(target, b * c * c);
            Value gy = _g.Gram(f, 1f / (c * f.Shape[1] * f.Shape[2]));
            loss = _g.Add(loss, _g.Scale(_g.Mean(_g.Square(_g.Sub(gy, _g.Constant(target, [batch, c, c])))), 1e10f));
        }

        _loss = loss;
        _adam = new AdamOptimizer(net.Parameters, 1e-3);
    }

    public override RunResult Run()
    {
        long t0 = Stopwatch.GetTimestamp();
        _g!.Forward();
        _g.Backward(_loss!);
        _binding!.ReadGradients();
        _adam!.Step();
        return new RunResult(Stopwatch.GetElapsedTime(t0).TotalSeconds);
    }

    public override void Teardown()
    {
        _g = null;
        _loss = null;
        _binding = null;
        _adam = null;
    }
}

/// <summary>
/// One stylising step of StyleBank training (spec §6) as <c>bank train</c> runs it: a batch of 4 with a different
/// style per sample, the encoder, each sample's filter set and the decoder, VGG-16 (random, to relu4_2) on the output
/// and the batch, content + 1e6·style (Gram MSE at relu1_2/2_2/3_2/4_2) + 1e-5·TV, backward, Adam(1e-3) over what the
/// batch used. The schedule's auto-encoder steps (every T+1-th, about a third cheaper) are kept out of the timing.
/// </summary>
internal sealed class BankTrainStepCase(int batch, int size) : BenchCase
{
    private BankTrainer? _trainer;
    private float[]? _batch;

    public override string Name => "bank-train-step";

    public override string Size => $"{batch}×{size}²";

    public override double Flops => 0;

    public override Dictionary<string, object> PeerSpec => new() { ["kind"] = "bank_train_step", ["n"] = batch, ["h"] = size, ["w"] = size };

    public override void Setup()
    {
        var backbone = new Backbone(VggNet.Random(VggArchitecture.Vgg16, Backbone.RandomSeed), InputFlavor.Torchvision, "random VGG-16");
        var styles = Enumerable.Range(0, batch).Select(k =>
        {
            var img = new Image(size, size, 3);
            Synthetic.Random(img.Data.Length, (ulong)(20 + k), 0.5f).Select(v => v + 0.5f).ToArray().CopyTo(img.Data, 0);
            return new BankStyleImage($"style{k}", img);
        }).ToList();
        // T larger than any run: every timed step is a stylising one.
        var options = new BankTrainingOptions { BatchSize = batch, ImageSize = size, T = 1_000_000 };
        _trainer = new BankTrainer(options, backbone, styles);
        _batch = Synthetic.Random(batch * size * size * 3, 12, 127.5f).Select(v => v + 127.5f).ToArray();
    }

    public override RunResult Run()
    {
        long t0 = Stopwatch.GetTimestamp();
        _trainer!.Step(_batch);
        return new RunResult(Stopwatch.GetElapsedTime(t0).TotalSeconds);
    }

    public override void Teardown()
    {
        _trainer = null;
        _batch = null;
    }
}
