using System.Diagnostics;
using System.Text.Json;
using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Losses;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Bench;

/// <summary>One timed repetition: wall time, and for whole stylisations the per-iteration time and peak memory.</summary>
internal sealed record RunResult(double Seconds, long? PeakKb = null, double? PerIteration = null, int? Evaluations = null,
    double? AllocatedPerIteration = null);

/// <summary>A benchmark case: our side (set up once, run many times) and the request the PyTorch peer answers.</summary>
internal abstract class BenchCase
{
    public abstract string Name { get; }

    /// <summary>Shown in the size column, e.g. "128² 256→256".</summary>
    public abstract string Size { get; }

    /// <summary>Floating-point operations of one run (2 per multiply-add), for the GFLOP/s column; 0 when not meaningful.</summary>
    public abstract double Flops { get; }

    /// <summary>The case as the peer reads it (bench/peers/peer.py).</summary>
    public abstract Dictionary<string, object> PeerSpec { get; }

    /// <summary>Each run in a fresh process (both sides), so that the peak memory is the whole job's.</summary>
    public virtual bool FreshProcess => false;

    public abstract void Setup();

    public abstract RunResult Run();

    /// <summary>The in-process ONNX Runtime side of the case, once set up (Johnson rows only).</summary>
    public virtual OrtJohnson? Ort => null;

    /// <summary>Why the ONNX Runtime side could not be set up, if it could not.</summary>
    public virtual string? OrtStatus { get => null; protected set { } }

    /// <summary>For fresh-process cases with an ONNX Runtime side: one run of it in a fresh process (null: none).</summary>
    public virtual RunResult? RunOrtFresh(out string? whyNot)
    {
        whyNot = null;
        return null;
    }

    public virtual void Teardown()
    {
    }

    public string PeerJson => JsonSerializer.Serialize(PeerSpec);
}

/// <summary>The 3×3 convolutions of VGG-19 on a 512² input, one per distinct (width, resolution).</summary>
internal static class VggConvLayers
{
    public static IReadOnlyList<(string Name, int Ci, int Co, int Res)> At512 { get; } =
    [
        ("conv1_1", 3, 64, 512), ("conv1_2", 64, 64, 512),
        ("conv2_1", 64, 128, 256), ("conv2_2", 128, 128, 256),
        ("conv3_1", 128, 256, 128), ("conv3_2", 256, 256, 128),
        ("conv4_1", 256, 512, 64), ("conv4_2", 512, 512, 64),
        ("conv5_1", 512, 512, 32),
    ];

    /// <summary>Conv multiply-adds of VGG-19 up to relu5_1 for an h×w input (pools floor like the network).</summary>
    public static double ForwardMacs(int h, int w)
    {
        double macs = 0;
        int[] widths = [64, 128, 256, 512, 512];
        int[] counts = [2, 2, 4, 4, 1];
        int ci = 3;
        for (int b = 0; b < 5; b++)
        {
            for (int k = 0; k < counts[b]; k++)
            {
                macs += 9.0 * ci * widths[b] * h * w;
                ci = widths[b];
            }

            h /= 2;
            w /= 2;
        }

        return macs;
    }

    /// <summary>Gram multiply-adds of the neural-style loss (relu1_1…relu5_1), forward and backward.</summary>
    public static double GramMacs(int h, int w)
    {
        double macs = 0;
        int[] widths = [64, 128, 256, 512, 512];
        for (int b = 0; b < 5; b++)
        {
            macs += 2.0 * widths[b] * widths[b] * h * w; // G = FᵀF, dF = F(dG + dGᵀ)
            h /= 2;
            w /= 2;
        }

        return macs;
    }
}

internal enum ConvDirection { Forward, BackwardInput, BackwardWeights }

/// <summary>
/// One VGG 3×3 layer in one direction; with <paramref name="winograd"/>, the route a frozen zero-padded layer takes in the
/// Gatys graph (Winograd4x4.ForwardPacked / BackwardInputPacked; GFLOP/s counted as direct convolution's).
/// </summary>
internal sealed class ConvCase(string layer, int ci, int co, int res, ConvDirection dir, bool winograd = false) : BenchCase
{
    private float[] _x = [], _y = [], _dy = [], _dx = [], _dw = [], _db = [], _bias = [], _u = [];
    private Conv3x3Weights? _weights;

