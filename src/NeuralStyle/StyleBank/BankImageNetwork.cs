using System.Globalization;
using NeuralStyle.Models.StyleBank;

namespace NeuralStyle.StyleBank;

/// <summary>
/// A StyleBank used one way — one style, a blend, styles by region, or the reconstruction — as an
/// <see cref="IImageNetwork"/>, so the fast-style applier (folders, sizes, tiles, temporal stabilisation) runs banks
/// too. Region masks come from a <see cref="RegionMaskSource"/>: sized (and feathered) for the whole image, then
/// cropped to each tile, so a tiled run paints the same regions as an untiled one.
/// </summary>
public sealed class BankImageNetwork : IImageNetwork
{
    private readonly BankApplier _applier;
    private readonly BankRecipe? _recipe;
    private readonly RegionMaskSource? _masks;
    private readonly RegionMode _mode;
    private readonly HashSet<string> _warned = [];

    /// <summary>One style, a blend or the reconstruction (for regions use the other constructor).</summary>
    public BankImageNetwork(StyleBankNet net, BankRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(recipe);
        if (recipe is BankRecipe.Regions) throw new ArgumentException("Give region masks as a RegionMaskSource.", nameof(recipe));
        _applier = new BankApplier(net);
        _recipe = recipe;
        CheckStyles(net, recipe switch
        {
            BankRecipe.Single s => [s.Style],
            BankRecipe.Blend b => b.Weights.Select(w => w.Style),
            _ => [],
        });
    }

    /// <summary>Styles by region: <paramref name="masks"/>' styles (names or indices) must all be in the bank.</summary>
    public BankImageNetwork(StyleBankNet net, RegionMaskSource masks, RegionMode mode)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(masks);
        _applier = new BankApplier(net);
        _masks = masks;
        _mode = mode;
        CheckStyles(net, masks.Styles);
    }

    public StyleBankNet Net => _applier.Net;

    /// <summary>Sentences for the user (a resized mask, unassigned colours), each said once.</summary>
    public Action<string>? Warn { get; set; }

    public string Description => _recipe switch
    {
        BankRecipe.Single s => $"style '{Net.Styles[Net.IndexOf(s.Style)]}' of a {Net.Styles.Count}-style bank",
        BankRecipe.Blend b => $"blend {string.Join(" + ", Normalised(b).Select(w => string.Create(CultureInfo.InvariantCulture, $"{w.Weight:0.##}·{w.Style}")))} of a {Net.Styles.Count}-style bank",
        BankRecipe.Reconstruct => $"reconstruction (auto-encoder) of a {Net.Styles.Count}-style bank",
        _ => $"regions ({_mode.ToString().ToLowerInvariant()} mode) {string.Join(", ", _masks!.Styles.Select(s => Net.Styles[Net.IndexOf(s)]))} from {_masks.Name} of a {Net.Styles.Count}-style bank",
    };

    public float[] Stylize(float[] rgb255, ImageWindow window)
    {
        ArgumentNullException.ThrowIfNull(rgb255);
        if (_recipe is not null) return _applier.Apply(rgb255, window.Width, window.Height, _recipe);
        RegionMaskSet whole = _masks!.For(window.FullWidth, window.FullHeight);
        foreach (string w in whole.Warnings)
            if (_warned.Add(w)) Warn?.Invoke(w);
        RegionMaskSet set = whole.Crop(window.X, window.Y, window.Width, window.Height);
        // Feathering was done on the whole image (a tile's edge is no region edge), so the applier adds none.
        var parts = set.Styles.Select((s, i) => new BankRegion(s, set.Masks[i])).ToList();
        return _applier.Apply(rgb255, window.Width, window.Height, new BankRecipe.Regions(parts, _mode, FeatherPixels: 0));
    }

    private static IEnumerable<(string Style, double Weight)> Normalised(BankRecipe.Blend b)
    {
        double sum = b.Weights.Sum(w => w.Weight);
        return b.Weights.Select(w => (w.Style, sum > 0 ? w.Weight / sum : 0));
    }

    /// <summary>Every style named must be in the bank (by name or index): else an <see cref="OptionException"/> listing the valid ones.</summary>
    public static void CheckStyles(StyleBankNet net, IEnumerable<string> styles)
    {
        ArgumentNullException.ThrowIfNull(net);
        if (UnknownStyle(net.Styles, styles) is { } message) throw new OptionException("Style", message);
    }

    /// <summary>null when every one of <paramref name="wanted"/> is in <paramref name="bankStyles"/> (by name or index),
    /// else the sentence naming the first that is not and listing the valid ones.</summary>
    public static string? UnknownStyle(IReadOnlyList<string> bankStyles, IEnumerable<string> wanted)
    {
        ArgumentNullException.ThrowIfNull(bankStyles);
        ArgumentNullException.ThrowIfNull(wanted);
        foreach (string s in wanted)
            if (!Has(bankStyles, s)) return $"The bank has no style '{s}'; it holds {Describe(bankStyles)}.";
        return null;
    }

    /// <summary>Whether the bank has the style, by name or by index.</summary>
    public static bool Has(IReadOnlyList<string> bankStyles, string nameOrIndex)
        => bankStyles.Contains(nameOrIndex)
           || (int.TryParse(nameOrIndex, NumberStyles.None, CultureInfo.InvariantCulture, out int k) && k < bankStyles.Count);

    /// <summary>"0 starry, 1 waves, 2 hat": the styles with their indices.</summary>
    public static string Describe(IReadOnlyList<string> bankStyles) => string.Join(", ", bankStyles.Select((s, i) => $"{i} {s}"));
}
