using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace NeuralStyle.Weights;

/// <summary>A progress report of a download: bytes so far (including a resumed part), total when known, rate and ETA.</summary>
public sealed record DownloadProgress(long BytesDone, long? BytesTotal, double BytesPerSecond, TimeSpan? Remaining);

/// <summary>A download that failed: one sentence naming the URL and how to place the file by hand.</summary>
public sealed class DownloadException : Exception
{
    public DownloadException(string message) : base(message) { }
    public DownloadException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// Downloads registry entries into a <see cref="WeightCache"/>: writes "&lt;file&gt;.partial", resumes it with a Range
/// request when the server allows (restarts from zero when it does not), stops when no byte arrives for the stall
/// timeout, checks the SHA-256 prefix, then renames the file into place. A wrong hash deletes the file.
/// </summary>
public sealed class WeightDownloader
{
    private static readonly Lazy<HttpClient> DefaultClient = new(() => new HttpClient(new SocketsHttpHandler
    {
        ConnectTimeout = TimeSpan.FromSeconds(30),
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan, // big files take minutes; the stall timeout bounds hangs instead
    });

    private static readonly TimeSpan ReportInterval = TimeSpan.FromMilliseconds(200);

    private readonly WeightCache _cache;
    private readonly HttpClient _client;
    private readonly TimeSpan _stallTimeout;

    /// <param name="stallTimeout">How long without any byte (or without response headers) before giving up; default 60 s.</param>
    public WeightDownloader(WeightCache cache, HttpClient? client = null, TimeSpan? stallTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        _cache = cache;
        _client = client ?? DefaultClient.Value;
        _stallTimeout = stallTimeout ?? TimeSpan.FromSeconds(60);
        if (_stallTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(stallTimeout), "The stall timeout must be positive.");
    }

    /// <summary>Returns the cached file's path, downloading it first when it is not cached yet.</summary>
    /// <exception cref="DownloadException">Server unreachable or erroring, stalled, truncated, or wrong hash.</exception>
    /// <exception cref="OperationCanceledException">When <paramref name="ct"/> is cancelled (the partial file is kept for resuming).</exception>
    /// <remarks>An entry unpacked from an archive (<see cref="ModelEntry.Archive"/>) fetches the archive once and
    /// unpacks every registry file it holds. A file without a published hash gets its SHA-256 recorded beside it at
    /// the first download (<see cref="RecordedSha256"/>); a later download must match that record.</remarks>
    public async Task<string> FetchAsync(ModelEntry entry, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Archive is { } archiveName)
        {
            ModelEntry archive = ModelRegistry.Find(archiveName)
                ?? throw new ArgumentException($"The entry '{entry.Name}' names an unknown archive '{archiveName}'.", nameof(entry));
            return await FetchFromArchiveAsync(entry, archive, ModelRegistry.All.Where(e => e.Archive == archive.Name), progress, ct).ConfigureAwait(false);
        }
        string path = await FetchFileAsync(entry, progress, ct).ConfigureAwait(false);
        var members = ModelRegistry.All.Where(e => e.Archive == entry.Name && !_cache.IsCached(e)).ToList();
        if (members.Count > 0) Unpack(path, members);
        return path;
    }

    /// <summary>The SHA-256 this downloader recorded for a file that had no published hash (null: none recorded).</summary>
    public string? RecordedSha256 { get; private set; }

    /// <summary>Where the SHA-256 of a file without a published hash is recorded at its first download.</summary>
    public string RecordPathFor(ModelEntry entry) => _cache.PathFor(entry) + ".sha256";

    /// <summary>
    /// Fetches <paramref name="member"/> from <paramref name="archive"/> (a zip): downloads the archive once into the
    /// cache, then unpacks <paramref name="member"/> and every entry of <paramref name="siblings"/> that is not cached
    /// yet, each written atomically. Returns the member's path.
    /// </summary>
    public async Task<string> FetchFromArchiveAsync(ModelEntry member, ModelEntry archive, IEnumerable<ModelEntry> siblings,
        IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(siblings);
        if (_cache.IsCached(member)) return _cache.PathFor(member);
        string zip = await FetchFileAsync(archive, progress, ct).ConfigureAwait(false);
        Unpack(zip, [member, .. siblings.Where(s => s != member && !_cache.IsCached(s))]);
        return _cache.PathFor(member);
    }

