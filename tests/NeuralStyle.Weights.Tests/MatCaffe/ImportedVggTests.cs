using NeuralStyle.Weights.Caffe;
using NeuralStyle.Weights.Mat;

namespace NeuralStyle.Weights.Tests.MatCaffe;

/// <summary>
/// The MatConvNet and Caffe readers against files written by scipy and a protobuf writer from known PyTorch weights:
/// every mapped tensor must equal the PyTorch tensor bit for bit (the activations are checked in the Models tests).
/// </summary>
public class ImportedVggTests
{
    private static void AssertSameFeatures(string prefix, ImportedVgg vgg, bool transposed = false)
    {
        var expected = MatCaffeFixtures.Weights.Where(kv => kv.Key.StartsWith(prefix + ".", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected.Count, vgg.Features.Count);
        foreach ((string key, WeightTensor e) in expected)
        {
            string name = key[(prefix.Length + 1)..];
            Assert.True(vgg.Features.TryGetValue(name, out WeightTensor? actual), $"missing {name}");
            Assert.Equal(name, actual!.Name);
            Assert.Equal(e.Shape, actual.Shape);
            float[] want = transposed && e.Shape.Length == 4 ? TransposeKernels(e) : e.Data;
            Assert.Equal(want, actual.Data);
        }
    }

    /// <summary>OIHW with H and W swapped (seed 003's reading of MatConvNet's filters).</summary>
    private static float[] TransposeKernels(WeightTensor t)
    {
        int o = t.Shape[0], i = t.Shape[1], h = t.Shape[2], w = t.Shape[3];
        var r = new float[t.Data.Length];
        for (int a = 0; a < o * i; a++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    r[(a * w + x) * h + y] = t.Data[(a * h + y) * w + x];
        return r;
    }

    [Theory]
    [InlineData("beta16")]
    [InlineData("meta")]
    [InlineData("filters")]
    public void MatConvNet_EveryLayout_MapsEveryConvolutionAndTheMeanPixel(string style)
    {
        ImportedVgg vgg = MatConvNetVgg.Load(MatCaffeFixtures.Path($"vgg19_{style}.mat"));
        Assert.Equal("vgg19", vgg.Architecture);
        Assert.Equal("rgb255", vgg.Flavor);
        AssertSameFeatures("vgg19", vgg);
        double[]? mean = MatCaffeFixtures.ExpectedMean(style);
        if (mean is null)
        {
            Assert.Null(vgg.MeanRgb);
            return;
        }
        Assert.NotNull(vgg.MeanRgb);
        for (int c = 0; c < 3; c++) Assert.Equal(mean[c], vgg.MeanRgb![c], 1e-12);
    }

    [Fact]
    public void MatConvNet_Beta16_MeanIsTheDoublePrecisionAverageOfTheImage_NotItsFirstPixel()
    {
        ImportedVgg vgg = MatConvNetVgg.Load(MatCaffeFixtures.Path("vgg19_beta16.mat"));
        var image = (MatNumeric)((MatStruct)MatFile.Read(MatCaffeFixtures.Path("vgg19_beta16.mat"))["normalization"]).Field("averageImage")!;
        Assert.Equal([8, 8, 3], image.Dims);
        Assert.Equal(MatClass.Single, image.Class);
        Assert.NotEqual(image.Values[0], vgg.MeanRgb![0]);
        Assert.Equal(image.Values[..64].ToArray().Average(), vgg.MeanRgb[0], 1e-12);
        Assert.Equal(image.Values[128..].ToArray().Average(), vgg.MeanRgb[2], 1e-12);
    }

    [Fact]
    public void MatConvNet_TransposeSwitch_ReproducesSeed003sMirroredKernels()
    {
        ImportedVgg vgg = MatConvNetVgg.Load(MatCaffeFixtures.Path("vgg19_beta16.mat"), transposeKernels: true);
        AssertSameFeatures("vgg19", vgg, transposed: true);
    }

    [Fact]
    public void MatFile_Beta16_ReadsCellsStructsCharsAndLogicals()
    {
        var vars = MatFile.Read(MatCaffeFixtures.Path("vgg19_beta16.mat"));
        Assert.Equal(["classes", "layers", "normalization"], vars.Keys.Order(StringComparer.Ordinal));
        var layers = Assert.IsType<MatCell>(vars["layers"]);
        Assert.Equal(1, layers.Dims[0]);
        Assert.Equal(37 + 6, layers.Items.Count); // features, fc6 relu6 fc7 relu7 fc8, prob
        var first = Assert.IsType<MatStruct>(layers.Items[0]);
        Assert.Equal(["name", "type", "weights", "size", "pad", "stride", "precious"], first.FieldNames);
        Assert.Equal("conv1_1", Assert.IsType<MatChar>(first.Field("name")).Text);
        var weights = Assert.IsType<MatCell>(first.Field("weights"));
        Assert.Equal([3, 3, 3, 4], weights.Items[0].Dims);
        Assert.Equal([3.0, 3, 3, 4], Assert.IsType<MatNumeric>(first.Field("size")).Values.ToArray());
        var classes = Assert.IsType<MatStruct>(vars["classes"]);
        Assert.Equal("goldfish", Assert.IsType<MatChar>(Assert.IsType<MatCell>(classes.Field("description")).Items[1]).Text);
        Assert.Equal(MatClass.UInt8, Assert.IsType<MatNumeric>(first.Field("precious")).Class);
    }

    [Fact]
    public void MatFile_VariableFilter_SkipsTheOthers()
    {
        var vars = MatFile.Read(MatCaffeFixtures.Path("vgg19_beta16.mat"), name => name == "normalization");
        Assert.Equal(["normalization"], vars.Keys);
    }

    [Fact]
    public void MatFile_ArraysAboveTheLimit_KeepTheirShapeButNotTheirData()
    {
        var vars = MatFile.Read(MatCaffeFixtures.Path("vgg19_meta.mat"), options: new MatReadOptions { MaxArrayElements = 100 });
        var conv = (MatStruct)((MatCell)vars["layers"]).Items[2];
        var filters = (MatNumeric)((MatCell)conv.Field("weights")!).Items[0];
        Assert.True(filters.Skipped);
        Assert.Equal([3, 3, 4, 4], filters.Dims);
        Assert.Throws<InvalidOperationException>(() => filters.Values.Length);
    }

    [Theory]
    [InlineData("vgg19_v1.caffemodel", "vgg19")]
    [InlineData("vgg16_v2.caffemodel", "vgg16")]
    public void Caffe_BothLayerFormats_MapEveryConvolutionByOrder(string file, string arch)
    {
        ImportedVgg vgg = CaffeVgg.Load(MatCaffeFixtures.Path(file));
        Assert.Equal(arch, vgg.Architecture);
        Assert.Equal("caffe", vgg.Flavor);
        Assert.Null(vgg.MeanRgb);
        AssertSameFeatures(arch, vgg);
    }

    [Fact]
    public void Caffe_V1_TypesGetTheirV2Names_AndGeometryIsRead()
    {
        var layers = CaffeModel.ReadLayers(MatCaffeFixtures.Path("vgg19_v1.caffemodel"));
        Assert.Equal("conv1_1", layers[0].Name);
        Assert.Equal("Convolution", layers[0].Type);
        Assert.Equal((1, 1), (layers[0].Pad, layers[0].Stride));
        Assert.Equal([4, 3, 3, 3], layers[0].Blobs[0].Shape);
        Assert.Equal([1, 1, 1, 4], layers[0].Blobs[1].Shape);
        Assert.Contains(layers, l => l.Type == "InnerProduct");
        Assert.Contains(layers, l => l.Type == "Dropout");
        Assert.Equal("Softmax", layers[^1].Type);
    }

    [Fact]
    public void Caffe_BlobsAboveTheLimit_AreSkipped()
    {
        var layers = CaffeModel.ReadLayers(MatCaffeFixtures.Path("vgg16_v2.caffemodel"), maxBlobBytes: 200);
        Assert.Null(layers.First(l => l.Name == "conv5_3").Blobs[0].Data);
        Assert.NotNull(layers.First(l => l.Name == "conv5_3").Blobs[1].Data);
    }

    [Theory]
    [InlineData("vgg19_beta16.mat", "MatConvNet")]
    [InlineData("vgg19_filters.mat", "MatConvNet")]
    [InlineData("vgg19_v1.caffemodel", "Caffe")]
    [InlineData("vgg16_v2.caffemodel", "Caffe")]
    public void TryLoad_DetectsByContent_NotByExtension(string file, string format)
    {
        using var dir = new TempDir();
        string renamed = dir.Write("weights.pth", MatCaffeFixtures.Bytes(file));
        Assert.Equal(format, ImportedVgg.TryLoad(renamed)!.Format);
    }

    [Theory]
    [InlineData("tensors.zip.pth")]
    [InlineData("tensors.legacy.pth")]
    [InlineData("tensors.expected.safetensors")]
    public void TryLoad_OtherFormats_AreLeftToWeightFile(string file)
    {
        Assert.Null(ImportedVgg.TryLoad(Fixtures.Path(file)));
    }

    [Fact]
    public void TryLoad_WeightsSafetensorsOfThisFixture_IsLeftToWeightFile()
    {
        Assert.Null(ImportedVgg.TryLoad(MatCaffeFixtures.Path("weights.safetensors")));
    }
}
