using System.IO.Compression;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using NeuralStyle.Core;
using NeuralStyle.Imaging;
using NeuralStyle.Imaging.Png;

namespace NeuralStyle.Studio;

/// <summary>
/// The job queue: jobs run <see cref="StudioOptions.ConcurrentJobs"/> at a time in submission order, the rest wait
/// with their position. The in-memory jobs answer every request; the store is written on every status change, so a
/// restarted server lists earlier results and re-queues what was running (a job running at shutdown goes back to
/// the queue and starts afresh). Cancelling or stopping never leaves a half-written file: results are written
/// atomically by the methods, and a job interrupted by shutdown has its partial result removed.
/// </summary>
public sealed class JobQueue : BackgroundService
{
    private readonly StudioOptions _options;
    private readonly JobStore _store;
    private readonly IReadOnlyDictionary<string, IStudioMethod> _methods;
    private readonly Action<string> _info;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, StudioJob> _jobs = new(StringComparer.Ordinal);
    private readonly List<StudioJob> _waiting = [];
    private readonly SemaphoreSlim _work = new(0);
    private long _nextSeq;

    public JobQueue(StudioOptions options, JobStore store, IEnumerable<IStudioMethod> methods, Action<string>? info = null)
    {
        _options = options;
        _store = store;
        _methods = methods.ToDictionary(m => m.Name, StringComparer.Ordinal);
        _info = info ?? (_ => { });
        foreach (StudioJob j in store.LoadAll())
        {
            _jobs[j.Id] = j;
            _nextSeq = Math.Max(_nextSeq, j.Seq + 1);
            if (j.Status is JobStatus.Running or JobStatus.Queued)
            {
                if (j.Status == JobStatus.Running) _info($"Re-queued job {j.Id} (it was running when the server stopped).");
                j.Status = JobStatus.Queued;
                j.Iteration = 0;
                store.Save(j);
                _waiting.Add(j);
                _work.Release();
            }
            else
            {
                j.Ended.TrySetResult();
            }
        }
    }

    public IReadOnlyDictionary<string, IStudioMethod> Methods => _methods;

    /// <summary>The folder of a job's files (the id is checked: never a name from a request).</summary>
    public string JobDirectory(string id)
    {
        if (!StudioJob.IsValidId(id)) throw new ArgumentException($"'{id}' is not a job id.", nameof(id));
        return Path.Combine(_options.DataDirectory, "jobs", id);
    }

    public int WaitingCount
    {
        get { lock (_lock) return _waiting.Count; }
    }

    /// <summary>Queues a job whose files are already in <see cref="JobDirectory"/>.</summary>
    public StudioJob Submit(string id, string method, string optionsJson, string? contentFile, IReadOnlyList<string> styleFiles, string? maskFile = null)
    {
        StudioJob job;
        lock (_lock)
        {
            job = new StudioJob
            {
                Id = id, Seq = _nextSeq++, Method = method, OptionsJson = optionsJson, ContentFile = contentFile,
                StyleFiles = styleFiles, MaskFile = maskFile, Created = DateTimeOffset.UtcNow, Status = JobStatus.Queued,
            };
            _store.Save(job);
            _jobs[id] = job;
            _waiting.Add(job);
        }
        _work.Release();
        return job;
    }

    public StudioJob? Find(string id)
    {
        if (!StudioJob.IsValidId(id)) return null;
        lock (_lock) return _jobs.GetValueOrDefault(id);
    }

