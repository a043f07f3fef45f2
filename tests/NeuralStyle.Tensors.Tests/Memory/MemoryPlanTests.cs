using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Tests.Memory;

/// <summary>
/// The memory plan: the peak a graph's passes allocate equals the plan computed from a shapes-only build of the same
/// graph; inference releases activations as soon as nothing reads them; training releases gradient buffers after use
/// and keeps only the activations backward reads; results are the same in every mode.
/// </summary>
public class MemoryPlanTests
{
    private static float[] Random(int n, int seed, double scale = 0.3)
    {
        var a = new float[n];
        new Rng((ulong)seed).FillUniform(a, -scale, scale);
        return a;
    }

    private sealed record Net(float[] W1, float[] W2, float[] W3, float[] Target);

    private static Net MakeNet() => new(Random(8 * 3 * 9, 1), Random(8 * 8 * 9, 2), Random(16 * 8 * 9, 3), Random(16 * 16, 4));

    /// <summary>A small VGG-like feature stack with a Gram loss; trainable first layer when asked.</summary>
    private static (Value X, Value Features, Value Loss) Build(Graph g, Net net, int h, int w, bool trainW1)
    {
        Value x = g.Input([1, h, w, 3], requiresGrad: !trainW1, name: "x");
        Value w1 = trainW1 ? g.Parameter(net.W1, [8, 3, 3, 3]) : g.Constant(net.W1, [8, 3, 3, 3]);
        Value a = g.Conv3x3(x, w1, null, ConvPadding.Zero, relu: true);
        Value b = g.Conv3x3(a, g.Constant(net.W2, [8, 8, 3, 3]), null, ConvPadding.Zero, relu: true);
        Value p = g.AvgPool2x2(b);
        Value c = g.Conv3x3(p, g.Constant(net.W3, [16, 8, 3, 3]), null, ConvPadding.Zero, relu: true);
        Value gram = g.Gram(c, 1f / (c.Shape[1] * c.Shape[2] * 16));
        Value loss = g.Mean(g.Square(g.Sub(gram, g.Constant(net.Target, [1, 16, 16]))));
        return (x, c, loss);
    }

    [Theory]
    [InlineData(false, 24, 20)]
    [InlineData(true, 24, 20)]
    [InlineData(false, 37, 9)]
    public void Training_MeasuredPeak_EqualsThePlan(bool trainW1, int h, int w)
    {
        Net net = MakeNet();
        var shapes = new Graph(GraphMode.ShapesOnly);
        (_, _, Value plannedLoss) = Build(shapes, net, h, w, trainW1);
        long planned = shapes.PlannedPeakBytes(plannedLoss);

        var g = new Graph();
        (Value x, _, Value loss) = Build(g, net, h, w, trainW1);
        Random(x.Length, 5, 1).CopyTo(x.Data, 0);
        for (int pass = 0; pass < 3; pass++)
        {
            g.Forward();
            g.Backward(loss);
        }
        Assert.Equal(planned, g.PeakAllocatedBytes);
        Assert.True(planned > 0);
    }

    [Fact]
    public void Inference_MeasuredPeak_EqualsThePlan_AndIsBelowTraining()
    {
        Net net = MakeNet();
        var shapes = new Graph(GraphMode.ShapesOnly);
        (_, Value f, _) = Build(shapes, net, 32, 32, false);
        shapes.Keep(f);
        long plannedInference = shapes.PlannedPeakBytes(runAs: GraphMode.Inference);
        long plannedTraining = shapes.PlannedPeakBytes();

        var g = new Graph(GraphMode.Inference);
        (Value x, Value features, _) = Build(g, net, 32, 32, false);
        g.Keep(features);
        Random(x.Length, 5, 1).CopyTo(x.Data, 0);
        g.Forward();
        g.Forward();
        Assert.Equal(plannedInference, g.PeakAllocatedBytes);
        Assert.True(plannedInference < plannedTraining / 2, $"inference {plannedInference} B, training {plannedTraining} B");
    }

    [Fact]
    public void Inference_GivesTheSameValues_AndReleasesWhatIsNotKept()
    {
        Net net = MakeNet();
        float[] input = Random(1 * 20 * 18 * 3, 6, 1);
        var eager = new Graph();
        (Value xe, Value fe, Value le) = Build(eager, net, 20, 18, false);
        input.CopyTo(xe.Data, 0);
        eager.Forward();

        var g = new Graph(GraphMode.Inference);
        (Value x, Value f, Value l) = Build(g, net, 20, 18, false);
        g.Keep(f);
        input.CopyTo(x.Data, 0);
        g.Forward();
        Assert.Equal(fe.Data, f.Data);
        Assert.Equal(le.Data[0], l.Data[0]); // small values are always kept
        Value firstConv = g.Nodes.First(v => v.Shape.Length == 4 && v.Shape[3] == 8 && v.Inputs.Contains(x));
        var e = Assert.Throws<InvalidOperationException>(() => firstConv.Data);
        Assert.Contains("Keep", e.Message);
        Assert.False(x.RequiresGrad);
    }

    [Fact]
    public void Training_ReleasesGradientsOfComputedValues_AndKeepsLeafGradients()
    {
        Net net = MakeNet();
        var g = new Graph();
        (Value x, Value f, Value loss) = Build(g, net, 16, 16, false);
        Random(x.Length, 7, 1).CopyTo(x.Data, 0);
        g.Forward();
        g.Backward(loss);
        float[] first = (float[])x.Grad!.Clone();
        Assert.Contains(first, v => v != 0);
        Assert.All(g.Nodes.Where(v => v.Op is not null), v => Assert.Null(v.Grad));
        g.Forward();
        g.Backward(loss);
        Assert.Equal(first, x.Grad!);
    }

    [Fact]
    public void Training_KeepsOnlyWhatBackwardReads()
    {
        // Frozen convs with fused ReLU read their outputs (the mask) but not their inputs, and average pooling reads
        // nothing: the pool's output is released after the next conv has read it.
        Net net = MakeNet();
        var g = new Graph();
        (Value x, Value f, Value loss) = Build(g, net, 32, 32, false);
        g.Forward();
        Value pool = g.Nodes.Single(v => v.Shape.Length == 4 && v.Shape[1] == 16 && v.Shape[3] == 8);
        Assert.Throws<InvalidOperationException>(() => pool.Data);
        Assert.Equal(16 * 16 * 16, f.Data.Length); // read by the Gram's backward
    }

    [Fact]
    public void ShapesOnly_CannotRun()
    {
        var g = new Graph(GraphMode.ShapesOnly);
        Value x = g.Input([1, 2, 2, 1]);
        g.Square(x);
        Assert.Throws<InvalidOperationException>(() => g.Forward());
    }
}
