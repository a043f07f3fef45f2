using NeuralStyle.Models.Vgg;

namespace NeuralStyle.Models.Tests.Vgg;

public class VggLayerNameTests
{
    [Theory]
    [InlineData("relu4_2", 22, "relu4_2")]
    [InlineData("conv4_2", 22, "relu4_2")]          // plain conv name = post-ReLU (spec §1)
    [InlineData("block4_conv2", 22, "relu4_2")]      // Keras names include the ReLU
    [InlineData("21", 22, "relu4_2")]                // torchvision conv index: post-ReLU too (in-place ReLU)
    [InlineData("22", 22, "relu4_2")]
    [InlineData("pre-relu:conv4_2", 21, "pre-relu:conv4_2")]
    [InlineData("pre-relu:21", 21, "pre-relu:conv4_2")]
    [InlineData("pool1", 4, "pool1")]
    [InlineData("block1_pool", 4, "pool1")]
    [InlineData("relu5_1", 29, "relu5_1")]
    [InlineData("36", 36, "pool5")]
    [InlineData("RELU1_1", 1, "relu1_1")]
    public void Vgg19_Resolve_AllThreeNamingSchemes(string name, int index, string canonical)
    {
        LayerRef r = VggLayers.Vgg19.Resolve(name);
        Assert.Equal(index, r.Index);
        Assert.Equal(canonical, r.Name);
    }

    [Theory]
    [InlineData("relu4_2", 20)]
    [InlineData("relu4_3", 22)]
    [InlineData("pool4", 23)]
    [InlineData("relu5_1", 25)]
    [InlineData("pool3", 16)]
    public void Vgg16_Resolve_TorchvisionIndices(string name, int index) => Assert.Equal(index, VggLayers.Vgg16.Resolve(name).Index);

    [Theory]
    [InlineData("relu4_5")]
    [InlineData("conv6_1")]
    [InlineData("")]
    [InlineData("37")]
    public void Vgg19_UnknownName_ListsValidNames(string name)
    {
        var ex = Assert.Throws<ArgumentException>(() => VggLayers.Vgg19.Resolve(name));
        Assert.Contains("relu4_2", ex.Message);
        Assert.Contains("pool5", ex.Message);
    }

    [Fact]
    public void Vgg16_Vgg19OnlyLayer_IsUnknown() => Assert.Throws<ArgumentException>(() => VggLayers.Vgg16.Resolve("relu3_4"));
}
