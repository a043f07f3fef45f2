using System.Globalization;
using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Imaging;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Weights;

namespace NeuralStyle.Cli;

/// <summary><c>neuralstyle stylize</c>: binds options onto a preset, renders progress; the work is the Stylizer's.</summary>
public static class StylizeCommand
{
    /// <summary>The options only stylize has.</summary>
    public static readonly OptionSpec[] OwnOptions =
    [
        new("--content", Arity.One, "content image (PNG or JPEG)", "PATH"),
        new("--style", Arity.Many, "one or more style images", "PATH…") { Binds = ["Styles"] },
        new("--preset", Arity.One, $"{string.Join(" | ", Presets.Names)} (default {Presets.Default})", "NAME"),
        new("--size", Arity.One, "long edge of the output in pixels", "N"),
        new("--style-scale", Arity.One, "style long edge = size × F (0 keeps each style's own size)", "F"),
        new("--style-blend", Arity.One, "blend weights of the style images, e.g. 0.7,0.3", "w,w,…"),
        new("--content-weight", Arity.One, "weight of the content terms", "F"),
        new("--style-weight", Arity.One, "weight of the style terms", "F"),
        new("--tv-weight", Arity.One, "weight of the total-variation term", "F"),
        new("--tv-smoothing", Arity.One, "optimise the L1 TV with its corner rounded over this many pixel levels (0–255 scale); losses stay exact (0: off)", "F"),
        new("--content-layers", Arity.One, "content layers, e.g. relu4_2", "a,b"),
        new("--style-layers", Arity.One, "style layers, e.g. relu1_1,relu2_1", "a,b"),
        new("--style-layer-weights", Arity.One, "one weight per style layer", "w,w"),
        new("--optimizer", Arity.One, "lbfgs | adam", "NAME"),
        new("--learning-rate", Arity.One, "learning rate", "F"),
        new("--original-colors", Arity.Flag, "keep the content's colours (luminance transfer)"),
        new("--normalize-gradients", Arity.Flag, "L1-normalise each layer's gradient (neural-style)"),
        new("--scales", Arity.One, "coarse-to-fine: number of scales, each ×scale-factor larger, ending at --size", "N"),
        new("--min-size", Arity.One, "coarse-to-fine: long edge of the first scale (default 128)", "N"),
        new("--scale-factor", Arity.One, "coarse-to-fine: growth per scale (default √2)", "F"),
        new("--initial-iterations", Arity.One, "coarse-to-fine: iterations at the first scale (default --iterations)", "N"),
        new("--scale-iterations", Arity.One, "coarse-to-fine: iterations per scale, the last for the final scale (e.g. 200,100,50)", "n,n,…"),
        new("--carry-history", Arity.One, "coarse-to-fine: on | off, carry the L-BFGS curvature pairs to the next scale (resampled)", "on|off"),
        new("--scale-stop", Arity.One, "coarse-to-fine: a scale before the last stops when its loss fell by less than F over 10 iterations (0: never)", "F"),
        new("--scale-tv", Arity.One, "coarse-to-fine: on | off, weigh TV at coarse scales as the final size would", "on|off"),
        new("--average", Arity.One, "keep an exponential average of the iterates with this decay, e.g. 0.99", "F"),
        new("--style-loss", Arity.One, "gram | pyramid (Gram matrices on every level of a Gaussian pyramid)", "KIND"),
        new("--keep-alpha", Arity.Flag, "re-apply the content's alpha channel to the result"),
        new("--activation-smoothing", Arity.One, "softmax | scale | none: soften activations before the losses (SWAG; default softmax on ResNet's layer3/layer4, none on VGG)", "KIND"),
        new("--smoothing-temperature", Arity.One, "T of the softmax smoothing, softmax(x/T) over channels (default 1)", "T"),
        new("--smoothing-layers", Arity.One, "layers to smooth (default: the network's; every loss layer on VGG)", "a,b") { Binds = ["SmoothedLayers"] },
        new("--matconvnet-transpose", Arity.Flag, "read a MatConvNet .mat's kernels transposed, as the TensorFlow course's code does (mirrors them)"),
    ];

    /// <summary>Everything stylize accepts, in help sections: its own options and the shared groups.</summary>
    public static readonly (string Heading, OptionSpec[] Options)[] Sections =
    [
        ("Stylize", OwnOptions),
        ("Optimisation", [CommonOptions.Init, .. CommonOptions.OptimizerGroup, CommonOptions.Octaves]),
        ("Feature network", CommonOptions.ModelGroup),
        ("Output", CommonOptions.OutputGroup),
        ("Progress", CommonOptions.ProgressGroup),
        ("Run", CommonOptions.RunGroup),
    ];

