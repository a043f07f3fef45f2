using System.Globalization;
using NeuralStyle.Gatys;
using NeuralStyle.Imaging;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Reporting;
using NeuralStyle.Tensors.Kernels;
using NeuralStyle.Weights;

namespace NeuralStyle.Cli;

/// <summary><c>neuralstyle stylize</c>: binds options onto a preset, renders progress; the work is the Stylizer's.</summary>
public static class StylizeCommand
{
    public static readonly OptionSpec[] Options =
    [
        new("--content", Arity.One, "content image (PNG or JPEG)", "PATH"),
        new("--style", Arity.Many, "one or more style images", "PATH…"),
        new("--output", Arity.One, "output image (.png or .jpg)", "PATH", "-o"),
        new("--preset", Arity.One, $"{string.Join(" | ", Presets.Names)} (default {Presets.Default})", "NAME"),
        new("--model", Arity.One, "vgg19 | vgg16 | random (the embedded random VGG-19)", "NAME"),
        new("--weights", Arity.One, "registry name (see 'weights list') or a .pth/.safetensors file", "NAME|PATH"),
        new("--input-flavor", Arity.One, "caffe | torchvision (default: from the weights)", "NAME"),
        new("--size", Arity.One, "long edge of the output in pixels", "N"),
        new("--style-scale", Arity.One, "style long edge = size × F (0 keeps each style's own size)", "F"),
        new("--style-blend", Arity.One, "blend weights of the style images, e.g. 0.7,0.3", "w,w,…"),
        new("--content-weight", Arity.One, "weight of the content terms", "F"),
        new("--style-weight", Arity.One, "weight of the style terms", "F"),
        new("--tv-weight", Arity.One, "weight of the total-variation term", "F"),
        new("--content-layers", Arity.One, "content layers, e.g. relu4_2", "a,b"),
        new("--style-layers", Arity.One, "style layers, e.g. relu1_1,relu2_1", "a,b"),
        new("--style-layer-weights", Arity.One, "one weight per style layer", "w,w"),
        new("--init", Arity.One, "random | noise | image | style | PATH", "KIND"),
        new("--seed", Arity.One, "random seed", "N"),
        new("--optimizer", Arity.One, "lbfgs | adam", "NAME"),
        new("--iterations", Arity.One, "optimiser steps (L-BFGS: function evaluations); 0 writes the initial image", "N"),
        new("--learning-rate", Arity.One, "learning rate", "F"),
        new("--lbfgs-history", Arity.One, "L-BFGS history size", "N"),
        new("--line-search", Arity.Flag, "L-BFGS with a strong-Wolfe line search"),
        new("--pooling", Arity.One, "max | avg", "KIND"),
        new("--original-colors", Arity.Flag, "keep the content's colours (luminance transfer)"),
        new("--normalize-gradients", Arity.Flag, "L1-normalise each layer's gradient (neural-style)"),
        new("--save-every", Arity.One, "write out_0100.png-style intermediates every N iterations", "N"),
        new("--print-every", Arity.One, "progress line every N iterations when not on a terminal", "N"),
        new("--threads", Arity.One, "worker threads (default: all cores)", "N"),
        new("--log", Arity.One, "write every iteration's loss terms as JSON lines", "PATH"),
        new("--plot", Arity.One, "write an SVG plot of the loss curves", "PATH"),
        new("--scales", Arity.One, "coarse-to-fine: number of scales, each ×scale-factor larger, ending at --size", "N"),
        new("--min-size", Arity.One, "coarse-to-fine: long edge of the first scale (default 128)", "N"),
        new("--scale-factor", Arity.One, "coarse-to-fine: growth per scale (default √2)", "F"),
        new("--initial-iterations", Arity.One, "coarse-to-fine: iterations at the first scale (default --iterations)", "N"),
        new("--average", Arity.One, "keep an exponential average of the iterates with this decay, e.g. 0.99", "F"),
        new("--style-loss", Arity.One, "gram | pyramid (Gram matrices on every level of a Gaussian pyramid)", "KIND"),
        new("--octaves", Arity.One, "pyramid levels of --style-loss pyramid (default 4)", "N"),
        new("--quality", Arity.One, "JPEG quality 1-100 (default 95)", "N"),
        new("--bit-depth", Arity.One, "8 or 16 (PNG)", "N"),
        new("--keep-alpha", Arity.Flag, "re-apply the content's alpha channel to the result"),
        new("--help", Arity.Flag, "show this help", null, "-h"),
    ];

