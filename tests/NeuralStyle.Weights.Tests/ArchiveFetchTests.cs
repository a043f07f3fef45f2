using System.IO.Compression;
using System.Security.Cryptography;

namespace NeuralStyle.Weights.Tests;

/// <summary>The fast-style models: one zip downloaded once from a local server, its .pth files unpacked into the cache.</summary>
[Collection(NetworkCollection.Name)]
public class ArchiveFetchTests
{
    private static readonly string[] Styles = ["candy", "mosaic", "rain_princess", "udnie"];

    private static (byte[] Zip, Dictionary<string, byte[]> Members) MakeZip()
    {
        var members = Styles.ToDictionary(s => s, s =>
        {
            var b = new byte[3000 + s.Length * 100];
            new Random(s.Length).NextBytes(b);
            return b;
        });
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, byte[] data) in members)
            {
                using Stream e = zip.CreateEntry($"saved_models/{name}.pth", CompressionLevel.NoCompression).Open();
                e.Write(data);
            }
        }
        return (ms.ToArray(), members);
    }

    private static (ModelEntry Archive, List<ModelEntry> Members) Entries(string url)
    {
        var archive = new ModelEntry("fast-style-models", url, "saved_models.zip", "torchvision", "transformer-zip", "", null, "");
        var members = Styles.Select(s => new ModelEntry(s.Replace('_', '-'), url, $"{s}.pth", ModelRegistry.Rgb255, "transformer", "", null, "")
        {
            Archive = archive.Name,
            ArchiveMember = $"saved_models/{s}.pth",
        }).ToList();
        return (archive, members);
    }

    [Fact]
    public async Task FetchFromArchive_DownloadsOnce_UnpacksAllFour_RecordsTheHash()
    {
        (byte[] zip, var contents) = MakeZip();
        await using var server = new MiniHttpServer(zip, ServeMode.Normal);
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        (ModelEntry archive, List<ModelEntry> members) = Entries(server.Url);
        var downloader = new WeightDownloader(cache, stallTimeout: TimeSpan.FromSeconds(10));

        string candy = await downloader.FetchFromArchiveAsync(members[0], archive, members, null, CancellationToken.None);

        Assert.Equal(cache.PathFor(members[0]), candy);
        foreach (ModelEntry m in members) Assert.Equal(contents[Path.GetFileNameWithoutExtension(m.FileName)], File.ReadAllBytes(cache.PathFor(m)));
        string hash = Convert.ToHexStringLower(SHA256.HashData(zip));
        Assert.Equal(hash, downloader.RecordedSha256);
        Assert.StartsWith(hash, File.ReadAllText(downloader.RecordPathFor(archive)));

        // A second member: no new request (the zip is cached, the member already unpacked).
        int requests = server.RangeHeaders.Count;
        string udnie = await downloader.FetchFromArchiveAsync(members[3], archive, members, null, CancellationToken.None);
        Assert.Equal(requests, server.RangeHeaders.Count);
        Assert.Equal(contents["udnie"], File.ReadAllBytes(udnie));

        // A member deleted by hand is unpacked again from the cached zip, still without a request.
        File.Delete(udnie);
        await downloader.FetchFromArchiveAsync(members[3], archive, members, null, CancellationToken.None);
        Assert.Equal(requests, server.RangeHeaders.Count);
        Assert.Equal(contents["udnie"], File.ReadAllBytes(udnie));
    }

    [Fact]
    public async Task Fetch_ChangedFileAfterRecordedHash_IsRefusedAndDeleted()
    {
        (byte[] zip, _) = MakeZip();
        await using var server = new MiniHttpServer(zip, ServeMode.Normal);
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        (ModelEntry archive, List<ModelEntry> members) = Entries(server.Url);
        var downloader = new WeightDownloader(cache, stallTimeout: TimeSpan.FromSeconds(10));
        Directory.CreateDirectory(cache.Root);
        File.WriteAllText(downloader.RecordPathFor(archive), new string('0', 64) + "  saved_models.zip\n");

        var e = await Assert.ThrowsAsync<DownloadException>(() => downloader.FetchFromArchiveAsync(members[0], archive, members, null, CancellationToken.None));
        Assert.Contains("recorded at its first download", e.Message);
        Assert.False(File.Exists(cache.PathFor(archive)));
        Assert.False(File.Exists(cache.PathFor(members[0])));
    }

    [Fact]
    public async Task FetchFromArchive_Unreachable_SaysToPassTheNetworkAsModel()
    {
        using var dir = new TempDir();
        (ModelEntry archive, List<ModelEntry> members) = Entries("http://127.0.0.1:1/saved_models.zip");
        var downloader = new WeightDownloader(new WeightCache(dir.Path), stallTimeout: TimeSpan.FromSeconds(10));
        var e = await Assert.ThrowsAsync<DownloadException>(() => downloader.FetchFromArchiveAsync(members[0], archive, members, null, CancellationToken.None));
        Assert.Contains("as {Model} PATH", e.Message); // the CLI renders {Model} as its flag
        Assert.DoesNotContain("--weights", e.Message);
    }

    [Fact]
    public async Task FetchFromArchive_CorruptZip_OneSentence()
    {
        var junk = new byte[4000];
        new Random(3).NextBytes(junk);
        await using var server = new MiniHttpServer(junk, ServeMode.Normal);
        using var dir = new TempDir();
        (ModelEntry archive, List<ModelEntry> members) = Entries(server.Url);
        var downloader = new WeightDownloader(new WeightCache(dir.Path), stallTimeout: TimeSpan.FromSeconds(10));
        var e = await Assert.ThrowsAsync<WeightFormatException>(() => downloader.FetchFromArchiveAsync(members[0], archive, members, null, CancellationToken.None));
        Assert.Contains("not a readable zip", e.Message);
    }

    [Fact]
    public void Registry_HasTheFastStyleModels()
    {
        foreach (string name in new[] { "candy", "mosaic", "rain-princess", "udnie" })
        {
            ModelEntry e = ModelRegistry.Find(name)!;
            Assert.Equal("transformer", e.Architecture);
            Assert.Equal("fast-style-models", e.Archive);
            Assert.StartsWith("saved_models/", e.ArchiveMember);
        }
        foreach (string name in new[] { "mosaic", "candy", "rain-princess", "udnie", "pointilism" })
        {
            ModelEntry e = ModelRegistry.Find(name + "-onnx")!;
            Assert.Equal("transformer-onnx", e.Architecture);
            Assert.EndsWith($"/fast_neural_style/model/{name}-9.onnx", e.Url);
        }
    }
}