    /// <summary>Unpacks the members (their <see cref="ModelEntry.ArchiveMember"/>) of a zip into the cache, atomically.</summary>
    public void Unpack(string zipPath, IReadOnlyList<ModelEntry> members)
    {
        ArgumentNullException.ThrowIfNull(zipPath);
        ArgumentNullException.ThrowIfNull(members);
        try
        {
            using var zip = System.IO.Compression.ZipFile.OpenRead(zipPath);
            foreach (ModelEntry m in members)
            {
                string want = m.ArchiveMember ?? m.FileName;
                var item = zip.GetEntry(want) ?? zip.Entries.FirstOrDefault(z => z.FullName.EndsWith("/" + Path.GetFileName(want), StringComparison.Ordinal))
                    ?? throw new WeightFormatException($"The archive {zipPath} has no '{want}' (for '{m.Name}'); delete it and fetch again.");
                if (item.Length > (1L << 32)) throw new WeightFormatException($"'{want}' in {zipPath} claims {item.Length} bytes, more than any weights file.");
                NeuralStyle.IO.AtomicFile.Write(_cache.PathFor(m), target =>
                {
                    using Stream source = item.Open();
                    source.CopyTo(target);
                });
            }
        }
        catch (InvalidDataException e)
        {
            throw new WeightFormatException($"The archive {zipPath} is not a readable zip ({e.Message}); delete it and fetch again.", e);
        }
    }

