using System.Diagnostics;
using NeuralStyle.Imaging;
using NeuralStyle.IO;
using NeuralStyle.Models;
using NeuralStyle.Models.Johnson;
using NeuralStyle.Weights;
using NeuralStyle.Weights.Onnx;

namespace NeuralStyle.FastStyle;

/// <summary>One image to stylise and where its result goes.</summary>
public sealed record ApplyJob(string Input, string Output);

/// <summary>What a batch did.</summary>
public sealed record ApplyResult(int Done, int Skipped, int Total, double Seconds, bool Cancelled)
{
    public double ImagesPerSecond => Seconds > 0 ? Done / Seconds : 0;
}

/// <summary>
/// Applies a trained fast-style network (spec §5), or any other <see cref="IImageNetwork"/> (a StyleBank style, blend
/// or regions), to images: files or folders, any size, optionally tiled (bounded
/// memory), colour-keeping, temporally stabilised for frame folders, sharded over processes, resumable. One forward
/// pass per image (per tile); progress is one <see cref="ProgressRecord"/> per image.
/// </summary>
public sealed class FastStyleApplier
{
    public FastStyleApplier(TransformerNet net, ApplyOptions options)
        : this(new TransformerImageNetwork(net ?? throw new ArgumentNullException(nameof(net))), options)
    {
    }

