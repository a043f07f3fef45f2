using System.Globalization;
using NeuralStyle.Imaging;

namespace NeuralStyle.StyleBank;

/// <summary>One colour of a colour-coded mask and the style (a name or an index) it paints.</summary>
public readonly record struct ColorAssignment(byte R, byte G, byte B, string Style)
{
    public string Hex => string.Create(CultureInfo.InvariantCulture, $"{R:x2}{G:x2}{B:x2}");

    public override string ToString() => $"{Hex}:{Style}";
}

/// <summary>
/// Region masks at one image size: one float H×W mask per style (values in [0,1], their sum at most 1 at every pixel;
/// what is left, <see cref="Remainder"/>, stays the auto-encoder's reconstruction), and the warnings met making them.
/// </summary>
public sealed class RegionMaskSet
{
    internal RegionMaskSet(int width, int height, IReadOnlyList<string> styles, IReadOnlyList<float[]> masks, IReadOnlyList<string> warnings)
    {
        Width = width;
        Height = height;
        Styles = styles;
        Masks = masks;
        Warnings = warnings;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>The style of each mask (names or indices as the user gave them), one entry per style.</summary>
    public IReadOnlyList<string> Styles { get; }

    /// <summary>Row-major H×W weights, one per entry of <see cref="Styles"/>.</summary>
    public IReadOnlyList<float[]> Masks { get; }

    /// <summary>Sentences worth telling the user (mask resized, colours no style is assigned to, overlaps).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>1 − Σ masks at every pixel: the weight of the reconstruction.</summary>
    public float[] Remainder()
    {
        var r = new float[Width * Height];
        Array.Fill(r, 1f);
        foreach (float[] m in Masks)
            for (int i = 0; i < r.Length; i++) r[i] -= m[i];
        for (int i = 0; i < r.Length; i++) r[i] = Math.Max(0f, r[i]);
        return r;
    }

    /// <summary>The masks' window [x, x+w)×[y, y+h) (tiles of a tiled run).</summary>
    public RegionMaskSet Crop(int x, int y, int width, int height)
    {
        if (x < 0 || y < 0 || width < 1 || height < 1 || x + width > Width || y + height > Height)
            throw new ArgumentException($"The window {width}×{height} at ({x},{y}) is not inside the {Width}×{Height} masks.", nameof(x));
        if (x == 0 && y == 0 && width == Width && height == Height) return this;
        var masks = Masks.Select(m =>
        {
            var c = new float[width * height];
            for (int row = 0; row < height; row++) Array.Copy(m, (y + row) * Width + x, c, row * width, width);
            return c;
        }).ToList();
        return new RegionMaskSet(width, height, Styles, masks, Warnings);
    }
}

/// <summary>
/// Where region masks come from (spec §6, region fusion): a colour-coded image whose colours are assigned to styles
/// (<c>RRGGBB:NAME,…</c>), or grey masks, one per style. Read once; <see cref="For"/> gives the masks at an image's
/// size (resized when the sizes differ, feathered when asked), so one source serves a folder of photos of any sizes.
/// </summary>
public sealed class RegionMaskSource
{
    /// <summary>How far (0–255, per channel) a pixel may stray from an assigned colour and still count as it (JPEG
    /// noise, anti-aliased strokes); the nearest assigned colour wins.</summary>
    public const int ColorTolerance = 24;

    private readonly Image[] _masks; // one-channel, at the source's size
    private readonly List<string> _sourceWarnings;
    private readonly Dictionary<(int, int), RegionMaskSet> _bySize = [];

    private RegionMaskSource(string name, List<string> styles, Image[] masks, List<string> warnings, double feather)
    {
        Name = name;
        Styles = styles;
        _masks = masks;
        _sourceWarnings = warnings;
        Feather = feather;
    }

    /// <summary>The mask's file (or folder) name, for messages.</summary>
    public string Name { get; }

    public int Width => _masks[0].Width;

