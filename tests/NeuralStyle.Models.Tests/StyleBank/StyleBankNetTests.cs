using NeuralStyle.Models.StyleBank;
using NeuralStyle.Tensors;

namespace NeuralStyle.Models.Tests.StyleBank;

/// <summary>The StyleBank network's branches and fusions agree with each other where the definitions say they must.</summary>
public class StyleBankNetTests
{
    private static float[] Image(int n, int h, int w, ulong seed)
    {
        var a = new float[n * h * w * 3];
        new Rng(seed).FillUniform(a, 0, 255);
        return a;
    }

    private static (Graph G, Value X, Func<string, Value> P) Setup(StyleBankNet net, int n, int h, int w)
    {
        var g = new Graph(GraphMode.Inference);
        Value x = g.Input([n, h, w, 3]);
        Image(n, h, w, 5).CopyTo(x.Data, 0);
        var cache = new Dictionary<string, Value>();
        Value P(string name) => cache.TryGetValue(name, out Value? v) ? v : cache[name] = g.Constant(net.Parameters[name].Data, net.Parameters[name].Shape, name);
        return (g, x, P);
    }

    [Fact]
    public void EncodeDecode_Shapes_AndQuarterResolutionFeatures()
    {
        var net = StyleBankNet.Random(["a", "b"], 1);
        (Graph g, Value x, var p) = Setup(net, 2, 16, 12);
        Value f = StyleBankNet.Encode(g, p, x);
        Value y = g.Keep(StyleBankNet.Decode(g, p, f));
        Assert.Equal([2, 4, 3, 128], f.Shape);
        Assert.Equal([2, 16, 12, 3], y.Shape);
        g.Forward();
        Assert.All(y.Data, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void BlendOfOneStyle_EqualsThatStyle_AndFullMaskRegionToo()
    {
        var net = StyleBankNet.Random(["a", "b", "c"], 2);
        (Graph g, Value x, var p) = Setup(net, 1, 16, 16);
        Value f = StyleBankNet.Encode(g, p, x);
        Value single = g.Keep(net.Stylize(g, p, f, [1]));
        Value blend = g.Keep(net.Blend(g, p, f, [(1, 2.0), (0, 0.0)]));
        Value ones = g.Constant(Enumerable.Repeat(1f, 16).ToArray(), [1, 4, 4, 1]);
        Value region = g.Keep(net.Regions(g, p, f, [(1, ones)]));
        g.Forward();
        for (int i = 0; i < single.Length; i++)
        {
            Assert.True(Math.Abs(single.Data[i] - blend.Data[i]) <= 1e-5f * (1 + Math.Abs(single.Data[i])), $"blend [{i}]: {blend.Data[i]} vs {single.Data[i]}");
            Assert.True(Math.Abs(single.Data[i] - region.Data[i]) <= 1e-5f * (1 + Math.Abs(single.Data[i])), $"region [{i}]: {region.Data[i]} vs {single.Data[i]}");
        }
    }

    [Fact]
    public void AddStyle_LeavesEveryExistingWeightUntouched()
    {
        var net = StyleBankNet.Random(["a", "b"], 3);
        var before = net.Parameters.ToDictionary(q => q.Name, q => (float[])q.Data.Clone());
        int k = net.AddStyle("c", new Rng(9));
        Assert.Equal(2, k);
        Assert.Equal(["a", "b", "c"], net.Styles);
        foreach (var (name, data) in before) Assert.Equal(data, net.Parameters[name].Data);
        Assert.Throws<ArgumentException>(() => net.AddStyle("a", new Rng(1)));
        Assert.Equal(1, net.IndexOf("b"));
        Assert.Equal(2, net.IndexOf("2"));
        Assert.Throws<ArgumentException>(() => net.IndexOf("zebra"));
    }
}
