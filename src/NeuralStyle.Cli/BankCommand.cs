using System.Globalization;
using NeuralStyle.Core;
using NeuralStyle.Imaging;
using NeuralStyle.Models.StyleBank;
using NeuralStyle.StyleBank;
using NeuralStyle.Weights;

namespace NeuralStyle.Cli;

/// <summary>
/// <c>neuralstyle bank train|add-style|list|remove|rename</c>: StyleBank collections (spec §6) — many styles in one
/// network, a new style added without retraining the others, curated like any collection. Applying a bank is
/// <c>apply --model BANK</c> (<see cref="BankApplyOptions"/>).
/// </summary>
public static class BankCommand
{
    // ---- bank train --------------------------------------------------------------------------------------------------

    public static readonly OptionSpec BankOutput = new("--output", Arity.One, "the bank file (.safetensors)", "BANK", "-o");

    public static readonly OptionSpec[] TrainOwn =
    [
        new("--styles", Arity.Many, "the style images, one per style", "IMAGE…") { Binds = ["StyleImages"] },
        BankOutput,
        new("--names", Arity.One, "the styles' names (default: the files' stems)", "a,b,…"),
        new("--t", Arity.One, "stylising steps per auto-encoder step, the \"T+1\" schedule (default 2)", "N"),
        new("--lambda", Arity.One, "gradient balancing: the auto-encoder step's gradient scaled to lambda·|dL_K|/|dL_I| (default 1)", "F"),
        new("--separate-optimizers", Arity.Flag, "balance the branches with a second Adam instead (as the public ports do)") { Binds = ["Balancing"] },
        new("--decay-every", Arity.One, "multiply the learning rate by 0.8 every N steps (default 30000; 0: never)", "N"),
    ];

    public static readonly (string Heading, OptionSpec[] Options)[] TrainSections = TrainingRunner.Sections("Bank train", TrainOwn);

    public static readonly OptionSpec[] TrainOptions = [.. TrainSections.SelectMany(s => s.Options)];

    // ---- bank add-style ----------------------------------------------------------------------------------------------

    public static readonly OptionSpec[] AddOwn =
    [
        new("--style", Arity.One, "the new style's image", "IMAGE"),
        new("--name", Arity.One, "the new style's name (default: the file's stem)", "NAME"),
        new("--output", Arity.One, "write the grown bank here (default: rewrite BANK in place)", "NEWBANK", "-o"),
    ];

    public static readonly (string Heading, OptionSpec[] Options)[] AddSections = TrainingRunner.Sections("Bank add-style", AddOwn);

    public static readonly OptionSpec[] AddOptions = [.. AddSections.SelectMany(s => s.Options)];

    // ---- bank list / remove / rename ---------------------------------------------------------------------------------

    public static readonly OptionSpec Thumbnails = new("--thumbnails", Arity.One, "write each style's output on a small built-in photo into DIR", "DIR");

    public static readonly OptionSpec[] ListOptions = [Thumbnails, CommonOptions.Threads, CommonOptions.Help];

    public static readonly OptionSpec[] EditOptions = [CommonOptions.Help];

    /// <summary>Every option of every bank subcommand.</summary>
    public static IEnumerable<OptionSpec> AllOptions => TrainOptions.Concat(AddOptions).Concat(ListOptions).Distinct();

