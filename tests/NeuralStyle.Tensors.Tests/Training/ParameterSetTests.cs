using NeuralStyle.Tensors.Kernels;
using NeuralStyle.Tensors.Training;

namespace NeuralStyle.Tensors.Tests.Training;

public class ParameterSetTests
{
    private static float[] Random(int n, ulong seed)
    {
        var a = new float[n];
        new Rng(seed).FillUniform(a, -1, 1);
        return a;
    }

    private static ParameterSet TwoLayers()
    {
        var set = new ParameterSet();
        set.Add("conv1.weight", [4, 3, 3, 3], Random(108, 1));
        set.Add("conv1.bias", [4], Random(4, 2));
        set.Add("conv10.weight", [2, 4, 3, 3], Random(72, 3));
        set.Add("conv10.bias", [2], Random(2, 4));
        return set;
    }

    [Fact]
    public void Add_RejectsDuplicatesBadNamesAndWrongLengths()
    {
        var set = TwoLayers();
        Assert.Contains("already has", Assert.Throws<ArgumentException>(() => set.Add("conv1.bias", [4])).Message);
        Assert.Throws<ArgumentException>(() => set.Add("", [1]));
        Assert.Throws<ArgumentException>(() => set.Add("a.", [1]));
        Assert.Contains("needs 6", Assert.Throws<ArgumentException>(() => set.Add("x", [2, 3], new float[5])).Message);
        Assert.Contains("no parameter named", Assert.Throws<ArgumentException>(() => set["nope"]).Message);
        Assert.Equal(new[] { "conv1.weight", "conv1.bias", "conv10.weight", "conv10.bias" }, set.Select(p => p.Name));
        Assert.Equal(108 + 4 + 72 + 2, set.ElementCount);
    }

    [Fact]
    public void Freeze_ByPrefixMatchesWholeNameComponentsOnly()
    {
        var set = TwoLayers();
        set.Freeze("conv1");
        Assert.Equal(new[] { "conv10.weight", "conv10.bias" }, set.Trainable.Select(p => p.Name));
        set.Unfreeze("conv1.bias");
        Assert.Equal(new[] { "conv1.bias", "conv10.weight", "conv10.bias" }, set.Trainable.Select(p => p.Name));
        Assert.Contains("No parameter", Assert.Throws<ArgumentException>(() => set.Freeze("conv")).Message);
    }

    /// <summary>conv1 → ReLU → conv10 → Σ r·y: trainable leaves get gradients, frozen ones become cached constants.</summary>
    private static (Graph Graph, ParameterBinding Binding, Value Loss) Build(ParameterSet set)
    {
        var g = new Graph();
        ParameterBinding b = set.Bind(g);
        Value x = g.Input([2, 5, 4, 3]);
        Random(x.Length, 5).CopyTo(x.Data, 0);
        Value h = g.Conv3x3(x, b["conv1.weight"], b["conv1.bias"], ConvPadding.Zero, relu: true);
        Value y = g.Conv3x3(h, b["conv10.weight"], b["conv10.bias"]);
        Value loss = g.Sum(g.Mul(y, g.Constant(Random(y.Length, 6), y.Shape)));
        return (g, b, loss);
    }

    [Fact]
    public void Bind_TrainableBecomeParametersWithGradients_FrozenBecomeConstants()
    {
        var set = TwoLayers();
        set.Freeze("conv1");
        var (g, b, loss) = Build(set);
        Assert.True(b["conv1.weight"].IsFrozen);
        Assert.False(b["conv1.weight"].RequiresGrad);
        Assert.False(b["conv10.weight"].IsFrozen);
        Assert.True(b["conv10.weight"].RequiresGrad);
        Assert.Same(set["conv10.weight"].Data, b["conv10.weight"].Data);

        g.Forward();
        g.Backward(loss);
        b.ReadGradients();
        Assert.Equal(b["conv10.weight"].Grad!, set["conv10.weight"].Grad);
        Assert.Equal(b["conv10.bias"].Grad!, set["conv10.bias"].Grad);
        Assert.All(set["conv1.weight"].Grad, v => Assert.Equal(0f, v));
        Assert.Contains(set["conv10.weight"].Grad, v => v != 0);

        // Accumulating a scaled second read: grad = g + 0.5 g.
        float[] once = (float[])set["conv10.weight"].Grad.Clone();
        b.ReadGradients(accumulate: true, scale: 0.5f);
        for (int i = 0; i < once.Length; i++) Assert.Equal(once[i] + 0.5f * once[i], set["conv10.weight"].Grad[i], 6);
    }

    [Fact]
    public void GradientNorm_AndScaling_CoverTheTrainableParametersOfAPrefix()
    {
        var set = TwoLayers();
        var (g, b, loss) = Build(set);
        g.Forward();
        g.Backward(loss);
        b.ReadGradients();
        static double SumSq(float[] a) => a.Sum(v => (double)v * v);
        double conv1 = SumSq(set["conv1.weight"].Grad) + SumSq(set["conv1.bias"].Grad);
        double conv10 = SumSq(set["conv10.weight"].Grad) + SumSq(set["conv10.bias"].Grad);
        // Blocks are summed in float, so agreement is to float precision.
        static void Close(double expected, double actual) => Assert.True(Math.Abs(actual - expected) <= 1e-6 * expected, $"{actual} vs {expected}");
        Close(Math.Sqrt(conv1), set.GradientNorm("conv1"));
        Close(Math.Sqrt(conv1 + conv10), set.GradientNorm());

        set.ScaleGradients(2f, "conv10");
        Close(2 * Math.Sqrt(conv10), set.GradientNorm("conv10"));
        Close(Math.Sqrt(conv1), set.GradientNorm("conv1"));

        set.Freeze("conv1.bias");
        Close(Math.Sqrt(SumSq(set["conv1.weight"].Grad)), set.GradientNorm("conv1"));
    }

    [Fact]
    public void Optimisers_LeaveFrozenParametersAlone_AndUpdateTrainableOnes()
    {
        foreach (Func<ParameterSet, IOptimizer> make in new Func<ParameterSet, IOptimizer>[]
        {
            s => new AdamOptimizer(s, 1e-2),
            s => new SgdOptimizer(s, 1e-2, momentum: 0.9, weightDecay: 1e-3),
        })
        {
            var set = TwoLayers();
            set.Freeze("conv1");
            IOptimizer opt = make(set);
            float[] frozenBefore = (float[])set["conv1.weight"].Data.Clone();
            float[] trainableBefore = (float[])set["conv10.weight"].Data.Clone();
            var (g, b, loss) = Build(set);
            for (int step = 0; step < 3; step++)
            {
                g.Forward();
                g.Backward(loss);
                b.ReadGradients();
                set["conv1.weight"].Grad.AsSpan().Fill(1f); // even a stray gradient must not move a frozen parameter
                opt.Step();
            }
            Assert.Equal(frozenBefore, set["conv1.weight"].Data);
            Assert.NotEqual(trainableBefore, set["conv10.weight"].Data);
            Assert.Equal(3, opt.Steps);
            Assert.DoesNotContain("conv1.weight", opt.ExportState().Parameters.Keys);
        }
    }
}
