using System.Net;
using System.Text;
using System.Text.Json;
using NeuralStyle.Cli;
using NeuralStyle.Imaging;

namespace NeuralStyle.Studio.Tests;

/// <summary>The JSON API on the in-process test server, with the embedded random networks at tiny sizes.</summary>
public sealed class StudioApiTests
{
    private static readonly object TinyStylize = new { model = "random", size = 32, iterations = 6 };
    private static readonly object LongStylize = new { model = "random", size = 32, iterations = 1_000_000 };

    private static string Status(JsonElement job) => job.GetProperty("status").GetString()!;

    [Fact]
    public async Task A_job_is_submitted_polled_to_done_and_its_result_downloaded()
    {
        await using StudioHost s = await StudioHost.InProcess();
        string id = await s.Submit("stylize", TinyStylize, StudioHost.Png(48, 40), StudioHost.Png(40, 40, 1));
        Assert.True(StudioJob.IsValidId(id));

        JsonElement job = await s.WaitFinished(id);
        Assert.Equal("done", Status(job));
        Assert.Equal(6, job.GetProperty("iteration").GetInt32());
        Assert.Equal(6, job.GetProperty("iterations").GetInt32());
        Assert.True(job.GetProperty("loss").GetDouble() > 0);
        Assert.True(job.GetProperty("hasResult").GetBoolean());
        Assert.True(job.GetProperty("previewVersion").GetInt32() >= 1, "the page had previews while the job ran");
        Assert.Equal(JsonValueKind.Null, job.GetProperty("error").ValueKind);

        using HttpResponseMessage result = await s.Client.GetAsync($"/api/jobs/{id}/result");
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        Assert.Equal("image/png", result.Content.Headers.ContentType?.MediaType);
        Image img = ImageIO.Decode(await result.Content.ReadAsByteArrayAsync());
        Assert.Equal(32, Math.Max(img.Width, img.Height)); // size = long edge
        Assert.Equal(27, img.Height); // 48×40 scaled to a long edge of 32

        using HttpResponseMessage preview = await s.Client.GetAsync($"/api/jobs/{id}/preview");
        Assert.Equal(HttpStatusCode.OK, preview.StatusCode);
        ImageIO.Decode(await preview.Content.ReadAsByteArrayAsync());

        JsonElement list = JsonDocument.Parse(await s.Client.GetStringAsync("/api/jobs")).RootElement;
        Assert.Contains(list.EnumerateArray(), j => j.GetProperty("id").GetString() == id && j.GetProperty("options").GetProperty("size").GetInt32() == 32);
        Assert.Empty(StudioHost.TempFiles(s.DataDirectory));
    }

    [Fact]
    public async Task Texture_and_fast_style_jobs_run_through_the_same_queue()
    {
        await using StudioHost s = await StudioHost.InProcess();
        string texture = await s.Submit("texture", new { model = "random", width = 40, iterations = 4, octaves = 2, padding = "circular", layers = "relu1_1,relu2_1" },
            null, StudioHost.Png(40, 40, 2), StudioHost.Png(36, 44, 3));
        string apply = await s.Submit("apply", new { model = "random-half", size = 40, originalColors = true }, StudioHost.Png(64, 48));
        JsonElement t = await s.WaitFinished(texture), a = await s.WaitFinished(apply);
        Assert.True(Status(t) == "done", t.ToString());
        Assert.True(Status(a) == "done", a.ToString());
        Image ti = ImageIO.Decode(await s.Client.GetByteArrayAsync($"/api/jobs/{texture}/result"));
        Assert.Equal((40, 40), (ti.Width, ti.Height));
        Image ai = ImageIO.Decode(await s.Client.GetByteArrayAsync($"/api/jobs/{apply}/result"));
        Assert.Equal((40, 30), (ai.Width, ai.Height));
    }

