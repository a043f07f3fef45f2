using System.Diagnostics;
using System.Security.Cryptography;

namespace NeuralStyle.Weights.Tests;

/// <summary>Network tests run on their own, after the CPU-heavy parallel tests, so timing-based checks stay reliable.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NetworkCollection
{
    public const string Name = "Loopback network";
}

[Collection(NetworkCollection.Name)]
public class WeightDownloaderTests
{
    private static readonly TimeSpan ShortStall = TimeSpan.FromSeconds(1);

    private static byte[] Payload(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static string HashPrefix(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b))[..8];

    private static ModelEntry Entry(MiniHttpServer server, byte[] body, string? hashPrefix = null) =>
        new("test-model", server.Url, $"test-{hashPrefix ?? HashPrefix(body)}.pth", "torchvision", "vgg19",
            hashPrefix ?? HashPrefix(body), null, "test");

    /// <summary>Records progress synchronously (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Recorder : IProgress<DownloadProgress>
    {
        public List<DownloadProgress> Reports { get; } = new();
        public void Report(DownloadProgress value) { lock (Reports) Reports.Add(value); }
    }

    [Fact]
    public async Task FetchAsync_GoodServer_DownloadsVerifiesRenamesAndReportsProgress()
    {
        var body = Payload(300_000, 1);
        await using var server = new MiniHttpServer(body, ServeMode.Normal);
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        var entry = Entry(server, body);
        var progress = new Recorder();

        string path = await new WeightDownloader(cache, stallTimeout: TimeSpan.FromSeconds(10)).FetchAsync(entry, progress, CancellationToken.None);

        Assert.Equal(cache.PathFor(entry), path);
        Assert.Equal(body, File.ReadAllBytes(path));
        Assert.False(File.Exists(path + ".partial"));
        Assert.True(cache.IsCached(entry));
        Assert.True(progress.Reports.Count >= 2);
        var last = progress.Reports[^1];
        Assert.Equal(body.Length, last.BytesDone);
        Assert.Equal(body.Length, last.BytesTotal);
        Assert.True(progress.Reports.Zip(progress.Reports.Skip(1)).All(p => p.First.BytesDone <= p.Second.BytesDone));
        Assert.Equal([null], server.RangeHeaders);
    }

    [Fact]
    public async Task FetchAsync_AlreadyCached_ReturnsWithoutContactingTheServer()
    {
        var body = Payload(1000, 2);
        await using var server = new MiniHttpServer(body, ServeMode.Normal);
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        var entry = Entry(server, body);
        File.WriteAllBytes(cache.PathFor(entry), body);

        string path = await new WeightDownloader(cache).FetchAsync(entry, null, CancellationToken.None);
        Assert.Equal(cache.PathFor(entry), path);
        Assert.Empty(server.RangeHeaders);
    }