    public static int Run(string[] args, CliContext ctx)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            ctx.Out.Write(Usage());
            return args.Length == 0 ? CliApp.ExitUsage : CliApp.ExitOk;
        }
        string[] rest = args[1..];
        return args[0] switch
        {
            "train" => Train(rest, ctx),
            "add-style" => AddStyle(rest, ctx),
            "list" => List(rest, ctx),
            "remove" => Remove(rest, ctx),
            "rename" => Rename(rest, ctx),
            _ => throw new UsageException($"Unknown bank command '{args[0]}'; use train, add-style, list, remove or rename."),
        };
    }

    // ---- train ---------------------------------------------------------------------------------------------------------

    private static int Train(string[] args, CliContext ctx)
    {
        ParsedArgs a = ParsedArgs.Parse("bank train", args, TrainOptions);
        if (a.Flag(CommonOptions.Help.Name))
        {
            ctx.Out.Write(TrainHelp());
            return CliApp.ExitOk;
        }
        if (a.Positionals.Count > 0) throw new UsageException($"Unexpected argument '{a.Positionals[0]}'; run 'neuralstyle bank train --help'.");
        IReadOnlyList<string> stylePaths = a.Strings("--styles") ?? throw new UsageException("Missing --styles IMAGE… (the styles to learn, one image each).");
        string dataset = a.String(CommonOptions.Dataset.Name) ?? throw new UsageException("Missing --dataset DIR (a folder of training photos).");
        string output = BindBankPath(a, BankOutput.Name) ?? throw new UsageException("Missing -o/--output BANK (where to write the bank, .safetensors).");
        string[] names = a.List("--names") ?? [.. stylePaths.Select(Path.GetFileNameWithoutExtension).Select(n => n!)];
        if (names.Length != stylePaths.Count)
            throw new UsageException($"--names gives {names.Length} names for {stylePaths.Count} style images.");
        string? twice = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (twice is not null) throw new UsageException($"Two styles would both be named '{twice}'; name them with --names a,b,….");
        if (names.FirstOrDefault(n => int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out _)) is { } number)
            throw new UsageException($"The style name '{number}' is a number, which apply's --style would read as an index; name it with --names.");

        CommonOptions.TrainingArgs t = CommonOptions.BindTraining(a);
        BankTrainingOptions o = BindTraining(a, t, new BankTrainingOptions());
        if (a.Int("--t", 1, 1000) is { } tt) o = o with { T = tt };
        if (a.Double("--lambda", 0) is { } lambda)
        {
            if (lambda <= 0) throw new UsageException("Option --lambda must be positive.");
            o = o with { Lambda = lambda };
        }
        if (a.Flag("--separate-optimizers"))
        {
            if (a.Has("--lambda")) throw new UsageException("--lambda scales the gradient balancing, which --separate-optimizers replaces; give one of them.");
            o = o with { Balancing = BranchBalancing.SeparateOptimizers };
        }
        if (a.Int("--decay-every", 0) is { } de) o = o with { DecayEvery = de };
        o.Validate();
        string checkpoint = TrainingRunner.PrepareOutputs(a, output);

        // Everything that can be wrong with the inputs is found before any file is written.
        var styles = new List<BankStyleImage>();
        for (int i = 0; i < stylePaths.Count; i++)
        {
            if (Directory.Exists(stylePaths[i])) throw new UsageException($"--styles '{stylePaths[i]}' is a folder; give one image per style.");
            styles.Add(new BankStyleImage(names[i], ImageOps.LoadRgb(stylePaths[i]), Path.GetFileName(stylePaths[i])));
        }
        return RunTraining(a, ctx, t, o, styles, bank: null, dataset, output, checkpoint, "bank train");
    }

    // ---- add-style -----------------------------------------------------------------------------------------------------

    private static int AddStyle(string[] args, CliContext ctx)
    {
        ParsedArgs a = ParsedArgs.Parse("bank add-style", args, AddOptions);
        if (a.Flag(CommonOptions.Help.Name))
        {
            ctx.Out.Write(AddHelp());
            return CliApp.ExitOk;
        }
        string bankPath = OneBank(a, "bank add-style BANK --style IMAGE --dataset DIR [-o NEWBANK]");
        string stylePath = a.String("--style") ?? throw new UsageException("Missing --style IMAGE (the style to add).");
        string dataset = a.String(CommonOptions.Dataset.Name) ?? throw new UsageException("Missing --dataset DIR (a folder of training photos).");
        string output = BindBankPath(a, "--output") ?? bankPath;
        string name = a.String("--name") ?? Path.GetFileNameWithoutExtension(stylePath);
        if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            throw new UsageException($"The style name '{name}' is a number, which apply's --style would read as an index; name it with --name.");
        StyleBankFileInfo info = StyleBankFile.ReadInfo(bankPath);
        if (info.Styles.Any(s => s.Name == name))
            throw new UsageException($"The bank already has a style named '{name}'; choose another with --name (it holds {BankImageNetwork.Describe(Names(info))}).");

        CommonOptions.TrainingArgs t = CommonOptions.BindTraining(a);
        BankTrainingOptions o = BindTraining(a, t, new BankTrainingOptions());
        o.Validate();
        string checkpoint = TrainingRunner.PrepareOutputs(a, output);

        if (Directory.Exists(stylePath)) throw new UsageException($"--style '{stylePath}' is a folder; give one image.");
        var style = new BankStyleImage(name, ImageOps.LoadRgb(stylePath), Path.GetFileName(stylePath));
        StyleBankNet bank = StyleBankFile.Load(bankPath);
        // The grown bank keeps what the file said of its training; this run's settings are recorded beside it.
        var extra = new Dictionary<string, string>(info.Extra, StringComparer.Ordinal);
        return RunTraining(a, ctx, t, o, [style], bank, dataset, output, checkpoint, "bank add-style", extra);
    }

    private static int RunTraining(ParsedArgs a, CliContext ctx, CommonOptions.TrainingArgs t, BankTrainingOptions o, List<BankStyleImage> styles,
        StyleBankNet? bank, string datasetDir, string output, string checkpoint, string command, Dictionary<string, string>? keep = null)
    {
        (Image? preview, ImageFolderDataset dataset, Backbone backbone, bool random) = TrainingRunner.Load(a, ctx, t, datasetDir, o);
        // The embedded random network works with average pooling (spec §7) unless asked otherwise.
        if (random && !a.Has(CommonOptions.Pooling.Name)) o = o with { Pooling = Models.Vgg.PoolingKind.Avg };
        var trainer = new BankTrainer(o, backbone, styles, bank) { Info = m => ctx.Info(CommandSupport.Render(m)) };
        int total = trainer.TotalSteps(dataset.Count);
        string schedule = trainer.Incremental
            ? $"adding {string.Join(", ", styles.Select(s => s.Name))} to a bank of {trainer.Network.Styles.Count - styles.Count} (encoder, decoder and the other styles frozen)"
            : FormattableString.Invariant($"{styles.Count} styles, T+1 with T = {o.T}, {(o.Balancing == BranchBalancing.GradientNorm ? $"gradient balancing λ = {o.Lambda}" : "separate optimisers")}");
        ctx.Info(FormattableString.Invariant(
            $"{command}: {schedule}; {dataset.Count} images in '{datasetDir}', {o.ImageSize}² crops, batch {o.BatchSize}, {total} steps, loss network {backbone.Description}")
            + (random ? " (random weights: expect a rough result)" : ""));

        BankTrainResult result = CommandSupport.RunWithProgress(a, ctx, o.PrintEvery, $"{command}: loss", p => trainer.Progress = p, token =>
            trainer.Train(dataset, new BankTrainRun
            {
                CheckpointPath = checkpoint,
                ResumeFrom = t.Resume,
                SaveModel = net =>
                {
                    var meta = new Dictionary<string, string>(keep ?? [], StringComparer.Ordinal);
                    foreach (var (k, v) in trainer.FileMetadata())
                        meta[trainer.Incremental && meta.ContainsKey(k) ? $"{k}:{string.Join(",", styles.Select(s => s.Name))}" : k] = v;
                    StyleBankFile.Save(output, net, meta);
                },
                Preview = preview is null ? null : (step, net) => WritePreview(net, preview, CommonOptions.PreviewPath(output, step)),
            }, token));
        return TrainingRunner.Report(ctx, result, dataset.Count, total, "bank", output, checkpoint,
            $"{trainer.Network.Styles.Count} styles: {string.Join(", ", trainer.Network.Styles)}; ");
    }

    private static BankTrainingOptions BindTraining(ParsedArgs a, CommonOptions.TrainingArgs t, BankTrainingOptions o)
    {
        o = TrainingRunner.Bind(a, t, o);
        if (t.ContentWeight is { } cw) o = o with { ContentWeight = cw };
        if (t.StyleWeight is { } sw) o = o with { StyleWeight = sw };
        if (CommonOptions.BindModel(a).Pooling is { } p) o = o with { Pooling = p };
        return o;
    }

    /// <summary>Every style of the bank on the preview photo, side by side.</summary>
    private static void WritePreview(StyleBankNet net, Image photo, string path)
    {
        var applier = new BankApplier(net);
        float[] rgb = ImageTensors.Rgb(photo);
        var strip = new Image(photo.Width * net.Styles.Count, photo.Height, 3);
        for (int s = 0; s < net.Styles.Count; s++)
        {
            float[] y = applier.ApplyRgb01(rgb, photo.Width, photo.Height, new BankRecipe.Single(net.Styles[s]));
            for (int row = 0; row < photo.Height; row++)
                for (int x = 0; x < photo.Width * 3; x++)
                    strip.Data[(row * strip.Width + s * photo.Width) * 3 + x] = Math.Clamp(y[row * photo.Width * 3 + x], 0f, 1f);
        }
        ImageIO.Save(strip, path);
    }

    // ---- list ----------------------------------------------------------------------------------------------------------

    private static int List(string[] args, CliContext ctx)
    {
        ParsedArgs a = ParsedArgs.Parse("bank list", args, ListOptions);
        if (a.Flag(CommonOptions.Help.Name))
        {
            ctx.Out.Write(CommandSupport.Help("Usage: neuralstyle bank list BANK [--thumbnails DIR]",
                "Lists the styles of a bank: index, name, the image it was trained from and its training steps.", [("Options", ListOptions)]));
            return CliApp.ExitOk;
        }
        string bankPath = OneBank(a, "bank list BANK [--thumbnails DIR]");
        string? thumbs = a.String(Thumbnails.Name);
        if (thumbs is not null && File.Exists(thumbs)) throw new UsageException($"--thumbnails '{thumbs}' is a file; give a folder.");
        CommonOptions.ApplyThreads(a);
        StyleBankFileInfo info = StyleBankFile.ReadInfo(bankPath);
        ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(bankPath)}: {info.Styles.Count} style{(info.Styles.Count == 1 ? "" : "s")}, encoder and decoder trained {info.SharedSteps} steps"));
        int width = Math.Max(4, info.Styles.Max(s => s.Name.Length));
        for (int i = 0; i < info.Styles.Count; i++)
        {
            StyleBankStyle s = info.Styles[i];
            ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {i,3}  {s.Name.PadRight(width)}  {s.Steps,7} steps  {s.Source ?? "(source unknown)"}"));
        }
        if (thumbs is null) return CliApp.ExitOk;

        StyleBankNet net = StyleBankFile.Load(bankPath);
        Directory.CreateDirectory(thumbs);
        Image photo = BuiltInPhoto();
        float[] rgb = ImageTensors.Rgb(photo);
        var applier = new BankApplier(net);
        for (int i = 0; i < net.Styles.Count; i++)
        {
            string path = Path.Combine(thumbs, string.Create(CultureInfo.InvariantCulture, $"{i:00}_{SafeFileName(net.Styles[i])}.jpg"));
            float[] y = applier.ApplyRgb01(rgb, photo.Width, photo.Height, new BankRecipe.Single(net.Styles[i]));
            ImageIO.Save(ImageTensors.FromRgb(y, photo.Width, photo.Height), path, new SaveOptions { JpegQuality = 90 });
        }
        ctx.Info($"Wrote {net.Styles.Count} thumbnail(s) to {thumbs}{Path.DirectorySeparatorChar} (each style on a built-in {photo.Width}×{photo.Height} photo).");
        return CliApp.ExitOk;
    }

    /// <summary>The small photo thumbnails show (embedded: works offline, the same for every bank).</summary>
    public static Image BuiltInPhoto()
    {
        using Stream s = typeof(BankCommand).Assembly.GetManifestResourceStream("NeuralStyle.Cli.thumbnail.jpg")
            ?? throw new InvalidOperationException("The built-in thumbnail photo is missing from the build.");
        using var m = new MemoryStream();
        s.CopyTo(m);
        return ImageIO.ToRgb(ImageIO.Decode(m.ToArray()));
    }

    private static string SafeFileName(string name)
    {
        char[] bad = [.. Path.GetInvalidFileNameChars(), ' ', '/', '\\', ':'];
        return new string(name.Select(c => bad.Contains(c) ? '_' : c).ToArray());
    }

    // ---- remove / rename -----------------------------------------------------------------------------------------------

    private static int Remove(string[] args, CliContext ctx)
    {
        ParsedArgs a = ParsedArgs.Parse("bank remove", args, EditOptions);
        if (a.Flag(CommonOptions.Help.Name))
        {
            ctx.Out.Write("Usage: neuralstyle bank remove BANK NAME|INDEX\n\nRemoves a style from the bank (the file is rewritten atomically; the other styles' weights keep their bytes).\n");
            return CliApp.ExitOk;
        }
        if (a.Positionals.Count != 2) throw new UsageException("Usage: neuralstyle bank remove BANK NAME|INDEX.");
        (string bankPath, string style) = (a.Positionals[0], a.Positionals[1]);
        StyleBankFileInfo info = ReadExisting(bankPath);
        CheckStyle(info, style);
        if (info.Styles.Count == 1) throw new UsageException($"'{info.Styles[0].Name}' is the bank's only style; a bank needs at least one.");
        IO.AtomicFile.EnsureWritable(bankPath);
        StyleBankNet net = StyleBankFile.Load(bankPath);
        string name = net.Styles[net.IndexOf(style)];
        net.RemoveStyle(style);
        StyleBankFile.Save(bankPath, net, info.Extra);
        ctx.Info($"Removed '{name}' from {bankPath}; it holds {BankImageNetwork.Describe(net.Styles)}.");
        return CliApp.ExitOk;
    }

    private static int Rename(string[] args, CliContext ctx)
    {
        ParsedArgs a = ParsedArgs.Parse("bank rename", args, EditOptions);
        if (a.Flag(CommonOptions.Help.Name))
        {
            ctx.Out.Write("Usage: neuralstyle bank rename BANK OLD NEW\n\nRenames a style (OLD by name or index; the file is rewritten atomically, the weights keep their bytes).\n");
            return CliApp.ExitOk;
        }
        if (a.Positionals.Count != 3) throw new UsageException("Usage: neuralstyle bank rename BANK OLD NEW.");
        (string bankPath, string old, string name) = (a.Positionals[0], a.Positionals[1], a.Positionals[2]);
        StyleBankFileInfo info = ReadExisting(bankPath);
        CheckStyle(info, old);
        if (string.IsNullOrWhiteSpace(name) || name.Trim() != name || name.Any(char.IsControl))
            throw new UsageException($"The new name '{name}' must be non-empty, without surrounding spaces or control characters.");
        if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            throw new UsageException($"The new name '{name}' is a number, which apply's --style would read as an index.");
        if (info.Styles.Any(s => s.Name == name)) throw new UsageException($"The bank already has a style named '{name}'.");
        IO.AtomicFile.EnsureWritable(bankPath);
        StyleBankNet net = StyleBankFile.Load(bankPath);
        string was = net.Styles[net.IndexOf(old)];
        net.RenameStyle(old, name);
        StyleBankFile.Save(bankPath, net, info.Extra);
        ctx.Info($"Renamed '{was}' to '{name}' in {bankPath}.");
        return CliApp.ExitOk;
    }

    // ---- helpers -------------------------------------------------------------------------------------------------------

    private static IReadOnlyList<string> Names(StyleBankFileInfo info) => [.. info.Styles.Select(s => s.Name)];

    private static StyleBankFileInfo ReadExisting(string bankPath)
    {
        if (!File.Exists(bankPath)) throw new UsageException($"The bank '{bankPath}' does not exist.");
        return StyleBankFile.ReadInfo(bankPath);
    }

    private static void CheckStyle(StyleBankFileInfo info, string style)
    {
        if (BankImageNetwork.UnknownStyle(Names(info), [style]) is { } message) throw new UsageException(message);
    }

    /// <summary>The one BANK positional, which must exist.</summary>
    private static string OneBank(ParsedArgs a, string usage)
    {
        if (a.Positionals.Count == 0) throw new UsageException($"Give the bank file: neuralstyle {usage}.");
        if (a.Positionals.Count > 1) throw new UsageException($"Unexpected argument '{a.Positionals[1]}'; usage: neuralstyle {usage}.");
        string bank = a.Positionals[0];
        if (!File.Exists(bank)) throw new UsageException($"The bank '{bank}' does not exist.");
        return bank;
    }

    /// <summary>A bank path to write: .safetensors (the only bank format).</summary>
    private static string? BindBankPath(ParsedArgs a, string flag)
    {
        string? path = a.String(flag);
        if (path is not null && !path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"A bank is written as .safetensors; '{path}' has another extension.");
        return path;
    }

    public static string Usage() =>
        """
        Usage: neuralstyle bank COMMAND …

        StyleBank (Chen et al. 2017): one network holding many styles; styles added later without retraining the
        others; applied with 'neuralstyle apply --model BANK' (--style, --blend, --regions or --reconstruct).

        Commands:
          train      train a bank of several styles:  bank train --styles S1 S2 … --dataset DIR -o BANK
          add-style  add a style to a bank, training only its filters:  bank add-style BANK --style S --dataset DIR [-o NEWBANK]
          list       the styles of a bank:  bank list BANK [--thumbnails DIR]
          remove     remove a style:  bank remove BANK NAME|INDEX
          rename     rename a style:  bank rename BANK OLD NEW

        Run 'neuralstyle bank COMMAND --help' for the options of a command.

        """;

    public static string TrainHelp() => CommandSupport.Help("Usage: neuralstyle bank train --styles IMAGE… --dataset DIR -o BANK [options]",
        "Trains a StyleBank (Chen et al. 2017): a shared encoder and decoder and one filter set per style, with the T+1 schedule\n" +
        "(T stylising steps, each batch carrying styles in turn, then one auto-encoder step). Loss weights default to\n" +
        "content 1, style 1e6, TV 1e-5 (VGG-16 relu4_2; relu1_2, relu2_2, relu3_2, relu4_2). Offline (no VGG-16 weights)\n" +
        "the embedded random network is used: expect a rough result.", TrainSections);

    public static string AddHelp() => CommandSupport.Help("Usage: neuralstyle bank add-style BANK --style IMAGE --dataset DIR [-o NEWBANK] [options]",
        "Adds a style to a bank by training its filter set alone: the encoder, the decoder and every existing style stay\n" +
        "bit-identical. Loss weights default to content 1, style 1e6, TV 1e-5.", AddSections);
}
