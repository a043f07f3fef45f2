using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using NeuralStyle.Core;
using NeuralStyle.FastStyle;
using NeuralStyle.Gatys;
using NeuralStyle.Imaging;
using NeuralStyle.Models;
using NeuralStyle.Models.Johnson;
using NeuralStyle.Models.StyleBank;
using NeuralStyle.StyleBank;
using NeuralStyle.Studio;
using NeuralStyle.Texture;
using NeuralStyle.Weights;

namespace NeuralStyle.Cli;

/// <summary>
/// The studio's methods, bound exactly as the commands bind them: a job's options object becomes an argument list
/// for the same declarations (<see cref="OptionSpec"/>) and the same Bind functions, so a value the command line
/// refuses is refused in the page with the same sentence (option names without dashes). Options that name files
/// or control the console (output, log, plot, intermediates, threads) are not offered: the server decides where
/// files go.
/// </summary>
public static partial class StudioMethods
{
    /// <summary>The methods <c>serve</c> offers (StyleBanks run through apply).</summary>
    public static IReadOnlyList<IStudioMethod> All(Func<ModelEntry, string> download)
    {
        // One loaded backbone shared by the server's jobs that ask for the same model, weights and flavour.
        var backbones = new BackboneMemo();
        return [new StylizeMethod(download, backbones), new TextureMethod(download, backbones), new ApplyMethod(download)];
    }

    /// <summary>The option key of a flag in a job's options: the flag without its dashes (--style-weight: style-weight).</summary>
    public static string Key(OptionSpec spec) => spec.Name.TrimStart('-');

    // Keys match whatever way of writing them: style-weight, style_weight, styleWeight.
    private static string Normal(string key) => key.Replace("-", "").Replace("_", "").ToLowerInvariant();

    /// <summary>
    /// A job's options object as command-line arguments for <paramref name="allowed"/>: <c>{"size": 256,
    /// "original-colors": true, "style-layers": ["relu1_1", "relu2_1"]}</c> becomes <c>--size=256 --original-colors
    /// --style-layers=relu1_1,relu2_1</c>. Values are always attached with '=', so no value can pose as another option.
    /// </summary>
    public static string[] ToArguments(JsonElement options, IReadOnlyList<OptionSpec> allowed, string method)
    {
        if (options.ValueKind != JsonValueKind.Object) throw new JobRejectedException("The options must be a JSON object.");
        var byKey = allowed.ToDictionary(s => Normal(Key(s)), StringComparer.Ordinal);
        var args = new List<string>();
        foreach (JsonProperty p in options.EnumerateObject())
        {
            if (!byKey.TryGetValue(Normal(p.Name), out OptionSpec? spec))
                throw new JobRejectedException($"The option '{Shorten(p.Name)}' is not one {method} takes here; it takes {string.Join(", ", allowed.Select(Key))}.");
            string key = Key(spec);
            JsonElement v = p.Value;
            if (v.ValueKind == JsonValueKind.Null) continue;
            if (spec.Arity == Arity.Flag)
            {
                if (v.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw new JobRejectedException($"The option '{key}' is true or false.");
                if (v.ValueKind == JsonValueKind.True) args.Add(spec.Name);
                continue;
            }
            string text = v.ValueKind switch
            {
                JsonValueKind.Array => string.Join(",", v.EnumerateArray().Select(e => Scalar(e, key))),
                _ => Scalar(v, key),
            };
            args.Add($"{spec.Name}={text}");
        }
        return [.. args];
    }

    private static string Scalar(JsonElement e, string key) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Number => e.GetRawText(),
        _ => throw new JobRejectedException($"The option '{key}' takes a number or a text, not {e.ValueKind.ToString().ToLowerInvariant()}."),
    };

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";

    /// <summary>A command-line sentence in the page's words: --style-weight is written 'style-weight'.</summary>
    public static string ForWeb(string sentence) => Flag().Replace(sentence, m => $"'{m.Groups[1].Value}'");

    /// <summary>A library sentence's {Property} references as the page's option keys.</summary>
    public static string RenderForWeb(string sentence) => OptionException.Render(sentence, p => $"'{CommandSupport.FlagFor(p).TrimStart('-')}'");

    [GeneratedRegex(@"(?<![\w-])--([a-z][a-z0-9-]*)")]
    private static partial Regex Flag();

    /// <summary>
    /// Runs <paramref name="body"/> turning the user's mistakes (usage, option values, unreadable weights or
    /// images) into <see cref="JobRejectedException"/> sentences; anything else propagates as a bug.
    /// </summary>
    public static T Guard<T>(Func<T> body)
    {
        try
        {
            return body();
        }
        catch (UsageException e)
        {
            throw new JobRejectedException(ForWeb(e.Message), e);
        }
        catch (OptionException e)
        {
            throw new JobRejectedException(RenderForWeb(e.Sentence), e);
        }
        catch (Exception e) when (e is ImageFormatException or WeightFormatException or WeightsUnavailableException or DownloadException
                                      or ModelWeightsException or FileNotFoundException)
        {
            throw new JobRejectedException(ForWeb(RenderForWeb(e.Message)), e);
        }
    }