    public static readonly OptionSpec[] Options = [.. Sections.SelectMany(s => s.Options)];

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
        (string output, SaveOptions save) = CommonOptions.BindOutput(a, "where to write the result");
        foreach (string f in styles.Prepend(content))
            if (!File.Exists(f)) throw new UsageException($"The image '{f}' does not exist.");
        CommonOptions.CheckWritable(a, output);

        (StylizeOptions o, bool presetExplicit) = BindWithPreset(a);
        o.CheckOptimisation(); // before a network is loaded or downloaded
        CommonOptions.ApplyThreads(a);

        // Images first (cheap), then the network (may download).
        Image contentRaw = ImageIO.Load(content);
        (Image contentRgb, Image? contentAlpha) = ImageIO.SplitAlpha(contentRaw);
        var styleImages = styles.Select(s => ImageIO.ToRgb(ImageIO.Load(s))).ToList();
        if (o.StyleBlend is { } blend && blend.Count != styleImages.Count)
            throw new UsageException($"--style-blend has {blend.Count} weights for {styleImages.Count} style images.");

        var loader = new BackboneLoader(new WeightCache(), entry => WeightsCommand.Download(entry, ctx)) { Info = m => ctx.Info(CommandSupport.Render(m)) };
        (o, Backbone backbone) = LoadBackbone(a, o, presetExplicit, loader);

        var stylizer = new Stylizer(o, backbone);
        (int w, int h) = stylizer.OutputSize(contentRgb.Width, contentRgb.Height);
        long need = CheckMemory(o, backbone.Net, w, h);
        string smoothing = stylizer.Smoothing.Kind == SmoothingKind.None ? "" : $", {stylizer.Smoothing} smoothing";
        ctx.Info($"{o.Preset}: {w}×{h}, {backbone.Description}{smoothing}, {o.Optimizer.ToString().ToLowerInvariant()} × {o.Iterations}, about {need >> 20:N0} MiB");

