using System.Diagnostics;
using NeuralStyle.TestSupport;

namespace NeuralStyle.Tests.Cli;

/// <summary>The real executable in a child process: Ctrl-C (SIGINT) and the offline fallback to the embedded network.</summary>
public sealed class ProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-proc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Process Start(IEnumerable<string> args, Dictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "NeuralStyle.Cli.dll"));
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["CI"] = "1"; // no interactive progress bar
        psi.Environment["NEURALSTYLE_HOME"] = Path.Combine(_dir, "cache");
        foreach ((string k, string v) in env ?? []) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    /// <summary>
    /// A test of Ctrl-C, skipped (saying why) where this process was started with SIGINT ignored, as a non-interactive
    /// shell starts background jobs (<c>cmd &amp;</c>, nohup): every child inherits that and no handler can undo it.
    /// </summary>
    private sealed class SigintFactAttribute : FactAttribute
    {
        public SigintFactAttribute()
        {
            if (SigintIgnored()) Skip = "SIGINT is ignored in this environment (a background job of a non-interactive shell), so Ctrl-C cannot reach the child.";
        }

        private static bool SigintIgnored()
        {
            try
            {
                string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
                return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (2 - 1))) != 0; // SIGINT = 2
            }
            catch (IOException)
            {
                return false; // not Linux: assume signals are delivered
            }
        }
    }

    [SigintFact]
    public async Task Stylize_Sigint_WritesCurrentImageAndExits130()
    {
        string output = Path.Combine(_dir, "interrupted.png");
        using Process p = Start(["stylize", "--content", Fixtures.Gatys("content.png"), "--style", Fixtures.Gatys("style_a.png"),
            "--weights", Fixtures.Gatys("vgg19_narrow.safetensors"), "--input-flavor", "caffe", "--size", "45",
            "--iterations", "10000000", "--print-every", "1", "-o", output]);
        // Wait for the first progress row, then interrupt.
        var firstRow = new TaskCompletionSource();
        var err = new System.Text.StringBuilder();
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (err) err.AppendLine(e.Data);
            if (e.Data.Contains("loss", StringComparison.Ordinal)) firstRow.TrySetResult();
        };
        p.BeginErrorReadLine();
        Task done = await Task.WhenAny(firstRow.Task, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(done == firstRow.Task, "no progress within 60 s: " + err);
        await Task.Delay(300);
        using (Process kill = Process.Start("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        // A child left running would eat a core for hours: on failure it is killed, with its last lines in the message.
        if (!p.WaitForExit(60_000))
        {
            string tail;
            lock (err) tail = string.Join(" | ", err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(3));
            p.Kill();
            Assert.Fail($"the process did not stop within 60 s of SIGINT; its last lines: {tail}");
        }
        p.WaitForExit(); // lets the asynchronous stderr reader deliver the last lines
        Assert.Equal(130, p.ExitCode);
        Assert.True(File.Exists(output), "no image was written: " + err);
        lock (err) Assert.Contains("Interrupted", err.ToString());
    }

    [Fact]
    public void Stylize_NoWeightsOffline_FallsBackToTheEmbeddedNetworkInOneLine()
    {
        string output = Path.Combine(_dir, "fallback.png");
        using Process p = Start(["stylize", "--content", Fixtures.Gatys("content.png"), "--style", Fixtures.Gatys("style_a.png"),
            "--iterations", "2", "--size", "40", "-o", output], new() { ["NEURALSTYLE_OFFLINE"] = "1" });
        string err = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(120_000));
        Assert.True(p.ExitCode == 0, err);
        Assert.True(File.Exists(output));
        string[] fallback = err.Split('\n').Where(l => l.Contains("embedded random VGG-19 instead", StringComparison.Ordinal)).ToArray();
        Assert.Single(fallback);
        Assert.Contains("random-features:", err);
    }

    [Fact]
    public void Stylize_UnknownWeightsNameGivenExplicitly_FailsWithoutFallback()
    {
        using Process p = Start(["stylize", "--content", Fixtures.Gatys("content.png"), "--style", Fixtures.Gatys("style_a.png"),
            "--weights", "vgg19", "-o", Path.Combine(_dir, "x.png")], new() { ["NEURALSTYLE_OFFLINE"] = "1" });
        string err = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(120_000));
        Assert.Equal(1, p.ExitCode);
        Assert.Contains("--weights PATH", err);
        Assert.DoesNotContain("   at ", err);
    }
}
