using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;

namespace NeuralStyle.Models.Tests.Vgg;

public class VggFixtureTests
{
    private static Dictionary<int, Value> AllOutputs(VggNet net, PoolingKind pooling, out int count)
    {
        var g = new Graph();
        WeightTensor input = Fixtures.Tensors("preprocess.safetensors")["content_caffe"];
        Value x = g.Constant(Fixtures.ToNhwc(input), [1, input.Shape[2], input.Shape[3], 3]);
        count = net.Layers.Modules.Count;
        // Ask for every module: pre-ReLU at conv indices, the module itself otherwise.
        var refs = net.Layers.Modules.Select(m => m.Kind == LayerKind.Conv
            ? net.Layers.Resolve($"pre-relu:{m.Index}")
            : net.Layers.Resolve(m.CaffeName)).ToList();
        Dictionary<string, Value> outs = net.Build(g, x, refs, pooling);
        return refs.ToDictionary(r => r.Index, r => outs[r.Name]);
    }

    [Theory]
    [InlineData("vgg19_narrow.safetensors", "activations_max.safetensors", PoolingKind.Max)]
    [InlineData("vgg19_narrow_zip.pth", "activations_max.safetensors", PoolingKind.Max)]
    [InlineData("vgg19_narrow_legacy.pth", "activations_max.safetensors", PoolingKind.Max)]
    [InlineData("vgg19_narrow.safetensors", "activations_avg.safetensors", PoolingKind.Avg)]
    public void Vgg19_EveryLayer_MatchesTorchvision(string weights, string activations, PoolingKind pooling)
    {
        VggNet net = VggNet.FromStateDict(VggArchitecture.Vgg19, WeightFile.Load(Fixtures.Gatys(weights)));
        Dictionary<int, Value> outs = AllOutputs(net, pooling, out int count);
        var expected = Fixtures.Tensors(activations);
        Assert.Equal(37, count);
        for (int i = 0; i < count; i++)
        {
            WeightTensor e = expected[$"features.{i}"];
            double err = Fixtures.RelativeError(outs[i].Data, Fixtures.ToNhwc(e));
            Assert.True(err <= 1e-5, $"features.{i} ({net.Layers.Modules[i].CaffeName}): relative error {err:G3}");
        }
    }

    [Fact]
    public void Vgg16_EveryLayer_MatchesTorchvision()
    {
        VggNet net = VggNet.FromStateDict(VggArchitecture.Vgg16, Fixtures.Tensors("vgg16_narrow.safetensors"));
        Dictionary<int, Value> outs = AllOutputs(net, PoolingKind.Max, out int count);
        var expected = Fixtures.Tensors("activations_vgg16_max.safetensors");
        Assert.Equal(31, count);
        for (int i = 0; i < count; i++)
            Assert.True(Fixtures.RelativeError(outs[i].Data, Fixtures.ToNhwc(expected[$"features.{i}"])) <= 1e-5, $"features.{i}");
    }

    [Fact]
    public void Vgg19_Vgg16File_NamesTheMissingKeyAndSuggestsVgg16()
    {
        var ex = Assert.Throws<ModelWeightsException>(() =>
            VggNet.FromStateDict(VggArchitecture.Vgg19, Fixtures.Tensors("vgg16_narrow.safetensors")));
        Assert.Contains("features.16.weight", ex.Message);
        Assert.Contains("{Model} vgg16", ex.Message); // the CLI renders {Model} as its flag
    }

    [Fact]
    public void Vgg19_MisshapedWeight_NamesKeyExpectedAndFoundShape()
    {
        var sd = Fixtures.Tensors("vgg19_narrow.safetensors").ToDictionary(kv => kv.Key, kv => kv.Value);
        WeightTensor w = sd["features.21.weight"];
        sd["features.21.weight"] = new WeightTensor(w.Name, [w.Shape[0], w.Shape[1] - 1, 3, 3], new float[w.Shape[0] * (w.Shape[1] - 1) * 9]);
        var ex = Assert.Throws<ModelWeightsException>(() => VggNet.FromStateDict(VggArchitecture.Vgg19, sd));
        Assert.Contains("features.21.weight", ex.Message);
        Assert.Contains($"[{w.Shape[0]},{w.Shape[1] - 1},3,3]", ex.Message);
        Assert.Contains($"[{w.Shape[0]},{w.Shape[1]},3,3]", ex.Message);
    }

    [Fact]
    public void Random_SameSeed_SameWeights_DifferentSeed_Differs()
    {
        var g = new Graph();
        var data = new float[1 * 8 * 8 * 3];
        new Rng(5).FillUniform(data, -1, 1);
        Value x = g.Constant(data, [1, 8, 8, 3]);
        LayerRef r = VggLayers.Vgg19.Resolve("relu2_1");
        float[] a = VggNet.Random(VggArchitecture.Vgg19, 1).Build(g, x, [r], PoolingKind.Avg)[r.Name].Data;
        float[] b = VggNet.Random(VggArchitecture.Vgg19, 1).Build(g, x, [r], PoolingKind.Avg)[r.Name].Data;
        float[] c = VggNet.Random(VggArchitecture.Vgg19, 2).Build(g, x, [r], PoolingKind.Avg)[r.Name].Data;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }
}
