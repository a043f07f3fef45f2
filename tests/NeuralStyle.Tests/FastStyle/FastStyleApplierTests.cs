using NeuralStyle.Core;
using NeuralStyle.FastStyle;
using NeuralStyle.Imaging;
using NeuralStyle.Models;
using NeuralStyle.Models.Johnson;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;
using Xunit.Abstractions;

namespace NeuralStyle.Tests.FastStyle;

public sealed class FastStyleApplierTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-apply-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The 4/8/16-wide PyTorch TransformerNet of the ONNX fixtures (fast enough for many runs), its last
    /// layer scaled so that the output spans the 0–255 range as a trained network's does (a random one is nearly flat).</summary>
    internal static TransformerNet Tiny()
    {
        var sd = SafeTensors.Read(Fixtures.Engine("onnx", "tiny_state_dict.safetensors")).Where(kv => !kv.Key.StartsWith("x_") && !kv.Key.StartsWith("y_"))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        WeightTensor w = sd["deconv3.conv2d.weight"], b = sd["deconv3.conv2d.bias"];
        sd[w.Name] = w with { Data = w.Data.Select(v => v * 60f).ToArray() };
        sd[b.Name] = b with { Data = b.Data.Select(v => 128f + v).ToArray() };
        return TransformerNet.FromStateDict(sd);
    }

    internal static Image Smooth(int w, int h, int seed)
    {
        var rng = new Random(seed);
        double a = rng.NextDouble() * 6, b = rng.NextDouble() * 6;
        var img = new Image(w, h, 3);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    img.Data[(y * w + x) * 3 + c] = (float)(0.5 + 0.4 * Math.Sin(a * x / w + b * y / h + c));
        return img;
    }

    private string Save(Image img, string name)
    {
        string path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        ImageIO.Save(img, path);
        return path;
    }

    [Fact]
    public void StylizeRgb_SideNotMultipleOf4_ComesBackAtInputSize_AndEqualsTheNetwork()
    {
        TransformerNet net = Tiny();
        var applier = new FastStyleApplier(net, new ApplyOptions());
        Image img = Smooth(23, 17, 1);
        float[] got = applier.StylizeRgb(img.Data, 23, 17);
        Assert.Equal(23 * 17 * 3, got.Length);
        float[] direct = net.Stylize(img.Data.Select(v => v * 255f).ToArray(), 17, 23);
        for (int i = 0; i < got.Length; i++) Assert.Equal(direct[i] / 255f, got[i], 1e-5f);
    }

    [Fact]
    public void Plan_FoldersSortedIntoOutputFolder_ShardsAreDisjointAndCoverAll()
    {
        for (int i = 0; i < 7; i++) Save(Smooth(8, 8, i), $"in/f{i:00}.png");
        string out_ = Path.Combine(_dir, "out");
        var all = FastStyleApplier.Plan([Path.Combine(_dir, "in")], out_, new ApplyOptions());
        Assert.Equal(7, all.Count);
        Assert.All(all, j => Assert.Equal(Path.Combine(out_, Path.GetFileName(j.Input)), j.Output));
        Assert.Equal(all.Select(j => j.Output).Order(StringComparer.Ordinal), all.Select(j => j.Output));
        var shards = Enumerable.Range(0, 3).Select(k => FastStyleApplier.Plan([Path.Combine(_dir, "in")], out_, new ApplyOptions { ShardIndex = k, ShardCount = 3 })).ToList();
        Assert.Equal([3, 2, 2], shards.Select(s => s.Count));
        Assert.Equal(all.Select(j => j.Output).Order(), shards.SelectMany(s => s).Select(j => j.Output).Order());
        Assert.Equal(all[1], shards[1][0]); // every N-th file of the sorted list
        var single = FastStyleApplier.Plan([all[0].Input], Path.Combine(_dir, "one.jpg"), new ApplyOptions());
        Assert.Equal(Path.Combine(_dir, "one.jpg"), single.Single().Output);
    }

    [Fact]
    public void Run_WritesEveryImage_SkipsExisting_ReportsProgress()
    {
        for (int i = 0; i < 3; i++) Save(Smooth(20 + i, 18, i), $"in/f{i}.png");
        string out_ = Path.Combine(_dir, "out");
        Directory.CreateDirectory(out_);
        File.WriteAllBytes(Path.Combine(out_, "f1.png"), [1, 2, 3]); // an existing output: left alone
        var options = new ApplyOptions { SkipExisting = true };
        var jobs = FastStyleApplier.Plan([Path.Combine(_dir, "in")], out_, options);
        var applier = new FastStyleApplier(Tiny(), options);
        var rows = new List<ProgressRecord>();
        applier.Progress = rows.Add;
        ApplyResult r = applier.Run(jobs);
        Assert.Equal((2, 1, 3), (r.Done, r.Skipped, r.Total));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(Path.Combine(out_, "f1.png")));
        Image f2 = ImageIO.Load(Path.Combine(out_, "f2.png"));
        Assert.Equal((22, 18), (f2.Width, f2.Height));
        Assert.Equal([1, 3], rows.Select(p => p.Step));
        Assert.All(rows, p => Assert.Equal(3, p.TotalSteps));
        Assert.All(rows, p => Assert.True(p.ImagesPerSecond > 0));
        Assert.Empty(Directory.GetFiles(out_, "*.tmp*"));
    }

    [Fact]
    public void Size_AndOriginalColors_AreApplied()
    {
        string input = Save(Smooth(40, 20, 3), "c.png");
        var jobs = FastStyleApplier.Plan([input], Path.Combine(_dir, "o.png"), new ApplyOptions());
        new FastStyleApplier(Tiny(), new ApplyOptions { Size = 30, OriginalColors = true }).Run(jobs);
        Image o = ImageIO.Load(Path.Combine(_dir, "o.png"));
        Assert.Equal((30, 15), (o.Width, o.Height));
        // Original colours: the chroma is the input's (Cb/Cr of output ≈ those of the resized input).
        Image inYcc = ColorSpace.RgbToYCbCr(ImageOps.ResizeToLongEdge(ImageIO.Load(input), 30)), outYcc = ColorSpace.RgbToYCbCr(o);
        double chroma = 0;
        for (int i = 0; i < inYcc.Data.Length; i += 3) chroma += Math.Abs(inYcc.Data[i + 1] - outYcc.Data[i + 1]) + Math.Abs(inYcc.Data[i + 2] - outYcc.Data[i + 2]);
        Assert.True(chroma / (inYcc.Data.Length / 3) < 0.03, $"chroma differs by {chroma / (inYcc.Data.Length / 3)}");
    }

    /// <summary>
    /// Tiles overlap by the margin and are blended with linear ramps. Measured: the mean step between neighbouring
    /// columns/rows on a tile boundary compared with the same statistic elsewhere (1 = no visible seam), and the
    /// distance from the untiled result.
    /// </summary>
    [Fact]
    public void Tiled_HasNoSeam_AndStaysCloseToTheWholeImage()
    {
        TransformerNet net = Tiny();
        Image img = Smooth(192, 160, 4);
        float[] whole = new FastStyleApplier(net, new ApplyOptions()).StylizeRgb(img.Data, 192, 160);
        float[] tiled = new FastStyleApplier(net, new ApplyOptions { Tile = 64, TileMargin = 48 }).StylizeRgb(img.Data, 192, 160);
        double seam = ColumnStep(tiled, 192, 160, [63, 127]), elsewhere = ColumnStep(tiled, 192, 160, [31, 95, 159]);
        double reference = ColumnStep(whole, 192, 160, [63, 127]);
        double distance = whole.Zip(tiled, (a, b) => Math.Abs(a - b)).Average();
        double range = whole.Max() - whole.Min();
        log.WriteLine($"tile 64, margin 48: column step at tile boundaries {seam:F4} (untiled at the same columns {reference:F4}, tiled elsewhere {elsewhere:F4}); mean |tiled - whole| {distance:F4} of a {range:F2} range");
        Assert.True(seam < 1.5 * reference + 1e-3, $"seam step {seam} vs untiled {reference}");
        Assert.True(distance < 0.1 * range, $"tiled differs from whole by {distance} (range {range})");

        // Without overlap the same tiles do show their boundaries: the measurement can fail.
        float[] hard = new FastStyleApplier(net, new ApplyOptions { Tile = 64, TileMargin = 0 }).StylizeRgb(img.Data, 192, 160);
        double hardSeam = ColumnStep(hard, 192, 160, [63, 127]);
        log.WriteLine($"tile 64, margin 0: column step at tile boundaries {hardSeam:F4}");
        Assert.True(hardSeam > seam, $"{hardSeam} vs {seam}");
    }

    private static double ColumnStep(float[] rgb, int w, int h, int[] columns)
    {
        double s = 0;
        int n = 0;
        foreach (int x in columns)
            for (int y = 0; y < h; y++)
                for (int c = 0; c < 3; c++, n++) s += Math.Abs(rgb[(y * w + x + 1) * 3 + c] - rgb[(y * w + x) * 3 + c]);
        return s / n;
    }

    /// <summary>
    /// Frames: a static noisy background (sensor noise ±2/255) with a moving square. Flicker = mean |Δoutput| between
    /// consecutive frames on the static region; temporal mode must cut it, and the moving square must still move.
    /// </summary>
    [Fact]
    public void Temporal_ReducesFlickerOnStaticRegion_AndFollowsMotion()
    {
        const int W = 48, H = 40, Frames = 6;
        Image background = Smooth(W, H, 5);
        var rng = new Random(9);
        for (int f = 0; f < Frames; f++)
        {
            var frame = background.Clone();
            for (int i = 0; i < frame.Data.Length; i++) frame.Data[i] = Math.Clamp(frame.Data[i] + (float)(rng.NextDouble() - 0.5) * 4f / 255f, 0f, 1f);
            for (int y = 4; y < 14; y++) for (int x = 4 + 4 * f; x < 14 + 4 * f; x++) for (int c = 0; c < 3; c++) frame.Data[(y * W + x) * 3 + c] = c == 0 ? 1f : 0f;
            Save(frame, $"frames/{f:000}.png");
        }
        double Flicker(bool temporal, out double motion)
        {
            string out_ = Path.Combine(_dir, temporal ? "t" : "p");
            Directory.CreateDirectory(out_);
            var o = new ApplyOptions { Temporal = temporal, Save = new SaveOptions { BitDepth = 16 } };
            new FastStyleApplier(Tiny(), o).Run(FastStyleApplier.Plan([Path.Combine(_dir, "frames")], out_, o));
            var outs = Enumerable.Range(0, Frames).Select(f => ImageIO.Load(Path.Combine(out_, $"{f:000}.png"))).ToList();
            double s = 0, m = 0;
            int n = 0, nm = 0;
            for (int f = 1; f < Frames; f++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++)
                        for (int c = 0; c < 3; c++)
                        {
                            double d = Math.Abs(outs[f].Data[(y * W + x) * 3 + c] - outs[f - 1].Data[(y * W + x) * 3 + c]);
                            if (y >= 26) { s += d; n++; } // rows far below the square's path (receptive field aside)
                            if (y is >= 6 and < 12 && x >= 10 + 4 * f && x < 14 + 4 * f) { m += d; nm++; } // where the square arrived
                        }
            motion = m / nm;
            return s / n;
        }
        double plain = Flicker(false, out double plainMotion), stable = Flicker(true, out double stableMotion);
        log.WriteLine($"flicker on the static region (mean |Δ| per frame, 0-1 scale): plain {plain:F5}, temporal {stable:F5}; on the moving square {plainMotion:F4} / {stableMotion:F4}");
        Assert.True(stable < 0.5 * plain, $"temporal {stable} vs plain {plain}");
        Assert.True(stableMotion > 0.8 * plainMotion, $"the moving square froze: {stableMotion} vs {plainMotion}");
    }

    [Fact]
    public void LoadModel_EveryFormat_AndOneSentenceForOthers()
    {
        var cache = new WeightCache(_dir);
        string Fail(ModelEntry e) => throw new InvalidOperationException("no download in tests");
        TransformerNet fromOnnx = FastStyleApplier.LoadModel(Fixtures.Engine("onnx", "tiny_opset11.onnx"), cache, Fail);
        TransformerNet fromSafetensors = FastStyleApplier.LoadModel(Fixtures.Engine("onnx", "tiny_state_dict.safetensors") is var p ? Copy(p) : p, cache, Fail);
        Assert.Equal(fromSafetensors.Parameters["deconv3.conv2d.weight"].Data, fromOnnx.Parameters["deconv3.conv2d.weight"].Data);
        // An ONNX file without the .onnx extension is recognised by its content.
        string renamed = Path.Combine(_dir, "model.bin");
        File.Copy(Fixtures.Engine("onnx", "tiny_zoo9.onnx"), renamed);
        Assert.Equal(fromOnnx.Parameters["in5.bias"].Data, FastStyleApplier.LoadModel(renamed, cache, Fail).Parameters["in5.bias"].Data);

        var vgg = Assert.Throws<ModelWeightsException>(() => FastStyleApplier.LoadModel("vgg19", cache, Fail));
        Assert.Contains("not a fast-style network", vgg.Message);
        var other = Assert.Throws<ModelWeightsException>(() => FastStyleApplier.LoadModel(Fixtures.Gatys("vgg19_narrow.safetensors"), cache, Fail));
        Assert.Contains("not a fast style-transfer network", other.Message);
        Assert.Throws<ModelWeightsException>(() => FastStyleApplier.LoadModel("no-such-model", cache, Fail));
    }

    /// <summary>The fixture holds x/y tensors beside the state dict: a copy without them is a pure state dict.</summary>
    private string Copy(string fixture)
    {
        string path = Path.Combine(_dir, "tiny.safetensors");
        SafeTensors.Write(path, SafeTensors.Read(fixture).Values.Where(t => !t.Name.StartsWith("x_") && !t.Name.StartsWith("y_")));
        return path;
    }
}
