using NeuralStyle.Imaging;
using NeuralStyle.Models.StyleBank;
using NeuralStyle.Tensors;

namespace NeuralStyle.StyleBank;

/// <summary>How region fusion combines the styles.</summary>
public enum RegionMode
{
    /// <summary>
    /// The paper's Σᵢ Kᵢ ⊗ (Mᵢ × F) before one decoder pass. The decoder's instance norm mixes statistics across the
    /// regions, so each region drifts from its style's own output (see <see cref="BankApplier.MeasureRegions"/>).
    /// </summary>
    Feature,
    /// <summary>Each style decoded on the whole image, then composited with the feathered masks at the image resolution.</summary>
    Composite,
}

/// <summary>One region: a style (name or index) and its mask, H×W values in [0,1] at the image's resolution (row-major).</summary>
public sealed record BankRegion(string Style, float[] Mask);

/// <summary>What to do with a bank: one style, a weighted blend, styles by region, or the auto-encoder alone.</summary>
public abstract record BankRecipe
{
    private BankRecipe() { }

    public sealed record Single(string Style) : BankRecipe;

    /// <summary>Linear fusion (Σ wᵢKᵢ) ⊗ F; weights non-negative, normalised to sum 1.</summary>
    public sealed record Blend(IReadOnlyList<(string Style, double Weight)> Weights) : BankRecipe;

    /// <summary>
    /// Region fusion. Masks are feathered by a Gaussian of σ = <paramref name="FeatherPixels"/>/2 at the image
    /// resolution; where they add up to more than 1 they are scaled to sum 1, and what they leave uncovered
    /// (1 − Σ Mᵢ) shows the reconstruction (the auto-encoder branch).
    /// </summary>
    public sealed record Regions(IReadOnlyList<BankRegion> Parts, RegionMode Mode = RegionMode.Composite, double FeatherPixels = 0) : BankRecipe;

    /// <summary>The auto-encoder branch D(E(I)) alone.</summary>
    public sealed record Reconstruct : BankRecipe;
}

/// <summary>How far each region of a region-fused image is from its style alone, in both modes (0–255 units).</summary>
/// <param name="Style">The region's style.</param>
/// <param name="Pixels">Pixels inside the region (mask ≥ ½ before feathering).</param>
/// <param name="FeatureModeDifference">Mean |fused − style alone| over the region's pixels and channels, feature mode.</param>
/// <param name="CompositeModeDifference">The same for composite mode.</param>
public sealed record RegionDistance(string Style, int Pixels, double FeatureModeDifference, double CompositeModeDifference);

/// <summary>
/// Runs a StyleBank (spec §6) on images: one forward pass of the encoder, the recipe's bank step, the decoder.
/// Images are interleaved RGB, H×W×3, on a 0–255 scale in and out (outputs are not clamped), any size (the network
/// rounds sides up to a multiple of 4; the output is cropped back).
/// </summary>
public sealed class BankApplier
{
    public BankApplier(StyleBankNet net)
    {
        ArgumentNullException.ThrowIfNull(net);
        Net = net;
    }

    public StyleBankNet Net { get; }

    /// <summary>The feature resolution of an H×W image: ⌈⌈H/2⌉/2⌉ × ⌈⌈W/2⌉/2⌉.</summary>
    public static (int Height, int Width) FeatureSize(int height, int width) => (((height + 1) / 2 + 1) / 2, ((width + 1) / 2 + 1) / 2);

    /// <summary>Applies <paramref name="recipe"/> to an RGB image (0–255) and returns RGB 0–255 at the same size.</summary>
    public float[] Apply(float[] rgb255, int width, int height, BankRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(rgb255);
        ArgumentNullException.ThrowIfNull(recipe);
        if (width < 1 || height < 1 || rgb255.Length != width * height * 3)
            throw new ArgumentException($"Expected {width}×{height}×3 = {(long)width * height * 3} RGB values, got {rgb255.Length}.", nameof(rgb255));
        return recipe switch
        {
            BankRecipe.Single s => Run(rgb255, width, height, (g, p, f) => Net.Stylize(g, p, f, [Net.IndexOf(s.Style)])),
            BankRecipe.Blend b => Run(rgb255, width, height, (g, p, f) => Net.Blend(g, p, f, Weights(b))),
            BankRecipe.Reconstruct => Run(rgb255, width, height, (g, p, f) => f),
            BankRecipe.Regions r => r.Mode == RegionMode.Feature
                ? FeatureRegions(rgb255, width, height, PrepareMasks(r, width, height))
                : CompositeRegions(rgb255, width, height, PrepareMasks(r, width, height)),
            _ => throw new ArgumentException($"Unknown recipe {recipe.GetType().Name}.", nameof(recipe)),
        };
    }