    public int Height => _masks[0].Height;

    /// <summary>The styles, in the order their masks are given (each once).</summary>
    public IReadOnlyList<string> Styles { get; }

    /// <summary>Soft edges: each mask is blurred by a Gaussian of σ = Feather/2 image pixels (0: hard edges).</summary>
    public double Feather { get; }

    // ---- parsing -----------------------------------------------------------------------------------------------------

    /// <summary>
    /// Parses <c>RRGGBB:NAME,RRGGBB:NAME,…</c> (hex colours, an optional leading '#'). A malformed item or a colour
    /// given twice throws <see cref="OptionException"/> naming RegionStyles, with one sentence.
    /// </summary>
    public static IReadOnlyList<ColorAssignment> ParseAssignment(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        const string Expected = "{RegionStyles} expects RRGGBB:NAME items separated by commas, such as ff0000:starry,0000ff:waves";
        var result = new List<ColorAssignment>();
        string[] items = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (items.Length == 0) throw new OptionException("RegionStyles", $"{Expected}, got nothing.");
        foreach (string item in items)
        {
            int colon = item.IndexOf(':');
            if (colon < 0) throw new OptionException("RegionStyles", $"{Expected}; '{item}' has no ':'.");
            string hex = item[..colon].Trim().TrimStart('#'), style = item[(colon + 1)..].Trim();
            if (hex.Length != 6 || !uint.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint rgb))
                throw new OptionException("RegionStyles", $"{Expected}; '{item[..colon]}' is not a six-digit hex colour.");
            if (style.Length == 0) throw new OptionException("RegionStyles", $"{Expected}; '{item}' names no style.");
            var a = new ColorAssignment((byte)(rgb >> 16), (byte)(rgb >> 8), (byte)rgb, style);
            if (result.Any(r => r.Hex == a.Hex)) throw new OptionException("RegionStyles", $"{{RegionStyles}} assigns the colour {a.Hex} twice.");
            result.Add(a);
        }
        return result;
    }

    // ---- sources -----------------------------------------------------------------------------------------------------

