using System.Diagnostics;
using System.Globalization;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Training;

namespace NeuralStyle.Core;

/// <summary>What every trainer's step reports: the loss of its forward pass and every named term.</summary>
public interface ITrainingStep
{
    double Loss { get; }
    IReadOnlyDictionary<string, double> Terms { get; }
}

/// <summary>Where a training run writes and what it calls back (all optional); each trainer names its own kind.</summary>
public abstract record TrainingRun<TNet>
{
    /// <summary>The checkpoint written every CheckpointEvery steps, at the end and on interruption.</summary>
    public string? CheckpointPath { get; init; }
    /// <summary>A checkpoint to continue from (loaded, and checked, before any step).</summary>
    public string? ResumeFrom { get; init; }
    /// <summary>Writes the model; called at the end and on interruption.</summary>
    public Action<TNet>? SaveModel { get; init; }
    /// <summary>Called every PreviewEvery steps with the step and the current network.</summary>
    public Action<int, TNet>? Preview { get; init; }
}

/// <summary>How a training run ended: the steps done (including those before a resume), the failure that stopped it if any, the last step's losses.</summary>
public record TrainingOutcome<TStep>(int Steps, double Seconds, bool Cancelled, string? Failure, TStep? Last, int SkippedImages)
    where TStep : class, ITrainingStep;

/// <summary>
/// The loop every feed-forward style trainer runs over a dataset: the seeded data order (restored on resume),
/// batches decoded ahead, one progress row per step (epoch, batch, rate), a checkpoint every
/// <see cref="TrainingSettings.CheckpointEvery"/> steps, previews, a non-finite loss stopping the run, and — finished
/// or cancelled — the last checkpoint and the model written before it returns. The trainer supplies the step and what
/// its checkpoints hold.
/// </summary>
internal sealed class TrainingLoop<TStep> where TStep : class, ITrainingStep
{
    public required TrainingSettings Settings { get; init; }
    /// <summary>One optimiser step on a batch (BatchSize×ImageSize×ImageSize×3 RGB 0–255).</summary>
    public required Func<float[], TStep> Step { get; init; }
    /// <summary>Steps done so far (read after a resume).</summary>
    public required Func<long> StepsDone { get; init; }
    /// <summary>Loads a checkpoint into the trainer and the data order (rng, order), checking it first.</summary>
    public required Action<string, Rng, ShuffledOrder> LoadCheckpoint { get; init; }
    /// <summary>Writes a checkpoint with the data order as it stood right after the last consumed batch.</summary>
    public required Action<string, Rng, ShuffledOrder> SaveCheckpoint { get; init; }
    /// <summary>The learning rate a step used (for its progress row).</summary>
    public required Func<TStep, double> LearningRate { get; init; }
    /// <summary>The progress row's stage of a step; null: none.</summary>
    public Func<TStep, string>? Stage { get; init; }
    /// <summary>Called once a run ends without failure, before the checkpoint and the model are written.</summary>
    public Action? Finishing { get; init; }
    public Action<ProgressRecord>? Progress { get; init; }
    public Action<string>? Info { get; init; }

    /// <summary>Trains <paramref name="network"/> (the trainer's, which <see cref="Step"/> updates) as <paramref name="run"/> says.</summary>
    public TrainingOutcome<TStep> Run<TNet>(ImageFolderDataset data, TrainingRun<TNet> run, TNet network, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(run);
        (string? checkpointPath, string? resumeFrom) = (run.CheckpointPath, run.ResumeFrom);
        TrainingSettings o = Settings;
        var rng = new Rng(o.Seed);
        var order = new ShuffledOrder(data.Count, rng);
        if (resumeFrom is not null) LoadCheckpoint(resumeFrom, rng, order);
        int total = o.TotalSteps(data.Count), perEpoch = o.StepsPerEpoch(data.Count);
        int step = checked((int)StepsDone());
        data.Warn = m => Info?.Invoke(m);
        var clock = Stopwatch.StartNew();
        var recent = new Queue<double>();
        TStep? last = null;
        Batch? lastBatch = null;
        string? failure = null;
        using (var feeder = new BatchFeeder(data, order, o.BatchSize, o.ImageSize))
        {
            while (step < total && !token.IsCancellationRequested)
            {
                double t0 = clock.Elapsed.TotalSeconds;
                Batch batch = feeder.Take();
                TStep r = Step(batch.Pixels);
                step++;
                lastBatch = batch;
                if (!double.IsFinite(r.Loss))
                {
                    failure = string.Create(CultureInfo.InvariantCulture,
                        $"The loss became {r.Loss} at step {step}; lower {{LearningRate}} or the loss weights.");
                    break;
                }
                last = r;
                double dt = clock.Elapsed.TotalSeconds - t0;
                recent.Enqueue(dt);
                if (recent.Count > 10) recent.Dequeue();
                Progress?.Invoke(new ProgressRecord(step, total, clock.Elapsed.TotalSeconds, r.Loss, r.Terms)
                {
                    Stage = Stage?.Invoke(r) ?? "",
                    Epoch = (step - 1) / perEpoch + 1,
                    TotalEpochs = (total + perEpoch - 1) / perEpoch,
                    Batch = (step - 1) % perEpoch + 1,
                    TotalBatches = perEpoch,
                    LearningRate = LearningRate(r),
                    ImagesPerSecond = o.BatchSize * recent.Count / recent.Sum(),
                });
                if (o.CheckpointEvery > 0 && step % o.CheckpointEvery == 0 && step < total) Save(checkpointPath, data, batch);
                if (o.PreviewEvery > 0 && step % o.PreviewEvery == 0) run.Preview?.Invoke(step, network);
            }
        }
        if (failure is null)
        {
            Finishing?.Invoke();
            if (lastBatch is not null) Save(checkpointPath, data, lastBatch);
            run.SaveModel?.Invoke(network);
        }
        return new TrainingOutcome<TStep>(step, clock.Elapsed.TotalSeconds, token.IsCancellationRequested && step < total, failure, last, data.Skipped);
    }

    private void Save(string? path, ImageFolderDataset data, Batch after)
    {
        if (path is null) return;
        // The producer has read ahead: save the order as it stood right after the last consumed batch.
        var rng = new Rng(after.RngAfter);
        var order = new ShuffledOrder(data.Count, rng);
        order.ImportPosition(after.PositionAfter);
        SaveCheckpoint(path, rng, order);
    }
}