        StylizeResult result = CommandSupport.RunWithProgress(a, ctx, o.PrintEvery, $"{o.Preset}: loss", p => stylizer.Progress = p, token =>
        {
            stylizer.Snapshot = (k, img) => Save(Finish(img, contentAlpha, a), IntermediatePath(output, k), save);
            StylizeResult r = stylizer.Run(contentRgb, styleImages, token);
            Save(Finish(r.Image, contentAlpha, a), output, save);
            return r;
        });
        return CommandSupport.Finish(ctx, result.Failure, result.Cancelled, result.Iterations, result.Seconds, output);
    }

    /// <summary>The preset (--preset, else random-features for --model random, else the default) with every given option on top.</summary>
    public static (StylizeOptions Options, bool PresetExplicit) BindWithPreset(ParsedArgs a)
    {
        bool presetExplicit = a.Has("--preset");
        string presetName = a.String("--preset") ?? Presets.DefaultFor(a.String("--model") ?? "");
        if (!Presets.Names.Contains(presetName))
            throw new UsageException($"Unknown preset '{presetName}'; choose one of {string.Join(", ", Presets.Names)}.");
        return (Bind(a, Presets.Get(presetName)), presetExplicit);
    }

    /// <summary>The feature network; when the loader fell back to the random network, the options follow its preset.</summary>
    public static (StylizeOptions Options, Backbone Backbone) LoadBackbone(ParsedArgs a, StylizeOptions o, bool presetExplicit, BackboneLoader loader)
    {
        loader.MatConvNetTranspose = a.Flag("--matconvnet-transpose");
        Backbone backbone = loader.Load(o.Model, o.Weights, o.Flavor, weightsExplicit: a.Has(CommonOptions.Weights.Name));
        // Only VGG falls back to the random-features preset (exactly a --model random run); a ResNet fallback keeps its
        // own preset, and a preset asked for keeps the fallback network fed as the missing weights would be.
        if (loader.FellBack && !presetExplicit && backbone.Net is VggNet)
        {
            o = Bind(a, Presets.Get("random-features")) with { Model = "random", Weights = null };
            backbone = loader.Load(o.Model, null, o.Flavor, weightsExplicit: false);
        }
        return (o, backbone);
    }

    public static Image Finish(Image img, Image? alpha, ParsedArgs a)
        => a.Flag("--keep-alpha") && alpha is not null ? ImageIO.ApplyAlpha(img, alpha) : img;

    private static void Save(Image img, string path, SaveOptions save) => ImageIO.Save(img, path, save);

    /// <summary>out.png, iteration 100 -> out_0100.png</summary>
    public static string IntermediatePath(string output, int iteration)
    {
        string dir = Path.GetDirectoryName(output) ?? "";
        return Path.Combine(dir, $"{Path.GetFileNameWithoutExtension(output)}_{iteration:0000}{Path.GetExtension(output)}");
    }

    /// <summary>The memory a run needs; a size that does not fit is refused with a size that does.</summary>
    public static long CheckMemory(StylizeOptions o, IFeatureNetwork net, int w, int h)
    {
        long need = MemoryEstimate.Stylize(o, net, w, h);
        long? avail = MemoryBudget.AvailableBytes();
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
        (string? model, string? weights, InputFlavor? flavor, PoolingKind? pool) = CommonOptions.BindModel(a);
        if (model is not null) o = o with { Model = model };
        if (weights is not null) o = o with { Weights = weights };
        if (flavor is not null) o = o with { Flavor = flavor };
        if (pool is { } p) o = o with { Pooling = p };
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
        if (a.Double("--tv-smoothing", 0) is { } tvs) o = o with { TvSmoothing = tvs };
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
        if (CommonOptions.BindSeed(a) is { } seed) o = o with { Seed = seed };
        if (a.Choice("--optimizer", new Dictionary<string, OptimizerKind> { ["lbfgs"] = OptimizerKind.Lbfgs, ["adam"] = OptimizerKind.Adam }) is { } opt)
            o = o with
            {
                Optimizer = opt,
                LbfgsRounds = opt == OptimizerKind.Lbfgs ? o.LbfgsRounds : 1,
                PreconditionLevels = opt == OptimizerKind.Lbfgs ? o.PreconditionLevels : 0, // a preset's L-BFGS preconditioner
            };
        if (a.Int(CommonOptions.PreconditionLevels.Name, 0, PyramidPreconditioner.MaxLevels) is { } pl) o = o with { PreconditionLevels = pl };
        int? iterations = a.Int("--iterations", 0, 10_000_000);
        if (iterations is { } it) o = o with { Iterations = it, LbfgsRounds = Math.Min(o.LbfgsRounds, Math.Max(1, it)) };
        if (a.Double("--learning-rate", 0) is { } lr)
        {
            if (lr <= 0) throw new UsageException("Option --learning-rate must be positive.");
            o = o with { LearningRate = lr };
        }
        if (a.Int("--lbfgs-history", 1, 10_000) is { } hist) o = o with { LbfgsHistory = hist };
        if (a.Flag("--line-search")) o = o with { StrongWolfe = true };
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
        if (a.List("--scale-iterations") is { } si)
        {
            var counts = new int[si.Length];
            for (int i = 0; i < si.Length; i++)
                if (!int.TryParse(si[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out counts[i]))
                    throw new UsageException($"--scale-iterations takes whole numbers separated by commas; '{si[i]}' is not one.");
            o = o with { ScaleIterations = counts };
        }
        // With a per-scale list (the preset's or --scale-iterations), --iterations is the final scale's count.
        if (iterations is { } itFinal && o.ScaleIterations is { Count: > 0 } perScale)
            o = o with { ScaleIterations = [.. perScale.Take(perScale.Count - 1), itFinal] };
        if (a.Choice("--carry-history", new Dictionary<string, bool> { ["on"] = true, ["off"] = false }) is { } carry) o = o with { CarryHistory = carry };
        if (a.Choice("--scale-tv", new Dictionary<string, bool> { ["on"] = true, ["off"] = false }) is { } stv) o = o with { ScaleConsistentTv = stv };
        if (a.Double("--scale-stop", 0) is { } stopChange) o = o with { ScaleStopChange = stopChange };
        if (a.Double("--average", 0) is { } av)
        {
            if (av >= 1) throw new UsageException("Option --average must be below 1 (e.g. 0.99).");
            o = o with { Average = av > 0 ? av : null };
        }
        if (a.Choice("--style-loss", new Dictionary<string, StyleLossKind> { ["gram"] = StyleLossKind.Gram, ["pyramid"] = StyleLossKind.Pyramid }) is { } sk)
            o = o with { StyleLoss = sk };
        if (a.Int("--octaves", 1, 12) is { } oc) o = o with { StyleOctaves = oc };
        if (a.Choice("--activation-smoothing", new Dictionary<string, SmoothingKind>
                { ["softmax"] = SmoothingKind.Softmax, ["scale"] = SmoothingKind.Scale, ["none"] = SmoothingKind.None }) is { } smooth)
            o = o with { ActivationSmoothing = smooth };
        if (a.Double("--smoothing-temperature", 0) is { } temperature)
        {
            if (!(temperature > 0)) throw new UsageException("Option --smoothing-temperature must be positive.");
            o = o with { SmoothingTemperature = temperature };
        }
        if (a.List("--smoothing-layers") is { } smoothed) o = o with { SmoothedLayers = smoothed };
        return o;
    }

    public static string Help()
    {
        var sb = new System.Text.StringBuilder(CommandSupport.Help(
            "Usage: neuralstyle stylize --content PATH --style PATH [PATH…] -o OUT [options]",
            "Gatys et al. style transfer by optimisation. Defaults come from the preset; every option overrides one field.", Sections));
        sb.AppendLine().AppendLine("Presets:");
        foreach (string p in Presets.Names) sb.AppendLine($"  {p,-18} {Presets.Describe(p)}");
        return sb.ToString();
    }
}