    /// <summary>The same on RGB in [0,1] (what the image codecs give), returning [0,1] values, not clamped.</summary>
    public float[] ApplyRgb01(float[] rgb01, int width, int height, BankRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(rgb01);
        var x = new float[rgb01.Length];
        for (int i = 0; i < x.Length; i++) x[i] = rgb01[i] * 255f;
        float[] y = Apply(x, width, height, recipe);
        for (int i = 0; i < y.Length; i++) y[i] *= 1f / 255f;
        return y;
    }

    private List<(int Style, double Weight)> Weights(BankRecipe.Blend b)
    {
        if (b.Weights is null || b.Weights.Count == 0) throw new ArgumentException("A blend needs at least one style and weight.", nameof(b));
        var list = b.Weights.Select(w => (Net.IndexOf(w.Style), w.Weight)).ToList();
        if (list.Select(w => w.Item1).Distinct().Count() != list.Count) throw new ArgumentException("A blend names a style twice.", nameof(b));
        return list;
    }

    private delegate Value BankStep(Graph g, Func<string, Value> p, Value features);

    private Func<string, Value> Constants(Graph g)
    {
        var cache = new Dictionary<string, Value>(StringComparer.Ordinal);
        return name => cache.TryGetValue(name, out Value? v) ? v
            : cache[name] = g.Constant(Net.Parameters[name].Data, Net.Parameters[name].Shape, name);
    }

    private static Value Crop(Graph g, Value y, int height, int width)
    {
        if (y.Shape[1] != height) y = g.Slice(y, 1, 0, height);
        if (y.Shape[2] != width) y = g.Slice(y, 2, 0, width);
        return y;
    }

    private float[] Run(float[] rgb255, int width, int height, BankStep step)
    {
        var g = new Graph(GraphMode.Inference);
        Func<string, Value> p = Constants(g);
        Value x = g.Input([1, height, width, 3], name: "image");
        Value f = StyleBankNet.Encode(g, p, x);
        Value y = g.Keep(Crop(g, StyleBankNet.Decode(g, p, step(g, p, f)), height, width));
        rgb255.CopyTo(x.Data, 0);
        g.Forward();
        return y.Data;
    }

    // ---- regions -------------------------------------------------------------------------------------------------

    /// <summary>Masks at the image resolution: feathered, scaled where they sum above 1, plus the uncovered remainder.</summary>
    private (List<(int Style, float[] Mask)> Parts, float[]? Remainder) PrepareMasks(BankRecipe.Regions r, int width, int height)
    {
        if (r.Parts is null || r.Parts.Count == 0) throw new ArgumentException("Region fusion needs at least one region.", nameof(r));
        if (!(r.FeatherPixels >= 0) || double.IsInfinity(r.FeatherPixels)) throw new ArgumentException("The feather width must be a non-negative number of pixels.", nameof(r));
        var parts = new List<(int, float[])>();
        foreach (BankRegion region in r.Parts)
        {
            int style = Net.IndexOf(region.Style);
            if (region.Mask is null || region.Mask.Length != width * height)
                throw new ArgumentException($"The mask of '{region.Style}' must hold {width}×{height} values (the image's size), got {region.Mask?.Length ?? 0}.", nameof(r));
            parts.Add((style, Feather(region.Mask, width, height, r.FeatherPixels)));
        }
        RegionMaskSource.Normalise(parts.Select(p => p.Item2).ToList(), width * height);
        var remainder = new float[width * height];
        bool any = false;
        for (int i = 0; i < remainder.Length; i++)
        {
            float sum = 0;
            foreach ((_, float[] m) in parts) sum += m[i];
            remainder[i] = Math.Max(0f, 1f - sum);
            any |= remainder[i] > 1e-6f;
        }
        return (parts, any ? remainder : null);
    }