    /// <summary>
    /// A mask file with its colour assignment, or a folder of grey masks (no assignment: each .png/.jpg's stem names its
    /// style). Unreadable files throw the codec's exception; an assignment given with a folder, or none with a file,
    /// throws <see cref="OptionException"/>.
    /// </summary>
    public static RegionMaskSource Load(string path, IReadOnlyList<ColorAssignment>? assignment, double feather = 0)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            if (assignment is not null) throw new OptionException("RegionStyles", "{RegionStyles} is for a colour-coded mask; a folder of grey masks names its styles by its files.");
            string[] files = Directory.EnumerateFiles(path).Where(f => Path.GetExtension(f).ToLowerInvariant() is ".png" or ".jpg" or ".jpeg")
                .Order(StringComparer.Ordinal).ToArray();
            if (files.Length == 0) throw new OptionException("Regions", $"The mask folder '{path}' holds no .png or .jpg masks (one grey mask per style, named after it).");
            return FromGreyMasks(files.Select(f => (Path.GetFileNameWithoutExtension(f), ImageIO.Load(f))).ToList(), Path.GetFileName(Path.TrimEndingDirectorySeparator(path)), feather);
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"The mask '{path}' does not exist.", path);
        if (assignment is null) throw new OptionException("RegionStyles", "A colour-coded mask needs {RegionStyles} RRGGBB:NAME,… to say which colour paints which style.");
        return FromColorMask(ImageIO.Load(path), assignment, Path.GetFileName(path), feather);
    }

    /// <summary>Masks from a colour-coded image: each pixel belongs to the nearest assigned colour within
    /// <see cref="ColorTolerance"/>; pixels near none stay the reconstruction (a warning says how many).</summary>
    public static RegionMaskSource FromColorMask(Image mask, IReadOnlyList<ColorAssignment> assignment, string name = "the mask", double feather = 0)
    {
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentNullException.ThrowIfNull(assignment);
        if (assignment.Count == 0) throw new ArgumentException("A colour mask needs at least one colour assignment.", nameof(assignment));
        CheckFeather(feather);
        // Alpha composited on black: a transparent pixel is no colour anyone assigns by accident.
        Image rgb = ImageIO.ToRgb(mask, (0f, 0f, 0f));
        var styles = assignment.Select(a => a.Style).Distinct(StringComparer.Ordinal).ToList();
        int[] styleOf = assignment.Select(a => styles.IndexOf(a.Style)).ToArray();
        Image[] masks = styles.Select(_ => new Image(rgb.Width, rgb.Height, 1)).ToArray();
        int n = rgb.Width * rgb.Height;
        int[] used = new int[assignment.Count];
        var unassigned = new Dictionary<int, int>(); // packed colour -> count
        for (int i = 0; i < n; i++)
        {
            int r = Level(rgb.Data[3 * i]), g = Level(rgb.Data[3 * i + 1]), b = Level(rgb.Data[3 * i + 2]);
            int best = -1, bestDistance = int.MaxValue;
            for (int k = 0; k < assignment.Count; k++)
            {
                ColorAssignment a = assignment[k];
                int d = Math.Max(Math.Abs(r - a.R), Math.Max(Math.Abs(g - a.G), Math.Abs(b - a.B)));
                if (d <= ColorTolerance && d < bestDistance) (best, bestDistance) = (k, d);
            }
            if (best >= 0)
            {
                masks[styleOf[best]].Data[i] = 1f;
                used[best]++;
            }
            else
            {
                int packed = (r << 16) | (g << 8) | b;
                unassigned[packed] = unassigned.GetValueOrDefault(packed) + 1;
            }
        }
        var warnings = new List<string>();
        int free = unassigned.Values.Sum();
        if (free > 0)
        {
            string colours = string.Join(", ", unassigned.OrderByDescending(kv => kv.Value).Take(3).Select(kv => kv.Key.ToString("x6", CultureInfo.InvariantCulture)));
            string more = unassigned.Count > 3 ? $" and {unassigned.Count - 3} more" : "";
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"{Percent(free, n)} of {name} ({colours}{more}) has a colour no style is assigned to; it is left as the reconstruction."));
        }
        for (int k = 0; k < assignment.Count; k++)
            if (used[k] == 0) warnings.Add($"The colour {assignment[k].Hex} (style {assignment[k].Style}) does not occur in {name}.");
        return new RegionMaskSource(name, styles, masks, warnings, feather);
    }

    /// <summary>Grey masks, one per style (white = that style; alpha, if any, multiplies). Where they overlap so that
    /// their sum passes 1 they are scaled down to sum 1 (a warning says where).</summary>
    public static RegionMaskSource FromGreyMasks(IReadOnlyList<(string Style, Image Mask)> masks, string name = "the masks", double feather = 0)
    {
        ArgumentNullException.ThrowIfNull(masks);
        if (masks.Count == 0) throw new ArgumentException("Give at least one grey mask.", nameof(masks));
        CheckFeather(feather);
        var dup = masks.GroupBy(m => m.Style, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new OptionException("Regions", $"Two masks in {name} are both for the style '{dup.Key}'.");
        int w = masks[0].Mask.Width, h = masks[0].Mask.Height;
        var warnings = new List<string>();
        var grey = new Image[masks.Count];
        for (int k = 0; k < masks.Count; k++)
        {
            Image m = Grey(masks[k].Mask);
            if (m.Width != w || m.Height != h)
            {
                warnings.Add($"The mask for '{masks[k].Style}' is {m.Width}×{m.Height}, unlike the first mask's {w}×{h}; it was resized to match.");
                m = Resampler.Resize(m, w, h, ResampleFilter.Bilinear);
            }
            grey[k] = m;
        }
        int over = Normalise(grey.Select(g => g.Data).ToList(), w * h);
        if (over > 0)
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"The masks in {name} add up to more than 1 on {Percent(over, w * h)} of the image; there they were scaled to sum 1."));
        return new RegionMaskSource(name, masks.Select(m => m.Style).ToList(), grey, warnings, feather);
    }

    // ---- at an image's size ------------------------------------------------------------------------------------------

    /// <summary>The masks at <paramref name="width"/>×<paramref name="height"/> (resized with a warning when the source
    /// has another size; feathered; renormalised to sum ≤ 1). Cached per size.</summary>
    public RegionMaskSet For(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        lock (_bySize)
        {
            if (_bySize.TryGetValue((width, height), out RegionMaskSet? cached)) return cached;
            var warnings = new List<string>(_sourceWarnings);
            bool resize = width != Width || height != Height;
            if (resize)
            {
                bool stretched = Math.Abs((double)width / height - (double)Width / Height) > 0.01 * width / height;
                warnings.Add($"The mask {Name} is {Width}×{Height} and the image {width}×{height}: the mask was resized to fit{(stretched ? " (stretched: the aspect ratios differ)" : "")}.");
            }
            var data = new List<float[]>();
            foreach (Image m in _masks)
            {
                Image sized = resize ? Resampler.Resize(m, width, height, ResampleFilter.Bilinear) : m;
                if (Feather > 0) sized = GaussianBlur.Apply(sized, (float)(Feather / 2));
                data.Add(sized == m ? (float[])m.Data.Clone() : sized.Data);
            }
            // Resizing and blurring are linear with non-negative weights summing to 1, so the sum stays ≤ 1 up to
            // rounding; renormalising makes that exact.
            Normalise(data, width * height);
            return _bySize[(width, height)] = new RegionMaskSet(width, height, Styles, data, warnings);
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------------

    private static void CheckFeather(double feather)
    {
        if (!(feather >= 0 && feather <= 1000)) throw new OptionException("Feather", $"{{Feather}} must be between 0 and 1000 pixels, not {feather.ToString(CultureInfo.InvariantCulture)}.");
    }

    private static int Level(float v) => (int)Math.Round(Math.Clamp(v, 0f, 1f) * 255f);

    private static string Percent(int count, int total)
    {
        double p = 100.0 * count / total;
        return p < 0.1 ? string.Create(CultureInfo.InvariantCulture, $"{count} pixel{(count == 1 ? "" : "s")}")
            : string.Create(CultureInfo.InvariantCulture, $"{p:0.#}%");
    }

    /// <summary>One channel in [0,1]: grey as is, colour as its luma (BT.601); alpha multiplies.</summary>
    private static Image Grey(Image image)
    {
        var g = new Image(image.Width, image.Height, 1);
        int c = image.Channels, n = image.Width * image.Height;
        for (int i = 0; i < n; i++)
        {
            float v = c < 3 ? image.Data[i * c]
                : 0.299f * image.Data[i * c] + 0.587f * image.Data[i * c + 1] + 0.114f * image.Data[i * c + 2];
            if (image.HasAlpha) v *= image.Data[i * c + c - 1];
            g.Data[i] = Math.Clamp(v, 0f, 1f);
        }
        return g;
    }

    /// <summary>Clamps the masks to [0,1] and scales them down wherever they sum to more than 1; returns how many pixels
    /// summed past 1 + 1e-3.</summary>
    internal static int Normalise(IReadOnlyList<float[]> masks, int n)
    {
        int over = 0;
        for (int i = 0; i < n; i++)
        {
            float sum = 0;
            foreach (float[] m in masks) sum += m[i] = Math.Clamp(m[i], 0f, 1f);
            if (sum <= 1f) continue;
            if (sum > 1.001f) over++;
            float s = 1f / sum;
            foreach (float[] m in masks) m[i] *= s;
        }
        return over;
    }
}