    public static int Run(string[] args, CliContext ctx)
    {
        ParsedArgs a = ParsedArgs.Parse("stylize", args, Options);
        if (a.Flag("--help"))
        {
            ctx.Out.Write(Help());
            return 0;
        }
        if (a.Positionals.Count > 0)
            throw new UsageException($"Unexpected argument '{a.Positionals[0]}'; images are given with --content and --style.");
        string content = a.String("--content") ?? throw new UsageException("Missing --content PATH (the photo to stylise).");
        IReadOnlyList<string> styles = a.Strings("--style") ?? throw new UsageException("Missing --style PATH (one or more style images).");
        string output = a.String("--output") ?? throw new UsageException("Missing -o/--output PATH (where to write the result).");
        CommandSupport.CheckOutput(output);
        string ext = Path.GetExtension(output).ToLowerInvariant();
        foreach (string f in styles.Prepend(content))
            if (!File.Exists(f)) throw new UsageException($"The image '{f}' does not exist.");

        bool presetExplicit = a.Has("--preset");
        string presetName = a.String("--preset") ?? (a.String("--model")?.Equals("random", StringComparison.OrdinalIgnoreCase) == true ? "random-features" : Presets.Default);
        if (!Presets.Names.Contains(presetName))
            throw new UsageException($"Unknown preset '{presetName}'; choose one of {string.Join(", ", Presets.Names)}.");
        StylizeOptions o = Bind(a, Presets.Get(presetName));
        int? threads = a.Int("--threads", 1, 256);
        if (threads is { } t) KernelThreading.MaxDegree = t;
        var save = new SaveOptions
        {
            JpegQuality = a.Int("--quality", 1, 100) ?? 95,
            BitDepth = a.Int("--bit-depth", 8, 16) is { } bd ? (bd is 8 or 16 ? bd : throw new UsageException("Option --bit-depth must be 8 or 16.")) : 8,
        };
        if (save.BitDepth == 16 && ext != ".png") throw new UsageException("--bit-depth 16 needs a .png output.");

        // Images first (cheap), then the network (may download).
        Image contentRaw = ImageIO.Load(content);
        (Image contentRgb, Image? contentAlpha) = ImageIO.SplitAlpha(contentRaw);
        var styleImages = styles.Select(s => ImageIO.ToRgb(ImageIO.Load(s))).ToList();
        if (o.StyleBlend is { } blend && blend.Count != styleImages.Count)
            throw new UsageException($"--style-blend has {blend.Count} weights for {styleImages.Count} style images.");

        var loader = new BackboneLoader(new WeightCache(), entry => WeightsCommand.Download(entry, ctx)) { Info = ctx.Info };
        Backbone backbone = loader.Load(o, weightsExplicit: a.Has("--weights"));
        if (loader.FellBack && !presetExplicit) o = Bind(a, Presets.Get("random-features")) with { Model = "random", Weights = null };

        var stylizer = new Stylizer(o, backbone);
        (int w, int h) = stylizer.OutputSize(contentRgb.Width, contentRgb.Height);
        long need = CheckMemory(o, backbone.Net, w, h);
        ctx.Info($"{o.Preset}: {w}×{h}, {backbone.Description}, {o.Optimizer.ToString().ToLowerInvariant()} × {o.Iterations}, about {need >> 20:N0} MiB");

        StylizeResult result = CommandSupport.RunWithProgress(a, ctx, o.PrintEvery, $"{o.Preset}: loss", p => stylizer.Progress = p, token =>
        {
            stylizer.Snapshot = (k, img) => Save(Finish(img, contentAlpha, a), IntermediatePath(output, k), save);
            StylizeResult r = stylizer.Run(contentRgb, styleImages, token);
            Save(Finish(r.Image, contentAlpha, a), output, save);
            return r;
        });
        return CommandSupport.Finish(ctx, result.Failure, result.Cancelled, result.Iterations, result.Seconds, output);
    }

    private static Image Finish(Image img, Image? alpha, ParsedArgs a)
        => a.Flag("--keep-alpha") && alpha is not null ? ImageIO.ApplyAlpha(img, alpha) : img;

    private static void Save(Image img, string path, SaveOptions save) => ImageIO.Save(img, path, save);

    /// <summary>out.png, iteration 100 -> out_0100.png</summary>
    public static string IntermediatePath(string output, int iteration)
    {
        string dir = Path.GetDirectoryName(output) ?? "";
        return Path.Combine(dir, $"{Path.GetFileNameWithoutExtension(output)}_{iteration:0000}{Path.GetExtension(output)}");
    }