    private async Task<string> FetchFileAsync(ModelEntry entry, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        string final = _cache.PathFor(entry);
        if (_cache.IsCached(entry)) return final;
        try
        {
            Directory.CreateDirectory(_cache.Root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Fail(entry, $"the cache folder {_cache.Root} cannot be created ({e.Message})", e);
        }
        string partial = final + ".partial";

        // A second attempt only when a resume turned out to be unusable (bad range answer): then start from zero.
        for (int attempt = 0; ; attempt++)
        {
            var outcome = await DownloadAsync(entry, partial, allowResume: attempt == 0, progress, ct).ConfigureAwait(false);
            if (outcome == Outcome.Done) break;
            TryDelete(partial);
            if (attempt >= 1) throw Fail(entry, "the server did not answer the download request consistently");
        }

        if (entry.Md5 is { Length: > 0 } md5)
        {
            // Keras publishes MD5 only; a match here and the SHA-256 record below then guard later downloads.
            string actual = await HashAsync(partial, MD5.HashDataAsync, ct).ConfigureAwait(false);
            if (!string.Equals(actual, md5, StringComparison.OrdinalIgnoreCase))
            {
                TryDelete(partial);
                throw new DownloadException(
                    $"The file downloaded from {entry.Url} has MD5 {actual}, not {md5}, so it was deleted; try again later or download it by hand and {ByHand(entry)}.");
            }
        }
        if (entry.Sha256Prefix.Length > 0)
        {
            string actual = await HashAsync(partial, ct).ConfigureAwait(false);
            if (!actual.StartsWith(entry.Sha256Prefix, StringComparison.OrdinalIgnoreCase))
            {
                TryDelete(partial);
                throw new DownloadException(
                    $"The file downloaded from {entry.Url} has SHA-256 {actual[..Math.Min(16, actual.Length)]}…, not {entry.Sha256Prefix}…, so it was deleted; try again later or download it by hand and {ByHand(entry)}.");
            }
        }
        else
        {
            // No published hash: trust on first use. Record it, and hold later downloads to the record.
            string actual = await HashAsync(partial, ct).ConfigureAwait(false);
            string record = RecordPathFor(entry);
            if (File.Exists(record))
            {
                string expected = (await File.ReadAllTextAsync(record, ct).ConfigureAwait(false)).Split(' ', 2)[0].Trim();
                if (!string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
                {
                    TryDelete(partial);
                    throw new DownloadException(
                        $"The file downloaded from {entry.Url} has SHA-256 {actual[..16]}…, not {expected[..Math.Min(16, expected.Length)]}… recorded at its first download ({record}), so it was deleted; delete the record if the file changed on purpose.");
                }
            }
            else
            {
                NeuralStyle.IO.AtomicFile.WriteAllText(record, $"{actual}  {entry.FileName}\n");
            }
            RecordedSha256 = actual;
        }
        File.Move(partial, final, overwrite: true);
        return final;
    }

    private enum Outcome { Done, Restart }

    private async Task<Outcome> DownloadAsync(ModelEntry entry, string partial, bool allowResume, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        long existing = allowResume && File.Exists(partial) ? new FileInfo(partial).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, entry.Url);
        if (existing > 0) request.Headers.Range = new RangeHeaderValue(existing, null);

        using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stall.CancelAfter(_stallTimeout);
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stall.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && (e is OperationCanceledException || stall.IsCancellationRequested))
        {
            throw Fail(entry, $"the server sent no answer within {_stallTimeout.TotalSeconds:0.#} s", e);
        }
        catch (HttpRequestException e)
        {
            throw Fail(entry, $"the server cannot be reached ({e.Message})", e);
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && existing > 0)
            {
                // The partial file may already hold everything ("bytes */N" with N == what we have).
                if (response.Content.Headers.ContentRange?.Length == existing) return Outcome.Done;
                return Outcome.Restart;
            }
            if (!response.IsSuccessStatusCode)
                throw Fail(entry, $"the server answered {(int)response.StatusCode} {response.ReasonPhrase}");

            bool append = false;
            if (existing > 0 && response.StatusCode == HttpStatusCode.PartialContent)
            {
                if (response.Content.Headers.ContentRange?.From != existing) return Outcome.Restart;
                append = true;
            }
            else if (response.StatusCode == HttpStatusCode.PartialContent)
            {
                return Outcome.Restart; // a range we did not ask for
            }

            long start = append ? existing : 0;
            long? length = response.Content.Headers.ContentLength;
            long? total = length is long l ? start + l : entry.ApproxBytes;

            var clock = Stopwatch.StartNew();
            long done = start, session = 0;
            var lastReport = TimeSpan.MinValue;
            void Report(bool force)
            {
                if (progress is null) return;
                var now = clock.Elapsed;
                if (!force && now - lastReport < ReportInterval) return;
                lastReport = now;
                double rate = now.TotalSeconds > 0 ? session / now.TotalSeconds : 0;
                TimeSpan? eta = total is long t && rate > 0 && t >= done ? TimeSpan.FromSeconds((t - done) / rate) : null;
                progress.Report(new DownloadProgress(done, total, rate, eta));
            }

            FileStream file;
            try
            {
                file = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Fail(entry, $"{partial} cannot be written ({e.Message}; is another download of it running?)", e);
            }

            await using (file)
            {
                try
                {
                    await using var body = await response.Content.ReadAsStreamAsync(stall.Token).ConfigureAwait(false);
                    var buffer = new byte[1 << 16];
                    Report(force: true);
                    while (true)
                    {
                        stall.CancelAfter(_stallTimeout);
                        int n = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                        if (n == 0) break;
                        try
                        {
                            await file.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                        }
                        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                        {
                            throw Fail(entry, $"writing {partial} failed ({e.Message})", e);
                        }
                        done += n;
                        session += n;
                        Report(force: false);
                    }
                    await file.FlushAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not DownloadException && !ct.IsCancellationRequested && (e is OperationCanceledException || stall.IsCancellationRequested))
                {
                    // A stalled read can surface as an IOException from the aborted connection: the timer tells.
                    throw Fail(entry, $"no data arrived for {_stallTimeout.TotalSeconds:0.#} s after {done} bytes (run again to resume)", e);
                }
                catch (Exception e) when (e is IOException or HttpRequestException && !ct.IsCancellationRequested)
                {
                    throw Fail(entry, $"the connection broke after {done} bytes (run again to resume)", e);
                }
            }
            Report(force: true);

            if (length is long expected && session != expected)
                throw Fail(entry, $"the server sent {session} of {expected} bytes (run again to resume)");
            return Outcome.Done;
        }
    }

    private static async Task<string> HashAsync(string path, Func<Stream, CancellationToken, ValueTask<byte[]>> hash, CancellationToken ct)
    {
        await using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        return Convert.ToHexStringLower(await hash(f, ct).ConfigureAwait(false));
    }

    private static Task<string> HashAsync(string path, CancellationToken ct) => HashAsync(path, SHA256.HashDataAsync, ct);

    /// <summary>How a file fetched by hand is given instead: feature networks through --weights, fast-style networks as the model itself.</summary>
    private static string ByHand(ModelEntry entry) => entry.Architecture.StartsWith("transformer", StringComparison.Ordinal)
        ? "pass the network file (a .pth from the archive, or the .onnx) as {Model} PATH"
        : "pass it with {Weights} PATH";

    private DownloadException Fail(ModelEntry entry, string why, Exception? inner = null)
    {
        string message = $"Could not download the '{entry.Name}' weights from {entry.Url}: {why}; download the file by hand and {ByHand(entry)}, or put it at {_cache.PathFor(entry)}.";
        return inner is null ? new DownloadException(message) : new DownloadException(message, inner);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