    /// <summary>The declarations a method offers: the command's own, less those in <paramref name="excluded"/>.</summary>
    private static OptionSpec[] Offered(IEnumerable<OptionSpec> options, params string[] excluded)
        => options.Where(s => !excluded.Contains(s.Name)).ToArray();

    // Never offered in the page: the server decides about files, console and threads.
    private static readonly string[] ServerDecides = ["--content", "--style", "--output", "--save-every", "--print-every", "--log", "--plot", "--threads", "--help", "--quality"];

    /// <summary>--weights may only name a registry entry (no path of the server's disk); --init no file either.</summary>
    private static void CheckNoPaths(ParsedArgs a, params string[] keywordsOnly)
    {
        if (a.String(CommonOptions.Weights.Name) is { } w && ModelRegistry.Find(w) is null)
            throw new JobRejectedException($"'weights' must be a registry name ({string.Join(", ", ModelRegistry.All.Where(e => e.Architecture.StartsWith("vgg", StringComparison.Ordinal)).Select(e => e.Name))}), not a file.");
        if (a.String(CommonOptions.Init.Name) is { } init && !keywordsOnly.Contains(init.ToLowerInvariant()))
            throw new JobRejectedException($"'init' must be one of {string.Join(", ", keywordsOnly)}.");
    }

    private static SaveOptions Save(ParsedArgs a) => new()
    {
        BitDepth = a.Int(CommonOptions.BitDepth.Name, 8, 16) is { } bd ? (bd is 8 or 16 ? bd : throw new UsageException("Option --bit-depth must be 8 or 16.")) : 8,
    };

    /// <summary>About 25 previews a run, never fewer than one step apart.</summary>
    private static int PreviewEvery(int iterations) => Math.Max(1, iterations / 25);

    // ---- stylize ---------------------------------------------------------------------------------------------------

    /// <summary>Gatys et al. (<c>stylize</c>): content + styles, presets, coarse-to-fine, colour keeping.</summary>
    public sealed class StylizeMethod(Func<ModelEntry, string> download, BackboneMemo backbones) : IStudioMethod
    {
        public static readonly OptionSpec[] Allowed = Offered(StylizeCommand.Options, ServerDecides);

        public string Name => "stylize";
        public MethodInputs Inputs => new(Content: true, MinStyles: 1, MaxStyles: 16);
        public IReadOnlyList<string> OptionKeys => Allowed.Select(Key).ToList();

        private (ParsedArgs Args, StylizeOptions Options, bool PresetExplicit) Bind(JsonElement options, int styleCount)
        {
            ParsedArgs a = ParsedArgs.Parse(Name, ToArguments(options, Allowed, Name), Allowed);
            CheckNoPaths(a, "random", "noise", "image", "content", "style");
            (StylizeOptions o, bool presetExplicit) = StylizeCommand.BindWithPreset(a);
            if (o.StyleBlend is { } blend && blend.Count != styleCount)
                throw new UsageException($"--style-blend has {blend.Count} weights for {styleCount} style images.");
            Save(a);
            return (a, o, presetExplicit);
        }

        public void Validate(JobRequest request) => Guard(() => Bind(request.Options, request.StyleCount));

        public StudioJobOutcome Run(StudioJobWork work, CancellationToken cancel) => Guard(() =>
        {
            (ParsedArgs a, StylizeOptions o, bool presetExplicit) = Bind(work.Options, work.StylePaths.Count);
            (Image content, Image? alpha) = ImageIO.SplitAlpha(ImageIO.Load(work.ContentPath!));
            var styles = work.StylePaths.Select(s => ImageIO.ToRgb(ImageIO.Load(s))).ToList();
            var loader = new BackboneLoader(new WeightCache(), download) { Info = m => work.Note(RenderForWeb(m)), Memo = backbones };
            (o, Backbone backbone) = StylizeCommand.LoadBackbone(a, o, presetExplicit, loader);
            o = o with { SaveEvery = PreviewEvery(o.Iterations) };
            var stylizer = new Stylizer(o, backbone) { Progress = work.Report };
            (int w, int h) = stylizer.OutputSize(content.Width, content.Height);
            StylizeCommand.CheckMemory(o, backbone.Net, w, h);
            stylizer.Snapshot = (_, img) => work.Preview(img);
            StylizeResult r = stylizer.Run(content, styles, cancel);
            Image result = StylizeCommand.Finish(r.Image, alpha, a);
            ImageIO.Save(result, work.ResultPath, Save(a));
            return new StudioJobOutcome(r.Cancelled, r.Failure is null ? null : RenderForWeb(r.Failure), r.Iterations);
        });
    }

