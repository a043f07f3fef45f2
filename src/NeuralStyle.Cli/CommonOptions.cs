using System.Globalization;
using NeuralStyle.Core;
using NeuralStyle.Imaging;
using NeuralStyle.IO;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Cli;

/// <summary>
/// The option groups several commands share, each flag declared here once with its help and its binding; a command
/// lists the groups it takes plus its own options (<see cref="Command"/>). Binding a group also checks it, so a
/// mistake is reported before any work starts.
/// </summary>
public static class CommonOptions
{
    // ---- output image ------------------------------------------------------------------------------------------
    public static readonly OptionSpec Output = new("--output", Arity.One, "the result, .png or .jpg (format from the extension)", "PATH", "-o");
    public static readonly OptionSpec Quality = new("--quality", Arity.One, "JPEG quality 1-100 (default 95)", "N") { Binds = ["JpegQuality"] };
    public static readonly OptionSpec BitDepth = new("--bit-depth", Arity.One, "PNG sample depth, 8 or 16 (default 8)", "N");
    public static readonly OptionSpec[] OutputGroup = [Output, Quality, BitDepth];

    // ---- feature network ---------------------------------------------------------------------------------------
    public static readonly OptionSpec Model = new("--model", Arity.One, "vgg19 | vgg16 | resnet50 | resnet50-keras | random (the embedded random VGG-19)", "NAME");
    public static readonly OptionSpec Weights = new("--weights", Arity.One, "registry name (see 'weights list') or a .pth, .safetensors, Keras .h5, MatConvNet .mat or Caffe .caffemodel file", "NAME|PATH");
    public static readonly OptionSpec InputFlavor = new("--input-flavor", Arity.One, "caffe | torchvision | rgb255 (default: from the weights)", "NAME") { Binds = ["Flavor"] };
    public static readonly OptionSpec Pooling = new("--pooling", Arity.One, "max | avg pooling layers (default: the method's)", "KIND");
    public static readonly OptionSpec[] ModelGroup = [Model, Weights, InputFlavor, Pooling];

    // ---- image optimisation ------------------------------------------------------------------------------------
    public static readonly OptionSpec Iterations = new("--iterations", Arity.One, "optimiser iterations (a line search may evaluate more often); 0 writes the initial image", "N");
    public static readonly OptionSpec LbfgsHistory = new("--lbfgs-history", Arity.One, "L-BFGS history size", "N");
    public static readonly OptionSpec LineSearch = new("--line-search", Arity.Flag, "L-BFGS with a strong-Wolfe line search") { Binds = ["StrongWolfe"] };
    public static readonly OptionSpec Init = new("--init", Arity.One,
        "starting image: stylize random | noise | image | style | PATH; texture random | symmetric", "KIND") { Binds = ["Init", "InitPath"] };
    public static readonly OptionSpec Octaves = new("--octaves", Arity.One, "Gaussian pyramid levels (default 4)", "N") { Binds = ["Octaves", "StyleOctaves"] };
    public static readonly OptionSpec PreconditionLevels = new("--precondition-levels", Arity.One, "L-BFGS preconditioned over this many coarser image-pyramid levels (0: off)", "N");
    public static readonly OptionSpec[] OptimizerGroup = [Iterations, LbfgsHistory, LineSearch, PreconditionLevels];

    // ---- progress ----------------------------------------------------------------------------------------------
    public static readonly OptionSpec SaveEvery = new("--save-every", Arity.One, "also write out_0100.png-style intermediates every N steps (0: off)", "N");
    public static readonly OptionSpec PrintEvery = new("--print-every", Arity.One, "progress line every N steps when stderr is not a terminal", "N");
    public static readonly OptionSpec Log = new("--log", Arity.One, "write every step's loss terms as JSON lines", "PATH");
    public static readonly OptionSpec Plot = new("--plot", Arity.One, "write an SVG plot of the loss curves", "PATH");
    public static readonly OptionSpec[] ProgressGroup = [SaveEvery, PrintEvery, Log, Plot];

