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

    public static readonly (string Heading, OptionSpec[] Options)[] Sections = TrainingRunner.Sections("Train", OwnOptions);

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
        o.Validate();
        string checkpoint = TrainingRunner.PrepareOutputs(a, output);

        // Everything that can be wrong with the inputs is found before any file is written.
        if (Directory.Exists(stylePath)) throw new UsageException($"--style '{stylePath}' is a folder; give one image.");
        Image style = ImageOps.LoadRgb(stylePath);
        (Image? preview, ImageFolderDataset dataset, Backbone backbone, bool random) = TrainingRunner.Load(a, ctx, t, datasetDir, o);
        if (random) o = o with { NormalizeTerms = true };
        var trainer = new FastStyleTrainer(o, backbone, style) { Info = m => ctx.Info(CommandSupport.Render(m)) };
        int total = trainer.TotalSteps(dataset.Count);
        ctx.Info(FormattableString.Invariant(
            $"train: {o.Architecture} on {dataset.Count} images in '{datasetDir}', {o.ImageSize}² crops, batch {o.BatchSize}, {total} steps, ")
            + FormattableString.Invariant($"style {Path.GetFileName(stylePath)} {style.Width}×{style.Height}, loss network {backbone.Description}")
            + (random ? " (random weights: normalised losses; expect a rough result)" : ""));

        var meta = new Dictionary<string, string> { ["style"] = Path.GetFileName(stylePath), ["loss_network"] = backbone.Description };
        TrainResult result = CommandSupport.RunWithProgress(a, ctx, o.PrintEvery, "train: loss", p => trainer.Progress = p, token =>
            trainer.Train(dataset, new TrainRun
            {
                CheckpointPath = checkpoint,
                ResumeFrom = t.Resume,
                SaveModel = net => ModelExport.Write(output, net, format, meta),
                Preview = preview is null ? null : (step, net) => WritePreview(net, preview, CommonOptions.PreviewPath(output, step)),
            }, token));
        return TrainingRunner.Report(ctx, result, dataset.Count, total, "model", output, checkpoint, "");
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
        o = TrainingRunner.Bind(a, t, o);
        if (t.ContentWeight is { } cw) o = o with { ContentWeight = cw };
        if (t.StyleWeight is { } sw) o = o with { StyleWeight = sw };
        if (a.Double("--pixel-weight", 0) is { } pw) o = o with { PixelWeight = pw };
        if (CommonOptions.BindModel(a).Pooling is { } p) o = o with { Pooling = p };
        return o;
    }

    public static string Help() => CommandSupport.Help("Usage: neuralstyle train --style IMAGE --dataset DIR -o MODEL [options]",
        "Trains a fast style-transfer network (Johnson et al. 2016, pytorch/examples' recipe) for one style; apply it\n" +
        "to photos afterwards in one pass. Loss weights default to content 1e5, style 1e10, TV 0 (with the random\n" +
        "network: 1, 10, 0). Offline (no VGG-16 weights) the embedded random network is used with\n" +
        "normalised losses: that works only roughly (see README).", Sections);
}