    /// <summary>A copy of <paramref name="mask"/> blurred by a Gaussian of σ = feather/2 (reflected borders); 0: a copy.</summary>
    public static float[] Feather(float[] mask, int width, int height, double featherPixels)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (featherPixels <= 0) return (float[])mask.Clone();
        return GaussianBlur.Apply(new Image(width, height, 1, (float[])mask.Clone()), (float)(featherPixels / 2)).Data;
    }

    /// <summary>Area average of an H×W mask over the 4×4 blocks each feature cell sees (edge blocks: the pixels that exist).</summary>
    public static float[] ToFeatureResolution(float[] mask, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(mask);
        (int fh, int fw) = FeatureSize(height, width);
        var result = new float[fh * fw];
        for (int i = 0; i < fh; i++)
            for (int j = 0; j < fw; j++)
            {
                double sum = 0;
                int count = 0;
                for (int y = 4 * i; y < Math.Min(height, 4 * i + 4); y++)
                    for (int x = 4 * j; x < Math.Min(width, 4 * j + 4); x++)
                    {
                        sum += mask[y * width + x];
                        count++;
                    }
                result[i * fw + j] = (float)(sum / count);
            }
        return result;
    }

    private float[] FeatureRegions(float[] rgb255, int width, int height, (List<(int Style, float[] Mask)> Parts, float[]? Remainder) masks)
    {
        (int fh, int fw) = FeatureSize(height, width);
        return Run(rgb255, width, height, (g, p, f) =>
        {
            var regions = masks.Parts.Select(m => (m.Style, g.Constant(ToFeatureResolution(m.Mask, width, height), [1, fh, fw, 1], "mask"))).ToList();
            Value fused = Net.Regions(g, p, f, regions);
            // Where no style is assigned the features go to the decoder unchanged: the reconstruction.
            if (masks.Remainder is { } rest) fused = g.Add(fused, g.MulBroadcast(f, g.Constant(ToFeatureResolution(rest, width, height), [1, fh, fw, 1], "rest")));
            return fused;
        });
    }

    private float[] CompositeRegions(float[] rgb255, int width, int height, (List<(int Style, float[] Mask)> Parts, float[]? Remainder) masks)
    {
        int[] styles = [.. masks.Parts.Select(m => m.Style).Distinct()];
        var g = new Graph(GraphMode.Inference);
        Func<string, Value> p = Constants(g);
        Value x = g.Input([1, height, width, 3], name: "image");
        Value f = StyleBankNet.Encode(g, p, x);
        // Every style decoded as one batch (instance norm is per sample, so each is exactly its own decode).
        Value many = styles.Length == 1 ? f : g.BroadcastBatch(f, styles.Length);
        Value decoded = g.Keep(Crop(g, StyleBankNet.Decode(g, p, Net.Stylize(g, p, many, styles)), height, width));
        Value? rec = masks.Remainder is null ? null : g.Keep(Crop(g, StyleBankNet.Decode(g, p, f), height, width));
        rgb255.CopyTo(x.Data, 0);
        g.Forward();
        int plane = width * height * 3;
        var y = new float[plane];
        foreach ((int style, float[] mask) in masks.Parts)
        {
            int k = Array.IndexOf(styles, style);
            for (int i = 0; i < width * height; i++)
                for (int c = 0; c < 3; c++) y[i * 3 + c] += mask[i] * decoded.Data[k * plane + i * 3 + c];
        }
        if (rec is not null)
            for (int i = 0; i < width * height; i++)
                for (int c = 0; c < 3; c++) y[i * 3 + c] += masks.Remainder![i] * rec.Data[i * 3 + c];
        return y;
    }

    /// <summary>
    /// Runs <paramref name="regions"/> in both modes and measures, for each region, the mean absolute difference
    /// (0–255) between the fused output and that style alone over the region's pixels (mask ≥ ½ before feathering).
    /// </summary>
    public IReadOnlyList<RegionDistance> MeasureRegions(float[] rgb255, int width, int height, IReadOnlyList<BankRegion> regions, double featherPixels = 0)
    {
        ArgumentNullException.ThrowIfNull(regions);
        float[] feature = Apply(rgb255, width, height, new BankRecipe.Regions(regions, RegionMode.Feature, featherPixels));
        float[] composite = Apply(rgb255, width, height, new BankRecipe.Regions(regions, RegionMode.Composite, featherPixels));
        var result = new List<RegionDistance>();
        foreach (BankRegion r in regions)
        {
            float[] alone = Apply(rgb255, width, height, new BankRecipe.Single(r.Style));
            double df = 0, dc = 0;
            int pixels = 0;
            for (int i = 0; i < width * height; i++)
            {
                if (r.Mask[i] < 0.5f) continue;
                pixels++;
                for (int c = 0; c < 3; c++)
                {
                    df += Math.Abs(feature[i * 3 + c] - alone[i * 3 + c]);
                    dc += Math.Abs(composite[i * 3 + c] - alone[i * 3 + c]);
                }
            }
            int n = Math.Max(1, pixels * 3);
            result.Add(new RegionDistance(Net.Styles[Net.IndexOf(r.Style)], pixels, df / n, dc / n));
        }
        return result;
    }
}
