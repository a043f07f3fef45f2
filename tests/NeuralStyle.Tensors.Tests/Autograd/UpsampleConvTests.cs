using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Tests.Autograd;

public class UpsampleConvTests
{
    private static float[] Random(int length, ulong seed)
    {
        var a = new float[length];
        new Rng(seed).FillUniform(a, -1, 1);
        return a;
    }

    /// <summary>The fused op against UpsampleNearest then a reflect Conv2d: output and every gradient.</summary>
    [Theory]
    [InlineData(1, 3, 5, 4, 6, false)]
    [InlineData(2, 4, 3, 17, 8, true)]
    public void UpsampleConv3x3_MatchesUpsampleThenConv_ValueAndGradients(int n, int h, int w, int ci, int co, bool relu)
    {
        float[] xData = Random(n * h * w * ci, 1), wData = Random(co * ci * 9, 2), bData = Random(co, 3), r = Random(n * 4 * h * w * co, 4);
        (float[] Y, float[] Dx, float[] Dw, float[] Db) Run(bool fused)
        {
            var g = new Graph();
            Value x = g.Input([n, h, w, ci], requiresGrad: true);
            xData.CopyTo(x.Data, 0);
            Value wt = g.Parameter((float[])wData.Clone(), [co, ci, 3, 3]);
            Value b = g.Parameter((float[])bData.Clone(), [co]);
            Value y = fused ? g.UpsampleConv3x3(x, wt, b, relu) : g.Conv2d(g.UpsampleNearest(x, 2), wt, b, 1, ConvPadding.Reflect, relu);
            g.Keep(y);
            Value loss = g.Sum(g.Mul(y, g.Constant(r, y.Shape)));
            g.Forward();
            g.Backward(loss);
            return (y.Data.ToArray(), x.Grad!.ToArray(), wt.Grad!.ToArray(), b.Grad!.ToArray());
        }

        var f = Run(true);
        var u = Run(false);
        Assert.True(Err(f.Y, u.Y) <= 1e-5, $"y {Err(f.Y, u.Y):G3}");
        Assert.True(Err(f.Dx, u.Dx) <= 1e-5, $"dx {Err(f.Dx, u.Dx):G3}");
        Assert.True(Err(f.Dw, u.Dw) <= 1e-5, $"dw {Err(f.Dw, u.Dw):G3}");
        Assert.True(Err(f.Db, u.Db) <= 1e-5, $"db {Err(f.Db, u.Db):G3}");
    }

    [Fact]
    public void UpsampleConv3x3_WrongWeight_Throws()
    {
        var g = new Graph();
        Value x = g.Input([1, 4, 4, 3]);
        var ex = Assert.Throws<ArgumentException>(() => g.UpsampleConv3x3(x, g.Constant(new float[2 * 4 * 9], [2, 4, 3, 3]), null));
        Assert.Contains("(Co,3,3,3)", ex.Message);
    }

    private static double Err(float[] a, float[] e)
    {
        double d = 0, m = 0;
        for (int i = 0; i < a.Length; i++)
        {
            d = Math.Max(d, Math.Abs(a[i] - e[i]));
            m = Math.Max(m, Math.Abs(e[i]));
        }
        return d / m;
    }
}
