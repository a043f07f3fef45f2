using System.Globalization;
using NeuralStyle.Core;
using NeuralStyle.FastStyle;
using NeuralStyle.Imaging;
using NeuralStyle.Models.Johnson;
using NeuralStyle.Weights;

namespace NeuralStyle.Cli;

/// <summary><c>neuralstyle train --style STYLE --dataset DIR -o MODEL</c>: trains a fast style-transfer network (spec §5).</summary>
public static class TrainCommand
{
    public static readonly OptionSpec Output = new("--output", Arity.One,
        "the trained network: .safetensors (default), .pth (PyTorch state dict) or .onnx", "PATH", "-o");

    /// <summary>The options only train has.</summary>
    public static readonly OptionSpec[] OwnOptions =
    [
        new("--style", Arity.One, "the style image", "IMAGE"),
        Output,
        new("--format", Arity.One, "safetensors | pth | onnx (default: from the extension of -o)", "FMT"),
        new("--arch", Arity.One, "johnson (default) | johnson-half (16/32/64 channels, ~4x faster)", "NAME") { Binds = ["Architecture"] },
        new("--pixel-weight", Arity.One, "pixel-space content term mean((y-x)^2)/mean(x^2) (default 0)", "F"),
    ];

    public static readonly (string Heading, OptionSpec[] Options)[] Sections =
    [
        ("Train", OwnOptions),
        ("Training", CommonOptions.TrainingGroup),
        ("Losses", CommonOptions.TrainingLossGroup),
        ("Loss network", CommonOptions.ModelGroup),
        ("Progress", [CommonOptions.PrintEvery, CommonOptions.Log, CommonOptions.Plot]),
        ("Run", CommonOptions.RunGroup),
    ];

    public static readonly OptionSpec[] Options = [.. Sections.SelectMany(s => s.Options)];

    public static int Run(string[] args, CliContext ctx)
    {
        ParsedArgs a = ParsedArgs.Parse("train", args, Options);
        if (a.Flag("--help"))
        {
            ctx.Out.Write(Help());
            return 0;
        }
        if (a.Positionals.Count > 0) throw new UsageException($"Unexpected argument '{a.Positionals[0]}'; run 'neuralstyle train --help'.");
        string stylePath = a.String("--style") ?? throw new UsageException("Missing --style IMAGE (the style to learn).");
        string datasetDir = a.String(CommonOptions.Dataset.Name) ?? throw new UsageException("Missing --dataset DIR (a folder of training photos).");
        string output = a.String(Output.Name) ?? throw new UsageException("Missing -o/--output PATH (where to write the trained network).");
        ModelFormat format = a.Choice("--format", new Dictionary<string, ModelFormat>
        {
            ["safetensors"] = ModelFormat.Safetensors, ["pth"] = ModelFormat.Pth, ["onnx"] = ModelFormat.Onnx,
        }) ?? ModelExport.FormatFor(output);
        CommonOptions.TrainingArgs t = CommonOptions.BindTraining(a);
        TrainOptions o = Bind(a, t, new TrainOptions());
        string? previewImage = t.PreviewImage;
        o.Validate();
        string checkpoint = CommonOptions.CheckpointPathFor(output);
        AtomicWritable(a, output, checkpoint);
        CommonOptions.ApplyThreads(a);

        // Everything that can be wrong with the inputs is found before any file is written.
        if (Directory.Exists(stylePath)) throw new UsageException($"--style '{stylePath}' is a folder; give one image.");
        Image style = ImageOps.LoadRgb(stylePath);
        Image? preview = previewImage is null ? null : ImageOps.LoadRgb(previewImage);
        ImageFolderDataset dataset = ImageFolderDataset.Scan(datasetDir);
        var loader = new BackboneLoader(new WeightCache(), entry => WeightsCommand.Download(entry, ctx)) { Info = m => ctx.Info(CommandSupport.Render(m)) };
        Backbone backbone = loader.Load(o.Model, o.Model == "random" ? o.Weights : o.Weights ?? DefaultWeightsFor(o.Model), o.Flavor,
            weightsExplicit: a.Has(CommonOptions.Weights.Name));
        bool random = loader.FellBack || o.Model == "random";
        if (random) o = o with { NormalizeTerms = true };
        var trainer = new FastStyleTrainer(o, backbone, style) { Info = m => ctx.Info(m) };
        int total = trainer.TotalSteps(dataset.Count);
        ctx.Info(FormattableString.Invariant(
            $"train: {o.Architecture} on {dataset.Count} images in '{datasetDir}', {o.ImageSize}² crops, batch {o.BatchSize}, {total} steps, ")
            + FormattableString.Invariant($"style {Path.GetFileName(stylePath)} {style.Width}×{style.Height}, loss network {backbone.Description}")
            + (random ? " (random weights: normalised losses, spec §7; expect a rough result)" : ""));

        var meta = new Dictionary<string, string> { ["style"] = Path.GetFileName(stylePath), ["loss_network"] = backbone.Description };
        TrainResult result = CommandSupport.RunWithProgress(a, ctx, o.PrintEvery, "train: loss", p => trainer.Progress = p, token =>
            trainer.Train(dataset, new TrainRun
            {
                CheckpointPath = checkpoint,
                ResumeFrom = t.Resume,
                SaveModel = net => ModelExport.Write(output, net, format, meta),
                Preview = preview is null ? null : (step, net) => WritePreview(net, preview, CommonOptions.PreviewPath(output, step)),
            }, token));
        if (result.SkippedImages > 0) ctx.Info($"{result.SkippedImages} of {dataset.Count} images were skipped (unreadable or too small).");
        if (result.Failure is not null)
        {
            ctx.Error($"{CommandSupport.Render(result.Failure)} Nothing was written after step {result.Steps - 1}.");
            return CliApp.ExitFailure;
        }
        if (result.Cancelled)
        {
            ctx.Info($"Interrupted after {result.Steps} of {total} steps; the model was written to {output} and the checkpoint to {checkpoint} (continue with --resume).");
            return CliApp.ExitInterrupted;
        }
        ctx.Info(string.Create(CultureInfo.InvariantCulture, $"Wrote {output} ({result.Steps} steps in {result.Seconds:F1} s; checkpoint {checkpoint})."));
        return CliApp.ExitOk;
    }