    /// <summary>The newest <paramref name="limit"/> jobs, newest first.</summary>
    public List<JobView> List(int limit)
    {
        lock (_lock)
        {
            var positions = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < _waiting.Count; i++) positions[_waiting[i].Id] = i + 1;
            return _jobs.Values.OrderByDescending(j => j.Seq).Take(limit)
                .Select(j => ViewLocked(j, positions.GetValueOrDefault(j.Id))).ToList();
        }
    }

    public JobView View(StudioJob job)
    {
        lock (_lock) return ViewLocked(job, _waiting.IndexOf(job) + 1);
    }

    private static JobView ViewLocked(StudioJob j, int position) => new(
        j.Id, j.Method, StudioJob.StatusName(j.Status), position, j.Iteration, j.Iterations,
        j.Loss is { } l && double.IsFinite(l) ? l : null, j.Error, j.SecondsLeft, j.Stage, j.PreviewVersion,
        j.ResultFile is not null, j.Created, j.Finished, j.Options, j.Notes);

    /// <summary>A view for a server-sent event, with the loss-curve points the client has not had yet.</summary>
    public (JobView View, int Version, List<double[]> Points, bool Reset, Task Changed) Event(StudioJob job, int pointsSent)
    {
        lock (_lock)
        {
            bool reset = job.Curve.Count < pointsSent;
            int from = reset ? 0 : pointsSent;
            var points = job.Curve.Skip(from).Select(p => new[] { p.Iteration, p.Loss }).ToList();
            return (ViewLocked(job, _waiting.IndexOf(job) + 1), job.Version, points, reset, job.Changed.Task);
        }
    }

    public byte[]? Preview(StudioJob job)
    {
        lock (_lock) return job.PreviewPng;
    }

    /// <summary>Cancels a waiting or running job; waits (a little) until a running one has stopped.</summary>
    public async Task CancelAsync(StudioJob job, TimeSpan wait)
    {
        CancellationTokenSource? running = null;
        lock (_lock)
        {
            if (job.IsFinished) return;
            job.CancelRequested = true;
            if (job.Status == JobStatus.Queued)
            {
                _waiting.Remove(job);
                job.Status = JobStatus.Cancelled;
                job.Finished = DateTimeOffset.UtcNow;
                NotifyLocked(job);
                _store.Save(job);
                job.Ended.TrySetResult();
                NotifyWaitingLocked();
                return;
            }
            running = job.Cancel;
        }
        running?.Cancel();
        await Task.WhenAny(job.Ended.Task, Task.Delay(wait)).ConfigureAwait(false);
    }

    private static void NotifyLocked(StudioJob job)
    {
        job.Version++;
        TaskCompletionSource old = job.Changed;
        job.Changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        old.TrySetResult();
    }

    // Positions of every waiting job moved: their listeners hear it.
    private void NotifyWaitingLocked()
    {
        foreach (StudioJob w in _waiting) NotifyLocked(w);
    }

    // ---- the workers ------------------------------------------------------------------------------------------

    // The methods are CPU-bound and synchronous: each worker is a thread of its own, kept for every job it runs
    // (so what a run caches per thread, such as pooled buffers, is reused rather than piled up).
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.WhenAll(Enumerable.Range(0, _options.ConcurrentJobs).Select(_ => Task.Factory.StartNew(() => Worker(stoppingToken),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)));

    private void Worker(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                _work.Wait(stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            StudioJob? job;
            lock (_lock)
            {
                job = _waiting.Count > 0 ? _waiting[0] : null;
                if (job is null) continue;
                _waiting.RemoveAt(0);
                job.Status = JobStatus.Running;
                job.Cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                job.Iteration = 0;
                job.Loss = null;
                job.Error = null;
                job.SecondsLeft = null;
                job.Stage = "";
                job.Curve.Clear();
                NotifyLocked(job);
                NotifyWaitingLocked();
            }
            _store.Save(job);
            Run(job, stopping);
        }
    }

    private void Run(StudioJob job, CancellationToken stopping)
    {
        string dir = JobDirectory(job.Id);
        string resultPath = Path.Combine(dir, ResultName);
        string? failure = null;
        bool cancelled = false;
        _info($"Job {job.Id} ({job.Method}) started.");
        try
        {
            if (!_methods.TryGetValue(job.Method, out IStudioMethod? method))
                throw new JobRejectedException($"This server has no method '{job.Method}'.");
            var work = new StudioJobWork
            {
                Id = job.Id,
                Options = job.Options,
                ContentPath = job.ContentFile is null ? null : Path.Combine(dir, job.ContentFile),
                StylePaths = job.StyleFiles.Select(f => Path.Combine(dir, f)).ToList(),
                MaskPath = job.MaskFile is null ? null : Path.Combine(dir, job.MaskFile),
                ResultPath = resultPath,
                DataDirectory = _options.DataDirectory,
                Report = r => OnProgress(job, r),
                Preview = img => OnPreview(job, img),
                Info = _info,
                Note = m => AddNote(job, m),
            };
            StudioJobOutcome outcome = method.Run(work, job.Cancel!.Token);
            failure = outcome.Failure;
            cancelled = outcome.Cancelled;
        }
        catch (OperationCanceledException) when (job.Cancel!.IsCancellationRequested)
        {
            cancelled = true;
        }
        catch (JobRejectedException e)
        {
            failure = e.Message;
        }
        catch (Exception e) when (e is ImageFormatException or IOException or UnauthorizedAccessException or OutOfMemoryException)
        {
            failure = e is OutOfMemoryException ? "Ran out of memory; try a smaller size." : e.Message;
        }
        catch (Exception e)
        {
            failure = $"internal error ({e.GetType().Name}: {e.Message}).";
        }
        lock (_lock)
        {
            job.Cancel?.Dispose();
            job.Cancel = null;
            job.SecondsLeft = null;
            if (stopping.IsCancellationRequested && !job.CancelRequested && failure is null)
            {
                // Shutdown, not the user's cancel: the job goes back to the queue for the next start.
                job.Status = JobStatus.Queued;
                job.Iteration = 0;
                job.ResultFile = null;
                TryDelete(resultPath);
                _info($"Job {job.Id} interrupted by shutdown; it will run again at the next start.");
            }
            else
            {
                job.Status = failure is not null ? JobStatus.Failed : cancelled ? JobStatus.Cancelled : JobStatus.Done;
                job.Error = failure;
                job.Finished = DateTimeOffset.UtcNow;
                job.ResultFile = File.Exists(resultPath) ? ResultName : null;
                _info($"Job {job.Id} {StudioJob.StatusName(job.Status)}{(failure is null ? "" : ": " + failure)}");
            }
            NotifyLocked(job);
        }
        _store.Save(job);
        job.Ended.TrySetResult();
    }

    public const string ResultName = "result.png";

    private void OnProgress(StudioJob job, ProgressRecord r)
    {
        lock (_lock)
        {
            job.Iteration = r.Step;
            job.Iterations = r.TotalSteps;
            job.Loss = double.IsFinite(r.Loss) ? r.Loss : null;
            job.Stage = r.Stage;
            job.Seconds = r.Seconds;
            job.SecondsLeft = r.Speed().Remaining?.TotalSeconds;
            // At most ~1000 points a curve: every k-th row of a long run.
            int stride = Math.Max(1, r.TotalSteps / 1000);
            if (double.IsFinite(r.Loss) && (r.Step % stride == 0 || r.Step == r.TotalSteps) && job.Curve.Count < 4 * StudioJob.MaxCurvePoints)
                job.Curve.Add((r.Step, r.Loss));
            NotifyLocked(job);
        }
    }

    private void AddNote(StudioJob job, string note)
    {
        _info($"Job {job.Id}: {note}");
        lock (_lock)
        {
            if (job.Notes.Count >= StudioJob.MaxNotes || job.Notes.Contains(note)) return;
            job.Notes = [.. job.Notes, note];
            NotifyLocked(job);
        }
        _store.Save(job);
    }

    private void OnPreview(StudioJob job, Image image)
    {
        using var png = new MemoryStream();
        PngEncoder.Encode(ImageIO.ToRgb(image), png, 8, CompressionLevel.Fastest);
        lock (_lock)
        {
            job.PreviewPng = png.ToArray();
            job.PreviewVersion++;
            NotifyLocked(job);
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A job as the API shows it.</summary>
public sealed record JobView(
    string Id, string Method, string Status, int Position, int Iteration, int Iterations, double? Loss, string? Error,
    double? SecondsLeft, string Stage, int PreviewVersion, bool HasResult, DateTimeOffset Created, DateTimeOffset? Finished,
    JsonElement Options, IReadOnlyList<string> Notes);
