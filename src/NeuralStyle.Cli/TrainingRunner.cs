using System.Globalization;
using NeuralStyle.Core;
using NeuralStyle.Imaging;
using NeuralStyle.Weights;

namespace NeuralStyle.Cli;

/// <summary>
/// The plumbing every training command shares (train, bank train, bank add-style), held once: the option sections,
/// the shared settings bound from the flags, the outputs checked before any work, the dataset / preview photo / loss
/// network loaded, the run wired to progress, log and plot, and its end reported with the exit code.
/// </summary>
internal static class TrainingRunner
{
    /// <summary>A training command's help sections: its own options, then the shared training groups.</summary>
    public static (string Heading, OptionSpec[] Options)[] Sections(string heading, OptionSpec[] own) =>
    [
        (heading, own),
        ("Training", CommonOptions.TrainingGroup),
        ("Losses", CommonOptions.TrainingLossGroup),
        ("Loss network", CommonOptions.ModelGroup),
        ("Progress", [CommonOptions.PrintEvery, CommonOptions.Log, CommonOptions.Plot]),
        ("Run", CommonOptions.RunGroup),
    ];

    /// <summary>The settings every trainer shares, from the flags given (the others keep <paramref name="o"/>'s values).</summary>
    public static T Bind<T>(ParsedArgs a, CommonOptions.TrainingArgs t, T o) where T : TrainingSettings
    {
        TrainingSettings s = o; // `with` on the base record keeps the derived type and its own settings
        if (t.ImageSize is { } size) s = s with { ImageSize = size };
        if (t.BatchSize is { } bs) s = s with { BatchSize = bs };
        if (t.Epochs is { } ep) s = s with { Epochs = ep };
        if (t.Steps is { } st) s = s with { Steps = st };
        if (t.LearningRate is { } lr) s = s with { LearningRate = lr };
        if (t.TvWeight is { } tv) s = s with { TvWeight = tv };
        if (t.StyleSize is { } ss) s = s with { StyleSize = ss };
        if (t.CheckpointEvery is { } ce) s = s with { CheckpointEvery = ce };
        s = s with { PreviewEvery = t.PreviewEvery };
        if (a.Int(CommonOptions.PrintEvery.Name, 0) is { } pe) s = s with { PrintEvery = pe };
        if (CommonOptions.BindSeed(a) is { } seed) s = s with { Seed = seed };
        (string? model, string? weights, Models.InputFlavor? flavor, _) = CommonOptions.BindModel(a);
        if (model is not null) s = s with { Model = model };
        if (weights is not null) s = s with { Weights = weights };
        if (flavor is not null) s = s with { Flavor = flavor };
        return (T)s;
    }

    /// <summary>
    /// Checks, before any work, that the output, its checkpoint (returned: OUT.ckpt.safetensors), the log and the plot
    /// can be written, and applies --threads.
    /// </summary>
    public static string PrepareOutputs(ParsedArgs a, string output)
    {
        string checkpoint = CommonOptions.CheckpointPathFor(output);
        CommonOptions.CheckWritable(a, output);
        IO.AtomicFile.EnsureWritable(checkpoint);
        CommonOptions.ApplyThreads(a);
        return checkpoint;
    }

    /// <summary>What a run trains on.</summary>
    /// <param name="Random">The loss network is the embedded random one (asked for, or fallen back to offline).</param>
    public sealed record Inputs(Image? Preview, ImageFolderDataset Dataset, Backbone Backbone, bool Random);

    /// <summary>Loads the preview photo, scans the dataset and loads the loss network (downloading its weights if needed).</summary>
    public static Inputs Load(ParsedArgs a, CliContext ctx, CommonOptions.TrainingArgs t, string datasetDir, TrainingSettings o)
    {
        Image? preview = t.PreviewImage is null ? null : ImageOps.LoadRgb(t.PreviewImage);
        ImageFolderDataset dataset = ImageFolderDataset.Scan(datasetDir);
        var loader = new BackboneLoader(new WeightCache(), entry => WeightsCommand.Download(entry, ctx)) { Info = m => ctx.Info(CommandSupport.Render(m)) };
        Backbone backbone = loader.Load(o.Model, o.WeightsToLoad, o.Flavor, weightsExplicit: a.Has(CommonOptions.Weights.Name));
        return new Inputs(preview, dataset, backbone, loader.FellBack || o.Model == "random");
    }

    /// <summary>
    /// Reports how a run ended and returns the exit code: skipped images, a failure (1), an interruption (130: the
    /// <paramref name="what"/> and the checkpoint were written), or success with <paramref name="wrote"/>.
    /// </summary>
    public static int Report<TStep>(CliContext ctx, TrainingOutcome<TStep> result, int imageCount, int total, string what, string output,
        string checkpoint, string wrote) where TStep : class, ITrainingStep
    {
        if (result.SkippedImages > 0) ctx.Info($"{result.SkippedImages} of {imageCount} images were skipped (unreadable or too small).");
        if (result.Failure is not null)
        {
            ctx.Error($"{CommandSupport.Render(result.Failure)} Nothing was written after step {result.Steps - 1}.");
            return CliApp.ExitFailure;
        }
        if (result.Cancelled)
        {
            ctx.Info($"Interrupted after {result.Steps} of {total} steps; the {what} was written to {output} and the checkpoint to {checkpoint} (continue with --resume).");
            return CliApp.ExitInterrupted;
        }
        ctx.Info(string.Create(CultureInfo.InvariantCulture, $"Wrote {output} ({wrote}{result.Steps} steps in {result.Seconds:F1} s; checkpoint {checkpoint})."));
        return CliApp.ExitOk;
    }
}
