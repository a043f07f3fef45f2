using System.Security.Cryptography;

namespace NeuralStyle.Weights.Tests.MatCaffe;

/// <summary>Files published with an MD5 only (MatConvNet's VGG): the downloader checks it before renaming into place.</summary>
[Collection(NetworkCollection.Name)]
public class Md5DownloadTests
{
    private static ModelEntry Entry(MiniHttpServer server, string md5) =>
        new("md5-model", server.Url, "md5-model.mat", ModelRegistry.Rgb255, "vgg19", "", null, "test") { Md5 = md5 };

    [Fact]
    public async Task FetchAsync_MatchingMd5_KeepsTheFile()
    {
        var body = new byte[50_000];
        new Random(4).NextBytes(body);
        await using var server = new MiniHttpServer(body, ServeMode.Normal);
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        ModelEntry entry = Entry(server, Convert.ToHexStringLower(MD5.HashData(body)).ToUpperInvariant());
        string path = await new WeightDownloader(cache, stallTimeout: TimeSpan.FromSeconds(10)).FetchAsync(entry, null, CancellationToken.None);
        Assert.Equal(body, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task FetchAsync_WrongMd5_DeletesTheFileAndSaysSo()
    {
        var body = new byte[50_000];
        new Random(5).NextBytes(body);
        await using var server = new MiniHttpServer(body, ServeMode.Normal);
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        ModelEntry entry = Entry(server, "8ee3263992981a1d26e73b3ca028a123");
        var e = await Assert.ThrowsAsync<DownloadException>(() =>
            new WeightDownloader(cache, stallTimeout: TimeSpan.FromSeconds(10)).FetchAsync(entry, null, CancellationToken.None));
        Assert.Contains("MD5", e.Message);
        Assert.Contains("8ee3263992981a1d26e73b3ca028a123", e.Message);
        Assert.False(cache.IsCached(entry));
        Assert.False(File.Exists(cache.PathFor(entry) + ".partial"));
    }

    [Fact]
    public void Registry_MatConvNetAndCaffeEntries_AsTheSpecGivesThem()
    {
        ModelEntry mat = ModelRegistry.Find("matconvnet-vgg19")!;
        Assert.Equal("https://www.vlfeat.org/matconvnet/models/beta16/imagenet-vgg-verydeep-19.mat", mat.Url);
        Assert.Equal("8ee3263992981a1d26e73b3ca028a123", mat.Md5);
        Assert.Equal(("vgg19", ModelRegistry.Rgb255), (mat.Architecture, mat.Flavor));
        ModelEntry caffe = ModelRegistry.Find("caffe-vgg19")!;
        Assert.Equal("https://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/VGG_ILSVRC_19_layers.caffemodel", caffe.Url);
        Assert.Equal(("vgg19", "caffe"), (caffe.Architecture, caffe.Flavor));
        Assert.Same(mat, ModelRegistry.Identify("/anywhere/imagenet-vgg-verydeep-19.mat", hashContent: false));
    }
}
