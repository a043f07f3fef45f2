using System.Globalization;
using NeuralStyle.Weights;

namespace NeuralStyle.Cli;

/// <summary><c>neuralstyle weights list|fetch NAME</c>.</summary>
public static class WeightsCommand
{
    private static readonly OptionSpec[] Options = [CommonOptions.Help];

    public static int Run(string[] args, CliContext ctx)
    {
        ParsedArgs a = ParsedArgs.Parse("weights", args, Options);
        if (a.Flag("--help") || a.Positionals.Count == 0)
        {
            ctx.Out.WriteLine("Usage: neuralstyle weights list            the known weight files, their flavour and whether they are cached");
            ctx.Out.WriteLine("       neuralstyle weights fetch NAME      download NAME into the cache (resumes, checks SHA-256)");
            ctx.Out.WriteLine($"Cache folder: {new WeightCache().Root} (set NEURALSTYLE_HOME to move it)");
            return a.Flag("--help") ? 0 : 2;
        }
        var cache = new WeightCache();
        switch (a.Positionals[0])
        {
            case "list":
                ctx.Out.WriteLine($"{"name",-20} {"arch",-16} {"flavour",-12} {"size",9}  {"cached",-6}  url");
                foreach (ModelEntry e in ModelRegistry.All)
                {
                    string size = e.ApproxBytes is { } b ? string.Create(CultureInfo.InvariantCulture, $"{b / 1e6:F0} MB") : "?";
                    ctx.Out.WriteLine($"{e.Name,-20} {e.Architecture,-16} {e.Flavor,-12} {size,9}  {(cache.IsCached(e) ? "yes" : "no"),-6}  {e.Url}");
                }
                ctx.Out.WriteLine($"cache: {cache.Root}");
                return 0;
            case "fetch":
                if (a.Positionals.Count != 2) throw new UsageException("Usage: neuralstyle weights fetch NAME (see 'neuralstyle weights list').");
                ModelEntry entry = ModelRegistry.Find(a.Positionals[1])
                    ?? throw new UsageException($"Unknown weights '{a.Positionals[1]}'; see 'neuralstyle weights list'.");
                if (cache.IsCached(entry))
                {
                    ctx.Info($"{entry.Name} is already cached at {cache.PathFor(entry)}.");
                    return 0;
                }
                string path = Download(entry, ctx);
                ctx.Info($"Saved {entry.Name} to {path}.");
                return 0;
            default:
                throw new UsageException($"Unknown weights command '{a.Positionals[0]}'; use list or fetch.");
        }
    }

    /// <summary>Downloads into the cache with a progress line; throws DownloadException with one sentence on failure.</summary>
    public static string Download(ModelEntry entry, CliContext ctx)
    {
        if (Environment.GetEnvironmentVariable("NEURALSTYLE_OFFLINE") == "1")
            throw new DownloadException($"offline mode (NEURALSTYLE_OFFLINE=1); place the file by hand and pass --weights PATH ({entry.Url})");
        ctx.Info($"Downloading {entry.Name} from {entry.Url}");
        var cache = new WeightCache();
        using var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(15) }) { Timeout = Timeout.InfiniteTimeSpan };
        var downloader = new WeightDownloader(cache, http, TimeSpan.FromSeconds(30));
        DateTime last = DateTime.MinValue;
        var progress = new SyncProgress<DownloadProgress>(p =>
        {
            if ((DateTime.UtcNow - last).TotalMilliseconds < 200 && p.BytesDone != p.BytesTotal) return;
            last = DateTime.UtcNow;
            string total = p.BytesTotal is { } t ? string.Create(CultureInfo.InvariantCulture, $"/{t / 1e6:F1}") : "";
            string eta = p.Remaining is { } r ? $"{(int)r.TotalMinutes:00}:{r.Seconds:00} left" : "";
            string line = string.Create(CultureInfo.InvariantCulture, $"  {p.BytesDone / 1e6:F1}{total} MB  {p.BytesPerSecond / 1e6:F1} MB/s  {eta}");
            if (ctx.Interactive) { ctx.Err.Write("\r" + line.PadRight(60)); ctx.Err.Flush(); }
        });
        try
        {
            return downloader.FetchAsync(entry, progress, CancellationToken.None).GetAwaiter().GetResult();
        }
        finally
        {
            if (ctx.Interactive) ctx.Err.WriteLine();
        }
    }

    /// <summary>An IProgress that reports on the calling thread (no SynchronizationContext hop).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