    [Fact]
    public async Task FetchAsync_PartialFileAndRangeServer_ResumesFromTheEnd()
    {
        var body = Payload(100_000, 3);
        await using var server = new MiniHttpServer(body, ServeMode.Normal);
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        var entry = Entry(server, body);
        File.WriteAllBytes(cache.PathFor(entry) + ".partial", body[..40_000]);
        var progress = new Recorder();

        string path = await new WeightDownloader(cache, stallTimeout: TimeSpan.FromSeconds(10)).FetchAsync(entry, progress, CancellationToken.None);

        Assert.Equal(body, File.ReadAllBytes(path));
        Assert.Equal(["bytes=40000-"], server.RangeHeaders);
        Assert.Equal(60_000, server.BodyBytesSent);
        Assert.True(progress.Reports[0].BytesDone >= 40_000);
        Assert.Equal(body.Length, progress.Reports[^1].BytesTotal);
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public async Task FetchAsync_ServerIgnoresRange_RestartsFromZero()
    {
        var body = Payload(50_000, 4);
        await using var server = new MiniHttpServer(body, ServeMode.IgnoreRange);
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        var entry = Entry(server, body);
        File.WriteAllBytes(cache.PathFor(entry) + ".partial", Payload(20_000, 99)); // wrong bytes: appending would break the hash

        string path = await new WeightDownloader(cache, stallTimeout: TimeSpan.FromSeconds(10)).FetchAsync(entry, null, CancellationToken.None);

        Assert.Equal(body, File.ReadAllBytes(path));
        Assert.Equal(["bytes=20000-"], server.RangeHeaders);
    }

    [Fact]
    public async Task FetchAsync_PartialAlreadyComplete_ServerSays416_UsesIt()
    {
        var body = Payload(5_000, 5);
        await using var server = new MiniHttpServer(body, ServeMode.Normal);
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        var entry = Entry(server, body);
        File.WriteAllBytes(cache.PathFor(entry) + ".partial", body);

        string path = await new WeightDownloader(cache, stallTimeout: TimeSpan.FromSeconds(10)).FetchAsync(entry, null, CancellationToken.None);
        Assert.Equal(body, File.ReadAllBytes(path));
        Assert.Equal(0, server.BodyBytesSent);
    }

    [Fact]
    public async Task FetchAsync_TruncatedBody_ThrowsKeepsPartialAndNextFetchResumes()
    {
        var body = Payload(80_000, 6);
        await using var server = new MiniHttpServer(body, ServeMode.Truncate);
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        var entry = Entry(server, body);
        var downloader = new WeightDownloader(cache, stallTimeout: TimeSpan.FromSeconds(10));

        var ex = await Assert.ThrowsAsync<DownloadException>(() => downloader.FetchAsync(entry, null, CancellationToken.None));
        Assert.Contains(server.Url, ex.Message);
        Assert.Contains("{Weights} PATH", ex.Message); // the CLI renders {Weights} as its flag
        Assert.False(cache.IsCached(entry));
        long kept = new FileInfo(cache.PathFor(entry) + ".partial").Length;
        Assert.InRange(kept, 1, body.Length - 1);

        server.Mode = ServeMode.Normal;
        string path = await downloader.FetchAsync(entry, null, CancellationToken.None);
        Assert.Equal(body, File.ReadAllBytes(path));
        Assert.Equal($"bytes={kept}-", server.RangeHeaders[^1]);
    }

    [Fact]
    public async Task FetchAsync_WrongHash_DeletesTheFileAndSaysSo()
    {
        var body = Payload(10_000, 7);
        string wrong = HashPrefix(body) == "00000000" ? "11111111" : "00000000";
        await using var server = new MiniHttpServer(body, ServeMode.Normal);
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        var entry = Entry(server, body, wrong);

        var ex = await Assert.ThrowsAsync<DownloadException>(() =>
            new WeightDownloader(cache, stallTimeout: TimeSpan.FromSeconds(10)).FetchAsync(entry, null, CancellationToken.None));

        Assert.Contains("SHA-256", ex.Message);
        Assert.Contains("deleted", ex.Message);
        Assert.Contains(HashPrefix(body), ex.Message);
        Assert.False(File.Exists(cache.PathFor(entry)));
        Assert.False(File.Exists(cache.PathFor(entry) + ".partial"));
    }

    [Fact]
    public async Task FetchAsync_NotFound_ThrowsNamingUrlAndManualPlacement()
    {
        var body = Payload(100, 8);
        await using var server = new MiniHttpServer(body, ServeMode.NotFound);
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        var entry = Entry(server, body);

        var ex = await Assert.ThrowsAsync<DownloadException>(() => new WeightDownloader(cache).FetchAsync(entry, null, CancellationToken.None));
        Assert.Contains("404", ex.Message);
        Assert.Contains(server.Url, ex.Message);
        Assert.Contains("{Weights} PATH", ex.Message); // the CLI renders {Weights} as its flag
        Assert.Contains(cache.PathFor(entry), ex.Message);
        Assert.False(File.Exists(cache.PathFor(entry)));
    }

    [Fact]
    public async Task FetchAsync_ServerNeverAnswers_FailsAfterTheStallTimeout()
    {
        var body = Payload(100, 9);
        await using var server = new MiniHttpServer(body, ServeMode.Hang);
        using var dir = new TempDir();
        var entry = Entry(server, body);
        var clock = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<DownloadException>(() =>
            new WeightDownloader(new WeightCache(dir.Path), stallTimeout: ShortStall).FetchAsync(entry, null, CancellationToken.None));

        Assert.InRange(clock.Elapsed, ShortStall * 0.9, TimeSpan.FromSeconds(8));
        Assert.True(ex.Message.Contains("no answer", StringComparison.Ordinal), ex.Message);
        Assert.Contains(server.Url, ex.Message);
    }

    [Fact]
    public async Task FetchAsync_BodyStallsMidway_FailsAfterTheStallTimeoutKeepingPartial()
    {
        var body = Payload(50_000, 10);
        await using var server = new MiniHttpServer(body, ServeMode.StallBody);
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        var entry = Entry(server, body);
        var clock = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<DownloadException>(() =>
            new WeightDownloader(cache, stallTimeout: ShortStall).FetchAsync(entry, null, CancellationToken.None));

        Assert.InRange(clock.Elapsed, ShortStall * 0.9, TimeSpan.FromSeconds(8));
        Assert.True(ex.Message.Contains("no data arrived", StringComparison.Ordinal), ex.Message);
        Assert.Equal(10, new FileInfo(cache.PathFor(entry) + ".partial").Length);
    }

    [Fact]
    public async Task FetchAsync_NothingListening_ThrowsDownloadException()
    {
        // Bind and release a loopback port so nothing listens there.
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        int port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        using var dir = new TempDir();
        var entry = new ModelEntry("down", $"http://127.0.0.1:{port}/x.pth", "x-00000000.pth", "caffe", "vgg19", "00000000", null, "");

        var ex = await Assert.ThrowsAsync<DownloadException>(() =>
            new WeightDownloader(new WeightCache(dir.Path), stallTimeout: TimeSpan.FromSeconds(5)).FetchAsync(entry, null, CancellationToken.None));
        Assert.Contains("cannot be reached", ex.Message);
        Assert.Contains("{Weights} PATH", ex.Message); // the CLI renders {Weights} as its flag
    }

    [Fact]
    public async Task FetchAsync_CallerCancels_ThrowsOperationCanceled()
    {
        var body = Payload(100, 11);
        await using var server = new MiniHttpServer(body, ServeMode.Hang);
        using var dir = new TempDir();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new WeightDownloader(new WeightCache(dir.Path), stallTimeout: TimeSpan.FromSeconds(30)).FetchAsync(Entry(server, body), null, cts.Token));
    }
}

