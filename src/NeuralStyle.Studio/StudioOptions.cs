using System.Net;

namespace NeuralStyle.Studio;

/// <summary>How the studio server runs: where it listens, where it keeps its files, and its limits.</summary>
public sealed record StudioOptions
{
    /// <summary>The address to bind; anything but loopback needs a <see cref="Token"/>.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Jobs (SQLite database and files) live here.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>When set, every request must carry it (<c>Authorization: Bearer T</c> or <c>?token=T</c>).</summary>
    public string? Token { get; init; }

    /// <summary>Jobs run at once; each uses every core, so the default is one.</summary>
    public int ConcurrentJobs { get; init; } = 1;

    /// <summary>Largest accepted image file.</summary>
    public long MaxFileBytes { get; init; } = 25L << 20;

    /// <summary>Largest accepted request (all files of one job).</summary>
    public long MaxRequestBytes { get; init; } = 100L << 20;

    /// <summary>Largest accepted image in pixels (width × height), checked from the header before decoding.</summary>
    public long MaxPixels { get; init; } = 16_000_000;

    /// <summary>Most style images one job may carry.</summary>
    public int MaxStyles { get; init; } = 8;

    /// <summary>Most jobs waiting at once; more are refused (429) until some finish.</summary>
    public int MaxQueuedJobs { get; init; } = 10_000;

    /// <summary>
    /// Checks the options; throws ArgumentException with one sentence that names the option at fault as
    /// <c>{Property}</c> (the convention of <see cref="NeuralStyle.Core.OptionException"/>), which each front end
    /// renders in its own words (the command line as its flag).
    /// </summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory)) throw Invalid($"{{{nameof(DataDirectory)}}} must name the studio's data folder.");
        if (!Host.Equals("localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(Host.Trim('[', ']'), out _))
            throw Invalid($"{{{nameof(Host)}}} must be an IP address such as 127.0.0.1 or 0.0.0.0 (or localhost), got '{Host}'.");
        if (Port is < 0 or > 65535) throw Invalid($"{{{nameof(Port)}}} must be between 0 and 65535, got {Port}.");
        if (ConcurrentJobs is < 1 or > 64) throw Invalid($"{{{nameof(ConcurrentJobs)}}} must be between 1 and 64, got {ConcurrentJobs}.");
        if (Token is { Length: 0 }) throw Invalid($"{{{nameof(Token)}}} must not be empty.");
        if (Token is null && !IsLoopback(Host))
            throw Invalid($"Binding to {Host} opens the studio to the network, so it needs a {{{nameof(Token)}}} that every request must carry.");
    }

    // No parameter name: ArgumentException would append it to the sentence; the sentence names the option itself.
    private static ArgumentException Invalid(string sentence) => new(sentence);

    /// <summary>True for 127.0.0.0/8, ::1 and localhost.</summary>
    public static bool IsLoopback(string host)
        => host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
           || (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? ip) && IPAddress.IsLoopback(ip));
}