    // ---- training a network on a folder of photos (train, bank train, bank add-style) ---------------------------
    public static readonly OptionSpec Dataset = new("--dataset", Arity.One, "folder of training photos (.png/.jpg, searched recursively)", "DIR");
    public static readonly OptionSpec ImageSize = new("--image-size", Arity.One, "training crop: short side resized to N, centre-cropped (default 256)", "N");
    public static readonly OptionSpec BatchSize = new("--batch-size", Arity.One, "images per step (default 4)", "N");
    public static readonly OptionSpec Epochs = new("--epochs", Arity.One, "passes over the dataset (default 2)", "N");
    public static readonly OptionSpec Steps = new("--steps", Arity.One, "exact number of steps (instead of --epochs)", "N");
    public static readonly OptionSpec LearningRate = new("--learning-rate", Arity.One, "Adam learning rate (default 1e-3)", "F", "--lr");
    public static readonly OptionSpec CheckpointEvery = new("--checkpoint-every", Arity.One,
        "write OUT.ckpt.safetensors every N steps (default 2000; also at the end and on Ctrl-C)", "N");
    public static readonly OptionSpec Resume = new("--resume", Arity.One, "continue from a checkpoint (same network, dataset and batch size)", "CKPT") { Binds = ["ResumeFrom"] };
    public static readonly OptionSpec PreviewEvery = new("--preview-every", Arity.Many, "every N steps write the current model's output on IMAGE (OUT_preview_0100.png)", "N IMAGE");
    public static readonly OptionSpec[] TrainingGroup = [Dataset, ImageSize, BatchSize, Epochs, Steps, LearningRate, CheckpointEvery, Resume, PreviewEvery];

    // ---- the loss weights of a trained network (train, bank train, bank add-style) ------------------------------
    public static readonly OptionSpec ContentWeight = new("--content-weight", Arity.One, "weight of the content term (default: the command's, above)", "F");
    public static readonly OptionSpec StyleWeight = new("--style-weight", Arity.One, "weight of the style terms (default: the command's, above)", "F");
    public static readonly OptionSpec TvWeight = new("--tv-weight", Arity.One, "weight of the L1 total variation of the output (default: the command's, above)", "F");
    public static readonly OptionSpec StyleSize = new("--style-size", Arity.One, "resize the style images to N x N first (default: their own size)", "N");
    public static readonly OptionSpec[] TrainingLossGroup = [ContentWeight, StyleWeight, TvWeight, StyleSize];

    // ---- every run ---------------------------------------------------------------------------------------------
    public static readonly OptionSpec Seed = new("--seed", Arity.One, "random seed (reproducible runs)", "N");
    public static readonly OptionSpec Threads = new("--threads", Arity.One, "worker threads (default: all cores)", "N");
    public static readonly OptionSpec Help = new("--help", Arity.Flag, "show this help", null, "-h");
    public static readonly OptionSpec[] RunGroup = [Seed, Threads, Help];

    /// <summary>The groups the image-optimising commands (stylize, texture) share.</summary>
    public static IEnumerable<OptionSpec> All =>
        [.. OutputGroup, .. ModelGroup, .. OptimizerGroup, Init, Octaves, .. ProgressGroup, .. RunGroup];

    // ---- binding -----------------------------------------------------------------------------------------------

    /// <summary>-o and the image format options, checked (extension, bit depth, a writable folder).</summary>
    public static (string Path, SaveOptions Save) BindOutput(ParsedArgs a, string what)
    {
        string output = a.String(Output.Name) ?? throw new UsageException($"Missing -o/--output PATH ({what}).");
        string ext = Path.GetExtension(output).ToLowerInvariant();
        if (ext is not (".png" or ".jpg" or ".jpeg")) throw new UsageException($"The output '{output}' must end in .png, .jpg or .jpeg.");
        var save = new SaveOptions
        {
            JpegQuality = a.Int(Quality.Name, 1, 100) ?? 95,
            BitDepth = a.Int(BitDepth.Name, 8, 16) is { } bd ? (bd is 8 or 16 ? bd : throw new UsageException("Option --bit-depth must be 8 or 16.")) : 8,
        };
        if (save.BitDepth == 16 && ext != ".png") throw new UsageException("--bit-depth 16 needs a .png output.");
        return (output, save);
    }

    /// <summary>
    /// The one place where every file a run will write is checked before the run starts: the output (and its
    /// intermediates, in the same folder) must go to an existing, writable folder; --log and --plot may create theirs.
    /// </summary>
    public static void CheckWritable(ParsedArgs a, string output)
    {
        AtomicFile.EnsureWritable(output);
        if (a.String(Log.Name) is { } log) AtomicFile.EnsureWritable(log, createDirectory: true);
        if (a.String(Plot.Name) is { } plot) AtomicFile.EnsureWritable(plot, createDirectory: true);
    }

