using System.Globalization;
using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Imaging;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Texture;
using NeuralStyle.Weights;

namespace NeuralStyle.Cli;

/// <summary><c>neuralstyle texture SOURCE… -o OUT</c>: multi-scale texture synthesis (spec §4).</summary>
public static class TextureCommand
{
    /// <summary>The options only texture has.</summary>
    public static readonly OptionSpec[] OwnOptions =
    [
        new("--width", Arity.One, "output width (default 512)", "N"),
        new("--height", Arity.One, "output height (default: the width)", "N"),
        new("--layers", Arity.One, "layers whose Grams are matched (default pool1,relu3_2)", "a,b"),
        new("--tol", Arity.One, "stop when the gradient (or the loss change) falls under this (default 1e-9)", "F"),
        new("--source-scale", Arity.One, "resize the sources by this factor first (Lanczos)", "F"),
        new("--source-width", Arity.One, "resize the sources to this width first (Lanczos)", "N"),
        new("--padding", Arity.One, "valid | same | circular (circular tiles seamlessly; default valid)", "MODE"),
        new("--join", Arity.One, "average | max: how several sources' Grams combine", "MODE"),
        new("--mul", Arity.One, "multiply the target Grams by this (default 1)", "F"),
        new("--count", Arity.One, "frames optimised together as a looping animation (OUT_000.png …)", "N"),
        new("--if-weight", Arity.One, "inter-frame loss weight (default 1)", "F"),
        new("--if-shift", Arity.One, "pixel shift the inter-frame loss aims at (default 5)", "F"),
        new("--if-order", Arity.One, "how many frames apart are tied (default 2)", "N"),
    ];

    /// <summary>Everything texture accepts, in help sections: its own options and the shared groups.</summary>
    public static readonly (string Heading, OptionSpec[] Options)[] Sections =
    [
        ("Texture", OwnOptions),
        ("Optimisation", [CommonOptions.Init, .. CommonOptions.OptimizerGroup, CommonOptions.Octaves]),
        ("Feature network", CommonOptions.ModelGroup),
        ("Output", CommonOptions.OutputGroup),
        ("Progress", CommonOptions.ProgressGroup),
        ("Run", CommonOptions.RunGroup),
    ];

    public static readonly OptionSpec[] Options = [.. Sections.SelectMany(s => s.Options)];

    public static int Run(string[] args, CliContext ctx)
    {
        ParsedArgs a = ParsedArgs.Parse("texture", args, Options);
        if (a.Flag("--help"))
        {
            ctx.Out.Write(Help());
            return 0;
        }
        if (a.Positionals.Count == 0) throw new UsageException("Give one or more source images or folders: neuralstyle texture SOURCE… -o OUT.");
        (string output, SaveOptions save) = CommonOptions.BindOutput(a, "where to write the texture");
        List<string> files = SourceFiles(a.Positionals);
        TextureOptions o = Bind(a, new TextureOptions());
        CommonOptions.CheckWritable(a, output);
        CommonOptions.ApplyThreads(a);

        var sources = files.Select(f => ImageIO.ToRgb(ImageIO.Load(f))).ToList();
        var loader = new BackboneLoader(new WeightCache(), entry => WeightsCommand.Download(entry, ctx)) { Info = m => ctx.Info(CommandSupport.Render(m)) };
        (o, Backbone backbone) = LoadBackbone(a, o, loader);

        var synth = new TextureSynthesizer(o, backbone);
        long need = CheckMemory(o, backbone, synth, sources);
        ctx.Info($"texture: {o.Width}×{o.OutputHeight}{(o.Count > 1 ? $" × {o.Count} frames" : "")} from {files.Count} source(s), {o.Octaves} octaves, " +
                 $"layers {string.Join(",", o.Layers)}, {backbone.Description}, about {need >> 20:N0} MiB");

        TextureResult result = CommandSupport.RunWithProgress(a, ctx, o.PrintEvery, "texture: loss", p => synth.Progress = p, token =>
        {
            synth.Snapshot = (k, frames) => Save(frames, StylizeCommand.IntermediatePath(output, k), save);
            TextureResult r = synth.Run(sources, token);
            Save(r.Frames, output, save);
            return r;
        });
        return CommandSupport.Finish(ctx, result.Failure, result.Cancelled, result.Iterations, result.Seconds, output);
    }

    /// <summary>OUT for one frame; OUT_000, OUT_001 … for an animation.</summary>
    public static IReadOnlyList<string> FramePaths(string output, int count)
    {
        if (count == 1) return [output];
        string dir = Path.GetDirectoryName(output) ?? "";
        return Enumerable.Range(0, count)
            .Select(f => Path.Combine(dir, $"{Path.GetFileNameWithoutExtension(output)}_{f:000}{Path.GetExtension(output)}")).ToList();
    }

    private static void Save(IReadOnlyList<Image> frames, string output, SaveOptions save)
    {
        IReadOnlyList<string> paths = FramePaths(output, frames.Count);
        for (int f = 0; f < frames.Count; f++) ImageIO.Save(frames[f], paths[f], save);
    }

