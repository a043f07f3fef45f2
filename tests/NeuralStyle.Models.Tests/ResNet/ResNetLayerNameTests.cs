using NeuralStyle.Models.ResNet;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Models.Tests.ResNet;

public class ResNetLayerNameTests
{
    private static readonly ResNetLayers Table = new(64);

    [Theory]
    [InlineData("layer3", "conv4_block6_out")]
    [InlineData("layer3.5", "conv4_block6_out")]
    [InlineData("CONV4_BLOCK6_OUT", "conv4_block6_out")]
    [InlineData("layer1.0", "conv2_block1_out")]
    [InlineData("layer4", "conv5_block3_out")]
    [InlineData("relu", "conv1_relu")]
    [InlineData("stem", "conv1_relu")]
    [InlineData("bn1", "conv1_bn")]
    [InlineData("conv1", "conv1_conv")]
    [InlineData("maxpool", "pool1_pool")]
    [InlineData("layer2.0.downsample.0", "conv3_block1_0_conv")]
    [InlineData("layer2.0.downsample.1", "conv3_block1_0_bn")]
    [InlineData("layer2.3.bn2", "conv3_block4_2_bn")]
    [InlineData("res5b_branch2a", "conv5_block2_1_conv")]
    [InlineData("res4a_branch1", "conv4_block1_0_conv")]
    [InlineData("bn3d_branch2c", "conv3_block4_3_bn")]
    [InlineData("conv4_block2_add", "conv4_block2_add")]
    public void EveryScheme_ResolvesToTheCanonicalKerasName(string name, string canonical)
        => Assert.Equal(canonical, Table.Resolve(name).Name);

    [Fact]
    public void Channels_AndStrides_FollowTheStages()
    {
        ResNetNode Node(string n) => Table.Nodes[Table.Resolve(n).Index];
        Assert.Equal((64, 2), (Node("conv1_relu").Channels, Node("conv1_relu").Stride));
        Assert.Equal((256, 4), (Node("layer1").Channels, Node("layer1").Stride));
        Assert.Equal((512, 8), (Node("layer2").Channels, Node("layer2").Stride));
        Assert.Equal((1024, 16), (Node("layer3").Channels, Node("layer3").Stride));
        Assert.Equal((2048, 32), (Node("layer4").Channels, Node("layer4").Stride));
        Assert.Equal(128, Node("layer2.0.conv1").Channels);
    }

    [Fact]
    public void Indices_FollowTheComputationOrder()
    {
        string[] names = ["conv1_conv", "conv1_relu", "pool1_pool", "layer1.0.conv1", "layer1.0.downsample.1", "layer1.0", "layer1", "layer2.0.conv1", "layer4"];
        int[] order = names.Select(n => Table.Resolve(n).Index).ToArray();
        Assert.Equal(order.Order(), order);
        Assert.Equal(order.Distinct().Count(), order.Length);
    }

    [Fact]
    public void UnknownName_IsOneSentenceListingTheValidNames()
    {
        var ex = Assert.Throws<ArgumentException>(() => Table.Resolve("relu4_2"));
        Assert.Contains("'relu4_2'", ex.Message);
        Assert.Contains("conv1_relu", ex.Message);
        Assert.Contains("layer1..layer4", ex.Message);
        Assert.Contains("res4a_branch2a", ex.Message);
        Assert.Single(ex.Message.Split(". ", StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Random_IsSeeded_AndRunsOnlyAsDeepAsAsked()
    {
        var a = ResNet50.Random(ResNetLayout.Torchvision, 7, baseWidth: 4);
        var b = ResNet50.Random(ResNetLayout.Torchvision, 7, baseWidth: 4);
        var c = ResNet50.Random(ResNetLayout.Torchvision, 8, baseWidth: 4);
        float[] Run(ResNet50 net, out int nodes)
        {
            var g = new Graph(GraphMode.Training);
            Value x = g.Constant(Enumerable.Range(0, 32 * 32 * 3).Select(i => (float)Math.Sin(i)).ToArray(), [1, 32, 32, 3]);
            int before = g.Nodes.Count;
            LayerRef r = net.Resolve("layer1.0");
            float[] y = net.Build(g, x, [r], PoolingKind.Max)[r.Name].Data;
            nodes = g.Nodes.Count - before;
            return y;
        }
        float[] ya = Run(a, out int count);
        Assert.Equal(ya, Run(b, out _));
        Assert.NotEqual(ya, Run(c, out _));
        // stem (2 constants + conv) + pool + 4 folded convs (2 constants each) + add + relu: nothing of layer1.1 or later.
        Assert.Equal(3 + 1 + 4 * 3 + 2, count);
        Assert.All(ya, v => Assert.True(float.IsFinite(v) && v >= 0));
    }

    [Fact]
    public void NonZeroPadding_IsRefusedInOneSentence()
    {
        var net = ResNet50.Random(ResNetLayout.Keras, 1, baseWidth: 2);
        var g = new Graph(GraphMode.ShapesOnly);
        Value x = g.Input([1, 32, 32, 3]);
        var ex = Assert.Throws<ArgumentException>(() => net.Build(g, x, [net.Resolve("layer1")], PoolingKind.Max, ConvPadding.Reflect));
        Assert.Contains("zeros only", ex.Message);
    }
}
