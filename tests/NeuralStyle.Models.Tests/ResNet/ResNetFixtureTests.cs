using NeuralStyle.Models.ResNet;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;
using NeuralStyle.Weights.Keras;

namespace NeuralStyle.Models.Tests.ResNet;

/// <summary>
/// ResNet-50 (full depth, 3/64 width, random weights and batch-norm statistics) against PyTorch in both layouts:
/// tests/fixtures/engine/resnet, written by tools/fixtures/engine/resnet.py.
/// </summary>
public class ResNetFixtureTests
{
    private static readonly string[] LossLayers = ["conv1_relu", "layer1", "layer2", "layer3", "layer4"];

    private static IReadOnlyDictionary<string, WeightTensor> Load(string file) => SafeTensors.Read(Fixtures.Engine("resnet", file));

    /// <summary>The Keras layer list as an HDF5 reader hands it over: layers in file order, weights in order.</summary>
    internal static List<KerasLayer> KerasLayers(IReadOnlyDictionary<string, WeightTensor> f) =>
        f.Where(kv => kv.Key.StartsWith("keras.", StringComparison.Ordinal))
            .Select(kv => (Parts: kv.Key.Split('.'), kv.Value))
            .GroupBy(p => (Index: int.Parse(p.Parts[1], System.Globalization.CultureInfo.InvariantCulture), Name: p.Parts[2]))
            .OrderBy(grp => grp.Key.Index)
            .Select(grp => new KerasLayer(grp.Key.Name, grp.OrderBy(p => int.Parse(p.Parts[3], System.Globalization.CultureInfo.InvariantCulture))
                .Select(p => p.Value with { Name = $"{grp.Key.Name}/{p.Parts[3]}" }).ToList()))
            .ToList();

    public static TheoryData<string, string> Layouts => new()
    {
        // layout, the name used for the first conv of layer2's first block in that layout's own scheme
        { "torchvision", "layer2.0.conv1" },
        { "keras", "conv3_block1_1_conv" },
    };

    private static ResNet50 Network(string layout, IReadOnlyDictionary<string, WeightTensor> f)
        => layout == "keras" ? ResNet50.FromKerasLayers(KerasLayers(f)) : ResNet50.FromStateDict(f);

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Activations_AndGramLossGradient_MatchPyTorch(string layout, string preBnName)
    {
        var f = Load($"{layout}.safetensors");
        ResNet50 net = Network(layout, f);
        Assert.Equal(layout == "keras" ? ResNetLayout.Keras : ResNetLayout.Torchvision, net.Layout);

        var g = new Graph();
        Value x = g.Input([1, 64, 64, 3], requiresGrad: true, name: "x");
        Fixtures.ToNhwc(f["x"]).CopyTo(x.Data, 0);
        // Mixed naming schemes on purpose: each resolves to its canonical Keras name.
        var refs = new[] { "relu", "layer1.2", preBnName, "bn3a_branch2a", "layer2", "conv4_block6_out", "layer4" }.Select(net.Resolve).ToList();
        Dictionary<string, Value> feats = net.Build(g, x, refs, PoolingKind.Max);
        Assert.Equal(["conv1_relu", "conv2_block3_out", "conv3_block1_1_conv", "conv3_block1_1_bn", "conv3_block4_out", "conv4_block6_out", "conv5_block3_out"],
            refs.Select(r => r.Name));

        void Check(string canonical, string expectedKey, double tolerance)
        {
            double err = Fixtures.RelativeError(feats[canonical].Data, Fixtures.ToNhwc(f[expectedKey]));
            Assert.True(err <= tolerance, $"{layout} {canonical}: relative error {err:G3}");
        }
        Check("conv1_relu", "y.conv1_relu", 1e-5);
        Check("conv2_block3_out", "y.layer1", 1e-5);
        Check("conv3_block1_1_conv", "y.conv3_block1_1_conv", 1e-4);
        Check("conv3_block1_1_bn", "y.conv3_block1_1_bn", 1e-5);
        Check("conv3_block4_out", "y.layer2", 1e-5);
        Check("conv4_block6_out", "y.layer3", 1e-4);
        Check("conv5_block3_out", "y.layer4", 1e-4);

        // Σ sum(Ĝ ∘ R) over the SWAG layers, softmax over channels first on layer3/layer4.
        string[] canonicalLoss = ["conv1_relu", "conv2_block3_out", "conv3_block4_out", "conv4_block6_out", "conv5_block3_out"];
        Value? loss = null;
        for (int i = 0; i < LossLayers.Length; i++)
        {
            Value v = feats[canonicalLoss[i]];
            if (i >= 3) v = g.SoftmaxChannels(v);
            int c = v.Shape[3];
            Value gram = g.Gram(v, 1f / (c * v.Shape[1] * v.Shape[2]));
            Value term = g.Sum(g.Mul(gram, g.Constant(f[$"r.{LossLayers[i]}"].Data, [1, c, c])));
            loss = loss is null ? term : g.Add(loss, term);
        }
        g.Backward(loss!);
        Assert.True(Fixtures.Relative(loss!.Data[0], f["loss"].Data[0]) <= 1e-4, $"{layout} loss {loss.Data[0]} vs {f["loss"].Data[0]}");
        double dxErr = Fixtures.RelativeError(x.Grad!, Fixtures.ToNhwc(f["dx"]));
        Assert.True(dxErr <= 1e-4, $"{layout} d loss/dx: relative error {dxErr:G3}");
    }

