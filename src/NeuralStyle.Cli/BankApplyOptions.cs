using System.Globalization;
using NeuralStyle.Core;
using NeuralStyle.FastStyle;
using NeuralStyle.Models.StyleBank;
using NeuralStyle.StyleBank;

namespace NeuralStyle.Cli;

/// <summary>
/// What <c>apply</c> takes when its --model is a StyleBank file: which style, blend, regions or the reconstruction.
/// The bank then runs through the same applier as any fast-style network (<see cref="IImageNetwork"/>).
/// </summary>
public static class BankApplyOptions
{
    public static readonly OptionSpec Style = new("--style", Arity.One, "the bank's style to apply, by name or index", "NAME|INDEX");
    public static readonly OptionSpec Blend = new("--blend", Arity.One, "linear fusion of styles, weights normalised to sum 1", "NAME:W,NAME:W,…");
    public static readonly OptionSpec Regions = new("--regions", Arity.One,
        "region fusion: a colour-coded mask (with --region-styles), or a folder of grey masks named after their styles", "MASK|DIR");
    public static readonly OptionSpec RegionStyles = new("--region-styles", Arity.One, "which colour of the mask paints which style (hex colours)", "RRGGBB:NAME,…");
    public static readonly OptionSpec Feather = new("--feather", Arity.One, "soft region edges: blur each mask by a Gaussian of sigma PX/2 (default 0)", "PX");
    public static readonly OptionSpec RegionMode = new("--region-mode", Arity.One,
        "composite (default: each style decoded, then blended by the masks) | feature (the paper's: masks on the encoded features, one decode)", "MODE");
    public static readonly OptionSpec Reconstruct = new("--reconstruct", Arity.Flag, "the bank's auto-encoder alone (a check: the photo as the bank sees it)");

    public static readonly OptionSpec[] Group = [Style, Blend, Regions, RegionStyles, Feather, RegionMode, Reconstruct];

    /// <summary>The default of --region-mode: composite keeps each region its style's own output (README, "Region modes").</summary>
    public const NeuralStyle.StyleBank.RegionMode DefaultRegionMode = NeuralStyle.StyleBank.RegionMode.Composite;

    /// <summary>What the user asked of a bank, checked as far as can be without the bank.</summary>
    public sealed record Selection(BankRecipe? Recipe, string? MaskPath, IReadOnlyList<ColorAssignment>? Assignment, double Feather, NeuralStyle.StyleBank.RegionMode Mode)
    {
        /// <summary>Every style the selection names.</summary>
        public IEnumerable<string> Styles(RegionMaskSource? masks) => Recipe switch
        {
            BankRecipe.Single s => [s.Style],
            BankRecipe.Blend b => b.Weights.Select(w => w.Style),
            BankRecipe.Reconstruct => [],
            _ => masks?.Styles ?? [],
        };
    }

    /// <summary>Whether any bank option was given (a plain fast-style network takes none).</summary>
    public static bool AnyGiven(ParsedArgs a) => Group.Any(s => a.Has(s.Name));

