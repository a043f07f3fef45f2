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
        new("--dataset", Arity.One, "folder of training photos (.png/.jpg, searched recursively)", "DIR"),
        Output,
        new("--format", Arity.One, "safetensors | pth | onnx (default: from the extension of -o)", "FMT"),
        new("--arch", Arity.One, "johnson (default) | johnson-half (16/32/64 channels, ~4x faster)", "NAME") { Binds = ["Architecture"] },
        new("--image-size", Arity.One, "training crop: short side resized to N, centre-cropped (default 256)", "N"),
        new("--batch-size", Arity.One, "images per step (default 4)", "N"),
        new("--epochs", Arity.One, "passes over the dataset (default 2)", "N"),
        new("--steps", Arity.One, "exact number of steps (instead of --epochs)", "N"),
        new("--learning-rate", Arity.One, "Adam learning rate (default 1e-3)", "F", "--lr"),
        new("--content-weight", Arity.One, "default 1e5 (1 with the random network)", "F"),
        new("--style-weight", Arity.One, "default 1e10 (10 with the random network)", "F"),
        new("--tv-weight", Arity.One, "L1 total variation of the output (default 0)", "F"),
        new("--pixel-weight", Arity.One, "pixel-space content term mean((y-x)^2)/mean(x^2) (default 0)", "F"),
        new("--style-size", Arity.One, "resize the style image to N x N first (default: its own size)", "N"),
        new("--checkpoint-every", Arity.One, "write MODEL.ckpt.safetensors every N steps (default 2000; also at the end and on Ctrl-C)", "N"),
        new("--resume", Arity.One, "continue from a checkpoint (same network, dataset and batch size)", "CKPT") { Binds = ["ResumeFrom"] },
        new("--preview-every", Arity.Many, "every N steps write the current model's output on IMAGE (MODEL_preview_0100.png)", "N IMAGE"),
    ];

    public static readonly (string Heading, OptionSpec[] Options)[] Sections =
    [
        ("Train", OwnOptions),
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
        string datasetDir = a.String("--dataset") ?? throw new UsageException("Missing --dataset DIR (a folder of training photos).");
        string output = a.String(Output.Name) ?? throw new UsageException("Missing -o/--output PATH (where to write the trained network).");
        ModelFormat format = a.Choice("--format", new Dictionary<string, ModelFormat>
        {
            ["safetensors"] = ModelFormat.Safetensors, ["pth"] = ModelFormat.Pth, ["onnx"] = ModelFormat.Onnx,
        }) ?? ModelExport.FormatFor(output);
        TrainOptions o = Bind(a, new TrainOptions());
        (int previewEvery, string? previewImage) = BindPreview(a);
        o = o with { PreviewEvery = previewEvery };
        o.Validate();
        string checkpoint = CheckpointPathFor(output);
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
                ResumeFrom = a.String("--resume"),
                SaveModel = net => ModelExport.Write(output, net, format, meta),
                Preview = preview is null ? null : (step, net) => WritePreview(net, preview, PreviewPath(output, step)),
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

    /// <summary>MODEL.ckpt.safetensors next to the model.</summary>
    public static string CheckpointPathFor(string output)
        => Path.Combine(Path.GetDirectoryName(output) ?? "", Path.GetFileNameWithoutExtension(output) + ".ckpt.safetensors");

    public static string PreviewPath(string output, int step)
        => Path.Combine(Path.GetDirectoryName(output) ?? "", string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileNameWithoutExtension(output)}_preview_{step:0000}.png"));

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

    private static (int Every, string? Image) BindPreview(ParsedArgs a)
    {
        if (a.Strings("--preview-every") is not { } v) return (0, null);
        if (v.Count != 2 || !int.TryParse(v[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < 1)
            throw new UsageException("Option --preview-every takes a step count and a photo: --preview-every 100 photo.jpg.");
        if (!File.Exists(v[1])) throw new UsageException($"The preview photo '{v[1]}' does not exist.");
        return (n, v[1]);
    }

    public static TrainOptions Bind(ParsedArgs a, TrainOptions o)
    {
        if (a.String("--arch") is { } arch)
        {
            if (TransformerArchitecture.Find(arch.ToLowerInvariant()) is null) throw new UsageException($"Unknown --arch '{arch}'; use johnson or johnson-half.");
            o = o with { Architecture = arch.ToLowerInvariant() };
        }
        if (a.Int("--image-size", 16, 8192) is { } size) o = o with { ImageSize = size };
        if (a.Int("--batch-size", 1, 1024) is { } bs) o = o with { BatchSize = bs };
        if (a.Has("--epochs") && a.Has("--steps")) throw new UsageException("Give --epochs or --steps, not both.");
        if (a.Int("--epochs", 1) is { } ep) o = o with { Epochs = ep };
        if (a.Int("--steps", 1) is { } st) o = o with { Steps = st };
        if (a.Double("--learning-rate", 0) is { } lr)
        {
            if (lr <= 0) throw new UsageException("Option --learning-rate must be positive.");
            o = o with { LearningRate = lr };
        }
        if (a.Double("--content-weight", 0) is { } cw) o = o with { ContentWeight = cw };
        if (a.Double("--style-weight", 0) is { } sw) o = o with { StyleWeight = sw };
        if (a.Double("--tv-weight", 0) is { } tv) o = o with { TvWeight = tv };
        if (a.Double("--pixel-weight", 0) is { } pw) o = o with { PixelWeight = pw };
        if (a.Int("--style-size", 16, 8192) is { } ss) o = o with { StyleSize = ss };
        if (a.Int("--checkpoint-every", 0) is { } ce) o = o with { CheckpointEvery = ce };
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
        "to photos afterwards in one pass. Offline (no VGG-16 weights) the embedded random network is used with\n" +
        "normalised losses: that works only roughly (see README).", Sections);
}