    private static long CheckMemory(StylizeOptions o, VggNet net, int w, int h)
    {
        long need = MemoryEstimate.Stylize(o, net, w, h);
        long? avail = MemoryEstimate.AvailableBytes();
        if (avail is { } av && need > av)
        {
            int fit = MemoryEstimate.LargestFittingLongEdge(o, net, w, h, av);
            string hint = o.Optimizer == OptimizerKind.Lbfgs ? " or a smaller --lbfgs-history." : ".";
            throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                $"A {w}×{h} stylisation needs about {need / (1 << 20):N0} MiB but only {av / (1 << 20):N0} MiB are free; try --size {fit}{hint}"));
        }
        return need;
    }

    /// <summary>Applies every given option on top of the preset's options.</summary>
    public static StylizeOptions Bind(ParsedArgs a, StylizeOptions o)
    {
        if (CommandSupport.Model(a) is { } model) o = o with { Model = model };
        if (a.String("--weights") is { } weights) o = o with { Weights = weights };
        if (CommandSupport.Flavor(a) is { } flavor) o = o with { Flavor = flavor };
        if (a.Int("--size", 16, 16384) is { } size) o = o with { Size = new SizeRule(SizeRuleKind.LongEdge, size) };
        if (a.Double("--style-scale", 0) is { } ss) o = o with { StyleScale = ss, StyleToOutputSize = false };
        if (a.Doubles("--style-blend") is { } blend)
        {
            if (blend.Any(b => b < 0) || !(blend.Sum() > 0)) throw new UsageException("--style-blend weights must be non-negative with a positive sum.");
            o = o with { StyleBlend = blend };
        }
        if (a.Double("--content-weight", 0) is { } cw) o = o with { ContentWeight = cw };
        if (a.Double("--style-weight", 0) is { } sw) o = o with { StyleWeight = sw };
        if (a.Double("--tv-weight", 0) is { } tw) o = o with { TvWeight = tw };
        if (a.List("--content-layers") is { } cl) o = o with { ContentLayers = cl };
        if (a.List("--style-layers") is { } sl) o = o with { StyleLayers = sl, StyleLayerWeights = o.StyleLayerWeights?.Count == sl.Length ? o.StyleLayerWeights : null };
        if (a.Doubles("--style-layer-weights") is { } slw)
        {
            if (slw.Length != o.StyleLayers.Count)
                throw new UsageException($"--style-layer-weights has {slw.Length} weights for {o.StyleLayers.Count} style layers.");
            o = o with { StyleLayerWeights = slw };
        }
        if (a.String("--init") is { } init)
        {
            o = init.ToLowerInvariant() switch
            {
                "random" => o with { Init = InitKind.Random },
                "noise" => o with { Init = InitKind.Noise },
                "image" or "content" => o with { Init = InitKind.Image },
                "style" => o with { Init = InitKind.Style },
                _ => File.Exists(init) ? o with { Init = InitKind.File, InitPath = init }
                    : throw new UsageException($"--init must be random, noise, image, style or an existing image file; '{init}' is none of these."),
            };
        }
        if (CommandSupport.Seed(a) is { } seed) o = o with { Seed = seed };
        if (a.Choice("--optimizer", new Dictionary<string, OptimizerKind> { ["lbfgs"] = OptimizerKind.Lbfgs, ["adam"] = OptimizerKind.Adam }) is { } opt)
            o = o with { Optimizer = opt, LbfgsRounds = opt == OptimizerKind.Lbfgs ? o.LbfgsRounds : 1 };
        if (a.Int("--iterations", 0, 10_000_000) is { } it) o = o with { Iterations = it, LbfgsRounds = Math.Min(o.LbfgsRounds, Math.Max(1, it)) };
        if (a.Double("--learning-rate", 0) is { } lr)
        {
            if (lr <= 0) throw new UsageException("Option --learning-rate must be positive.");
            o = o with { LearningRate = lr };
        }
        if (a.Int("--lbfgs-history", 1, 10_000) is { } hist) o = o with { LbfgsHistory = hist };
        if (a.Flag("--line-search")) o = o with { StrongWolfe = true };
        if (CommandSupport.Pooling(a) is { } pool) o = o with { Pooling = pool };
        if (a.Flag("--original-colors")) o = o with { OriginalColors = true };
        if (a.Flag("--normalize-gradients")) o = o with { NormalizeGradients = true };
        if (a.Int("--save-every", 0) is { } se) o = o with { SaveEvery = se };
        if (a.Int("--print-every", 0) is { } pe) o = o with { PrintEvery = pe };
        if (a.Int("--scales", 1, 32) is { } sc) o = o with { Scales = sc };
        if (a.Int("--min-size", 16, 16384) is { } ms) o = o with { MinSize = ms };
        if (a.Double("--scale-factor", 1) is { } sf)
        {
            if (sf <= 1.01) throw new UsageException("Option --scale-factor must be greater than 1.");
            o = o with { ScaleFactor = sf };
        }
        if (a.Int("--initial-iterations", 0) is { } ii) o = o with { InitialIterations = ii };
        if (a.Double("--average", 0) is { } av)
        {
            if (av >= 1) throw new UsageException("Option --average must be below 1 (e.g. 0.99).");
            o = o with { Average = av > 0 ? av : null };
        }
        if (a.Choice("--style-loss", new Dictionary<string, StyleLossKind> { ["gram"] = StyleLossKind.Gram, ["pyramid"] = StyleLossKind.Pyramid }) is { } sk)
            o = o with { StyleLoss = sk };
        if (a.Int("--octaves", 1, 12) is { } oc) o = o with { StyleOctaves = oc };
        return o;
    }

    public static string Help()
    {
        var sb = new System.Text.StringBuilder(CommandSupport.Help(
            "Usage: neuralstyle stylize --content PATH --style PATH [PATH…] -o OUT [options]",
            "Gatys et al. style transfer by optimisation. Defaults come from the preset; every option overrides one field.", Options));
        sb.AppendLine().AppendLine("Presets:");
        foreach (string p in Presets.Names) sb.AppendLine($"  {p,-18} {Presets.Describe(p)}");
        return sb.ToString();
    }
}
