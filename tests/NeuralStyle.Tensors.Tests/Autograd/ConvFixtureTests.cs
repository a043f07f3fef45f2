using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Tests.Autograd;

/// <summary>
/// Graph.Conv2d and Graph.Pad against PyTorch (tests/fixtures/engine/conv, made by tools/fixtures/engine/conv.py):
/// forward, dL/dx, dL/dW, dL/db for loss = Σ r ⊙ y, within 1e-4 relative (max |Δ| / max |reference|).
/// The fixtures are NCHW (weights OIHW, as the engine takes them); activations are converted to NHWC here.
/// </summary>
public class ConvFixtureTests
{
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("conv_k9_s1_reflect", 9, 1, ConvPadding.Reflect)]
    [InlineData("conv_k3_s2_reflect", 3, 2, ConvPadding.Reflect)]
    [InlineData("conv_k3_s1_reflect", 3, 1, ConvPadding.Reflect)]
    [InlineData("conv_k1_s2_zero", 1, 2, ConvPadding.Zero)]
    [InlineData("conv_k7_s2_zero", 7, 2, ConvPadding.Zero)]
    [InlineData("conv_k3_s2_zero", 3, 2, ConvPadding.Zero)]
    [InlineData("conv_k3_s1_circular", 3, 1, ConvPadding.Circular)]
    [InlineData("conv_k4_s1_zero", 4, 1, ConvPadding.Zero)]
    [InlineData("conv_k3_s1_valid", 3, 1, ConvPadding.Valid)]
    public void Conv2d_ForwardAndGradients_MatchPyTorch(string file, int kernel, int stride, ConvPadding padding)
    {
        var t = Read(file);
        var g = new Graph();
        Value x = g.Input(NhwcShape(t["x"].Shape), requiresGrad: true);
        ToNhwc(t["x"]).CopyTo(x.Data, 0);
        Value weight = g.Parameter(t["weight"].Data, t["weight"].Shape);
        Value bias = g.Parameter(t["bias"].Data, t["bias"].Shape);
        Assert.Equal(kernel, weight.Shape[2]);
        Value y = g.Conv2d(x, weight, bias, stride, padding);
        Assert.Equal(NhwcShape(t["y"].Shape), y.Shape);
        Value loss = g.Sum(g.Mul(y, g.Constant(ToNhwc(t["r"]), y.Shape)));
        g.Forward();
        g.Backward(loss);
        AssertClose("y", y.Data, ToNhwc(t["y"]));
        AssertClose("dx", x.Grad!, ToNhwc(t["dx"]));
        AssertClose("dweight", weight.Grad!, t["dweight"].Data);
        AssertClose("dbias", bias.Grad!, t["dbias"].Data);
    }

    [Theory]
    [InlineData("pad_zero_3_3_3_3", 3, 3, 3, 3, ConvPadding.Zero)]
    [InlineData("pad_reflect_2_1_3_0", 2, 1, 3, 0, ConvPadding.Reflect)]
    [InlineData("pad_circular_1_4_2_6", 1, 4, 2, 6, ConvPadding.Circular)]
    public void Pad_ForwardAndGradient_MatchPyTorch(string file, int top, int bottom, int left, int right, ConvPadding mode)
    {
        var t = Read(file);
        var g = new Graph();
        Value x = g.Input(NhwcShape(t["x"].Shape), requiresGrad: true);
        ToNhwc(t["x"]).CopyTo(x.Data, 0);
        Value y = g.Pad(x, top, bottom, left, right, mode);
        Assert.Equal(NhwcShape(t["y"].Shape), y.Shape);
        Value loss = g.Sum(g.Mul(y, g.Constant(ToNhwc(t["r"]), y.Shape)));
        g.Forward();
        g.Backward(loss);
        AssertClose("y", y.Data, ToNhwc(t["y"]));
        AssertClose("dx", x.Grad!, ToNhwc(t["dx"]));
    }

    private static void AssertClose(string what, float[] actual, float[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)actual[i] - expected[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)expected[i]));
            Assert.False(float.IsNaN(actual[i]), $"{what}[{i}] is NaN");
        }

        double relative = maxRef == 0 ? maxDiff : maxDiff / maxRef;
        Assert.True(relative <= Tolerance, $"{what}: relative error {relative:G3} > {Tolerance}");
    }

    private sealed record Tensor(int[] Shape, float[] Data);

    private static int[] NhwcShape(int[] nchw) => [nchw[0], nchw[2], nchw[3], nchw[1]];

    private static float[] ToNhwc(Tensor t)
    {
        int n = t.Shape[0], c = t.Shape[1], h = t.Shape[2], w = t.Shape[3];
        var r = new float[t.Data.Length];
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        r[(((b * h) + y) * w + x) * c + ch] = t.Data[(((b * c) + ch) * h + y) * w + x];
        return r;
    }

    /// <summary>A minimal safetensors reader (F32 only): this test project does not reference NeuralStyle.Weights.</summary>
    private static Dictionary<string, Tensor> Read(string name)
    {
        byte[] bytes = File.ReadAllBytes(Locate(name + ".safetensors"));
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, headerLength));
        var result = new Dictionary<string, Tensor>();
        foreach (JsonProperty p in header.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__") continue;
            Assert.Equal("F32", p.Value.GetProperty("dtype").GetString());
            int[] shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            int begin = p.Value.GetProperty("data_offsets")[0].GetInt32(), end = p.Value.GetProperty("data_offsets")[1].GetInt32();
            var data = new float[(end - begin) / 4];
            for (int i = 0; i < data.Length; i++)
                data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + headerLength + begin + (4 * i)));
            result[p.Name] = new Tensor(shape, data);
        }

        return result;
    }

    private static string Locate(string file)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string f = Path.Combine(d.FullName, "tests", "fixtures", "engine", "conv", file);
            if (File.Exists(f)) return f;
        }

        throw new FileNotFoundException($"{file} not found under tests/fixtures/engine/conv above {AppContext.BaseDirectory}");
    }
}