    private string DirName => dir switch
    {
        ConvDirection.Forward => "fwd",
        ConvDirection.BackwardInput => "bwd-input",
        _ => "bwd-weights",
    };

    public override string Name => $"{(winograd ? "wino" : "conv")}-{DirName}/{layer}";

    public override string Size => $"{res}² {ci}→{co}";

    public override double Flops => 2.0 * 9 * ci * co * res * res;

    public override Dictionary<string, object> PeerSpec => new()
    {
        ["kind"] = dir switch
        {
            ConvDirection.Forward => "conv_fwd",
            ConvDirection.BackwardInput => "conv_bwd_input",
            _ => "conv_bwd_weights",
        },
        ["ci"] = ci, ["co"] = co, ["h"] = res, ["w"] = res,
    };

    public override void Setup()
    {
        int hw = res * res;
        _x = Synthetic.Random(hw * ci, 1);
        _dy = Synthetic.Random(hw * co, 2);
        _bias = Synthetic.Random(co, 3, 0.1f);
        _weights = new Conv3x3Weights(co, ci);
        float[] w = Synthetic.Random(co * ci * 9, 4, (float)Math.Sqrt(2.0 / (9 * ci)));
        _weights.Pack(w);
        if (winograd) _u = dir == ConvDirection.Forward ? Winograd4x4.TransformWeightsPacked(w, co, ci) : Winograd4x4.TransformWeightsBackwardPacked(w, co, ci);
        switch (dir)
        {
            case ConvDirection.Forward: _y = new float[hw * co]; break;
            case ConvDirection.BackwardInput: _dx = new float[hw * ci]; break;
            default: _dw = new float[co * ci * 9]; _db = new float[co]; break;
        }
    }

    public override RunResult Run()
    {
        long t0 = Stopwatch.GetTimestamp();
        switch (dir)
        {
            case ConvDirection.Forward when winograd:
                Winograd4x4.ForwardPacked(_x, null, 1, res, res, ci, co, _u, _bias, _y, relu: false);
                break;
            case ConvDirection.Forward:
                Conv3x3.Forward(_x, 1, res, res, _weights!, _bias, _y, ConvPadding.Zero, relu: false);
                break;
            case ConvDirection.BackwardInput when winograd:
                Winograd4x4.BackwardInputPacked(_dy, null, 1, res, res, ci, co, _u, _dx);
                break;
            case ConvDirection.BackwardInput:
                Conv3x3.BackwardInput(_dy, 1, res, res, _weights!, _dx, ConvPadding.Zero);
                break;
            default:
                // Our kernel accumulates (+=) like a gradient buffer; PyTorch's autograd.grad returns fresh tensors.
                Conv3x3.BackwardWeights(_x, _dy, 1, res, res, ci, co, _dw, _db, ConvPadding.Zero);
                break;
        }

        return new RunResult(Stopwatch.GetElapsedTime(t0).TotalSeconds);
    }

    public override void Teardown()
    {
        _x = _y = _dy = _dx = _dw = _db = _bias = _u = [];
        _weights = null;
    }
}

/// <summary>The Johnson TransformerNet's convolutions that are not 3×3 stride 1, at a 512² input.</summary>
internal static class JohnsonConvLayers
{
    public static IReadOnlyList<(string Name, int K, int Stride, int Ci, int Co, int Res)> At512 { get; } =
    [
        ("conv1-9x9", 9, 1, 3, 32, 512), ("conv2-3x3s2", 3, 2, 32, 64, 512),
        ("conv3-3x3s2", 3, 2, 64, 128, 256), ("deconv3-9x9", 9, 1, 32, 3, 512),
    ];
}

/// <summary>One general convolution (Conv2d kernels, reflect padding) in one direction; res is the INPUT size.</summary>
internal sealed class Conv2dCase(string layer, int k, int stride, int ci, int co, int res, ConvDirection dir) : BenchCase
{
    private float[] _x = [], _y = [], _dy = [], _dx = [], _dw = [], _db = [], _bias = [], _w = [];

    private int OutRes => Conv2d.OutSize(res, k, stride, ConvPadding.Reflect);

    public override string Name => $"conv2d-{dir switch { ConvDirection.Forward => "fwd", ConvDirection.BackwardInput => "bwd-input", _ => "bwd-weights" }}/{layer}";

    public override string Size => $"{res}² {ci}→{co} k{k} s{stride}";

