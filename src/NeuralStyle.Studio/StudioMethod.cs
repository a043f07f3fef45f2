using System.Text.Json;
using NeuralStyle.Core;
using NeuralStyle.Imaging;

namespace NeuralStyle.Studio;

/// <summary>
/// A method the studio can run (the seam between HTTP and the method libraries). The studio handles uploads, the
/// queue, storage and progress; an implementation turns a job's options (a JSON object whose keys are the command
/// line's option names without dashes) into the method's own options and runs it. Implementations are supplied by
/// the host (the command line, which owns the option declarations), so both front ends bind options the same way;
/// the methods themselves know nothing of HTTP.
/// </summary>
public interface IStudioMethod
{
    /// <summary>The value of the <c>method</c> form field, e.g. <c>stylize</c>.</summary>
    string Name { get; }

    /// <summary>Which images the method takes.</summary>
    MethodInputs Inputs { get; }

    /// <summary>The option keys accepted (flag names without the leading dashes), for the page and the API document.</summary>
    IReadOnlyList<string> OptionKeys { get; }

    /// <summary>
    /// Checks the options before the job is queued (cheap: no image, no network is loaded; a model file's header may
    /// be read) and throws <see cref="JobRejectedException"/> with one sentence for a mistake.
    /// </summary>
    void Validate(JobRequest request);

    /// <summary>
    /// Runs the job to its end or to cancellation, writing the result to <see cref="StudioJobWork.ResultPath"/>
    /// atomically. A failure the user can act on is returned (or thrown as <see cref="JobRejectedException"/>).
    /// </summary>
    StudioJobOutcome Run(StudioJobWork work, CancellationToken cancel);
}

/// <summary>
/// The images a method takes: a content image (required or not), how many style images, and whether it accepts a
/// region mask (a PNG in the file field <c>mask</c>; which options it goes with is the method's to check).
/// </summary>
public sealed record MethodInputs(bool Content, int MinStyles, int MaxStyles, bool Mask = false);

/// <summary>What a submission carries, for <see cref="IStudioMethod.Validate"/>: its options, how many style images,
/// whether a mask, and the server's data folder (DATA/models holds the models a job may name).</summary>
public sealed record JobRequest(JsonElement Options, int StyleCount, bool HasMask, string DataDirectory);

/// <summary>What a running job is given: its inputs on disk, where its result goes, and where to report.</summary>
public sealed class StudioJobWork
{
    public required string Id { get; init; }
    public required JsonElement Options { get; init; }
    public string? ContentPath { get; init; }
    public required IReadOnlyList<string> StylePaths { get; init; }

    /// <summary>The uploaded region mask (PNG), or null.</summary>
    public string? MaskPath { get; init; }

    /// <summary>The result image (.png); write it only through AtomicFile/ImageIO so no half-written file remains.</summary>
    public required string ResultPath { get; init; }

    /// <summary>The server's data folder (e.g. DATA/models holds fast-style networks the page may pick by name).</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Every progress row the method emits (the same record the CLI's bar, log and plot read).</summary>
    public required Action<ProgressRecord> Report { get; init; }

    /// <summary>The current image, shown in the page while the job runs.</summary>
    public required Action<Image> Preview { get; init; }

    /// <summary>A line for the server's console only (e.g. a download's progress).</summary>
    public Action<string> Info { get; init; } = _ => { };

    /// <summary>A sentence for the job's submitter, shown with the job (e.g. a mask warning or a fallback to the random
    /// network); the console gets it too.</summary>
    public Action<string> Note { get; init; } = _ => { };
}

/// <summary>How a job ended: <paramref name="Failure"/> is one sentence, or null.</summary>
public sealed record StudioJobOutcome(bool Cancelled, string? Failure, int Iterations);

/// <summary>A request or a job the studio refuses, with the one sentence the user sees (HTTP 400 / a failed job).</summary>
public sealed class JobRejectedException(string message, Exception? inner = null) : Exception(message, inner);