    /// <summary>The registry weights of a loss network when none are named: torchvision's, as pytorch/examples uses.</summary>
    private static string? DefaultWeightsFor(string model) => model == "vgg16" ? TrainOptions.DefaultWeights : null;

    private static void AtomicWritable(ParsedArgs a, string output, string checkpoint)
    {
        CommonOptions.CheckWritable(a, output);
        NeuralStyle.IO.AtomicFile.EnsureWritable(checkpoint);
    }

    private static void WritePreview(TransformerNet net, Image photo, string path)
    {
        float[] rgb = ImageTensors.Rgb(photo);
        for (int i = 0; i < rgb.Length; i++) rgb[i] *= 255f;
        float[] y = net.Stylize(rgb, photo.Height, photo.Width);
        for (int i = 0; i < y.Length; i++) y[i] /= 255f;
        ImageIO.Save(ImageTensors.FromRgb(y, photo.Width, photo.Height), path);
    }

    public static TrainOptions Bind(ParsedArgs a, CommonOptions.TrainingArgs t, TrainOptions o)
    {
        if (a.String("--arch") is { } arch)
        {
            if (TransformerArchitecture.Find(arch.ToLowerInvariant()) is null) throw new UsageException($"Unknown --arch '{arch}'; use johnson or johnson-half.");
            o = o with { Architecture = arch.ToLowerInvariant() };
        }
        if (t.ImageSize is { } size) o = o with { ImageSize = size };
        if (t.BatchSize is { } bs) o = o with { BatchSize = bs };
        if (t.Epochs is { } ep) o = o with { Epochs = ep };
        if (t.Steps is { } st) o = o with { Steps = st };
        if (t.LearningRate is { } lr) o = o with { LearningRate = lr };
        if (t.ContentWeight is { } cw) o = o with { ContentWeight = cw };
        if (t.StyleWeight is { } sw) o = o with { StyleWeight = sw };
        if (t.TvWeight is { } tv) o = o with { TvWeight = tv };
        if (a.Double("--pixel-weight", 0) is { } pw) o = o with { PixelWeight = pw };
        if (t.StyleSize is { } ss) o = o with { StyleSize = ss };
        if (t.CheckpointEvery is { } ce) o = o with { CheckpointEvery = ce };
        o = o with { PreviewEvery = t.PreviewEvery };
        if (a.Int("--print-every", 0) is { } pe) o = o with { PrintEvery = pe };
        if (CommonOptions.BindSeed(a) is { } seed) o = o with { Seed = seed };
        (string? model, string? weights, Models.InputFlavor? flavor, Models.Vgg.PoolingKind? pool) = CommonOptions.BindModel(a);
        if (model is not null) o = o with { Model = model };
        if (weights is not null) o = o with { Weights = weights };
        if (flavor is not null) o = o with { Flavor = flavor };
        if (pool is { } p) o = o with { Pooling = p };
        return o;
    }

    public static string Help() => CommandSupport.Help("Usage: neuralstyle train --style IMAGE --dataset DIR -o MODEL [options]",
        "Trains a fast style-transfer network (Johnson et al. 2016, pytorch/examples' recipe) for one style; apply it\n" +
        "to photos afterwards in one pass. Loss weights default to content 1e5, style 1e10, TV 0 (with the random\n" +
        "network: 1, 10, 0). Offline (no VGG-16 weights) the embedded random network is used with\n" +
        "normalised losses: that works only roughly (see README).", Sections);
}