    public override double Flops => 2.0 * k * k * ci * co * OutRes * OutRes;

    public override Dictionary<string, object> PeerSpec => new()
    {
        ["kind"] = dir switch
        {
            ConvDirection.Forward => "conv2d_fwd",
            ConvDirection.BackwardInput => "conv2d_bwd_input",
            _ => "conv2d_bwd_weights",
        },
        ["ci"] = ci, ["co"] = co, ["h"] = res, ["w"] = res, ["k"] = k, ["stride"] = stride, ["padding"] = "reflect",
    };

    public override void Setup()
    {
        int o = OutRes;
        _x = Synthetic.Random(res * res * ci, 1);
        _dy = Synthetic.Random(o * o * co, 2);
        _bias = Synthetic.Random(co, 3, 0.1f);
        _w = Synthetic.Random(co * ci * k * k, 4, (float)Math.Sqrt(2.0 / (k * k * ci)));
        switch (dir)
        {
            case ConvDirection.Forward: _y = new float[o * o * co]; break;
            case ConvDirection.BackwardInput: _dx = new float[res * res * ci]; break;
            default: _dw = new float[co * ci * k * k]; _db = new float[co]; break;
        }
    }

    public override RunResult Run()
    {
        long t0 = Stopwatch.GetTimestamp();
        switch (dir)
        {
            case ConvDirection.Forward:
                Conv2d.Forward(_x, 1, res, res, ci, co, k, stride, _w, _bias, _y, ConvPadding.Reflect, relu: false);
                break;
            case ConvDirection.BackwardInput:
                Conv2d.BackwardInput(_dy, 1, res, res, ci, co, k, stride, _w, _dx, ConvPadding.Reflect);
                break;
            default:
                Conv2d.BackwardWeights(_x, _dy, 1, res, res, ci, co, k, stride, _dw, _db, ConvPadding.Reflect);
                break;
        }

        return new RunResult(Stopwatch.GetElapsedTime(t0).TotalSeconds);
    }

    public override void Teardown() => _x = _y = _dy = _dx = _dw = _db = _bias = _w = [];
}

/// <summary>VGG-19 to relu5_1, forward only (no gradients kept) or forward + backward of mean(out²) to the input.</summary>
internal sealed class VggCase(int size, bool backward) : BenchCase
{
    private Graph? _g;
    private Value? _loss;

    public override string Name => backward ? "vgg19-fwdbwd" : "vgg19-fwd";

    public override string Size => $"{size}²";

    public override double Flops => 2 * VggConvLayers.ForwardMacs(size, size) * (backward ? 2 : 1);

    public override Dictionary<string, object> PeerSpec => new()
    {
        ["kind"] = backward ? "vgg_fwdbwd" : "vgg_fwd", ["h"] = size, ["w"] = size,
    };

    public override void Setup()
    {
        VggNet net = VggNet.Random(VggArchitecture.Vgg19, Backbone.RandomSeed);
        _g = new Graph();
        Value x = _g.Input([1, size, size, 3], requiresGrad: backward, name: "x");
        Synthetic.Random(x.Length, 5).CopyTo(x.Data, 0);
        Value f = net.Build(_g, x, [net.Layers.Resolve("relu5_1")], PoolingKind.Max)["relu5_1"];
        _loss = backward ? _g.Mean(_g.Square(f)) : f;
    }

    public override RunResult Run()
    {
        long t0 = Stopwatch.GetTimestamp();
        _g!.Forward();
        if (backward)
        {
            _g.Backward(_loss!);
        }

        return new RunResult(Stopwatch.GetElapsedTime(t0).TotalSeconds);
    }

    public override void Teardown()
    {
        _g = null;
        _loss = null;
    }
}

/// <summary>Builds neural-style problems on the random VGG-19 (caffe input flavour: the cost of the real thing).</summary>
internal static class NeuralStylePreset
{
    public static Stylizer Stylizer(int longEdge, int iterations) => new(
        Presets.Get("neural-style") with { Iterations = iterations, Size = new SizeRule(SizeRuleKind.LongEdge, longEdge) },
        new Backbone(VggNet.Random(VggArchitecture.Vgg19, Backbone.RandomSeed), InputFlavor.Caffe, "random VGG-19, caffe flavour"));

    public static double IterationFlops(int w, int h)
        => 2 * (2 * VggConvLayers.ForwardMacs(h, w) + VggConvLayers.GramMacs(h, w));
}

