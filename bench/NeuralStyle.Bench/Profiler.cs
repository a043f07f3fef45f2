using System.Runtime.Intrinsics;
using System.Diagnostics;
using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Losses;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Kernels;
using NeuralStyle.Tensors.Optim;

namespace NeuralStyle.Bench;

/// <summary>
/// Where the time of one neural-style iteration goes: the whole evaluation timed through the Stylizer, then every
/// piece of it re-run on its own through the public kernels and small graphs at the same shapes. "Other" is the
/// whole minus the pieces (graph bookkeeping, gradient accumulation, clears, …).
/// </summary>
internal static class Profiler
{
    private static readonly int[] Widths = [64, 128, 256, 512, 512];
    private static readonly int[] Counts = [2, 2, 4, 4, 1];

    public static void Run(int w, int h, int runs, TextWriter output)
    {
        output.WriteLine($"Profile of one neural-style iteration at {w}×{h} (ours, medians of {runs} runs, {KernelThreading.MaxDegree} threads)");

        // The whole evaluation, as the stylisation runs it.
        Stylizer s = NeuralStylePreset.Stylizer(Math.Max(w, h), 0);
        Stylizer.Problem p = s.Prepare(Synthetic.Content(w, h), [Synthetic.Style(w, h)]);
        double forwardOnly = Time(runs, () => p.Evaluate(withGradient: false));
        double whole = Time(runs, () => p.Evaluate(withGradient: true));
        p = null!;
        GC.Collect();

        var rows = new List<(string Layer, string Shape, double Fwd, double Bwd, double Macs)>();
        double convF = 0, convB = 0, mask = 0, maskScalar = 0, pool = 0;
        int ci = 3, hh = h, ww = w;
        for (int b = 0; b < 5; b++)
        {
            for (int k = 0; k < Counts[b]; k++)
            {
                int co = Widths[b];
                var weights = new Conv3x3Weights(co, ci);
                float[] oihw = Synthetic.Random(co * ci * 9, 7, (float)Math.Sqrt(2.0 / (9 * ci)));
                weights.Pack(oihw);
                float[] x = Synthetic.Random(hh * ww * ci, 8), y = new float[hh * ww * co], bias = new float[co];
                float[] dy = Synthetic.Random(hh * ww * co, 9), dx = new float[hh * ww * ci];
                // The route the Gatys graph takes: Winograd F(4×4) where it wins, direct convolution elsewhere.
                bool wino = Winograd4x4.Wins(ci, co, hh, ww);
                double f, bi;
                if (wino)
                {
                    float[] uf = Winograd4x4.TransformWeightsPacked(oihw, co, ci), ub = Winograd4x4.TransformWeightsBackwardPacked(oihw, co, ci);
                    int cin = ci, cout = co, hin = hh, win = ww;
                    f = Time(runs, () => Winograd4x4.ForwardPacked(x, null, 1, hin, win, cin, cout, uf, bias, y, relu: true));
                    bi = Time(runs, () => Winograd4x4.BackwardInputPacked(dy, null, 1, hin, win, cin, cout, ub, dx));
                }
                else
                {
                    f = Time(runs, () => Conv3x3.Forward(x, 1, hh, ww, weights, bias, y, ConvPadding.Zero, relu: true));
                    bi = Time(runs, () => Conv3x3.BackwardInput(dy, 1, hh, ww, weights, dx, ConvPadding.Zero));
                }
                double m = Time(runs, () => Activation.ReluMask(dy, y, dy));
                maskScalar += Time(runs, () => Activation.ReluMaskReference(dy, y, dy));
                rows.Add(($"conv{b + 1}_{k + 1}", $"{ww}×{hh} {ci}→{co}{(wino ? " (Winograd)" : "")}", f, bi, 9.0 * ci * co * hh * ww));
                convF += f;
                convB += bi;
                mask += m;
                ci = co;
            }

            if (b < 4)
            {
                float[] x = Synthetic.Random(hh * ww * ci, 10), y = new float[(hh / 2) * (ww / 2) * ci];
                float[] dy = Synthetic.Random(y.Length, 11), dx = new float[x.Length];
                pool += Time(runs, () => Pool2x2.MaxForward(x, 1, hh, ww, ci, y));
                pool += Time(runs, () => Pool2x2.MaxBackward(x, dy, 1, hh, ww, ci, dx));
                hh /= 2;
                ww /= 2;
            }
        }

        // Gram + style loss of each style layer, content loss at relu4_2, TV on the input: small graphs, forward+backward.
        double style = 0;
        var styleRows = new List<(string Layer, double Seconds)>();
        hh = h;
        ww = w;
        for (int b = 0; b < 5; b++)
        {
            int c = Widths[b];
            style += Part(runs, [1, hh, ww, c], (g, f) => new StyleLoss($"relu{b + 1}_1", 100, StyleScheme.NeuralStyle,
                Synthetic.Random(c * c, 12, 1e-3f), w * h).Build(g, f), out double t);
            styleRows.Add(($"relu{b + 1}_1 ({c} ch, {ww}×{hh})", t));
            hh /= 2;
            ww /= 2;
        }

        double content = Part(runs, [1, h / 8, w / 8, 512], (g, f) => new ContentLoss("relu4_2", 5, ContentScheme.Mean,
            Synthetic.Random(h / 8 * (w / 8) * 512, 13)).Build(g, f), out _);
        double tv = Part(runs, [1, h, w, 3], (g, x) => new TvLoss(1e-3, TvScheme.L1).Build(g, x), out _);
        (double lbfgsEarly, double lbfgsFull) = LbfgsOverhead(w * h * 3);

        output.WriteLine();
        output.WriteLine($"Whole evaluation: forward+backward {Stats.Time(whole)}, forward only {Stats.Time(forwardOnly)}.");
        output.WriteLine();
        output.WriteLine("| layer | size | conv fwd (+bias+ReLU) | GFLOP/s | conv bwd-input | GFLOP/s |");
        output.WriteLine("|---|---|--:|--:|--:|--:|");
        foreach (var r in rows)
        {
            output.WriteLine($"| {r.Layer} | {r.Shape} | {Stats.Time(r.Fwd)} | {2 * r.Macs / r.Fwd / 1e9:F0} | {Stats.Time(r.Bwd)} | {2 * r.Macs / r.Bwd / 1e9:F0} |");
        }

        output.WriteLine();
        output.WriteLine("| style term (Gram + loss, fwd+bwd) | time |");
        output.WriteLine("|---|--:|");
        foreach (var r in styleRows)
        {
            output.WriteLine($"| {r.Layer} | {Stats.Time(r.Seconds)} |");
        }

        double parts = convF + convB + mask + pool + style + content + tv;
        double other = whole - parts;
        output.WriteLine();
        output.WriteLine("| phase | time | share of the evaluation |");
        output.WriteLine("|---|--:|--:|");
        void Line(string name, double t) => output.WriteLine($"| {name} | {Stats.Time(t)} | {100 * t / whole:F1}% |");
        Line("conv forward (fused bias+ReLU)", convF);
        Line("conv backward-input", convB);
        Line("ReLU mask in backward (Activation.ReluMask)", mask);
        output.WriteLine($"| (the scalar reference mask, for comparison: {Stats.Time(maskScalar)}) | | |");
        Line("max pooling fwd+bwd", pool);
        Line("Gram matrices + style losses fwd+bwd", style);
        Line("content loss fwd+bwd", content);
        Line("TV loss fwd+bwd", tv);
        Line("other (graph bookkeeping, grad accumulation, clears)", other);
        output.WriteLine($"| **evaluation total** | **{Stats.Time(whole)}** | 100% |");
        output.WriteLine($"| L-BFGS step (history 100, outside the evaluation): first 10 iterations / with a full history | {Stats.Time(lbfgsEarly)} / {Stats.Time(lbfgsFull)} | {100 * lbfgsFull / whole:F1}% (full) |");
    }


