using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using NeuralStyle.Imaging;

namespace NeuralStyle.Studio.Tests;

/// <summary>Tests that measure the process (memory) run after the others, never beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Alone
{
    public const string Name = "alone";
}

/// <summary>
/// 50 concurrent clients on 127.0.0.1 submitting, polling and downloading for a bounded time: no request fails
/// except the deliberate 400s, no job is lost, memory stays bounded.
/// </summary>
[Collection(Alone.Name)]
public sealed class LoadTests
{
    private const int Clients = 50;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(20);

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Fifty_clients_submit_poll_and_download_without_a_failed_request_or_a_lost_job()
    {
        await using StudioHost s = await StudioHost.OnSocket();
        byte[] content = StudioHost.Png(24, 24), style = StudioHost.Png(24, 24, 1), junk = "GIF89a-not-really"u8.ToArray();
        string options = JsonSerializer.Serialize(new { model = "random", size = 16, iterations = 2 });
        var submitted = new ConcurrentBag<string>();
        var failures = new ConcurrentQueue<string>();
        int requests = 0, deliberate400 = 0, downloads = 0;
        // One job first: what the first run allocates for good (networks' packed weights, pools) is not growth.
        string warm = await s.Submit("stylize", new { model = "random", size = 16, iterations = 2 }, content, style);
        await s.WaitFinished(warm);
        submitted.Add(warm);
        GC.Collect();
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        // The working set is the process's, so whatever earlier tests left behind counts; the growth is what this measures.
        long workingSetBefore = Process.GetCurrentProcess().WorkingSet64;
        long peakWorkingSet = workingSetBefore;
        var clock = Stopwatch.StartNew();

        async Task<HttpResponseMessage?> Send(Func<Task<HttpResponseMessage>> request, string what)
        {
            Interlocked.Increment(ref requests);
            try
            {
                return await request();
            }
            catch (Exception e)
            {
                failures.Enqueue($"{what}: {e.GetType().Name} {e.Message}");
                return null;
            }
        }

        async Task Client(int k)
        {
            var rng = new Random(k);
            while (clock.Elapsed < Duration)
            {
                if (rng.Next(8) == 0)
                {
                    // A deliberate bad upload: must be a 400 with a sentence, nothing else.
                    using HttpResponseMessage? bad = await Send(() => s.Client.PostAsync("/api/jobs",
                        StudioHost.Form("stylize", options, [("content", "x.png", junk), ("style", "y.png", style)])), "bad submit");
                    if (bad is null) continue;
                    if (bad.StatusCode == HttpStatusCode.BadRequest && (await bad.Content.ReadAsStringAsync()).Contains("\"error\"")) Interlocked.Increment(ref deliberate400);
                    else failures.Enqueue($"bad upload answered {(int)bad.StatusCode}");
                    continue;
                }
                using HttpResponseMessage? r = await Send(() => s.Client.PostAsync("/api/jobs",
                    StudioHost.Form("stylize", options, [("content", "c.png", content), ("style", "s.png", style)])), "submit");
                if (r is null) continue;
                if (r.StatusCode != HttpStatusCode.Created)
                {
                    failures.Enqueue($"submit answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
                    continue;
                }
                string id = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
                submitted.Add(id);
                while (clock.Elapsed < Duration)
                {
                    await Task.Delay(150 + rng.Next(100));
                    using HttpResponseMessage? poll = await Send(() => s.Client.GetAsync(rng.Next(10) == 0 ? "/api/jobs?limit=50" : $"/api/jobs/{id}"), "poll");
                    if (poll is null) continue;
                    if (poll.StatusCode != HttpStatusCode.OK)
                    {
                        failures.Enqueue($"poll answered {(int)poll.StatusCode}");
                        continue;
                    }
                    string body = await poll.Content.ReadAsStringAsync();
                    if (body.StartsWith('[')) continue;
                    string status = JsonDocument.Parse(body).RootElement.GetProperty("status").GetString()!;
                    if (status is "queued" or "running") continue;
                    if (status != "done")
                    {
                        failures.Enqueue($"job {id} ended {status}: {body}");
                        break;
                    }
                    using HttpResponseMessage? result = await Send(() => s.Client.GetAsync($"/api/jobs/{id}/result"), "download");
                    if (result?.StatusCode == HttpStatusCode.OK)
                    {
                        ImageIO.Decode(await result.Content.ReadAsByteArrayAsync());
                        Interlocked.Increment(ref downloads);
                    }
                    else failures.Enqueue($"download answered {(int?)result?.StatusCode}");
                    break;
                }
            }
        }

        using var sampler = new Timer(_ =>
        {
            long ws = Process.GetCurrentProcess().WorkingSet64;
            long seen;
            do seen = Interlocked.Read(ref peakWorkingSet);
            while (ws > seen && Interlocked.CompareExchange(ref peakWorkingSet, ws, seen) != seen);
        }, null, 0, 250);
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(k => Task.Run(() => Client(k))));

        // No lost job: every accepted id is listed, with a status, and the finished ones have their result.
        var listed = JsonDocument.Parse(await s.Client.GetStringAsync("/api/jobs?limit=100000")).RootElement.EnumerateArray()
            .ToDictionary(j => j.GetProperty("id").GetString()!, j => j.GetProperty("status").GetString()!);
        Assert.All(submitted, id => Assert.True(listed.ContainsKey(id), $"job {id} was lost"));
        Assert.Equal(submitted.Count, listed.Count);
        Assert.All(listed.Values, st => Assert.Contains(st, new[] { "queued", "running", "done" }));
        // The waiting ones are cancelled so the test ends now.
        foreach ((string id, string st) in listed.Where(p => p.Value is "queued" or "running"))
            Assert.True((await s.Client.DeleteAsync($"/api/jobs/{id}")).StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict);

        Assert.True(failures.IsEmpty, $"{failures.Count} failed requests, e.g. {string.Join(" | ", failures.Take(5))}");
        Assert.True(deliberate400 > 0);
        Assert.True(downloads > 0);
        GC.Collect();
        long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        // Bounded: the managed heap does not keep what the requests brought (uploads, previews, responses).
        Assert.True(heapAfter - heapBefore < 256L << 20, $"the managed heap grew by {(heapAfter - heapBefore) >> 20} MiB");
        // Jobs run one at a time over one shared backbone, so the working set grows by about one job's scratch.
        Assert.True(peakWorkingSet - workingSetBefore < 1L << 30,
            $"the working set grew by {(peakWorkingSet - workingSetBefore) >> 20} MiB (from {workingSetBefore >> 20} MiB)");
        Console.WriteLine($"load: {requests} requests in {clock.Elapsed.TotalSeconds:F0} s by {Clients} clients, {submitted.Count} jobs, {downloads} results downloaded, " +
                          $"{deliberate400} deliberate 400s, heap +{(heapAfter - heapBefore) >> 20} MiB, working set {workingSetBefore >> 20} MiB, peak {peakWorkingSet >> 20} MiB");
    }
}
