using System.Globalization;
using NeuralStyle.Core;
using NeuralStyle.FastStyle;
using NeuralStyle.Imaging;
using NeuralStyle.Models.StyleBank;
using NeuralStyle.Weights;

namespace NeuralStyle.Cli;

/// <summary><c>neuralstyle apply --model MODEL INPUT… -o OUTPUT</c>: a trained fast-style network over images (spec §5).</summary>
public static class ApplyCommand
{
    public static readonly OptionSpec ModelOption = new("--model", Arity.One,
        "registry name (candy, mosaic, rain-princess, udnie, *-onnx), a .onnx/.pth/.safetensors TransformerNet, or a StyleBank", "MODEL");

    public static readonly OptionSpec[] OwnOptions =
    [
        ModelOption,
        new("--size", Arity.One, "long edge of the outputs (default: each input's size)", "N"),
        new("--content-scale", Arity.One, "scale the inputs by this factor first (default 1)", "F"),
        new("--original-colors", Arity.Flag, "keep the inputs' colours (luminance of the result, chroma of the input)"),
        new("--tile", Arity.One, "stylise in overlapping N-pixel tiles (bounded memory for large images)", "N"),
        new("--temporal", Arity.Flag, "video frames: keep the previous output where the input did not change"),
        new("--shard", Arity.One, "process files K, K+N, K+2N, ... of the sorted list (0 <= K < N)", "K/N") { Binds = ["Shard", "ShardIndex", "ShardCount"] },
        new("--skip-existing", Arity.Flag, "leave outputs that exist untouched (resume a batch)"),
    ];

    public static readonly (string Heading, OptionSpec[] Options)[] Sections =
    [
        ("Apply", OwnOptions),
        ("StyleBank (when MODEL is a bank: exactly one of --style, --blend, --regions, --reconstruct)", BankApplyOptions.Group),
        ("Output", CommonOptions.OutputGroup),
        ("Progress", [CommonOptions.PrintEvery, CommonOptions.Log]),
        ("Run", [CommonOptions.Threads, CommonOptions.Help]),
    ];

    public static readonly OptionSpec[] Options = [.. Sections.SelectMany(s => s.Options)];

    public static int Run(string[] args, CliContext ctx)
    {
        ParsedArgs a = ParsedArgs.Parse("apply", args, Options);
        if (a.Flag("--help"))
        {
            ctx.Out.Write(Help());
            return 0;
        }
        string model = a.String(ModelOption.Name) ?? throw new UsageException("Missing --model MODEL (a registry name such as mosaic, or a .onnx/.pth/.safetensors file).");
        if (a.Positionals.Count == 0) throw new UsageException("Give one or more input images or folders: neuralstyle apply --model MODEL INPUT… -o OUTPUT.");
        string output = a.String(CommonOptions.Output.Name) ?? throw new UsageException("Missing -o/--output (a folder, or an image path for a single input).");
        ApplyOptions o = Bind(a);
        foreach (string input in a.Positionals)
            if (!File.Exists(input) && !Directory.Exists(input)) throw new UsageException($"The input '{input}' does not exist.");
        // A StyleBank needs to be told which style (or blend, regions, reconstruction); the bank's styles are read
        // from its header, so a wrong name is answered before any output folder is made.
        BankApplyOptions.Selection? bank = null;
        if (File.Exists(model) && StyleBankFile.IsStyleBank(model))
            bank = BankApplyOptions.Bind(a, model, StyleBankFile.ReadInfo(model).Styles.Select(s => s.Name).ToList());
        else if (BankApplyOptions.AnyGiven(a))
        {
            string flag = BankApplyOptions.Group.First(s => a.Has(s.Name)).Name;
            throw new UsageException($"Option {flag} is for StyleBank models, and '{model}' is not one (see 'neuralstyle bank').");
        }

        bool singleFile = a.Positionals.Count == 1 && File.Exists(a.Positionals[0]) && Path.GetExtension(output).ToLowerInvariant() is ".png" or ".jpg" or ".jpeg";
        bool createdOutput = false;
        if (!singleFile)
        {
            if (File.Exists(output)) throw new UsageException($"The output '{output}' is a file; give a folder for several inputs.");
            createdOutput = !Directory.Exists(output);
            Directory.CreateDirectory(output);
        }
        List<ApplyJob> jobs = FastStyleApplier.Plan(a.Positionals, output, o);
        foreach (ApplyJob j in jobs)
        {
            string ext = Path.GetExtension(j.Output).ToLowerInvariant();
            if (o.Save.BitDepth == 16 && ext != ".png") throw new UsageException($"--bit-depth 16 needs .png outputs, and '{Path.GetFileName(j.Output)}' is {ext}.");
            if (Path.GetFullPath(j.Output) == Path.GetFullPath(j.Input)) throw new UsageException($"The output folder holds the input '{j.Input}'; write to another folder.");
        }
        FastStyleApplier.CheckWritable(jobs);
        if (a.String(CommonOptions.Log.Name) is { } log) IO.AtomicFile.EnsureWritable(log, createDirectory: true);
        CommonOptions.ApplyThreads(a);

        IImageNetwork net;
        try
        {
            net = bank is not null
                ? BankApplyOptions.Create(model, bank, w => ctx.Info("warning: " + w))
                : new TransformerImageNetwork(FastStyleApplier.LoadModel(model, new WeightCache(), entry => WeightsCommand.Download(entry, ctx)));
        }
        catch when (createdOutput && !Directory.EnumerateFileSystemEntries(output).Any())
        {
            Directory.Delete(output); // an unusable model leaves nothing behind, not even the folder made for the results
            throw;
        }
        var applier = new FastStyleApplier(net, o);
        ctx.Info(string.Create(CultureInfo.InvariantCulture,
            $"apply: {jobs.Count} image(s){(o.ShardCount > 1 ? $" (shard {o.ShardIndex}/{o.ShardCount})" : "")}, {net.Description} from {model}" +
            $"{(o.Tile > 0 ? $", tiles of {o.Tile}" : "")}{(o.Temporal ? ", temporal" : "")}"));
        int printEvery = a.Int(CommonOptions.PrintEvery.Name, 0) ?? 1;
        ApplyResult result = CommandSupport.RunWithProgress(a, ctx, printEvery, "apply", p => applier.Progress = p, token => applier.Run(jobs, token));
        string skipped = result.Skipped > 0 ? $", {result.Skipped} skipped (already there)" : "";
        if (result.Cancelled)
        {
            ctx.Info($"Interrupted after {result.Done} image(s){skipped}; each written image is complete.");
            return CliApp.ExitInterrupted;
        }
        ctx.Info(string.Create(CultureInfo.InvariantCulture,
            $"Wrote {result.Done} image(s){skipped} in {result.Seconds:F1} s ({result.ImagesPerSecond:F2} images/s) to {(singleFile ? output : output + Path.DirectorySeparatorChar)}."));
        return CliApp.ExitOk;
    }

