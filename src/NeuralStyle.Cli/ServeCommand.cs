using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using NeuralStyle.Studio;

namespace NeuralStyle.Cli;

/// <summary><c>neuralstyle serve</c>: the web studio (every method in the browser, a job queue, a JSON API).</summary>
public static class ServeCommand
{
    public static readonly OptionSpec[] OwnOptions =
    [
        new("--port", Arity.One, "TCP port (default 8080)", "N"),
        new("--host", Arity.One, "address to bind (default 127.0.0.1; any other needs --token)", "ADDR"),
        new("--data", Arity.One, "folder for the job database and images (default ~/.local/share/neuralstyle/studio)", "DIR") { Binds = ["DataDirectory"] },
        new("--token", Arity.One, "every request must carry it (Authorization: Bearer T, or open /?token=T)", "T"),
        new("--jobs", Arity.One, "jobs that run at once (default 1: each uses every core)", "N") { Binds = ["ConcurrentJobs"] },
    ];

    public static readonly (string Heading, OptionSpec[] Options)[] Sections =
    [
        ("Serve", OwnOptions),
        ("Run", [CommonOptions.Threads, CommonOptions.Help]),
    ];

    public static readonly OptionSpec[] Options = [.. Sections.SelectMany(s => s.Options)];

    public static int Run(string[] args, CliContext ctx)
    {
        ParsedArgs a = ParsedArgs.Parse("serve", args, Options);
        if (a.Flag("--help"))
        {
            ctx.Out.Write(Help());
            return CliApp.ExitOk;
        }
        if (a.Positionals.Count > 0) throw new UsageException($"Unexpected argument '{a.Positionals[0]}'; serve takes only options.");
        string? token = a.String("--token");
        var options = new StudioOptions
        {
            Host = a.String("--host") ?? "127.0.0.1",
            Port = a.Int("--port") ?? 8080,
            DataDirectory = a.String("--data") ?? DefaultDataDirectory(),
            Token = token,
            ConcurrentJobs = a.Int("--jobs") ?? 1,
        };
        // The studio checks its options (one home for each check); its sentence names them as {Property}: here, flags.
        try { options.Validate(); }
        catch (ArgumentException e) { throw new UsageException(CommandSupport.Render(e.Message)); }
        CommonOptions.ApplyThreads(a);

        WebApplication app = StudioApp.Build(options, StudioMethods.All(entry => WeightsCommand.Download(entry, ctx)), ctx.Info);
        app.Start();
        foreach (string address in StudioApp.Addresses(app))
            ctx.Info($"NeuralStyle studio at {address.Replace("[::]", "localhost").Replace("0.0.0.0", "localhost")}/{(token is null ? "" : "?token=…")} (data in {Path.GetFullPath(options.DataDirectory)}); Ctrl-C stops it.");
        // Ctrl-C stops the host: the running job is stopped, its state written, and it runs again at the next start.
        app.WaitForShutdown();
        ctx.Info("Studio stopped.");
        return CliApp.ExitOk;
    }

    /// <summary>$XDG_DATA_HOME/neuralstyle/studio, else ~/.local/share/neuralstyle/studio.</summary>
    public static string DefaultDataDirectory()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(root, "neuralstyle", "studio");
    }

    public static string Help() => CommandSupport.Help("Usage: neuralstyle serve [--port 8080] [--host 127.0.0.1] [--data DIR] [--token T]",
        "The web studio: every method in the browser with a live preview, a job queue kept in DIR, and a JSON API\n" +
        "(documented at /openapi.json). Binds to 127.0.0.1 unless told otherwise; another address needs --token.", Sections);
}
