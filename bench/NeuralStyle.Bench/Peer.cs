using System.Diagnostics;
using System.Text.Json;

namespace NeuralStyle.Bench;

/// <summary>
/// The PyTorch peer: a long-lived <c>/usr/bin/python3 bench/peers/peer.py</c> that reads JSON requests on stdin and
/// answers JSON lines, so torch is imported once and its runs can alternate with ours.
/// </summary>
internal sealed class Peer : IDisposable
{
    public const string Python = "/usr/bin/python3";

    private readonly Process _process;

    private Peer(Process process, string version)
    {
        _process = process;
        Version = version;
    }

    /// <summary>"torch 1.13.1, torchvision 0.14.1, 2 threads".</summary>
    public string Version { get; }

    /// <summary>Starts the peer, or returns null with the reason it cannot run.</summary>
    public static Peer? TryStart(string script, out string? whyNot)
    {
        whyNot = null;
        if (!File.Exists(Python))
        {
            whyNot = $"{Python} was not found (install Debian's python3-torch and python3-torchvision)";
            return null;
        }

        if (!File.Exists(script))
        {
            whyNot = $"the peer script {script} was not found";
            return null;
        }

        var psi = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add(script);
        psi.Environment["OMP_NUM_THREADS"] = "2";
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e)
        {
            whyNot = $"{Python} could not be started ({e.Message})";
            return null;
        }

        var tail = new Queue<string>();
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (tail)
            {
                tail.Enqueue(e.Data);
                if (tail.Count > 5)
                {
                    tail.Dequeue();
                }
            }
        };
        p.BeginErrorReadLine();
        try
        {
            JsonElement hello = Ask(p, """{"op":"hello"}""", TimeSpan.FromMinutes(2));
            if (!hello.GetProperty("ok").GetBoolean())
            {
                whyNot = hello.GetProperty("error").GetString();
                Stop(p);
                return null;
            }

            string version = $"torch {hello.GetProperty("torch").GetString()}, torchvision {hello.GetProperty("torchvision").GetString()}, " +
                             $"{hello.GetProperty("threads").GetInt32()} threads";
            var peer = new Peer(p, version);
            return peer;
        }
        catch (Exception e)
        {
            string err;
            lock (tail)
            {
                err = string.Join(" | ", tail);
            }

            whyNot = $"the peer did not answer ({e.Message}){(err.Length > 0 ? ": " + err : "")}";
            Stop(p);
            return null;
        }
    }

    /// <summary>Sets a case up in the peer (and resets its peak-memory mark).</summary>
    public void Begin(BenchCase c) => Check(Ask(_process, $$"""{"op":"begin","case":{{c.PeerJson}}}""", TimeSpan.FromMinutes(10)));

    /// <summary>One timed run of the case in the peer.</summary>
    public RunResult Run(BenchCase c)
    {
        JsonElement e = Check(Ask(_process, $$"""{"op":"run","case":{{c.PeerJson}}}""", TimeSpan.FromMinutes(30)));
        return Parse(e);
    }

    /// <summary>One run in a fresh peer process (whole-job peak memory); null with the reason when it fails.</summary>
    public static RunResult RunFresh(string script, BenchCase c)
    {
        using Peer? p = TryStart(script, out string? why);
        if (p is null)
        {
            throw new InvalidOperationException(why);
        }

        p.Begin(c);
        return p.Run(c);
    }

    private static RunResult Parse(JsonElement e)
    {
        double? perIt = e.TryGetProperty("per_iteration", out JsonElement pi) ? pi.GetDouble() : null;
        int? evals = e.TryGetProperty("evaluations", out JsonElement ev) ? ev.GetInt32() : null;
        long? peak = e.TryGetProperty("peak_kb", out JsonElement pk) ? pk.GetInt64() : null;
        return new RunResult(e.GetProperty("seconds").GetDouble(), peak, perIt, evals);
    }

    private static JsonElement Check(JsonElement e)
    {
        if (!e.GetProperty("ok").GetBoolean())
        {
            throw new InvalidOperationException(e.TryGetProperty("error", out JsonElement m) ? m.GetString() : "the peer failed");
        }

        return e;
    }

    private static JsonElement Ask(Process p, string request, TimeSpan timeout)
    {
        p.StandardInput.WriteLine(request);
        p.StandardInput.Flush();
        Task<string?> read = p.StandardOutput.ReadLineAsync();
        if (!read.Wait(timeout))
        {
            throw new TimeoutException($"no answer within {timeout.TotalSeconds:F0} s");
        }

        string line = read.Result ?? throw new InvalidOperationException($"the peer exited (code {(p.HasExited ? p.ExitCode : -1)})");
        using JsonDocument doc = JsonDocument.Parse(line);
        return doc.RootElement.Clone();
    }

    private static void Stop(Process p)
    {
        try
        {
            if (!p.HasExited)
            {
                p.StandardInput.WriteLine("""{"op":"quit"}""");
                p.StandardInput.Flush();
                if (!p.WaitForExit(5000))
                {
                    p.Kill();
                }
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
        }

        p.Dispose();
    }

    public void Dispose() => Stop(_process);

    /// <summary>bench/peers/peer.py found from the working directory or the program's folder upwards.</summary>
    public static string FindScript()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? d = new(start); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, "bench", "peers", "peer.py");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return Path.Combine(Directory.GetCurrentDirectory(), "bench", "peers", "peer.py");
    }
}
