using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace NeuralStyle.Studio;

/// <summary>
/// The jobs, their parameters, status and result paths in SQLite (<c>DATA/studio.db</c>); the images live under
/// <c>DATA/jobs/ID/</c>. One connection, serialised by a lock: writes happen on status changes only.
/// </summary>
public sealed class JobStore : IDisposable
{
    private readonly SqliteConnection _db;
    private readonly Lock _lock = new();

    public JobStore(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        _db = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDirectory, "studio.db"),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        _db.Open();
        Execute("PRAGMA journal_mode=WAL;");
        Execute("PRAGMA synchronous=NORMAL;");
        Execute("""
            CREATE TABLE IF NOT EXISTS jobs(
              id TEXT PRIMARY KEY,
              seq INTEGER NOT NULL,
              method TEXT NOT NULL,
              options TEXT NOT NULL,
              content_file TEXT,
              style_files TEXT NOT NULL,
              status TEXT NOT NULL,
              iteration INTEGER NOT NULL DEFAULT 0,
              iterations INTEGER NOT NULL DEFAULT 0,
              loss REAL,
              error TEXT,
              result_file TEXT,
              created TEXT NOT NULL,
              finished TEXT);
            """);
        // Databases written before region masks existed gain the column (NULL: no mask).
        if (!Columns("jobs").Contains("mask_file")) Execute("ALTER TABLE jobs ADD COLUMN mask_file TEXT;");
        // ... and the notes for the submitter (a JSON array of sentences).
        if (!Columns("jobs").Contains("notes")) Execute("ALTER TABLE jobs ADD COLUMN notes TEXT;");
    }

    private HashSet<string> Columns(string table)
    {
        using SqliteCommand c = _db.CreateCommand();
        c.CommandText = $"PRAGMA table_info({table});";
        using SqliteDataReader r = c.ExecuteReader();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (r.Read()) names.Add(r.GetString(1));
        return names;
    }

    private void Execute(string sql)
    {
        using SqliteCommand c = _db.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    /// <summary>Every stored job in submission order.</summary>
    public List<StudioJob> LoadAll()
    {
        lock (_lock)
        {
            using SqliteCommand c = _db.CreateCommand();
            c.CommandText = "SELECT id, seq, method, options, content_file, style_files, status, iteration, iterations, loss, error, result_file, created, finished, mask_file, notes FROM jobs ORDER BY seq";
            using SqliteDataReader r = c.ExecuteReader();
            var jobs = new List<StudioJob>();
            while (r.Read())
            {
                jobs.Add(new StudioJob
                {
                    Id = r.GetString(0),
                    Seq = r.GetInt64(1),
                    Method = r.GetString(2),
                    OptionsJson = r.GetString(3),
                    ContentFile = r.IsDBNull(4) ? null : r.GetString(4),
                    StyleFiles = JsonSerializer.Deserialize<string[]>(r.GetString(5)) ?? [],
                    Status = Enum.Parse<JobStatus>(r.GetString(6), ignoreCase: true),
                    Iteration = r.GetInt32(7),
                    Iterations = r.GetInt32(8),
                    Loss = r.IsDBNull(9) ? null : r.GetDouble(9),
                    Error = r.IsDBNull(10) ? null : r.GetString(10),
                    ResultFile = r.IsDBNull(11) ? null : r.GetString(11),
                    Created = DateTimeOffset.Parse(r.GetString(12), CultureInfo.InvariantCulture),
                    Finished = r.IsDBNull(13) ? null : DateTimeOffset.Parse(r.GetString(13), CultureInfo.InvariantCulture),
                    MaskFile = r.IsDBNull(14) ? null : r.GetString(14),
                    Notes = r.IsDBNull(15) ? [] : JsonSerializer.Deserialize<List<string>>(r.GetString(15)) ?? [],
                });
            }
            return jobs;
        }
    }

    /// <summary>Inserts or updates a job's persistent fields.</summary>
    public void Save(StudioJob j)
    {
        lock (_lock)
        {
            using SqliteCommand c = _db.CreateCommand();
            c.CommandText = """
                INSERT INTO jobs(id, seq, method, options, content_file, style_files, status, iteration, iterations, loss, error, result_file, created, finished, mask_file, notes)
                VALUES($id, $seq, $method, $options, $content, $styles, $status, $iteration, $iterations, $loss, $error, $result, $created, $finished, $mask, $notes)
                ON CONFLICT(id) DO UPDATE SET status = $status, iteration = $iteration, iterations = $iterations, loss = $loss,
                  error = $error, result_file = $result, finished = $finished, notes = $notes;
                """;
            c.Parameters.AddWithValue("$id", j.Id);
            c.Parameters.AddWithValue("$seq", j.Seq);
            c.Parameters.AddWithValue("$method", j.Method);
            c.Parameters.AddWithValue("$options", j.OptionsJson);
            c.Parameters.AddWithValue("$content", (object?)j.ContentFile ?? DBNull.Value);
            c.Parameters.AddWithValue("$styles", JsonSerializer.Serialize(j.StyleFiles));
            c.Parameters.AddWithValue("$mask", (object?)j.MaskFile ?? DBNull.Value);
            IReadOnlyList<string> notes = j.Notes;
            c.Parameters.AddWithValue("$notes", notes.Count == 0 ? DBNull.Value : JsonSerializer.Serialize(notes));
            c.Parameters.AddWithValue("$status", StudioJob.StatusName(j.Status));
            c.Parameters.AddWithValue("$iteration", j.Iteration);
            c.Parameters.AddWithValue("$iterations", j.Iterations);
            c.Parameters.AddWithValue("$loss", j.Loss is { } l && double.IsFinite(l) ? l : DBNull.Value);
            c.Parameters.AddWithValue("$error", (object?)j.Error ?? DBNull.Value);
            c.Parameters.AddWithValue("$result", (object?)j.ResultFile ?? DBNull.Value);
            c.Parameters.AddWithValue("$created", j.Created.ToString("O", CultureInfo.InvariantCulture));
            c.Parameters.AddWithValue("$finished", j.Finished?.ToString("O", CultureInfo.InvariantCulture) ?? (object)DBNull.Value);
            c.ExecuteNonQuery();
        }
    }

    public void Dispose()
    {
        lock (_lock) _db.Dispose();
    }
}