    [Fact]
    public void TheTwoLayouts_AreNotInterchangeable_TheStrideSitsElsewhere()
    {
        var tv = ResNet50.FromStateDict(Load("torchvision.safetensors"));
        var keras = ResNet50.FromKerasLayers(KerasLayers(Load("keras.safetensors")));
        var g = new Graph(GraphMode.Inference);
        Value x = g.Input([1, 64, 64, 3]);
        LayerRef r = tv.Resolve("conv3_block1_1_conv");
        int[] tvShape = tv.Build(g, x, [r], PoolingKind.Max)[r.Name].Shape;
        int[] kerasShape = keras.Build(g, x, [r], PoolingKind.Max)[r.Name].Shape;
        Assert.Equal([1, 16, 16, 6], tvShape);    // V1.5: the 1×1 keeps the size, the 3×3 after it strides
        Assert.Equal([1, 8, 8, 6], kerasShape);   // V1: the first 1×1 strides
    }

    [Fact]
    public void KerasLoader_WrongOrder_FailsWithOneSentenceNamingTheLayer()
    {
        var layers = KerasLayers(Load("keras.safetensors"));
        // Swap a batch norm and a convolution: the shapes no longer fit at that position.
        (layers[2], layers[3]) = (layers[3], layers[2]);
        var ex = Assert.Throws<ModelWeightsException>(() => ResNet50.FromKerasLayers(layers));
        Assert.Contains("Keras layer 3", ex.Message);
        Assert.Contains("conv2_block1_1_bn", ex.Message);
        Assert.Single(ex.Message.Split(". ", StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void KerasLoader_TruncatedFile_SaysHowManyLayersItNeeds()
    {
        var layers = KerasLayers(Load("keras.safetensors")).Take(40).ToList();
        var ex = Assert.Throws<ModelWeightsException>(() => ResNet50.FromKerasLayers(layers));
        Assert.Contains("40 layers with weights", ex.Message);
        Assert.Contains("needs 106", ex.Message);
    }

    [Fact]
    public void KerasLoader_IgnoresTheClassifierOfAFullFile_AndLayersWithoutWeights()
    {
        var layers = KerasLayers(Load("keras.safetensors"));
        layers.Insert(0, new KerasLayer("input_1", []));
        layers.Add(new KerasLayer("avg_pool", []));
        layers.Add(new KerasLayer("predictions", [new WeightTensor("kernel", [96, 10], new float[960]), new WeightTensor("bias", [10], new float[10])]));
        var net = ResNet50.FromKerasLayers(layers);
        Assert.Equal(ResNetLayout.Keras, net.Layout);
    }

    [Fact]
    public void StateDictLoader_MissingKey_NamesIt_AndIgnoresFcAndBatchCounters()
    {
        var sd = Load("torchvision.safetensors").ToDictionary(kv => kv.Key, kv => kv.Value);
        sd["fc.weight"] = new WeightTensor("fc.weight", [1000, 96 * 4], new float[1000 * 96 * 4]);
        sd["bn1.num_batches_tracked"] = new WeightTensor("bn1.num_batches_tracked", [], [0f]);
        _ = ResNet50.FromStateDict(sd);
        sd.Remove("layer3.2.bn2.running_var");
        var ex = Assert.Throws<ModelWeightsException>(() => ResNet50.FromStateDict(sd));
        Assert.Contains("'layer3.2.bn2.running_var'", ex.Message);
    }

    [Fact]
    public void StateDictLoader_VggFile_SuggestsAVggModel()
    {
        var sd = new Dictionary<string, WeightTensor> { ["features.0.weight"] = new("features.0.weight", [64, 3, 3, 3], new float[64 * 27]) };
        var ex = Assert.Throws<ModelWeightsException>(() => ResNet50.FromStateDict(sd));
        Assert.Contains("VGG", ex.Message);
    }
}