    public FastStyleApplier(IImageNetwork network, ApplyOptions options)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Network = network;
        Options = options;
    }

    public IImageNetwork Network { get; }

    public ApplyOptions Options { get; }

    /// <summary>Called after every image: Step = images done, TotalSteps = images in this shard, ImagesPerSecond.</summary>
    public Action<ProgressRecord>? Progress { get; set; }

    // ---- the model ----------------------------------------------------------------------------------------------

    /// <summary>
    /// A network from a registry name (<c>candy</c>, <c>mosaic-onnx</c>, … fetched through <paramref name="fetch"/>
    /// when not cached), an ONNX file, a pytorch/examples <c>.pth</c> (zip or legacy) or our <c>.safetensors</c>.
    /// Anything else, or a file of another network, throws with one sentence.
    /// </summary>
    public static TransformerNet LoadModel(string model, WeightCache cache, Func<ModelEntry, string> fetch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(fetch);
        if (!File.Exists(model) && ModelRegistry.Find(model) is { } entry)
        {
            if (entry.Architecture is not ("transformer" or "transformer-onnx"))
            {
                string members = string.Join(", ", ModelRegistry.All.Where(e => e.Architecture is "transformer" or "transformer-onnx").Select(e => e.Name));
                throw new ModelWeightsException($"'{entry.Name}' is a {entry.Architecture} file, not a fast-style network; use one of {members}, or a file.");
            }
            string path = cache.IsCached(entry) ? cache.PathFor(entry) : fetch(entry);
            return LoadFile(path);
        }
        if (!File.Exists(model))
            throw new ModelWeightsException($"The model '{model}' is neither a file nor a known name (see 'neuralstyle weights list').");
        return LoadFile(model);
    }

    /// <summary>A network from a file, its format told by its content.</summary>
    public static TransformerNet LoadFile(string path)
    {
        if (IsOnnx(path)) return TransformerNetOnnx.Read(path);
        return TransformerNet.FromStateDict(WeightFile.Load(path), $"'{Path.GetFileName(path)}'");
    }

    private static bool IsOnnx(string path)
    {
        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) return true;
        using var f = File.OpenRead(path);
        Span<byte> head = stackalloc byte[2];
        // A ModelProto starts with ir_version (field 1, varint: 0x08); no other supported format does.
        return f.Read(head) == 2 && head[0] == 0x08 && head[1] is > 0 and < 0x80;
    }

    // ---- planning ------------------------------------------------------------------------------------------------

    /// <summary>
    /// The jobs for inputs (files, or folders whose .png/.jpg files are taken, sorted) into <paramref name="output"/>:
    /// a folder where each result keeps its input's name, or, for one input file, an image path. Applies the shard
    /// (every N-th file of the sorted list) and reports duplicated output names in one sentence.
    /// </summary>
    public static List<ApplyJob> Plan(IReadOnlyList<string> inputs, string output, ApplyOptions options)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(output);
        var files = new List<string>();
        foreach (string s in inputs)
        {
            if (Directory.Exists(s))
                files.AddRange(Directory.EnumerateFiles(s).Where(IsImage).Order(StringComparer.Ordinal));
            else if (File.Exists(s)) files.Add(s);
            else throw new FileNotFoundException($"The input '{s}' does not exist.", s);
        }
        if (files.Count == 0) throw new OptionException("Inputs", "The inputs hold no .png or .jpg images.");
        bool single = inputs.Count == 1 && File.Exists(inputs[0]) && IsImage(output) && !Directory.Exists(output);
        var jobs = files.Select(f => new ApplyJob(f, single ? output : Path.Combine(output, Path.GetFileName(f))))
            .OrderBy(j => j.Output, StringComparer.Ordinal).ToList();
        var dup = jobs.GroupBy(j => j.Output, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new OptionException("Inputs", $"Two inputs would both be written to '{dup.Key}' ({string.Join(" and ", dup.Take(2).Select(j => j.Input))}).");
        return jobs.Where((_, i) => i % options.ShardCount == options.ShardIndex).ToList();
    }

    private static bool IsImage(string f) => Path.GetExtension(f).ToLowerInvariant() is ".png" or ".jpg" or ".jpeg";

    // ---- running -------------------------------------------------------------------------------------------------

    /// <summary>Stylises every job in order; outputs are written atomically. Cancelling stops after the current image.</summary>
    public ApplyResult Run(IReadOnlyList<ApplyJob> jobs, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var clock = Stopwatch.StartNew();
        int done = 0, skipped = 0;
        float[]? previousInput = null, previousOutput = null;
        int previousW = 0, previousH = 0;
        for (int k = 0; k < jobs.Count; k++)
        {
            if (ct.IsCancellationRequested) return new ApplyResult(done, skipped, jobs.Count, clock.Elapsed.TotalSeconds, true);
            ApplyJob job = jobs[k];
            if (Options.SkipExisting && File.Exists(job.Output))
            {
                skipped++;
                previousInput = previousOutput = null; // the chain of frames is broken: start afresh
                continue;
            }
            Image input = Prepare(ImageOps.LoadRgb(job.Input));
            float[] rgb = ImageTensors.Rgb(input);
            float[] styled = StylizeRgb(rgb, input.Width, input.Height);
            if (Options.Temporal)
            {
                if (previousOutput is not null && previousW == input.Width && previousH == input.Height)
                    Stabilize(styled, previousOutput, rgb, previousInput!, Options.TemporalThreshold);
                (previousInput, previousOutput, previousW, previousH) = (rgb, (float[])styled.Clone(), input.Width, input.Height);
            }
            Image result = ImageTensors.FromRgb(styled, input.Width, input.Height);
            if (Options.OriginalColors) result = ImageOps.KeepColors(result, rgb);
            ImageIO.Save(result, job.Output, Options.Save);
            done++;
            double seconds = clock.Elapsed.TotalSeconds;
            Progress?.Invoke(new ProgressRecord(done + skipped, jobs.Count, seconds, double.NaN, new Dictionary<string, double>())
            {
                Stage = Path.GetFileName(job.Input),
                ImagesPerSecond = seconds > 0 ? done / seconds : null,
            });
        }
        return new ApplyResult(done, skipped, jobs.Count, clock.Elapsed.TotalSeconds, false);
    }

    /// <summary>The input at the size it is stylised at (RGB, [0,1]).</summary>
    public Image Prepare(Image image)
    {
        image = ImageIO.ToRgb(image);
        if (image.Channels == 1) image = new Image(image.Width, image.Height, 3, ImageTensors.Rgb(image));
        if (Options.Size is { } size) return ImageOps.ResizeToLongEdge(image, size);
        if (Options.ContentScale != 1)
        {
            int w = Math.Max(1, (int)Math.Round(image.Width * Options.ContentScale)), h = Math.Max(1, (int)Math.Round(image.Height * Options.ContentScale));
            return ImageOps.Resize(image, w, h);
        }
        return image;
    }

    /// <summary>Stylises interleaved RGB in [0,1] (H×W×3) and returns RGB in [0,1], not clamped, at the same size.</summary>
    public float[] StylizeRgb(float[] rgb01, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(rgb01);
        if (rgb01.Length != width * height * 3) throw new ArgumentException($"Expected {width * height * 3} samples for {width}×{height} RGB, got {rgb01.Length}.", nameof(rgb01));
        if (Options.Tile > 0 && (width > Options.Tile || height > Options.Tile)) return StylizeTiled(rgb01, width, height);
        return Forward(rgb01, ImageWindow.Whole(width, height));
    }

    private float[] Forward(float[] rgb01, ImageWindow window)
    {
        var x = new float[rgb01.Length];
        for (int i = 0; i < x.Length; i++) x[i] = rgb01[i] * 255f;
        float[] y = Network.Stylize(x, window);
        for (int i = 0; i < y.Length; i++) y[i] *= 1f / 255f;
        return y;
    }

    /// <summary>
    /// Overlapping tiles: each core tile is stylised with <see cref="ApplyOptions.TileMargin"/> pixels of context on
    /// every side and blended in with weights that ramp linearly across the overlap, so neighbouring tiles fade into
    /// each other. (Instance norm makes a tile's statistics differ a little from the whole image's; the ramp hides
    /// the step. FastStyleTests measures the residual seam.)
    /// </summary>
    private float[] StylizeTiled(float[] rgb, int width, int height)
    {
        int tile = Options.Tile, margin = Options.TileMargin;
        var sum = new float[rgb.Length];
        var weight = new float[width * height];
        for (int ty = 0; ty < height; ty += tile)
        for (int tx = 0; tx < width; tx += tile)
        {
            int x0 = Math.Max(0, tx - margin), y0 = Math.Max(0, ty - margin);
            int x1 = Math.Min(width, tx + tile + margin), y1 = Math.Min(height, ty + tile + margin);
            int w = x1 - x0, h = y1 - y0;
            var crop = new float[w * h * 3];
            for (int y = 0; y < h; y++) Array.Copy(rgb, ((y0 + y) * width + x0) * 3, crop, y * w * 3, w * 3);
            float[] styled = Forward(crop, new ImageWindow(x0, y0, w, h, width, height));
            for (int y = 0; y < h; y++)
            {
                float wy = Ramp(y0 + y, ty, Math.Min(height, ty + tile), margin, height);
                for (int x = 0; x < w; x++)
                {
                    float wt = wy * Ramp(x0 + x, tx, Math.Min(width, tx + tile), margin, width);
                    if (wt <= 0) continue;
                    int o = (y0 + y) * width + x0 + x;
                    weight[o] += wt;
                    for (int c = 0; c < 3; c++) sum[o * 3 + c] += wt * styled[(y * w + x) * 3 + c];
                }
            }
        }
        for (int i = 0; i < weight.Length; i++)
            for (int c = 0; c < 3; c++) sum[i * 3 + c] /= weight[i];
        return sum;
    }

    /// <summary>1 inside [start, end), falling linearly to 0 over the margin outside it (1 at the image border).</summary>
    private static float Ramp(int p, int start, int end, int margin, int size)
    {
        if (p >= start && p < end) return 1f;
        if (margin == 0) return 0f;
        int distance = p < start ? start - p : p - end + 1;
        if ((p < start && start == 0) || (p >= end && end == size)) return 1f;
        return Math.Max(0f, 1f - distance / (float)(margin + 1));
    }

    /// <summary>
    /// Temporal stabilisation: where the input barely changed since the previous frame the previous output is kept
    /// (weight 1 − change/threshold), so static regions stop flickering while moving ones follow the new frame.
    /// </summary>
    public static void Stabilize(float[] output, float[] previousOutput, float[] input, float[] previousInput, double threshold)
    {
        int n = output.Length / 3;
        for (int i = 0; i < n; i++)
        {
            float change = (Math.Abs(input[3 * i] - previousInput[3 * i]) + Math.Abs(input[3 * i + 1] - previousInput[3 * i + 1])
                            + Math.Abs(input[3 * i + 2] - previousInput[3 * i + 2])) / 3f;
            float keep = Math.Max(0f, 1f - change / (float)threshold);
            for (int c = 0; c < 3; c++) output[3 * i + c] = keep * previousOutput[3 * i + c] + (1 - keep) * output[3 * i + c];
        }
    }

    /// <summary>Checks, before any work, that every output's folder exists (or is created) and is writable.</summary>
    public static void CheckWritable(IEnumerable<ApplyJob> jobs)
    {
        foreach (string folder in jobs.Select(j => Path.GetDirectoryName(Path.GetFullPath(j.Output))!).Distinct())
            AtomicFile.EnsureWritable(Path.Combine(folder, "probe.png"));
    }
}