    /// <summary>The backbone options as given (null: not given).</summary>
    public static (string? Model, string? Weights, InputFlavor? Flavor, PoolingKind? Pooling) BindModel(ParsedArgs a)
    {
        string? model = null;
        if (a.String(Model.Name) is { } m)
        {
            model = m.ToLowerInvariant();
            if (model is not ("vgg19" or "vgg16" or "resnet50" or "resnet50-keras" or "random"))
                throw new UsageException($"Unknown --model '{m}'; use vgg19, vgg16, resnet50, resnet50-keras or random.");
        }
        InputFlavor? flavor = null;
        if (a.String(InputFlavor.Name) is { } f)
        {
            try { flavor = InputFlavors.Parse(f); }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
        }
        PoolingKind? pooling = a.Choice(Pooling.Name, new Dictionary<string, PoolingKind> { ["max"] = PoolingKind.Max, ["avg"] = PoolingKind.Avg });
        return (model, a.String(Weights.Name), flavor, pooling);
    }

    public static ulong? BindSeed(ParsedArgs a)
    {
        if (a.String(Seed.Name) is not { } seed) return null;
        return ulong.TryParse(seed, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong v)
            ? v : throw new UsageException($"Option --seed expects a non-negative whole number, got '{seed}'.");
    }

    /// <summary>The training group's values as given (null: not given; each command keeps its own defaults).</summary>
    public sealed record TrainingArgs(string? Dataset, int? ImageSize, int? BatchSize, int? Epochs, int? Steps, double? LearningRate,
        int? CheckpointEvery, string? Resume, int PreviewEvery, string? PreviewImage, double? ContentWeight, double? StyleWeight,
        double? TvWeight, int? StyleSize);

    /// <summary>The training and loss-weight groups, checked (ranges, --epochs with --steps, the preview photo).</summary>
    public static TrainingArgs BindTraining(ParsedArgs a)
    {
        if (a.Has(Epochs.Name) && a.Has(Steps.Name)) throw new UsageException("Give --epochs or --steps, not both.");
        double? lr = a.Double(LearningRate.Name, 0);
        if (lr is <= 0) throw new UsageException("Option --learning-rate must be positive.");
        int previewEvery = 0;
        string? previewImage = null;
        if (a.Strings(PreviewEvery.Name) is { } v)
        {
            if (v.Count != 2 || !int.TryParse(v[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out previewEvery) || previewEvery < 1)
                throw new UsageException("Option --preview-every takes a step count and a photo: --preview-every 100 photo.jpg.");
            if (!File.Exists(v[1])) throw new UsageException($"The preview photo '{v[1]}' does not exist.");
            previewImage = v[1];
        }
        return new TrainingArgs(a.String(Dataset.Name), a.Int(ImageSize.Name, 16, 8192), a.Int(BatchSize.Name, 1, 1024), a.Int(Epochs.Name, 1),
            a.Int(Steps.Name, 1), lr, a.Int(CheckpointEvery.Name, 0), a.String(Resume.Name), previewEvery, previewImage,
            a.Double(ContentWeight.Name, 0), a.Double(StyleWeight.Name, 0), a.Double(TvWeight.Name, 0), a.Int(StyleSize.Name, 16, 8192));
    }

    /// <summary>OUT.ckpt.safetensors next to a trained network OUT.</summary>
    public static string CheckpointPathFor(string output)
        => Path.Combine(Path.GetDirectoryName(output) ?? "", Path.GetFileNameWithoutExtension(output) + ".ckpt.safetensors");

    /// <summary>OUT_preview_0100.png next to a trained network OUT.</summary>
    public static string PreviewPath(string output, int step)
        => Path.Combine(Path.GetDirectoryName(output) ?? "", string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileNameWithoutExtension(output)}_preview_{step:0000}.png"));

    /// <summary>Sets the kernels' worker count when --threads is given.</summary>
    public static void ApplyThreads(ParsedArgs a)
    {
        if (a.Int(Threads.Name, 1, 256) is { } t) KernelThreading.MaxDegree = t;
    }
}
