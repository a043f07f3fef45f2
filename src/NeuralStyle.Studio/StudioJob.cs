namespace NeuralStyle.Studio;

/// <summary>Where a job is in its life.</summary>
public enum JobStatus { Queued, Running, Done, Failed, Cancelled }

/// <summary>
/// One job: what the store persists (identity, parameters, status, result) and what only lives while the server
/// runs (the latest preview, the loss curve, the cancellation). Guarded by the queue's lock.
/// </summary>
public sealed class StudioJob
{
    public required string Id { get; init; }

    /// <summary>Submission order (queue order).</summary>
    public required long Seq { get; init; }
    public required string Method { get; init; }

    /// <summary>The options object exactly as submitted (JSON).</summary>
    public required string OptionsJson { get; init; }

    /// <summary>The options as a JSON value (parsed once, for every view of the job).</summary>
    public System.Text.Json.JsonElement Options
    {
        get
        {
            if (_options is null)
            {
                using var doc = System.Text.Json.JsonDocument.Parse(OptionsJson);
                _options = doc.RootElement.Clone();
            }
            return _options.Value;
        }
    }
    private System.Text.Json.JsonElement? _options;
    public required string? ContentFile { get; init; }
    public required IReadOnlyList<string> StyleFiles { get; init; }

    /// <summary>The uploaded region mask's file in the job's folder, or null.</summary>
    public string? MaskFile { get; init; }
    public required DateTimeOffset Created { get; init; }

    public JobStatus Status { get; set; }
    public int Iteration { get; set; }
    public int Iterations { get; set; }
    public double? Loss { get; set; }
    public string? Error { get; set; }
    public string? ResultFile { get; set; }
    public DateTimeOffset? Finished { get; set; }

    /// <summary>What the run told its submitter (a mask warning, a fallback to the random network), oldest first. Never
    /// changed in place: a new note replaces the list, so a reader outside the queue's lock sees one whole list.</summary>
    public IReadOnlyList<string> Notes { get; set; } = [];
    public const int MaxNotes = 20;

    // ---- live only ----------------------------------------------------------------------------------------------
    public string Stage { get; set; } = "";
    public double? SecondsLeft { get; set; }
    public double Seconds { get; set; }
    public byte[]? PreviewPng { get; set; }
    public int PreviewVersion { get; set; }

    /// <summary>(iteration, loss) of every progress row, thinned to at most <see cref="MaxCurvePoints"/>.</summary>
    public List<(int Iteration, double Loss)> Curve { get; } = [];
    public const int MaxCurvePoints = 2000;

    /// <summary>Bumped on every change; server-sent events wait on <see cref="Changed"/>.</summary>
    public int Version { get; set; }
    public TaskCompletionSource Changed { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public CancellationTokenSource? Cancel { get; set; }

    /// <summary>The user asked to cancel (as opposed to a shutdown stopping the job).</summary>
    public bool CancelRequested { get; set; }
    public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsFinished => Status is JobStatus.Done or JobStatus.Failed or JobStatus.Cancelled;

    public static string StatusName(JobStatus s) => s.ToString().ToLowerInvariant();

    /// <summary>Job ids are 32 lowercase hex digits; anything else never reaches a lookup or a path.</summary>
    public static bool IsValidId(string? id)
        => id is { Length: 32 } && id.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}