    [Fact]
    public async Task Cancel_stops_a_running_job_keeps_its_image_whole_and_drops_a_queued_one()
    {
        await using StudioHost s = await StudioHost.InProcess();
        string running = await s.Submit("stylize", LongStylize, StudioHost.Png(40, 40), StudioHost.Png(40, 40, 1));
        string queued = await s.Submit("stylize", LongStylize, StudioHost.Png(40, 40), StudioHost.Png(40, 40, 1));
        await s.WaitFor(running, j => Status(j) == "running" && j.GetProperty("iteration").GetInt32() >= 2);
        JsonElement q = await s.Job(queued);
        Assert.Equal("queued", Status(q));
        Assert.Equal(1, q.GetProperty("position").GetInt32());
        using (HttpResponseMessage noResult = await s.Client.GetAsync($"/api/jobs/{queued}/result"))
        {
            Assert.Equal(HttpStatusCode.NotFound, noResult.StatusCode);
            Assert.Contains("yet", await noResult.Content.ReadAsStringAsync());
        }

        using (HttpResponseMessage del = await s.Client.DeleteAsync($"/api/jobs/{queued}"))
        {
            Assert.Equal(HttpStatusCode.OK, del.StatusCode);
            Assert.Equal("cancelled", Status(JsonDocument.Parse(await del.Content.ReadAsStringAsync()).RootElement));
        }
        using (HttpResponseMessage del = await s.Client.DeleteAsync($"/api/jobs/{running}"))
        {
            Assert.Equal(HttpStatusCode.OK, del.StatusCode);
            Assert.Equal("cancelled", Status(JsonDocument.Parse(await del.Content.ReadAsStringAsync()).RootElement));
        }
        JsonElement r = await s.Job(running);
        Assert.True(r.GetProperty("hasResult").GetBoolean(), "a cancelled run keeps the image it had reached");
        ImageIO.Decode(await s.Client.GetByteArrayAsync($"/api/jobs/{running}/result"));
        Assert.False((await s.Job(queued)).GetProperty("hasResult").GetBoolean());
        Assert.Empty(StudioHost.TempFiles(s.DataDirectory));

        using HttpResponseMessage again = await s.Client.DeleteAsync($"/api/jobs/{running}");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("already cancelled", await again.Content.ReadAsStringAsync());
    }

    public static TheoryData<string, string> HostileUploads => new()
    {
        { "text", "is not a PNG or JPEG image" },
        { "gif", "is a GIF file" },
        { "truncated-png", "cannot be read" },
        { "pixel-bomb", "cannot be read" },
        { "empty", "is empty" },
        { "tiny", "at least 8×8" },
        { "png-named-evil", "is not a PNG or JPEG image" }, // the name says PNG; the content decides
    };