[Collection(NetworkCollection.Name)]
public class WeightDownloaderFileTests
{
    [Fact]
    public async Task FetchAsync_PartialFileLockedByAnotherDownload_SaysSoWithoutTouchingIt()
    {
        var body = new byte[1000];
        await using var server = new MiniHttpServer(body, ServeMode.IgnoreRange);
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        var entry = new ModelEntry("t", server.Url, "t.pth", "caffe", "vgg19", "", null, "");
        string partial = cache.PathFor(entry) + ".partial";
        File.WriteAllBytes(partial, [1, 2, 3]);
        using (new FileStream(partial, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            var ex = await Assert.ThrowsAsync<DownloadException>(() =>
                new WeightDownloader(cache, stallTimeout: TimeSpan.FromSeconds(10)).FetchAsync(entry, null, CancellationToken.None));
            Assert.Contains("cannot be written", ex.Message);
        }
        Assert.Equal([1, 2, 3], File.ReadAllBytes(partial));
    }

    [Fact]
    public async Task FetchAsync_EntryWithoutHash_DownloadsWithoutVerifying()
    {
        var body = new byte[5000];
        new Random(12).NextBytes(body);
        await using var server = new MiniHttpServer(body, ServeMode.Normal);
        using var dir = new TempDir();
        var entry = new ModelEntry("t", server.Url, "saved_models.zip", "torchvision", "transformer-zip", "", null, "");
        string path = await new WeightDownloader(new WeightCache(dir.Path), stallTimeout: TimeSpan.FromSeconds(10)).FetchAsync(entry, null, CancellationToken.None);
        Assert.Equal(body, File.ReadAllBytes(path));
    }
}

[Collection(NetworkCollection.Name)]
public class WeightDownloaderMd5Tests
{
    private static ModelEntry Entry(MiniHttpServer server, string md5) =>
        new ModelEntry("k", server.Url, "k_notop.h5", "caffe", "vgg19", "", null, "") { Md5 = md5 };

    [Fact]
    public async Task FetchAsync_MatchingMd5_KeepsTheFileAndRecordsItsSha256()
    {
        var body = new byte[20_000];
        new Random(21).NextBytes(body);
        await using var server = new MiniHttpServer(body, ServeMode.Normal);
        using var dir = new TempDir();
        var downloader = new WeightDownloader(new WeightCache(dir.Path), stallTimeout: TimeSpan.FromSeconds(10));
        var entry = Entry(server, Convert.ToHexStringLower(MD5.HashData(body)));

        string path = await downloader.FetchAsync(entry, null, CancellationToken.None);

        Assert.Equal(body, File.ReadAllBytes(path));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), downloader.RecordedSha256);
        Assert.True(File.Exists(downloader.RecordPathFor(entry)));
    }

    [Fact]
    public async Task FetchAsync_WrongMd5_DeletesTheFileAndSaysSo()
    {
        var body = new byte[20_000];
        new Random(22).NextBytes(body);
        await using var server = new MiniHttpServer(body, ServeMode.Normal);
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        var entry = Entry(server, "00000000000000000000000000000000");

        var ex = await Assert.ThrowsAsync<DownloadException>(() =>
            new WeightDownloader(cache, stallTimeout: TimeSpan.FromSeconds(10)).FetchAsync(entry, null, CancellationToken.None));

        Assert.Contains("MD5", ex.Message);
        Assert.Contains("deleted", ex.Message);
        Assert.False(File.Exists(cache.PathFor(entry)));
        Assert.False(File.Exists(cache.PathFor(entry) + ".partial"));
    }
}