    /// <summary>
    /// The selection, or a usage error: exactly one of --style, --blend, --regions, --reconstruct. With
    /// <paramref name="maskIsUpload"/> (the studio) --regions names a colour-coded mask file that was uploaded with the
    /// job and need not be stored yet: it is neither looked for on disk nor taken for a folder.
    /// </summary>
    public static Selection Bind(ParsedArgs a, string model, IReadOnlyList<string> bankStyles, bool maskIsUpload = false)
    {
        string[] given = new[] { Style, Blend, Regions, Reconstruct }.Where(s => a.Has(s.Name)).Select(s => s.Name).ToArray();
        if (given.Length == 0)
            throw new UsageException($"'{Path.GetFileName(model)}' is a StyleBank: choose --style NAME|INDEX, --blend, --regions or --reconstruct (it holds {BankImageNetwork.Describe(bankStyles)}).");
        if (given.Length > 1) throw new UsageException($"Give one of --style, --blend, --regions and --reconstruct, not both {given[0]} and {given[1]}.");
        if (!a.Has(Regions.Name))
        {
            string? stray = new[] { RegionStyles, Feather, RegionMode }.FirstOrDefault(s => a.Has(s.Name))?.Name;
            if (stray is not null) throw new UsageException($"Option {stray} goes with --regions.");
        }
        var mode = a.Choice(RegionMode.Name, new Dictionary<string, NeuralStyle.StyleBank.RegionMode>
        {
            ["composite"] = NeuralStyle.StyleBank.RegionMode.Composite, ["feature"] = NeuralStyle.StyleBank.RegionMode.Feature,
        }) ?? DefaultRegionMode;
        double feather = a.Double(Feather.Name, 0) ?? 0;
        if (feather > 1000) throw new UsageException("Option --feather must be at most 1000 pixels.");

        Selection selection;
        if (a.String(Style.Name) is { } style) selection = new Selection(new BankRecipe.Single(style), null, null, 0, mode);
        else if (a.String(Blend.Name) is { } blend) selection = new Selection(new BankRecipe.Blend(ParseBlend(blend)), null, null, 0, mode);
        else if (a.Flag(Reconstruct.Name)) selection = new Selection(new BankRecipe.Reconstruct(), null, null, 0, mode);
        else
        {
            string mask = a.String(Regions.Name)!;
            if (!maskIsUpload && !File.Exists(mask) && !Directory.Exists(mask)) throw new UsageException($"The mask '{mask}' does not exist.");
            bool folder = !maskIsUpload && Directory.Exists(mask);
            IReadOnlyList<ColorAssignment>? assignment = null;
            if (a.String(RegionStyles.Name) is { } text)
            {
                if (folder) throw new UsageException("--region-styles goes with a colour-coded mask file; a folder of grey masks names its styles by its files.");
                try { assignment = RegionMaskSource.ParseAssignment(text); }
                catch (OptionException e) { throw new UsageException(e.Render(CommandSupport.FlagFor)); }
            }
            else if (!folder)
                throw new UsageException("A colour-coded mask needs --region-styles RRGGBB:NAME,… (which colour paints which style); or give a folder of grey masks.");
            selection = new Selection(null, mask, assignment, feather, mode);
        }
        if (BankImageNetwork.UnknownStyle(bankStyles, selection.Recipe is null ? selection.Assignment?.Select(x => x.Style) ?? [] : selection.Styles(null)) is { } unknown)
            throw new UsageException(unknown);
        return selection;
    }

    /// <summary>"NAME:W,NAME:W,…" (the last ':' of an item separates the weight).</summary>
    public static IReadOnlyList<(string Style, double Weight)> ParseBlend(string text)
    {
        var list = new List<(string, double)>();
        foreach (string item in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = item.LastIndexOf(':');
            if (colon <= 0 || !double.TryParse(item[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double w) || !double.IsFinite(w))
                throw new UsageException($"Option --blend expects NAME:WEIGHT items separated by commas (such as starry:0.5,waves:0.5), got '{item}'.");
            if (w < 0) throw new UsageException($"Option --blend takes non-negative weights, got '{item}'.");
            list.Add((item[..colon].Trim(), w));
        }
        if (list.Count == 0) throw new UsageException("Option --blend needs at least one NAME:WEIGHT.");
        string? twice = list.GroupBy(x => x.Item1, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (twice is not null) throw new UsageException($"Option --blend names the style '{twice}' twice.");
        if (!(list.Sum(x => x.Item2) > 0)) throw new UsageException("Option --blend needs a positive weight somewhere (the weights are normalised to sum 1).");
        return list;
    }

    /// <summary>The network to apply: the bank (loaded) with the selection; region masks are read here.</summary>
    public static BankImageNetwork Create(string model, Selection selection, Action<string> warn)
    {
        StyleBankNet net = StyleBankFile.Load(model);
        if (selection.Recipe is { } recipe) return new BankImageNetwork(net, recipe);
        RegionMaskSource masks = RegionMaskSource.Load(selection.MaskPath!, selection.Assignment, selection.Feather);
        if (BankImageNetwork.UnknownStyle(net.Styles, masks.Styles) is { } unknown) throw new UsageException(unknown);
        return new BankImageNetwork(net, masks, selection.Mode) { Warn = warn };
    }
}
