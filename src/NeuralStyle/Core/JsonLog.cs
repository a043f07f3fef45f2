using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NeuralStyle.Core;

/// <summary>
/// Writes progress rows as JSON lines: {"iteration": k, "seconds": t, "loss": …, "content": …, "style": …, "tv": …,
/// "terms": {"content:relu4_2": …}}, with "stage", "epoch", "epochs", "batch", "batches", "learning_rate" and
/// "images_per_second" only when the row has them. "content", "style" and "tv" are the sums of the content:*, the
/// style:* and every other term. Written by <see cref="Utf8JsonWriter"/>, so any term or stage name is escaped; NaN
/// and ∞, which JSON cannot hold, are written as null. Each row is flushed, so an interrupted run keeps its log.
/// </summary>
public sealed class JsonLog : IDisposable
{
    private static readonly JsonWriterOptions Options = new()
    {
        // Readable stage names (×, non-ASCII layer names) while quotes, backslashes and control characters are escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly FileStream _file;

    public JsonLog(string path)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
    }

    public void Write(ProgressRecord r)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteRow(buffer, r);
        buffer.Write("\n"u8);
        _file.Write(buffer.WrittenSpan);
        _file.Flush();
    }

    /// <summary>One row as a JSON object (no newline).</summary>
    public static string Format(ProgressRecord r)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteRow(buffer, r);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteRow(IBufferWriter<byte> output, ProgressRecord r)
    {
        using var w = new Utf8JsonWriter(output, Options);
        w.WriteStartObject();
        w.WriteNumber("iteration", r.Step);
        if (!string.IsNullOrEmpty(r.Stage)) w.WriteString("stage", r.Stage);
        Number(w, "seconds", r.Seconds);
        Number(w, "loss", r.Loss);
        Number(w, "content", r.Content);
        Number(w, "style", r.Style);
        Number(w, "tv", r.Other);
        if (r.Epoch is { } epoch) w.WriteNumber("epoch", epoch);
        if (r.TotalEpochs is { } epochs) w.WriteNumber("epochs", epochs);
        if (r.Batch is { } batch) w.WriteNumber("batch", batch);
        if (r.TotalBatches is { } batches) w.WriteNumber("batches", batches);
        if (r.LearningRate is { } lr) Number(w, "learning_rate", lr);
        if (r.ImagesPerSecond is { } ips) Number(w, "images_per_second", ips);
        w.WriteStartObject("terms");
        foreach ((string k, double v) in r.Terms) Number(w, k, v);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    public void Dispose() => _file.Dispose();
}
