using System.Diagnostics;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Bench;

/// <summary>
/// Where the Johnson forward's time goes: every op of the network timed alone (a one-op inference graph over the
/// shape it sees in the network, medians), grouped by kind, with each group's share of the sum.
/// </summary>
internal static class JohnsonProfile
{
    public static void Run(int size, int runs, TextWriter o)
    {
        var rows = new List<(string Name, string Kind, double Seconds, double Macs)>();
        int h = size;
        void Time(string name, string kind, double macs, Func<Graph, Value, Value> op, int c, int res)
        {
            var g = new Graph(GraphMode.Inference);
            Value x = g.Input([1, res, res, c]);
            Synthetic.Random(x.Length, 3).CopyTo(x.Data, 0);
            g.Keep(op(g, x));
            g.Forward();
            var t = new List<double>();
            for (int r = 0; r < runs; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                g.Forward();
                t.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
            }

            rows.Add((name, kind, Stats.Median(t), macs));
        }

        Value Conv(Graph g, Value x, int co, int k, int stride)
        {
            int ci = x.Shape[3];
            float[] w = Synthetic.Random(co * ci * k * k, 4, (float)Math.Sqrt(1.0 / (k * k * ci)));
            return g.Conv2d(x, g.Constant(w, [co, ci, k, k]), g.Constant(new float[co], [co]), stride, ConvPadding.Reflect);
        }

        Value UpConv(Graph g, Value x, int co)
        {
            int ci = x.Shape[3];
            float[] w = Synthetic.Random(co * ci * 9, 4, (float)Math.Sqrt(1.0 / (9 * ci)));
            return g.UpsampleConv3x3(x, g.Constant(w, [co, ci, 3, 3]), g.Constant(new float[co], [co]));
        }

        Value Norm(Graph g, Value x, bool relu)
        {
            int c = x.Shape[3];
            float[] one = [.. Enumerable.Repeat(1f, c)];
            return g.InstanceNorm(x, g.Constant(one, [c]), g.Constant(new float[c], [c]), 1e-5f, relu);
        }

        int q = h / 4, hh = h / 2;
        Time("conv1 9×9 3→32", "conv 9×9", 81.0 * 3 * 32 * h * h, (g, x) => Conv(g, x, 32, 9, 1), 3, h);
        Time("in1+relu 32", "norm", 0, (g, x) => Norm(g, x, true), 32, h);
        Time("conv2 3×3 s2 32→64", "conv s2", 9.0 * 32 * 64 * hh * hh, (g, x) => Conv(g, x, 64, 3, 2), 32, h);
        Time("in2+relu 64", "norm", 0, (g, x) => Norm(g, x, true), 64, hh);
        Time("conv3 3×3 s2 64→128", "conv s2", 9.0 * 64 * 128 * q * q, (g, x) => Conv(g, x, 128, 3, 2), 64, hh);
        Time("in3+relu 128", "norm", 0, (g, x) => Norm(g, x, true), 128, q);
        Time("res conv 3×3 128→128 (×10)", "res conv", 9.0 * 128 * 128 * q * q, (g, x) => Conv(g, x, 128, 3, 1), 128, q);
        Time("res norm 128 (×10)", "norm", 0, (g, x) => Norm(g, x, true), 128, q);
        Time("res add 128 (×5)", "add", 0, (g, x) => g.Add(x, x), 128, q);
        Time("deconv1 up+3×3 128→64 (fused)", "up conv", 9.0 * 128 * 64 * hh * hh, (g, x) => UpConv(g, x, 64), 128, q);
        Time("in4+relu 64", "norm", 0, (g, x) => Norm(g, x, true), 64, hh);
        Time("deconv2 up+3×3 64→32 (fused)", "up conv", 9.0 * 64 * 32 * h * h, (g, x) => UpConv(g, x, 32), 64, hh);
        Time("in5+relu 32", "norm", 0, (g, x) => Norm(g, x, true), 32, h);
        Time("deconv3 9×9 32→3", "conv 9×9", 81.0 * 32 * 3 * h * h, (g, x) => Conv(g, x, 3, 9, 1), 32, h);

        int Count(string name) => name.Contains("(×10)", StringComparison.Ordinal) ? 10 : name.Contains("(×5)", StringComparison.Ordinal) ? 5 : 1;
        double total = rows.Sum(r => r.Seconds * Count(r.Name));
        o.WriteLine($"Johnson forward at {size}², each op alone (median of {runs}), load {Stats.LoadAverage()}");
        o.WriteLine("| op | time | × | GFLOP/s | share |");
        o.WriteLine("|---|--:|--:|--:|--:|");
        foreach (var r in rows)
        {
            int n = Count(r.Name);
            string gf = r.Macs > 0 ? $"{2 * r.Macs / r.Seconds / 1e9:F0}" : "—";
            o.WriteLine($"| {r.Name} | {Stats.Time(r.Seconds)} | {n} | {gf} | {100 * r.Seconds * n / total:F1}% |");
        }

        o.WriteLine($"| sum | {Stats.Time(total)} | | | |");
        foreach (var k in rows.GroupBy(r => r.Kind))
            o.WriteLine($"  {k.Key}: {100 * k.Sum(r => r.Seconds * Count(r.Name)) / total:F1}%");
    }
}
