using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NeuralStyle.Imaging;
using NeuralStyle.IO;

namespace NeuralStyle.Studio;

/// <summary>
/// The JSON API (documented in wwwroot/openapi.json): jobs are submitted as multipart forms, read back by id, their
/// progress streamed as server-sent events. Every refusal is a 4xx with <c>{"error": "one sentence"}</c>.
/// </summary>
public static class StudioApi
{
    // Relaxed escaping: sentences keep their apostrophes (the body is JSON, never HTML).
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Decoding is the memory-hungry part of an upload: at most two at a time, whatever the number of clients.
    private static readonly SemaphoreSlim DecodeGate = new(2);

    public static void Map(WebApplication app, StudioOptions options)
    {
        var page = new Dictionary<string, (byte[] Body, string Type)>(StringComparer.Ordinal);
        foreach ((string name, string type) in new[]
                 {
                     ("index.html", "text/html; charset=utf-8"), ("app.js", "text/javascript; charset=utf-8"),
                     ("app.css", "text/css; charset=utf-8"), ("openapi.json", "application/json; charset=utf-8"),
                 })
            page[name] = (StudioApp.Resource(name) ?? throw new InvalidOperationException($"The embedded page file {name} is missing."), type);

        IResult File(string name) => Results.Bytes(page[name].Body, page[name].Type);
        app.MapGet("/", () => File("index.html"));
        app.MapGet("/app.js", () => File("app.js"));
        app.MapGet("/app.css", () => File("app.css"));
        app.MapGet("/openapi.json", () => File("openapi.json"));

        RouteGroupBuilder api = app.MapGroup("/api");
        api.MapGet("/methods", (JobQueue q) => Results.Json(q.Methods.Values.Select(m => new
        {
            m.Name, content = m.Inputs.Content, minStyles = m.Inputs.MinStyles, maxStyles = Math.Min(m.Inputs.MaxStyles, options.MaxStyles), mask = m.Inputs.Mask, options = m.OptionKeys,
        }), Json));
        api.MapGet("/models", () => Results.Json(ModelFolder.List(options.DataDirectory), Json));
        api.MapPost("/jobs", (HttpContext ctx, JobQueue q) => Submit(ctx, q, options));
        api.MapGet("/jobs", (JobQueue q, int? limit) => Results.Json(q.List(Math.Clamp(limit ?? 200, 1, 100_000)), Json));
        api.MapGet("/jobs/{id}", (string id, JobQueue q) => q.Find(id) is { } job ? Results.Json(q.View(job), Json) : NoJob(id));
        api.MapGet("/jobs/{id}/result", (string id, JobQueue q) =>
        {
            if (q.Find(id) is not { } job) return NoJob(id);
            JobView v = q.View(job);
            if (!v.HasResult) return Error(404, $"Job {id} has no result {(v.Status is "queued" or "running" ? "yet" : $"(it is {v.Status})")}.");
            string path = Path.Combine(q.JobDirectory(id), JobQueue.ResultName);
            // Opened once: a result replaced meanwhile (atomic rename) is served whole, old or new.
            return System.IO.File.Exists(path)
                ? Results.Stream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete), "image/png",
                    fileDownloadName: $"neuralstyle-{id[..8]}.png")
                : Error(404, $"Job {id} has no result file.");
        });
        api.MapGet("/jobs/{id}/preview", (string id, JobQueue q, HttpContext ctx) =>
        {
            if (q.Find(id) is not { } job) return NoJob(id);
            ctx.Response.Headers.CacheControl = "no-store";
            return q.Preview(job) is { } png ? Results.Bytes(png, "image/png") : Error(404, $"Job {id} has no preview yet.");
        });
        api.MapDelete("/jobs/{id}", async (string id, JobQueue q) =>
        {
            if (q.Find(id) is not { } job) return NoJob(id);
            JobView before = q.View(job);
            if (before.Status is "done" or "failed" or "cancelled")
                return Error(409, $"Job {id} is already {before.Status}; there is nothing to cancel.");
            await q.CancelAsync(job, TimeSpan.FromSeconds(10));
            return Results.Json(q.View(job), Json);
        });
        api.MapGet("/jobs/{id}/events", (string id, JobQueue q, HttpContext ctx) => Events(id, q, ctx));
        api.MapFallback((HttpContext ctx) => Error(404, $"There is no API endpoint {ctx.Request.Method} {ctx.Request.Path}; see /openapi.json."));
    }

    public static Task Error(HttpContext ctx, int status, string sentence)
    {
        ctx.Response.StatusCode = status;
        return ctx.Response.WriteAsJsonAsync(new { error = sentence }, Json);
    }

    private static IResult Error(int status, string sentence) => Results.Json(new { error = sentence }, Json, statusCode: status);

    private static IResult NoJob(string id)
        => Error(404, StudioJob.IsValidId(id) ? $"There is no job {id}." : "A job id is 32 hexadecimal digits.");

    // ---- submitting ---------------------------------------------------------------------------------------------

    private static async Task<IResult> Submit(HttpContext ctx, JobQueue q, StudioOptions o)
    {
        HttpRequest req = ctx.Request;
        if (!req.HasFormContentType || !(req.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) ?? false))
            return Error(400, "Send a job as multipart/form-data: the field method, the field options (a JSON object) and the files content and style.");
        IFormCollection form;
        try
        {
            form = await req.ReadFormAsync(ctx.RequestAborted);
        }
        catch (InvalidDataException)
        {
            return Error(400, $"The form is malformed or larger than the {o.MaxRequestBytes >> 20} MB the studio accepts.");
        }
        catch (BadHttpRequestException e)
        {
            return Error(e.StatusCode, e.StatusCode == 413 ? $"The upload is larger than the {o.MaxRequestBytes >> 20} MB the studio accepts." : "The form could not be read.");
        }

        string methodName = form["method"].ToString();
        if (!q.Methods.TryGetValue(methodName, out IStudioMethod? method))
            return Error(400, methodName.Length == 0
                ? $"The field method is missing; use one of {string.Join(", ", q.Methods.Keys)}."
                : $"Unknown method '{Shorten(methodName)}'; use one of {string.Join(", ", q.Methods.Keys)}.");

        string optionsText = form["options"].ToString();
        if (optionsText.Length == 0) optionsText = "{}";
        JsonDocument optionsDoc;
        try
        {
            optionsDoc = JsonDocument.Parse(optionsText, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException)
        {
            return Error(400, "The field options is not valid JSON; send an object such as {\"size\": 256}.");
        }
        using (optionsDoc)
        {
            if (optionsDoc.RootElement.ValueKind != JsonValueKind.Object)
                return Error(400, "The field options must be a JSON object such as {\"size\": 256}.");

            // Files are told apart by their field only: the names the client gives them are never used.
            var content = new List<IFormFile>();
            var styles = new List<IFormFile>();
            var masks = new List<IFormFile>();
            foreach (IFormFile f in form.Files)
            {
                if (f.Name == "content") content.Add(f);
                else if (f.Name == "style") styles.Add(f);
                else if (f.Name == "mask") masks.Add(f);
                else return Error(400, $"Unexpected file field '{Shorten(f.Name)}'; images go in the fields content, style and mask.");
            }
            MethodInputs inputs = method.Inputs;
            if (masks.Count > 1) return Error(400, "Send one mask.");
            if (masks.Count == 1 && !inputs.Mask) return Error(400, $"The method {method.Name} takes no mask.");
            int maxStyles = Math.Min(inputs.MaxStyles, o.MaxStyles);
            if (content.Count > 1) return Error(400, "Send one content image.");
            if (inputs.Content && content.Count == 0) return Error(400, $"The method {method.Name} needs a content image (file field content).");
            if (!inputs.Content && content.Count > 0) return Error(400, $"The method {method.Name} takes no content image; send its images as style.");
            if (styles.Count < inputs.MinStyles)
                return Error(400, $"The method {method.Name} needs at least {inputs.MinStyles} style image{(inputs.MinStyles > 1 ? "s" : "")} (file field style).");
            if (styles.Count > maxStyles)
                return Error(400, maxStyles == 0 ? $"The method {method.Name} takes no style image." : $"Send at most {maxStyles} style images, not {styles.Count}.");

            try
            {
                method.Validate(new JobRequest(optionsDoc.RootElement, styles.Count, masks.Count == 1, o.DataDirectory));
            }
            catch (JobRejectedException e)
            {
                return Error(400, e.Message);
            }

            var files = new List<(string Name, byte[] Data)>();
            if (content.Count == 1)
            {
                (byte[]? data, string? ext, string? error) = await Sniff(content[0], "The content image", o, ctx.RequestAborted);
                if (error is not null) return Error(400, error);
                files.Add(("content" + ext, data!));
            }
            for (int k = 0; k < styles.Count; k++)
            {
                string what = styles.Count == 1 ? "The style image" : $"Style image {k + 1}";
                (byte[]? data, string? ext, string? error) = await Sniff(styles[k], what, o, ctx.RequestAborted);
                if (error is not null) return Error(400, error);
                files.Add(($"style-{k}{ext}", data!));
            }
            string? maskFile = null;
            if (masks.Count == 1)
            {
                // A mask's colours are its meaning: PNG only (JPEG would blur them).
                (byte[]? data, string? ext, string? error) = await Sniff(masks[0], "The mask", o, ctx.RequestAborted, pngOnly: true);
                if (error is not null) return Error(400, error);
                maskFile = "mask" + ext;
                files.Add((maskFile, data!));
            }
            if (q.WaitingCount >= o.MaxQueuedJobs)
                return Error(429, $"{o.MaxQueuedJobs} jobs are already waiting; try again when some have finished.");

            string id = Guid.NewGuid().ToString("N");
            string dir = q.JobDirectory(id);
            try
            {
                foreach ((string name, byte[] data) in files)
                    AtomicFile.Write(Path.Combine(dir, name), s => s.Write(data), createDirectory: true);
            }
            catch
            {
                try { Directory.Delete(dir, recursive: true); }
                catch (IOException) { }
                throw;
            }
            string compactOptions = optionsDoc.RootElement.GetRawText();
            StudioJob job = q.Submit(id, method.Name, compactOptions, content.Count == 1 ? files[0].Name : null,
                files.Skip(content.Count).Take(styles.Count).Select(f => f.Name).ToList(), maskFile);
            JobView view = q.View(job);
            return Results.Json(new { id, status = view.Status, position = view.Position }, Json, statusCode: 201);
        }
    }

    /// <summary>
    /// An upload checked by what it is, not by its name: size, PNG/JPEG signature, then a real decode with the pixel
    /// limit (read from the header before anything large is allocated). Returns the bytes and the extension to
    /// store them under, or one sentence.
    /// </summary>
    private static async Task<(byte[]? Data, string? Extension, string? Error)> Sniff(IFormFile file, string what, StudioOptions o, CancellationToken ct, bool pngOnly = false)
    {
        if (file.Length == 0) return (null, null, $"{what} is empty.");
        if (file.Length > o.MaxFileBytes) return (null, null, $"{what} is larger than the {o.MaxFileBytes >> 20} MB the studio accepts.");
        byte[] data = new byte[file.Length];
        await using (Stream s = file.OpenReadStream()) await s.ReadExactlyAsync(data, ct);
        ImageFileFormat format = ImageIO.DetectFormat(data);
        if (pngOnly && format != ImageFileFormat.Png)
            return (null, null, format == ImageFileFormat.Unknown ? $"{what} is not a PNG image." : $"{what} is a {format.ToString().ToUpperInvariant()} file; upload a PNG image.");
        if (format is not (ImageFileFormat.Png or ImageFileFormat.Jpeg))
            return (null, null, format == ImageFileFormat.Unknown
                ? $"{what} is not a PNG or JPEG image."
                : $"{what} is a {format.ToString().ToUpperInvariant()} file; upload a PNG or JPEG image.");
        await DecodeGate.WaitAsync(ct);
        try
        {
            Image img = ImageIO.Decode(data, new DecoderOptions { MaxPixels = o.MaxPixels });
            if (img.Width < 8 || img.Height < 8) return (null, null, $"{what} is only {img.Width}×{img.Height} pixels; use at least 8×8.");
        }
        catch (ImageFormatException e)
        {
            return (null, null, $"{what} cannot be read: {e.Message.TrimEnd('.')}.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever a hostile file provokes in a decoder ends here as a refusal, never as a crash.
            return (null, null, $"{what} cannot be read ({e.GetType().Name}).");
        }
        finally
        {
            DecodeGate.Release();
        }
        return (data, format == ImageFileFormat.Png ? ".png" : ".jpg", null);
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";

    // ---- live progress ------------------------------------------------------------------------------------------

    /// <summary>
    /// Server-sent events: an <c>update</c> event (the job view plus the new loss-curve points) at every change, an
    /// <c>end</c> event when the job has finished, a comment every 15 s to keep proxies from closing the stream.
    /// </summary>
    private static async Task Events(string id, JobQueue q, HttpContext ctx)
    {
        if (q.Find(id) is not { } job)
        {
            await Error(ctx, 404, StudioJob.IsValidId(id) ? $"There is no job {id}." : "A job id is 32 hexadecimal digits.");
            return;
        }
        var lifetime = ctx.RequestServices.GetRequiredService<IHostApplicationLifetime>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, lifetime.ApplicationStopping);
        CancellationToken ct = cts.Token;
        ctx.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        ctx.Response.Headers.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache";
        ctx.Response.Headers["X-Accel-Buffering"] = "no";
        int pointsSent = 0, versionSent = -1;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                (JobView view, int version, List<double[]> points, bool reset, Task changed) = q.Event(job, pointsSent);
                bool finished = view.Status is "done" or "failed" or "cancelled";
                if (version != versionSent)
                {
                    pointsSent = (reset ? 0 : pointsSent) + points.Count;
                    versionSent = version;
                    string data = JsonSerializer.Serialize(new { job = view, points, reset }, Json);
                    await ctx.Response.WriteAsync($"event: {(finished ? "end" : "update")}\ndata: {data}\n\n", Encoding.UTF8, ct);
                    await ctx.Response.Body.FlushAsync(ct);
                }
                if (finished) return;
                Task timeout = Task.Delay(TimeSpan.FromSeconds(15), ct);
                if (await Task.WhenAny(changed, timeout) == timeout)
                {
                    await ctx.Response.WriteAsync(": keep-alive\n\n", ct);
                    await ctx.Response.Body.FlushAsync(ct);
                }
                // Many rows a second would only flood the page: at most ten events a second.
                await Task.Delay(100, ct);
            }
        }
        catch (OperationCanceledException)
        {
            // The client left or the server stops.
        }
    }
}