    // ---- texture ---------------------------------------------------------------------------------------------------

    /// <summary>Multi-scale texture synthesis (<c>texture</c>): the style images are the sources; one output image.</summary>
    public sealed class TextureMethod(Func<ModelEntry, string> download, BackboneMemo backbones) : IStudioMethod
    {
        // One result image a job: the looping animation (several frames) stays on the command line.
        public static readonly OptionSpec[] Allowed = Offered(TextureCommand.Options, [.. ServerDecides, "--count", "--if-weight", "--if-shift", "--if-order"]);

        public string Name => "texture";
        public MethodInputs Inputs => new(Content: false, MinStyles: 1, MaxStyles: 16);
        public IReadOnlyList<string> OptionKeys => Allowed.Select(Key).ToList();

        private (ParsedArgs Args, TextureOptions Options) Bind(JsonElement options)
        {
            ParsedArgs a = ParsedArgs.Parse(Name, ToArguments(options, Allowed, Name), Allowed);
            CheckNoPaths(a, "random", "symmetric");
            TextureOptions o = TextureCommand.Bind(a, new TextureOptions());
            Save(a);
            return (a, o);
        }

        public void Validate(JobRequest request) => Guard(() => Bind(request.Options));

        public StudioJobOutcome Run(StudioJobWork work, CancellationToken cancel) => Guard(() =>
        {
            (ParsedArgs a, TextureOptions o) = Bind(work.Options);
            var sources = work.StylePaths.Select(s => ImageIO.ToRgb(ImageIO.Load(s))).ToList();
            var loader = new BackboneLoader(new WeightCache(), download) { Info = m => work.Note(RenderForWeb(m)), Memo = backbones };
            (o, Backbone backbone) = TextureCommand.LoadBackbone(a, o, loader);
            o = o with { SaveEvery = PreviewEvery(o.Iterations) };
            var synth = new TextureSynthesizer(o, backbone) { Progress = work.Report };
            TextureCommand.CheckMemory(o, backbone, synth, sources);
            synth.Snapshot = (_, frames) => work.Preview(frames[0]);
            TextureResult r = synth.Run(sources, cancel);
            ImageIO.Save(r.Frames[0], work.ResultPath, Save(a));
            return new StudioJobOutcome(r.Cancelled, r.Failure is null ? null : RenderForWeb(r.Failure), r.Iterations);
        });
    }

    // ---- apply -----------------------------------------------------------------------------------------------------

    /// <summary>
    /// A fast-style network or a StyleBank over the content image (<c>apply</c>). <c>model</c> is a registry name
    /// (candy, mosaic, …), the name of a file in DATA/models, or <c>random</c> / <c>random-half</c>: the seeded
    /// untrained network, a demonstration that needs no download. A bank in DATA/models takes the command's bank
    /// options — <c>style</c>, <c>blend</c>, <c>reconstruct</c>, or regions: the uploaded mask (file field
    /// <c>mask</c>, standing for <c>--regions</c>) with <c>region-styles</c>, <c>feather</c>, <c>region-mode</c>.
    /// </summary>
    public sealed class ApplyMethod(Func<ModelEntry, string> download) : IStudioMethod
    {
        // --style is the bank's style name here (not an image path, as for stylize); --regions names a file of the
        // server, so the page sends the mask as an upload instead.
        public static readonly OptionSpec[] Allowed = Offered(ApplyCommand.Options,
            [.. ServerDecides.Where(n => n != BankApplyOptions.Style.Name), BankApplyOptions.Regions.Name, "--temporal", "--shard", "--skip-existing"]);

        public string Name => "apply";
        public MethodInputs Inputs => new(Content: true, MinStyles: 0, MaxStyles: 0, Mask: true);
        public IReadOnlyList<string> OptionKeys => Allowed.Select(Key).ToList();

        /// <summary>The bound job: the model, the applier's options and, for a bank, its file and what to apply.</summary>
        private sealed record Bound(string Model, ApplyOptions Options, string? BankPath, BankApplyOptions.Selection? Bank);