    /// <summary>Files as given; folders expand to their images (sorted, not recursive).</summary>
    public static List<string> SourceFiles(IEnumerable<string> sources)
    {
        var files = new List<string>();
        foreach (string s in sources)
        {
            if (Directory.Exists(s))
            {
                var inDir = Directory.EnumerateFiles(s)
                    .Where(f => Path.GetExtension(f).ToLowerInvariant() is ".png" or ".jpg" or ".jpeg")
                    .Order(StringComparer.Ordinal).ToList();
                if (inDir.Count == 0) throw new UsageException($"The folder '{s}' has no .png or .jpg images.");
                files.AddRange(inDir);
            }
            else if (File.Exists(s)) files.Add(s);
            else throw new UsageException($"The source '{s}' does not exist.");
        }
        return files;
    }

    /// <summary>The memory a texture run needs; refused in one sentence when it is more than is free.</summary>
    public static long CheckMemory(TextureOptions o, Backbone backbone, TextureSynthesizer synth, IReadOnlyList<Image> sources)
    {
        long need = TextureSynthesizer.EstimateBytes(o, backbone.Net, synth.PrepareSources(sources).Select(s => (s.Width, s.Height)).ToList());
        if (MemoryBudget.AvailableBytes() is { } avail && need > avail)
            throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                $"A {o.Width}×{o.OutputHeight} texture needs about {need >> 20:N0} MiB but only {avail >> 20:N0} MiB are free; use a smaller --width/--height{(o.Count > 1 ? " or fewer --count frames" : "")}."));
        return need;
    }

    /// <summary>
    /// The network for <paramref name="o"/>. On the random network (asked for, or standing in for weights that could not
    /// be had: then exactly a --model random run) the terms are normalised, as its feature scales are arbitrary.
    /// </summary>
    public static (TextureOptions Options, Backbone Backbone) LoadBackbone(ParsedArgs a, TextureOptions o, BackboneLoader loader)
    {
        Backbone backbone = loader.Load(o.Model, o.Weights, o.Flavor, weightsExplicit: a.Has(CommonOptions.Weights.Name));
        if (loader.FellBack) backbone = loader.Load("random", null, o.Flavor, weightsExplicit: false);
        else if (o.Model != "random") return (o, backbone);
        return (o with { NormalizeTerms = true }, backbone);
    }

    public static TextureOptions Bind(ParsedArgs a, TextureOptions o)
    {
        if (a.Int("--width", 16, 32768) is { } w) o = o with { Width = w };
        if (a.Int("--height", 16, 32768) is { } h) o = o with { Height = h };
        if (a.Int("--octaves", 1, 12) is { } oc) o = o with { Octaves = oc };
        if (a.List("--layers") is { } layers) o = o with { Layers = layers };
        if (a.Int("--iterations", 0, 10_000_000) is { } it) o = o with { Iterations = it };
        if (a.Double("--tol", 0) is { } tol) o = o with { Tol = tol };
        if (a.Choice("--init", new Dictionary<string, TextureInit> { ["random"] = TextureInit.Random, ["symmetric"] = TextureInit.Symmetric }) is { } init)
            o = o with { Init = init };
        if (CommonOptions.BindSeed(a) is { } seed) o = o with { Seed = seed };
        if (a.Has("--source-scale") && a.Has("--source-width")) throw new UsageException("Give --source-scale or --source-width, not both.");
        if (a.Double("--source-scale", 0) is { } ss)
        {
            if (ss <= 0) throw new UsageException("Option --source-scale must be positive.");
            o = o with { SourceScale = ss };
        }
        if (a.Int("--source-width", 8, 32768) is { } sw) o = o with { SourceWidth = sw };
        if (a.Choice("--padding", new Dictionary<string, TexturePadding> { ["valid"] = TexturePadding.Valid, ["same"] = TexturePadding.Same, ["circular"] = TexturePadding.Circular }) is { } pad)
            o = o with { Padding = pad };
        if (a.Choice("--join", new Dictionary<string, JoinMode> { ["average"] = JoinMode.Average, ["max"] = JoinMode.Max }) is { } join) o = o with { Join = join };
        if (a.Double("--mul", 0) is { } mul) o = o with { Mul = mul };
        if (a.Int("--count", 1, 1000) is { } count) o = o with { Count = count };
        if (a.Double("--if-weight", 0) is { } ifw) o = o with { IfWeight = ifw };
        if (a.Double("--if-shift", 0) is { } ifs) o = o with { IfShift = ifs };
        if (a.Int("--if-order", 1, 100) is { } ifo) o = o with { IfOrder = ifo };
        if (a.Int("--save-every", 0) is { } se) o = o with { SaveEvery = se };
        if (a.Int("--print-every", 0) is { } pe) o = o with { PrintEvery = pe };
        (string? model, string? weights, InputFlavor? flavor, PoolingKind? pool) = CommonOptions.BindModel(a);
        if (model is not null) o = o with { Model = model };
        if (weights is not null) o = o with { Weights = weights };
        if (flavor is not null) o = o with { Flavor = flavor };
        if (pool is { } p) o = o with { Pooling = p };
        if (a.Int("--lbfgs-history", 1, 10_000) is { } hist) o = o with { LbfgsHistory = hist };
        if (a.Flag("--line-search")) o = o with { StrongWolfe = true };
        if (a.Int(CommonOptions.PreconditionLevels.Name, 0, PyramidPreconditioner.MaxLevels) is { } pl) o = o with { PreconditionLevels = pl };
        return o;
    }

    public static string Help() => CommandSupport.Help("Usage: neuralstyle texture SOURCE… -o OUT [options]",
        "Multi-scale texture synthesis: a new image whose Gram statistics match the sources' on every level of a\n" +
        "Gaussian pyramid. SOURCE may be image files or folders of images (their statistics are averaged).", Sections);
}
