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
    public static readonly OptionSpec[] OptimizerGroup = [Iterations, LbfgsHistory, LineSearch];

    // ---- progress ----------------------------------------------------------------------------------------------
    public static readonly OptionSpec SaveEvery = new("--save-every", Arity.One, "also write out_0100.png-style intermediates every N steps (0: off)", "N");
    public static readonly OptionSpec PrintEvery = new("--print-every", Arity.One, "progress line every N steps when stderr is not a terminal", "N");
    public static readonly OptionSpec Log = new("--log", Arity.One, "write every step's loss terms as JSON lines", "PATH");
    public static readonly OptionSpec Plot = new("--plot", Arity.One, "write an SVG plot of the loss curves", "PATH");
    public static readonly OptionSpec[] ProgressGroup = [SaveEvery, PrintEvery, Log, Plot];

    // ---- every run ---------------------------------------------------------------------------------------------
    public static readonly OptionSpec Seed = new("--seed", Arity.One, "random seed (reproducible runs)", "N");
    public static readonly OptionSpec Threads = new("--threads", Arity.One, "worker threads (default: all cores)", "N");
    public static readonly OptionSpec Help = new("--help", Arity.Flag, "show this help", null, "-h");
    public static readonly OptionSpec[] RunGroup = [Seed, Threads, Help];

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

    /// <summary>Sets the kernels' worker count when --threads is given.</summary>
    public static void ApplyThreads(ParsedArgs a)
    {
        if (a.Int(Threads.Name, 1, 256) is { } t) KernelThreading.MaxDegree = t;
    }
}