/// <summary>One evaluation (forward + backward of content, style and TV losses) of the neural-style preset.</summary>
internal sealed class GatysIterationCase(int w, int h) : BenchCase
{
    private Stylizer.Problem? _p;

    public override string Name => "gatys-iter";

    public override string Size => $"{w}×{h}";

    public override double Flops => NeuralStylePreset.IterationFlops(w, h);

    public override Dictionary<string, object> PeerSpec => new() { ["kind"] = "gatys_iter", ["w"] = w, ["h"] = h };

    public override void Setup()
    {
        Stylizer s = NeuralStylePreset.Stylizer(Math.Max(w, h), 0);
        _p = s.Prepare(Synthetic.Content(w, h), [Synthetic.Style(w, h)]);
    }

    public override RunResult Run()
    {
        long t0 = Stopwatch.GetTimestamp();
        _p!.Evaluate(withGradient: true);
        return new RunResult(Stopwatch.GetElapsedTime(t0).TotalSeconds);
    }

    public override void Teardown() => _p = null;
}

/// <summary>A whole neural-style stylisation (Prepare + L-BFGS), each run in a fresh child process.</summary>
internal sealed class StylizeCase(int w, int h, int iterations) : BenchCase
{
    public override string Name => "stylize";

    public override string Size => $"{w}×{h} {iterations} it";

    public override double Flops => iterations * NeuralStylePreset.IterationFlops(w, h);

    public override Dictionary<string, object> PeerSpec => new()
    {
        ["kind"] = "stylize", ["w"] = w, ["h"] = h, ["iterations"] = iterations,
    };

    public override bool FreshProcess => true;

    public override void Setup()
    {
    }

    public override RunResult Run() => ChildProcess.Run(["--child", "stylize", "--width", $"{w}", "--height", $"{h}", "--iterations", $"{iterations}"]);

    /// <summary>The body of the child process: runs the stylisation and returns the figures to print.</summary>
    public static RunResult RunInThisProcess(int w, int h, int iterations)
    {
        long t0 = Stopwatch.GetTimestamp();
        Stylizer s = NeuralStylePreset.Stylizer(Math.Max(w, h), iterations);
        long firstBytes = 0, lastBytes = 0;
        int rows = 0;
        s.Progress = _ =>
        {
            // Managed bytes allocated between the first and the last progress row: the per-iteration allocation.
            lastBytes = GC.GetTotalAllocatedBytes(precise: false);
            if (rows++ == 0)
            {
                firstBytes = lastBytes;
            }
        };
        StylizeResult r = s.Run(Synthetic.Content(w, h), [Synthetic.Style(w, h)]);
        double total = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        if (!r.Succeeded)
        {
            throw new InvalidOperationException(r.Failure);
        }

        double? allocated = rows > 1 ? (lastBytes - firstBytes) / (double)(rows - 1) : null;
        return new RunResult(total, Memory.PeakKb(), r.Seconds / Math.Max(1, r.Iterations), r.Iterations, allocated);
    }
}

/// <summary>Runs this program again as a child (one fresh process per memory case) and reads its JSON answer.</summary>
internal static class ChildProcess
{
    public static RunResult Run(IReadOnlyList<string> args)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find this program's path.");
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            psi.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        }

        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi) ?? throw new InvalidOperationException("Cannot start the child process.");
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        string? last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (p.ExitCode != 0 || last is null)
        {
            throw new InvalidOperationException($"The child process failed (exit code {p.ExitCode}): {output.Trim()}");
        }

        using JsonDocument doc = JsonDocument.Parse(last);
        JsonElement e = doc.RootElement;
        double allocated = e.GetProperty("allocated_per_iteration").GetDouble();
        return new RunResult(e.GetProperty("seconds").GetDouble(), e.GetProperty("peak_kb").GetInt64(),
            e.GetProperty("per_iteration").GetDouble(), e.GetProperty("evaluations").GetInt32(), allocated < 0 ? null : allocated);
    }

    public static string ToJson(RunResult r) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["seconds"] = r.Seconds, ["peak_kb"] = r.PeakKb ?? 0, ["per_iteration"] = r.PerIteration ?? 0,
        ["evaluations"] = r.Evaluations ?? 0, ["allocated_per_iteration"] = r.AllocatedPerIteration ?? -1,
    });
}