    private static double Part(int runs, int[] shape, Func<Graph, Value, Value> build, out double seconds)
    {
        var g = new Graph();
        Value f = g.Input(shape, requiresGrad: true, name: "f");
        Synthetic.Random(f.Length, 14).CopyTo(f.Data, 0);
        Value loss = build(g, f);
        seconds = Time(runs, () =>
        {
            g.Forward();
            g.Backward(loss);
        });
        return seconds;
    }

    /// <summary>
    /// Time L-BFGS spends outside the objective per iteration (two-loop recursion, history updates, line step), on a
    /// cheap diagonal quadratic of the same length: over the first 10 iterations and once the 100-pair history is full.
    /// </summary>
    private static (double Early, double Full) LbfgsOverhead(int n)
    {
        float[] d = Synthetic.Random(n, 15);
        for (int i = 0; i < n; i++)
        {
            d[i] = 1f + (99f * Math.Abs(d[i]) / 4f);
        }

        float[] x = Synthetic.Random(n, 16);
        var marks = new List<(long At, double Objective)>();
        double Objective(float[] xs, float[] grad)
        {
            long t0 = Stopwatch.GetTimestamp();
            double f = 0;
            for (int i = 0; i < xs.Length; i++)
            {
                grad[i] = d[i] * xs[i];
                f += 0.5 * d[i] * xs[i] * xs[i];
            }

            marks.Add((Stopwatch.GetTimestamp(), Stopwatch.GetElapsedTime(t0).TotalSeconds));
            return f;
        }

        const int iterations = 115;
        var lbfgs = new Lbfgs(n, new LbfgsOptions
        {
            MaxIterations = iterations, MaxEvaluations = iterations, HistorySize = 100, ToleranceGrad = -1, ToleranceChange = -1,
        });
        lbfgs.Minimize(x, Objective);
        double Between(int from, int to)
        {
            double sum = 0;
            int count = 0;
            for (int i = Math.Max(1, from); i < Math.Min(to, marks.Count); i++)
            {
                sum += Stopwatch.GetElapsedTime(marks[i - 1].At, marks[i].At).TotalSeconds - marks[i].Objective;
                count++;
            }

            return count == 0 ? double.NaN : sum / count;
        }

        return (Between(1, 11), Between(103, marks.Count));
    }

    private static double Time(int runs, Action a)
    {
        a();
        var t = new List<double>(runs);
        for (int i = 0; i < runs; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            a();
            t.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }

        return Stats.Median(t);
    }
}
