using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;
using NeuralStyle.Weights.Keras;

namespace NeuralStyle.Models.Tests.Vgg;

/// <summary>
/// VGG from Keras files (tools/fixtures/engine/keras.py): the narrow weights were written to HDF5 in Keras' layouts and
/// run through a PyTorch conv stack in torchvision's layout; by-order mapping plus HWIO→OIHW must give the same network.
/// </summary>
public class KerasVggTests
{
    [Theory]
    [InlineData("vgg19_notop_keras2.h5", VggArchitecture.Vgg19, "vgg19_expected.safetensors")]
    [InlineData("vgg19_keras3.weights.h5", VggArchitecture.Vgg19, "vgg19_expected.safetensors")]
    [InlineData("vgg16_full_keras3.h5", VggArchitecture.Vgg16, "vgg16_expected.safetensors")]
    public void FromKerasLayers_EveryModule_MatchesTorchOnTheSameWeights(string file, VggArchitecture arch, string expectedFile)
    {
        var expected = SafeTensors.Read(Fixtures.Engine("keras", expectedFile));
        IReadOnlyList<KerasLayer> layers = KerasWeights.Read(Fixtures.Engine("keras", file), KerasVgg.IsConvLayer);

        // The mapped state dict is torchvision's, bit for bit.
        Dictionary<string, WeightTensor> sd = KerasVgg.ToStateDict(arch, layers);
        Assert.Equal(expected.Keys.Where(k => k.StartsWith("features.", StringComparison.Ordinal)).Order(), sd.Keys.Order());
        foreach (var (key, tensor) in sd)
        {
            Assert.Equal(expected[key].Shape, tensor.Shape);
            Assert.Equal(expected[key].Data, tensor.Data);
        }

        VggNet net = KerasVgg.FromKerasLayers(arch, layers);
        var g = new Graph();
        WeightTensor input = expected["input"];
        Value x = g.Constant(Fixtures.ToNhwc(input), [1, input.Shape[2], input.Shape[3], 3]);
        var refs = net.Layers.Modules.Select(m => m.Kind == LayerKind.Conv
            ? net.Layers.Resolve($"pre-relu:{m.Index}")
            : net.Layers.Resolve(m.CaffeName)).ToList();
        Dictionary<string, Value> outs = net.Build(g, x, refs, PoolingKind.Max);
        foreach (LayerRef r in refs)
        {
            double err = Fixtures.RelativeError(outs[r.Name].Data, Fixtures.ToNhwc(expected[$"act.{r.Index}"]));
            Assert.True(err <= 1e-4, $"{file} module {r.Index} ({r.Name}): relative error {err:G3}");
        }
    }

    [Fact]
    public void ToStateDict_Vgg16FileAsVgg19_OneSentenceSuggestingVgg16()
    {
        var layers = KerasWeights.Read(Fixtures.Engine("keras", "vgg16_full_keras3.h5"), KerasVgg.IsConvLayer);
        var ex = Assert.Throws<ModelWeightsException>(() => KerasVgg.ToStateDict(VggArchitecture.Vgg19, layers));
        Assert.Contains("13 convolution layers but VGG-19 has 16", ex.Message);
        Assert.Contains("{Model} vgg16", ex.Message); // the CLI renders {Model} as its flag
        Assert.Equal(VggArchitecture.Vgg16, KerasVgg.Detect(layers));
    }

    [Fact]
    public void ToStateDict_ResNetFile_SaysSo()
    {
        var layers = KerasWeights.Read(Fixtures.Engine("keras", "resnet50_stub_keras2.h5"));
        var ex = Assert.Throws<ModelWeightsException>(() => KerasVgg.ToStateDict(VggArchitecture.Vgg19, layers));
        Assert.Contains("ResNet", ex.Message);
        Assert.Null(KerasVgg.Detect(layers));
    }

    [Fact]
    public void HwioToOihw_MovesEveryElement()
    {
        // kernel[y, x, i, o] = 1000y + 100x + 10i + o, so every element says where it must land.
        int h = 2, w = 3, ci = 4, co = 5;
        var data = new float[h * w * ci * co];
        for (int y = 0; y < h; y++) for (int xx = 0; xx < w; xx++) for (int i = 0; i < ci; i++) for (int o = 0; o < co; o++)
            data[((y * w + xx) * ci + i) * co + o] = 1000 * y + 100 * xx + 10 * i + o;
        WeightTensor t = KerasVgg.HwioToOihw(new WeightTensor("k", [h, w, ci, co], data), "features.0.weight");
        Assert.Equal([co, ci, h, w], t.Shape);
        for (int o = 0; o < co; o++) for (int i = 0; i < ci; i++) for (int y = 0; y < h; y++) for (int xx = 0; xx < w; xx++)
            Assert.Equal(1000 * y + 100 * xx + 10 * i + o, t.Data[((o * ci + i) * h + y) * w + xx]);
    }
}