        private Bound Bind(JsonElement options, string dataDirectory, string? maskPath, bool hasMask)
        {
            string[] args = ToArguments(options, Allowed, Name);
            ParsedArgs a = ParsedArgs.Parse(Name, args, Allowed);
            string model = a.String(ApplyCommand.ModelOption.Name) ?? throw new UsageException("Missing --model (random, a registry name such as mosaic, or a file in the studio's models folder).");
            bool inRegistry = ModelRegistry.Find(model) is not null;
            bool known = model is "random" or "random-half" || inRegistry || ModelFolder.IsModelFileName(model);
            if (!known) throw new UsageException($"--model must be random, random-half, a registry name such as mosaic, or the name of a file in the studio's models folder, not '{Shorten(model)}'.");
            ApplyOptions o = ApplyCommand.Bind(a) with { Save = Save(a) };
            if (!inRegistry && ModelFolder.IsModelFileName(model) && ModelFolder.Find(dataDirectory, model) is null)
                throw new JobRejectedException($"The studio's models folder has no '{model}'{Holding(dataDirectory)}.");

            string? bankPath = inRegistry ? null : ModelFolder.Find(dataDirectory, model);
            if (bankPath is null || !StyleBankFile.IsStyleBank(bankPath))
            {
                if (hasMask) throw new JobRejectedException($"A mask is for StyleBank models, and '{model}' is not one.");
                if (BankApplyOptions.Group.FirstOrDefault(s => a.Has(s.Name)) is { } flag)
                    throw new UsageException($"Option {flag.Name} is for StyleBank models, and '{model}' is not one.");
                return new Bound(model, o, null, null);
            }

            IReadOnlyList<string> styles = StyleBankFile.ReadInfo(bankPath).Styles.Select(x => x.Name).ToList();
            string? chosen = new[] { BankApplyOptions.Style, BankApplyOptions.Blend, BankApplyOptions.Reconstruct }.FirstOrDefault(x => a.Has(x.Name))?.Name;
            if (!hasMask && chosen is null)
                throw new UsageException($"'{model}' is a StyleBank: choose --style NAME|INDEX, --blend or --reconstruct, or send a mask with --region-styles (it holds {BankImageNetwork.Describe(styles)}).");
            if (hasMask && chosen is not null) throw new UsageException($"A mask paints styles by region; send it without {chosen}.");
            if (!hasMask && new[] { BankApplyOptions.RegionStyles, BankApplyOptions.Feather, BankApplyOptions.RegionMode }.FirstOrDefault(x => a.Has(x.Name)) is { } stray)
                throw new UsageException($"Option {stray.Name} goes with a mask (the file field mask).");
            if (hasMask && !a.Has(BankApplyOptions.RegionStyles.Name))
                throw new UsageException($"A mask needs --region-styles RRGGBB:NAME,… to say which colour paints which style (the bank holds {BankImageNetwork.Describe(styles)}).");
            // The upload stands for --regions (attached with '=', as every value): the bank options are bound by
            // the command's own code, with its checks and sentences.
            ParsedArgs full = hasMask ? ParsedArgs.Parse(Name, [.. args, $"{BankApplyOptions.Regions.Name}={maskPath ?? "mask.png"}"], ApplyCommand.Options) : a;
            BankApplyOptions.Selection selection = BankApplyOptions.Bind(full, bankPath, styles, maskIsUpload: true);
            return new Bound(model, o, bankPath, selection);
        }

        private static string Holding(string dataDirectory)
        {
            var names = ModelFolder.List(dataDirectory).Select(m => m.Name).ToList();
            return names.Count == 0 ? " (it is empty)" : $"; it holds {string.Join(", ", names.Take(20))}";
        }

        public void Validate(JobRequest request) => Guard(() => Bind(request.Options, request.DataDirectory, null, request.HasMask));

        public StudioJobOutcome Run(StudioJobWork work, CancellationToken cancel) => Guard(() =>
        {
            Bound b = Bind(work.Options, work.DataDirectory, work.MaskPath, work.MaskPath is not null);
            FastStyleApplier applier;
            if (b.Bank is { } selection)
            {
                IImageNetwork bank = BankApplyOptions.Create(b.BankPath!, selection, w => work.Note(ForWeb(w)));
                applier = new FastStyleApplier(bank, b.Options) { Progress = work.Report };
            }
            else
            {
                TransformerNet net = b.Model switch
                {
                    "random" => TransformerNet.Random(TransformerArchitecture.Johnson, 1),
                    "random-half" => TransformerNet.Random(TransformerArchitecture.JohnsonHalf, 1),
                    _ when ModelRegistry.Find(b.Model) is null => FastStyleApplier.LoadFile(ModelFolder.Find(work.DataDirectory, b.Model)
                        ?? throw new JobRejectedException($"The studio's models folder has no '{b.Model}'.")),
                    _ => FastStyleApplier.LoadModel(b.Model, new WeightCache(), download),
                };
                applier = new FastStyleApplier(net, b.Options) { Progress = work.Report };
            }
            ApplyResult r = applier.Run([new ApplyJob(work.ContentPath!, work.ResultPath)], cancel);
            if (!r.Cancelled) work.Preview(ImageIO.Load(work.ResultPath));
            return new StudioJobOutcome(r.Cancelled, null, r.Done);
        });
    }
}
