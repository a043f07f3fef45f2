using NeuralStyle.Tensors.Autograd;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Tests.Autograd;

/// <summary>
/// A small VGG-like training graph on frozen weights (the Gatys case: only the image has a gradient) takes the Winograd
/// route where <see cref="Winograd4x4.Wins"/>, and its loss, input gradient and memory plan agree with the same graph on
/// direct convolution (the weights as parameters without a gradient, which are not frozen).
/// </summary>
public class WinogradRouteTests
{
    private static float[] Random(int n, int seed, double lo, double hi) => FiniteDifferences.Random(n, seed, lo, hi);

    private static readonly (int Ci, int Co)[] Layers = [(3, 32), (32, 48), (48, 40), (40, 64)];

    private static (Value X, Value Loss, List<Value> Convs) Build(Graph g, bool frozen, int h, int w)
    {
        Value x = g.Input([1, h, w, 3], requiresGrad: true);
        var convs = new List<Value>();
        Value a = x;
        for (int i = 0; i < Layers.Length; i++)
        {
            var (ci, co) = Layers[i];
            float[] wd = Random(co * ci * 9, 10 + i, -Math.Sqrt(6.0 / (9 * ci)), Math.Sqrt(6.0 / (9 * ci)));
            float[] bd = Random(co, 20 + i, -0.05, 0.05);
            Value wv = frozen ? g.Constant(wd, [co, ci, 3, 3]) : g.Parameter(wd, [co, ci, 3, 3], requiresGrad: false);
            Value bv = frozen ? g.Constant(bd, [co]) : g.Parameter(bd, [co], requiresGrad: false);
            a = g.Conv3x3(a, wv, bv, ConvPadding.Zero, relu: true);
            convs.Add(a);
            if (i == 1) a = g.MaxPool2x2(a);
        }

        Value loss = g.Add(g.Mean(g.Square(a)), g.Scale(g.Mean(g.Gram(convs[1], 1f / (h * w))), 0.5f));
        return (x, loss, convs);
    }

    [Fact]
    public void FrozenGraph_TakesWinograd_AndMatchesDirect()
    {
        const int h = 22, w = 19; // partial 4×4 tiles before and after the pool (22, 19, 11, 9 mod 4)
        bool avx512 = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated;
        var results = new List<(float Loss, float[] Grad)>();
        foreach (bool frozen in new[] { true, false })
        {
            var g = new Graph();
            (Value x, Value loss, List<Value> convs) = Build(g, frozen, h, w);
            Random(x.Length, 3, 0, 1).CopyTo(x.Data, 0);
            for (int i = 0; i < convs.Count; i++)
            {
                var route = ((Conv3x3Op)convs[i].Op!).WinogradRoute;
                bool expected = frozen && avx512 && i > 0; // the first layer (3 input channels) stays direct
                Assert.Equal((expected, expected), route);
            }

            float[] grad = [];
            for (int pass = 0; pass < 2; pass++)
            {
                g.Forward();
                g.Backward(loss);
                grad = (float[])x.Grad!.Clone();
            }

            results.Add((loss.Data[0], grad));
            if (frozen)
            {
                var shapes = new Graph(GraphMode.ShapesOnly);
                (_, Value plannedLoss, _) = Build(shapes, frozen: true, h, w);
                Assert.Equal(shapes.PlannedPeakBytes(plannedLoss), g.PeakAllocatedBytes);
            }
        }

        var (winogradLoss, winogradGrad) = results[0];
        var (directLoss, directGrad) = results[1];
        Assert.True(Math.Abs(winogradLoss - directLoss) <= 1e-5 * Math.Abs(directLoss), $"loss {winogradLoss:R} vs direct {directLoss:R}");
        double diff = 0, scale = 0;
        for (int i = 0; i < directGrad.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs((double)winogradGrad[i] - directGrad[i]));
            scale = Math.Max(scale, Math.Abs((double)directGrad[i]));
        }

        Assert.True(scale > 0 && diff <= 1e-4 * scale, $"input gradient differs by {diff / scale:E2} of its largest value");
    }
}
