using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using NeuralStyle.Cli;
using NeuralStyle.Imaging;
using NeuralStyle.Imaging.Png;

namespace NeuralStyle.Studio.Tests;

/// <summary>
/// A studio for one test: its own data folder (deleted at the end unless kept for a restart), either in-process
/// (TestServer, no socket) or on a real 127.0.0.1 socket with a free port (load and browser tests).
/// </summary>
public sealed class StudioHost : IAsyncDisposable
{
    public required WebApplication App { get; init; }
    public required HttpClient Client { get; init; }
    public required string DataDirectory { get; init; }
    public string? BaseAddress { get; init; }
    public bool KeepData { get; set; }
    public List<string> Log { get; } = [];

    public static string NewDataDirectory() => Directory.CreateTempSubdirectory("neuralstyle-studio-test-").FullName;

    /// <summary>Tests never download: every job names the embedded random networks.</summary>
    public static IReadOnlyList<IStudioMethod> Methods()
        => StudioMethods.All(_ => throw new InvalidOperationException("The tests download nothing."));

    public static async Task<StudioHost> InProcess(string? dataDirectory = null, Func<StudioOptions, StudioOptions>? tweak = null)
    {
        string dir = dataDirectory ?? NewDataDirectory();
        var log = new List<string>();
        StudioOptions o = new StudioOptions { DataDirectory = dir, Port = 0 };
        if (tweak is not null) o = tweak(o);
        WebApplication app = StudioApp.Build(o, Methods(), line => { lock (log) log.Add(line); }, b => b.WebHost.UseTestServer());
        await app.StartAsync();
        var host = new StudioHost { App = app, Client = app.GetTestClient(), DataDirectory = dir };
        host.Log.AddRange(log);
        return host;
    }

    public static async Task<StudioHost> OnSocket(string? dataDirectory = null, Func<StudioOptions, StudioOptions>? tweak = null)
    {
        string dir = dataDirectory ?? NewDataDirectory();
        StudioOptions o = new StudioOptions { DataDirectory = dir, Port = 0 };
        if (tweak is not null) o = tweak(o);
        WebApplication app = StudioApp.Build(o, Methods());
        await app.StartAsync();
        string address = StudioApp.Addresses(app).Single();
        var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
        return new StudioHost { App = app, Client = client, DataDirectory = dir, BaseAddress = address };
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (!KeepData)
        {
            try { Directory.Delete(DataDirectory, recursive: true); }
            catch (IOException) { }
        }
    }

    // ---- requests ---------------------------------------------------------------------------------------------

    public static MultipartFormDataContent Form(string method, object options, byte[]? content, params byte[][] styles)
        => Form(method, JsonSerializer.Serialize(options), content is null ? [] : [("content", "photo.png", content)],
            styles.Select((s, i) => ("style", $"style{i}.png", s)).ToArray());

    public static MultipartFormDataContent Form(string method, string optionsJson, (string Field, string FileName, byte[] Data)[] files1, (string Field, string FileName, byte[] Data)[]? files2 = null)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(method), "method" },
            { new StringContent(optionsJson), "options" },
        };
        foreach ((string field, string name, byte[] data) in files1.Concat(files2 ?? []))
        {
            var part = new ByteArrayContent(data);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, field, name);
        }
        return form;
    }

    public async Task<string> Submit(string method, object options, byte[]? content, params byte[][] styles)
    {
        using HttpResponseMessage r = await Client.PostAsync("/api/jobs", Form(method, options, content, styles));
        string body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == System.Net.HttpStatusCode.Created, $"submit answered {(int)r.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> Job(string id)
    {
        using HttpResponseMessage r = await Client.GetAsync($"/api/jobs/{id}");
        r.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>Polls until the job's status satisfies <paramref name="until"/>; fails after <paramref name="seconds"/>.</summary>
    public async Task<JsonElement> WaitFor(string id, Func<JsonElement, bool> until, double seconds = 60)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            JsonElement job = await Job(id);
            if (until(job)) return job;
            if (clock.Elapsed.TotalSeconds > seconds)
                throw new TimeoutException($"Job {id} is still {job.GetProperty("status")} at iteration {job.GetProperty("iteration")} after {seconds} s: {job}");
            await Task.Delay(50);
        }
    }

    public Task<JsonElement> WaitFinished(string id, double seconds = 60)
        => WaitFor(id, j => j.GetProperty("status").GetString() is "done" or "failed" or "cancelled", seconds);

    // ---- images -----------------------------------------------------------------------------------------------

    /// <summary>A small deterministic PNG: a colour gradient with stripes (something for the losses to see).</summary>
    public static byte[] Png(int width, int height, int seed = 0)
    {
        var img = new Image(width, height, 3);
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            img[x, y, 0] = (float)x / width;
            img[x, y, 1] = (float)y / height;
            img[x, y, 2] = ((x + y * (seed + 1)) / 4 % 2 == 0) ? 0.9f : 0.1f;
        }
        using var m = new MemoryStream();
        PngEncoder.Encode(img, m, 8, CompressionLevel.Fastest);
        return m.ToArray();
    }

    /// <summary>Every temporary file left under the data folder (a half-written file would be one).</summary>
    public static string[] TempFiles(string dir)
        => Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Where(f => f.EndsWith(".tmp", StringComparison.Ordinal)).ToArray();
}
