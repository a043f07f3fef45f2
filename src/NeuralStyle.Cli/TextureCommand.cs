using System.Globalization;
using NeuralStyle.Gatys;
using NeuralStyle.Imaging;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Reporting;
using NeuralStyle.Tensors.Kernels;
using NeuralStyle.Texture;
using NeuralStyle.Weights;

namespace NeuralStyle.Cli;

/// <summary><c>neuralstyle texture SOURCE… -o OUT</c>: multi-scale texture synthesis (spec §4).</summary>
public static class TextureCommand
{
    public static readonly OptionSpec[] Options =
    [
        new("--output", Arity.One, "output image (.png or .jpg); with --count N: OUT_000.png …", "PATH", "-o"),
        new("--width", Arity.One, "output width (default 512)", "N"),
        new("--height", Arity.One, "output height (default: the width)", "N"),
        new("--octaves", Arity.One, "Gaussian pyramid levels matched (default 4)", "N"),
        new("--layers", Arity.One, "layers whose Grams are matched (default pool1,relu3_2)", "a,b"),
        new("--iterations", Arity.One, "most L-BFGS iterations (default 500)", "N"),
        new("--tol", Arity.One, "stop when the gradient (or the loss change) falls under this (default 1e-9)", "F"),
        new("--init", Arity.One, "random | symmetric", "KIND"),
        new("--seed", Arity.One, "random seed", "N"),
        new("--source-scale", Arity.One, "resize the sources by this factor first (Lanczos)", "F"),
        new("--source-width", Arity.One, "resize the sources to this width first (Lanczos)", "N"),
        new("--padding", Arity.One, "valid | same | circular (circular tiles seamlessly; default valid)", "MODE"),
        new("--join", Arity.One, "average | max: how several sources' Grams combine", "MODE"),
        new("--mul", Arity.One, "multiply the target Grams by this (default 1)", "F"),
        new("--count", Arity.One, "frames optimised together as a looping animation", "N"),
        new("--if-weight", Arity.One, "inter-frame loss weight (default 1)", "F"),
        new("--if-shift", Arity.One, "pixel shift the inter-frame loss aims at (default 5)", "F"),
        new("--if-order", Arity.One, "how many frames apart are tied (default 2)", "N"),
        new("--save-every", Arity.One, "write intermediates every N iterations (default 10; 0: off)", "N"),
        new("--print-every", Arity.One, "progress line every N iterations when not on a terminal", "N"),
        new("--log", Arity.One, "write every iteration's loss terms as JSON lines", "PATH"),
        new("--plot", Arity.One, "write an SVG plot of the loss curves", "PATH"),
        new("--model", Arity.One, "vgg19 | vgg16 | random", "NAME"),
        new("--weights", Arity.One, "registry name or weights file", "NAME|PATH"),
        new("--input-flavor", Arity.One, "caffe | torchvision", "NAME"),
        new("--pooling", Arity.One, "avg (default) | max", "KIND"),
        new("--lbfgs-history", Arity.One, "L-BFGS history size (default 10)", "N"),
        new("--line-search", Arity.Flag, "L-BFGS with a strong-Wolfe line search"),
        new("--threads", Arity.One, "worker threads", "N"),
        new("--help", Arity.Flag, "show this help", null, "-h"),
    ];

    public static int Run(string[] args, CliContext ctx)
    {
        ParsedArgs a = ParsedArgs.Parse("texture", args, Options);
        if (a.Flag("--help"))
        {
            ctx.Out.Write(Help());
            return 0;
        }
        if (a.Positionals.Count == 0) throw new UsageException("Give one or more source images or folders: neuralstyle texture SOURCE… -o OUT.");
        string output = a.String("--output") ?? throw new UsageException("Missing -o/--output PATH (where to write the texture).");
        CommandSupport.CheckOutput(output);
        List<string> files = SourceFiles(a.Positionals);
        TextureOptions o = Bind(a, new TextureOptions());
        if (a.Int("--threads", 1, 256) is { } t) KernelThreading.MaxDegree = t;

        var sources = files.Select(f => ImageIO.ToRgb(ImageIO.Load(f))).ToList();
        var loader = new BackboneLoader(new WeightCache(), entry => WeightsCommand.Download(entry, ctx)) { Info = ctx.Info };
        Backbone backbone = loader.Load(o.Model, o.Weights, o.Flavor, weightsExplicit: a.Has("--weights"));
        if (loader.FellBack || o.Model == "random") o = o with { NormalizeTerms = true };

        var synth = new TextureSynthesizer(o, backbone);
        long need = MemoryEstimate.Texture(o, backbone.Net, synth.PrepareSources(sources).Select(s => (s.Width, s.Height)).ToList());
        if (MemoryEstimate.AvailableBytes() is { } avail && need > avail)
            throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                $"A {o.Width}×{o.OutputHeight} texture needs about {need >> 20:N0} MiB but only {avail >> 20:N0} MiB are free; use a smaller --width/--height or fewer --count frames."));
        ctx.Info($"texture: {o.Width}×{o.OutputHeight}{(o.Count > 1 ? $" × {o.Count} frames" : "")} from {files.Count} source(s), {o.Octaves} octaves, " +
                 $"layers {string.Join(",", o.Layers)}, {backbone.Description}, about {need >> 20:N0} MiB");

        TextureResult result = CommandSupport.RunWithProgress(a, ctx, o.PrintEvery, "texture: loss", p => synth.Progress = p, token =>
        {
            synth.Snapshot = (k, frames) => Save(frames, StylizeCommand.IntermediatePath(output, k));
            TextureResult r = synth.Run(sources, token);
            Save(r.Frames, output);
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

    private static void Save(IReadOnlyList<Image> frames, string output)
    {
        IReadOnlyList<string> paths = FramePaths(output, frames.Count);
        for (int f = 0; f < frames.Count; f++) ImageIO.Save(frames[f], paths[f]);
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
        if (CommandSupport.Seed(a) is { } seed) o = o with { Seed = seed };
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
        if (CommandSupport.Model(a) is { } model) o = o with { Model = model };
        if (a.String("--weights") is { } weights) o = o with { Weights = weights };
        if (CommandSupport.Flavor(a) is { } flavor) o = o with { Flavor = flavor };
        if (CommandSupport.Pooling(a) is { } pool) o = o with { Pooling = pool };
        if (a.Int("--lbfgs-history", 1, 10_000) is { } hist) o = o with { LbfgsHistory = hist };
        if (a.Flag("--line-search")) o = o with { StrongWolfe = true };
        return o;
    }

    public static string Help() => CommandSupport.Help("Usage: neuralstyle texture SOURCE… -o OUT [options]",
        "Multi-scale texture synthesis: a new image whose Gram statistics match the sources' on every level of a\n" +
        "Gaussian pyramid. SOURCE may be image files or folders of images (their statistics are averaged).", Options, 30);
}