    [Theory]
    [MemberData(nameof(HostileUploads))]
    public async Task A_bad_or_hostile_file_is_refused_with_one_sentence(string kind, string expected)
    {
        await using StudioHost s = await StudioHost.InProcess();
        byte[] good = StudioHost.Png(40, 40);
        byte[] bad = kind switch
        {
            "text" => Encoding.UTF8.GetBytes("<?php system($_GET['x']); ?>"),
            "gif" => [.. "GIF89a"u8, 1, 0, 1, 0, 0, 0, 0],
            "truncated-png" => good[..60],
            "pixel-bomb" => PngHeader(100_000, 100_000),
            "empty" => [],
            "tiny" => StudioHost.Png(4, 4),
            _ => Encoding.UTF8.GetBytes("not an image at all"),
        };
        using HttpResponseMessage r = await s.Client.PostAsync("/api/jobs", StudioHost.Form("stylize", JsonSerializer.Serialize(TinyStylize),
            [("content", kind == "png-named-evil" ? "evil.png" : "photo.png", bad), ("style", "style.png", good)]));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        string error = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()!;
        Assert.Contains(expected, error);
        Assert.StartsWith("The content image", error);
        Assert.EndsWith(".", error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(s.DataDirectory, "jobs")));
        // The server goes on serving.
        Assert.Equal(HttpStatusCode.OK, (await s.Client.GetAsync("/api/jobs")).StatusCode);
    }

    // An IHDR that claims a huge image, followed by nothing: refused from the header, before any allocation.
    private static byte[] PngHeader(int width, int height)
    {
        var m = new MemoryStream();
        m.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        byte[] ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        ihdr[9] = 2;
        Span<byte> len = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(len, 13);
        m.Write(len);
        byte[] typed = [.. "IHDR"u8, .. ihdr];
        m.Write(typed);
        Span<byte> crc = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        m.Write(crc);
        return m.ToArray();
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }

    public static TheoryData<string, string, string> BadRequests => new()
    {
        { "no-method", "{}", "method is missing" },
        { "unknown-method", "{}", "Unknown method 'paint'" },
        { "options-not-json", "{size:", "not valid JSON" },
        { "options-array", "[1,2]", "must be a JSON object" },
        { "unknown-option", "{\"model\":\"random\",\"bogus\":1}", "'bogus' is not one stylize takes" },
        { "bad-value", "{\"size\":5}", "'size' must be between 16 and 16384, got 5" },
        { "file-option", "{\"weights\":\"/etc/passwd\"}", "must be a registry name" },
        { "blend-count", "{\"style-blend\":[0.5,0.3,0.2]}", "3 weights for 1 style images" },
        { "no-style", "{}", "needs at least 1 style image" },
        { "wrong-field", "{}", "Unexpected file field 'upload'" },
        { "two-contents", "{}", "Send one content image" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_mistaken_request_is_refused_with_one_sentence(string kind, string options, string expected)
    {
        await using StudioHost s = await StudioHost.InProcess();
        byte[] png = StudioHost.Png(40, 40);
        (string, string, byte[])[] files = kind switch
        {
            "no-style" => [("content", "a.png", png)],
            "wrong-field" => [("content", "a.png", png), ("upload", "b.png", png)],
            "two-contents" => [("content", "a.png", png), ("content", "b.png", png), ("style", "c.png", png)],
            _ => [("content", "a.png", png), ("style", "b.png", png)],
        };
        MultipartFormDataContent form = StudioHost.Form(kind == "unknown-method" ? "paint" : kind == "no-method" ? "" : "stylize", options, files);
        using HttpResponseMessage r = await s.Client.PostAsync("/api/jobs", form);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        string error = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()!;
        Assert.Contains(expected, error);
        Assert.EndsWith(".", error);
    }

    [Fact]
    public async Task A_plain_body_and_an_oversized_file_are_refused()
    {
        await using StudioHost s = await StudioHost.InProcess(tweak: o => o with { MaxFileBytes = 2000 });
        using HttpResponseMessage plain = await s.Client.PostAsync("/api/jobs", new StringContent("{\"method\":\"stylize\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
        Assert.Contains("multipart/form-data", await plain.Content.ReadAsStringAsync());

        byte[] big = StudioHost.Png(200, 200);
        Assert.True(big.Length > 2000);
        using HttpResponseMessage r = await s.Client.PostAsync("/api/jobs", StudioHost.Form("stylize", TinyStylize, big, StudioHost.Png(16, 16)));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("larger than", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task File_names_never_reach_the_file_system_and_results_are_served_only_by_id()
    {
        string outside = Path.Combine(Path.GetTempPath(), "neuralstyle-traversal-" + Guid.NewGuid().ToString("N"));
        await using StudioHost s = await StudioHost.InProcess();
        byte[] png = StudioHost.Png(40, 40);
        string[] hostileNames = ["../../../" + Path.GetFileName(outside) + ".png", "/etc/passwd", "..\\..\\evil.png", "con:.png", "a/../../b.png"];
        using HttpResponseMessage r = await s.Client.PostAsync("/api/jobs", StudioHost.Form("stylize", JsonSerializer.Serialize(TinyStylize),
            [("content", hostileNames[0], png), .. hostileNames[1..].Select(n => ("style", n, png))]));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        string id = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        await s.WaitFinished(id);

        string[] stored = Directory.EnumerateFiles(Path.Combine(s.DataDirectory, "jobs", id)).Select(Path.GetFileName).Order().ToArray()!;
        Assert.Equal(["content.png", "result.png", "style-0.png", "style-1.png", "style-2.png", "style-3.png"], stored);
        Assert.False(File.Exists(outside + ".png"));
        Assert.DoesNotContain(Directory.EnumerateFiles(s.DataDirectory, "*", SearchOption.AllDirectories), f => f.Contains("evil") || f.Contains("passwd"));

        foreach (string url in new[] { "/api/jobs/..%2F..%2Fstudio.db/result", "/api/jobs/../studio.db", $"/api/jobs/{id.ToUpperInvariant()}/result", "/api/jobs/%2e%2e/result", "/studio.db", "/jobs/" + id + "/result.png" })
        {
            using HttpResponseMessage g = await s.Client.GetAsync(url);
            Assert.True(g.StatusCode == HttpStatusCode.NotFound, $"{url} answered {(int)g.StatusCode}");
            Assert.NotEqual("image/png", g.Content.Headers.ContentType?.MediaType);
        }

        using HttpResponseMessage model = await s.Client.PostAsync("/api/jobs", StudioHost.Form("apply", new { model = "../../../etc/passwd.pth" }, png));
        Assert.Equal(HttpStatusCode.BadRequest, model.StatusCode);
    }

    [Fact]
    public async Task A_restarted_server_lists_earlier_results_and_requeues_what_was_running()
    {
        string dir = StudioHost.NewDataDirectory();
        string done, interrupted;
        await using (StudioHost first = await StudioHost.InProcess(dir))
        {
            first.KeepData = true;
            done = await first.Submit("stylize", TinyStylize, StudioHost.Png(40, 40), StudioHost.Png(40, 40, 1));
            Assert.Equal("done", Status(await first.WaitFinished(done)));
            interrupted = await first.Submit("stylize", LongStylize, StudioHost.Png(40, 40), StudioHost.Png(40, 40, 1));
            await first.WaitFor(interrupted, j => Status(j) == "running" && j.GetProperty("iteration").GetInt32() >= 2);
        } // stopping the host stops the running job
        Assert.Empty(StudioHost.TempFiles(dir));
        Assert.False(File.Exists(Path.Combine(dir, "jobs", interrupted, "result.png")), "an interrupted job leaves no result behind");

        await using StudioHost second = await StudioHost.InProcess(dir);
        JsonElement earlier = await second.Job(done);
        Assert.Equal("done", Status(earlier));
        ImageIO.Decode(await second.Client.GetByteArrayAsync($"/api/jobs/{done}/result"));
        JsonElement again = await second.WaitFor(interrupted, j => Status(j) == "running" && j.GetProperty("iteration").GetInt32() >= 1);
        Assert.Equal(1_000_000, again.GetProperty("iterations").GetInt32());
        using HttpResponseMessage del = await second.Client.DeleteAsync($"/api/jobs/{interrupted}");
        Assert.Equal(HttpStatusCode.OK, del.StatusCode);
    }

    [Fact]
    public async Task Server_sent_events_carry_progress_and_the_loss_curve_to_the_end()
    {
        await using StudioHost s = await StudioHost.InProcess();
        string id = await s.Submit("stylize", new { model = "random", size = 32, iterations = 12 }, StudioHost.Png(40, 40), StudioHost.Png(40, 40, 1));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{id}/events");
        using HttpResponseMessage r = await s.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", r.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await r.Content.ReadAsStreamAsync());
        var points = new List<(double It, double Loss)>();
        string? last = null, lastEvent = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) lastEvent = line[7..];
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            JsonElement d = JsonDocument.Parse(line[6..]).RootElement;
            points.AddRange(d.GetProperty("points").EnumerateArray().Select(p => (p[0].GetDouble(), p[1].GetDouble())));
            last = d.GetProperty("job").GetProperty("status").GetString();
            if (lastEvent == "end") break;
        }
        Assert.Equal("end", lastEvent);
        Assert.Equal("done", last);
        Assert.Equal(13, points.Count); // rows 0..12, each once
        Assert.Equal(Enumerable.Range(0, 13).Select(i => (double)i), points.Select(p => p.It));
        Assert.True(points[^1].Loss < points[0].Loss, "the loss went down");
    }

    [Fact]
    public async Task A_token_is_required_when_set_and_the_cli_refuses_an_open_host_without_one()
    {
        await using StudioHost s = await StudioHost.InProcess(tweak: o => o with { Token = "s3cret" });
        using (HttpResponseMessage none = await s.Client.GetAsync("/api/jobs"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            Assert.Contains("token", JsonDocument.Parse(await none.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        }
        using (var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/jobs"))
        {
            wrong.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "guess");
            Assert.Equal(HttpStatusCode.Unauthorized, (await s.Client.SendAsync(wrong)).StatusCode);
        }
        using (var right = new HttpRequestMessage(HttpMethod.Get, "/api/jobs"))
        {
            right.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "s3cret");
            Assert.Equal(HttpStatusCode.OK, (await s.Client.SendAsync(right)).StatusCode);
        }
        using (HttpResponseMessage page = await s.Client.GetAsync("/?token=s3cret"))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains(page.Headers.GetValues("Set-Cookie"), c => c.Contains("httponly", StringComparison.OrdinalIgnoreCase) && c.Contains("samesite=strict", StringComparison.OrdinalIgnoreCase));
        }

        Assert.Throws<ArgumentException>(() => new StudioOptions { DataDirectory = "x", Host = "0.0.0.0" }.Validate());
        var err = new StringWriter();
        int code = CliApp.Run(["serve", "--host", "0.0.0.0", "--data", s.DataDirectory], new CliContext(new StringWriter(), err, false));
        Assert.Equal(CliApp.ExitUsage, code);
        Assert.Equal("neuralstyle: Binding to 0.0.0.0 opens the studio to the network, so it needs a --token that every request must carry.", err.ToString().Trim());
    }

    // The studio's own checks (StudioOptions.Validate), told on the command line with the flags' names.
    [Theory]
    [InlineData(new[] { "--host", "example.org" }, "--host must be an IP address such as 127.0.0.1 or 0.0.0.0 (or localhost), got 'example.org'.")]
    [InlineData(new[] { "--token=" }, "--token must not be empty.")]
    [InlineData(new[] { "--port", "70000" }, "--port must be between 0 and 65535, got 70000.")]
    [InlineData(new[] { "--jobs", "0" }, "--jobs must be between 1 and 64, got 0.")]
    [InlineData(new[] { "--data", " " }, "--data must name the studio's data folder.")]
    public void The_cli_tells_the_studio_s_option_checks_with_the_flag_names(string[] flags, string sentence)
    {
        var err = new StringWriter();
        int code = CliApp.Run(["serve", .. flags], new CliContext(new StringWriter(), err, false));
        Assert.Equal(CliApp.ExitUsage, code);
        Assert.Equal("neuralstyle: " + sentence, err.ToString().Trim());
    }

    private static HttpRequestMessage BrowserGet(string path)
    {
        var r = new HttpRequestMessage(HttpMethod.Get, path);
        r.Headers.Accept.ParseAdd("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        return r;
    }

    [Fact]
    public async Task A_browser_without_the_token_is_asked_for_it_and_the_api_answers_json()
    {
        await using StudioHost s = await StudioHost.InProcess(tweak: o => o with { Token = "s3cret" });
        foreach (string path in new[] { "/", "/index.html" })
        {
            using HttpResponseMessage prompt = await s.Client.SendAsync(BrowserGet(path));
            Assert.Equal(HttpStatusCode.Unauthorized, prompt.StatusCode);
            Assert.Equal("text/html", prompt.Content.Headers.ContentType?.MediaType);
            AssertPrompt(await prompt.Content.ReadAsStringAsync(), rejected: false);
            Assert.False(prompt.Headers.Contains("Set-Cookie"));
        }

        // The form's answer: the right token gives the page and the cookie, which then carries later requests.
        string cookie;
        using (HttpResponseMessage page = await s.Client.SendAsync(BrowserGet("/?token=s3cret")))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("app.js", await page.Content.ReadAsStringAsync());
            cookie = page.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
            Assert.StartsWith("neuralstyle_token=", cookie);
        }
        using (HttpRequestMessage again = BrowserGet("/"))
        {
            again.Headers.Add("Cookie", cookie);
            Assert.Equal(HttpStatusCode.OK, (await s.Client.SendAsync(again)).StatusCode);
        }

        // A wrong token: the prompt again, with one sentence saying so, and never the token it was given.
        using (HttpResponseMessage wrong = await s.Client.SendAsync(BrowserGet("/?token=guess%3Cb%3E")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            string html = await wrong.Content.ReadAsStringAsync();
            AssertPrompt(html, rejected: true);
            Assert.DoesNotContain("guess", html);
            Assert.False(wrong.Headers.Contains("Set-Cookie"));
        }

        // The API, asked by a browser or not, keeps its JSON 401; so does the page asked without text/html.
        foreach (HttpRequestMessage request in new[] { BrowserGet("/api/jobs"), new HttpRequestMessage(HttpMethod.Get, "/api/jobs"), new HttpRequestMessage(HttpMethod.Get, "/") })
        {
            using (request)
            using (HttpResponseMessage api = await s.Client.SendAsync(request))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
                Assert.Equal("application/json", api.Content.Headers.ContentType?.MediaType);
                Assert.Equal("This studio needs its token: open it as /?token=… or send an Authorization: Bearer header.",
                    JsonDocument.Parse(await api.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
            }
        }
    }

    // The token page: its sentence, a password field and a button whose form loads /?token=…, no script.
    private static void AssertPrompt(string html, bool rejected)
    {
        foreach (string part in new[] { "needs its token", "<form method=\"get\" action=\"/\">", "<input name=\"token\" type=\"password\"", "<button type=\"submit\">" })
            Assert.Contains(part, html);
        Assert.DoesNotContain("<script", html);
        Assert.Equal(rejected, html.Contains("That token was not accepted; check it and try again.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_page_the_openapi_document_and_the_method_list_are_served()
    {
        await using StudioHost s = await StudioHost.InProcess();
        string html = await s.Client.GetStringAsync("/");
        Assert.Contains("NeuralStyle", html);
        Assert.Contains("app.js", html);
        using HttpResponseMessage js = await s.Client.GetAsync("/app.js");
        Assert.Equal("text/javascript", js.Content.Headers.ContentType?.MediaType);
        JsonElement doc = JsonDocument.Parse(await s.Client.GetStringAsync("/openapi.json")).RootElement;
        Assert.StartsWith("3.", doc.GetProperty("openapi").GetString());
        foreach (string path in new[] { "/api/jobs", "/api/jobs/{id}", "/api/jobs/{id}/result", "/api/jobs/{id}/preview", "/api/jobs/{id}/events" })
            Assert.True(doc.GetProperty("paths").TryGetProperty(path, out _), path);
        JsonElement methods = JsonDocument.Parse(await s.Client.GetStringAsync("/api/methods")).RootElement;
        Assert.Equal(["stylize", "texture", "apply"], methods.EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        Assert.Contains("original-colors", methods[0].GetProperty("options").EnumerateArray().Select(o => o.GetString()));
        Assert.DoesNotContain("output", methods[0].GetProperty("options").EnumerateArray().Select(o => o.GetString()));

        using HttpResponseMessage missing = await s.Client.GetAsync("/api/nothing");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("error", await missing.Content.ReadAsStringAsync());
    }
}