    public static ApplyOptions Bind(ParsedArgs a)
    {
        var o = new ApplyOptions();
        if (a.Int("--size", 8, 32768) is { } size) o = o with { Size = size };
        if (a.Double("--content-scale", 0) is { } cs)
        {
            if (!(cs > 0 && cs <= 16)) throw new UsageException("Option --content-scale must be in (0, 16].");
            o = o with { ContentScale = cs };
        }
        if (a.Flag("--original-colors")) o = o with { OriginalColors = true };
        if (a.Int("--tile", 0, 32768) is { } tile)
        {
            if (tile is > 0 and < 32) throw new UsageException("Option --tile must be 0 (off) or at least 32 pixels.");
            o = o with { Tile = tile };
        }
        if (a.Flag("--temporal")) o = o with { Temporal = true };
        if (a.String("--shard") is { } sh)
        {
            (int k, int n) = ParseShard(sh);
            o = o with { ShardIndex = k, ShardCount = n };
        }
        if (a.Flag("--skip-existing")) o = o with { SkipExisting = true };
        var save = new SaveOptions
        {
            JpegQuality = a.Int(CommonOptions.Quality.Name, 1, 100) ?? 95,
            BitDepth = a.Int(CommonOptions.BitDepth.Name, 8, 16) is { } bd ? (bd is 8 or 16 ? bd : throw new UsageException("Option --bit-depth must be 8 or 16.")) : 8,
        };
        return o with { Save = save };
    }

    /// <summary>"K/N" with 0 ≤ K &lt; N.</summary>
    public static (int K, int N) ParseShard(string text)
    {
        string[] parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && k < n)
            return (k, n);
        throw new UsageException($"Option --shard expects K/N with 0 <= K < N (e.g. 0/4 for the first of four), got '{text}'.");
    }

    public static string Help() => CommandSupport.Help("Usage: neuralstyle apply --model MODEL INPUT… -o OUTPUT [options]",
        "Stylises images with a trained fast-style network (Johnson et al.): one forward pass per image. INPUT may be\n" +
        "image files or folders (their .png/.jpg files, sorted); each result keeps its input's name in the OUTPUT\n" +
        "folder (or, for a single input file, OUTPUT may be an image path).", Sections);
}
