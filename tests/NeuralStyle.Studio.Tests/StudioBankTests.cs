using System.IO.Compression;
using System.Net;
using System.Text.Json;
using NeuralStyle.Imaging;
using NeuralStyle.Imaging.Jpeg;
using NeuralStyle.Imaging.Png;
using NeuralStyle.Models.StyleBank;

namespace NeuralStyle.Studio.Tests;

/// <summary>StyleBanks in the studio's API: a small random bank in DATA/models, applied by style, blend, regions
/// (an uploaded mask) and reconstruction; refusals in one sentence.</summary>
public sealed class StudioBankTests
{
    public const string BankName = "tiny.safetensors";
    public static readonly string[] BankStyles = ["waves", "dots", "hat"];

    /// <summary>A data folder whose models/ holds a random three-style bank (and a fast-style file beside it).</summary>
    public static string DataWithBank()
    {
        string dir = StudioHost.NewDataDirectory();
        Directory.CreateDirectory(Path.Combine(dir, "models"));
        StyleBankFile.Save(Path.Combine(dir, "models", BankName), VisibleRandomBank());
        return dir;
    }

    /// <summary>
    /// A random bank whose outputs span the visible range: untrained, the decoder's last layer gives values near 0
    /// (the styles then differ by a level or two once clamped to 0–255), so it is rescaled to a mean of 128 and a
    /// spread of about 50 levels on a test photo, which makes the styles' differences plain in the results.
    /// </summary>
    public static StyleBankNet VisibleRandomBank()
    {
        StyleBankNet net = StyleBankNet.Random(BankStyles, 7);
        const int w = 32, h = 32;
        Image photo = ImageIO.Decode(StudioHost.Png(w, h));
        var rgb = new float[w * h * 3];
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        for (int c = 0; c < 3; c++) rgb[(y * w + x) * 3 + c] = 255f * photo[x, y, c];
        float[] o = new StyleBank.BankApplier(net).Apply(rgb, w, h, new StyleBank.BankRecipe.Single(BankStyles[0]));
        double mean = o.Average(), std = Math.Sqrt(o.Average(v => (v - mean) * (v - mean)));
        float scale = (float)(50 / Math.Max(std, 1e-6));
        float[] weight = net.Parameters["decoder.deconv3.weight"].Data, bias = net.Parameters["decoder.deconv3.bias"].Data;
        for (int i = 0; i < weight.Length; i++) weight[i] *= scale;
        for (int c = 0; c < bias.Length; c++) bias[c] = 128f + scale * (bias[c] - (float)mean);
        return net;
    }

    /// <summary>Left half red, right half blue: the two regions of the tests.</summary>
    public static byte[] HalvesMask(int width, int height)
    {
        var img = new Image(width, height, 3);
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            bool left = x < width / 2;
            img[x, y, 0] = left ? 1 : 0;
            img[x, y, 2] = left ? 0 : 1;
        }
        using var m = new MemoryStream();
        PngEncoder.Encode(img, m, 8, CompressionLevel.Fastest);
        return m.ToArray();
    }

    private static async Task<(HttpStatusCode Status, string Body)> Post(StudioHost s, object options, byte[]? mask, byte[]? content = null)
    {
        (string, string, byte[])[] files = mask is null
            ? [("content", "photo.png", content ?? StudioHost.Png(48, 40))]
            : [("content", "photo.png", content ?? StudioHost.Png(48, 40)), ("mask", "../../evil.png", mask)];
        using HttpResponseMessage r = await s.Client.PostAsync("/api/jobs", StudioHost.Form("apply", JsonSerializer.Serialize(options), files));
        return (r.StatusCode, await r.Content.ReadAsStringAsync());
    }

    private static async Task<string> Run(StudioHost s, object options, byte[]? mask = null, byte[]? content = null)
    {
        (HttpStatusCode status, string body) = await Post(s, options, mask, content);
        Assert.True(status == HttpStatusCode.Created, $"submit answered {(int)status}: {body}");
        string id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        JsonElement job = await s.WaitFinished(id);
        Assert.True(job.GetProperty("status").GetString() == "done", job.ToString());
        return id;
    }

    private static async Task<Image> Result(StudioHost s, string id) => ImageIO.Decode(await s.Client.GetByteArrayAsync($"/api/jobs/{id}/result"));

    private static string Error(string body) => JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;

    /// <summary>Largest difference (0–1) between two images over columns [x0, x1).</summary>
    private static double MaxDiff(Image a, Image b, int x0, int x1)
    {
        Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
        double max = 0;
        for (int y = 0; y < a.Height; y++)
        for (int x = x0; x < x1; x++)
        for (int c = 0; c < 3; c++)
            max = Math.Max(max, Math.Abs(a[x, y, c] - b[x, y, c]));
        return max;
    }

    [Fact]
    public async Task Models_lists_the_banks_with_their_styles_and_the_fast_style_files()
    {
        string dir = DataWithBank();
        File.WriteAllBytes(Path.Combine(dir, "models", "other.pth"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(dir, "models", ".hidden.safetensors"), [1, 2, 3]);
        await using StudioHost s = await StudioHost.InProcess(dir);

        JsonElement models = JsonDocument.Parse(await s.Client.GetStringAsync("/api/models")).RootElement;
        Assert.Equal(2, models.GetArrayLength()); // the hidden file is not a model name
        JsonElement bank = models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == BankName);
        Assert.Equal("stylebank", bank.GetProperty("kind").GetString());
        Assert.Equal(BankStyles, bank.GetProperty("styles").EnumerateArray().Select(x => x.GetString()));
        JsonElement other = models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "other.pth");
        Assert.Equal("fast-style", other.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, other.GetProperty("styles").ValueKind);

        JsonElement apply = JsonDocument.Parse(await s.Client.GetStringAsync("/api/methods")).RootElement.EnumerateArray()
            .Single(m => m.GetProperty("name").GetString() == "apply");
        Assert.True(apply.GetProperty("mask").GetBoolean());
        string[] keys = apply.GetProperty("options").EnumerateArray().Select(k => k.GetString()!).ToArray();
        Assert.Subset(new HashSet<string>(keys), new HashSet<string> { "style", "blend", "region-styles", "feather", "region-mode", "reconstruct" });
        Assert.DoesNotContain("regions", keys); // a path of the server: the mask is uploaded instead
    }

    [Fact]
    public async Task A_bank_applies_one_style_a_blend_and_the_reconstruction()
    {
        await using StudioHost s = await StudioHost.InProcess(DataWithBank());
        string waves = await Run(s, new { model = BankName, style = "waves" });
        string dots = await Run(s, new { model = BankName, style = "1" });
        string blendAllDots = await Run(s, new { model = BankName, blend = "dots:1,waves:0" });
        string blend = await Run(s, new { model = BankName, blend = "waves:0.5,dots:0.5" });
        string recon = await Run(s, new { model = BankName, reconstruct = true, size = 32 });

        Image w = await Result(s, waves), d = await Result(s, dots), bd = await Result(s, blendAllDots), b = await Result(s, blend), r = await Result(s, recon);
        Assert.Equal((48, 40), (w.Width, w.Height));
        Assert.Equal((32, 27), (r.Width, r.Height));
        Assert.True(MaxDiff(w, d, 0, 48) > 0.05, $"two styles of the bank give different images ({MaxDiff(w, d, 0, 48)})");
        Assert.Equal(0, MaxDiff(d, bd, 0, 48), 3); // dots:1 is the style dots (README)
        Assert.True(MaxDiff(b, w, 0, 48) > 0.01 && MaxDiff(b, d, 0, 48) > 0.01, "a blend is neither of its styles");
    }

    [Fact]
    public async Task Regions_from_an_uploaded_mask_paint_each_half_with_its_style()
    {
        await using StudioHost s = await StudioHost.InProcess(DataWithBank());
        byte[] content = StudioHost.Png(48, 40);
        string waves = await Run(s, new { model = BankName, style = "waves" }, content: content);
        string hat = await Run(s, new { model = BankName, style = "hat" }, content: content);
        string regions = await Run(s, new { model = BankName, regionStyles = "ff0000:waves,#0000FF:hat", regionMode = "composite" }, HalvesMask(48, 40), content);
        string feathered = await Run(s, new { model = BankName, region_styles = "ff0000:waves,0000ff:hat", feather = 8 }, HalvesMask(48, 40), content);

        Image w = await Result(s, waves), h = await Result(s, hat), rg = await Result(s, regions), f = await Result(s, feathered);
        // Composite mode: inside a region the result is exactly that style's own output.
        Assert.True(MaxDiff(rg, w, 0, 24) <= 1.5 / 255, $"left half differs from waves by {MaxDiff(rg, w, 0, 24)}");
        Assert.True(MaxDiff(rg, h, 24, 48) <= 1.5 / 255, $"right half differs from hat by {MaxDiff(rg, h, 24, 48)}");
        Assert.True(MaxDiff(w, h, 0, 48) > 0.05, $"waves vs hat {MaxDiff(w, h, 0, 48)}");
        // Feathering blends across the edge: the columns next to it are no longer either style's alone.
        Assert.True(MaxDiff(f, rg, 20, 28) > 0.01, "feathering changed the region edge");

        JsonElement job = await s.Job(regions);
        Assert.Equal("composite", job.GetProperty("options").GetProperty("regionMode").GetString());
        Assert.True(File.Exists(Path.Combine(s.DataDirectory, "jobs", regions, "mask.png")));
        Assert.Empty(Directory.EnumerateFiles(s.DataDirectory, "evil*", SearchOption.AllDirectories)); // the upload's name is never used
    }

    [Fact]
    public async Task A_mask_warning_reaches_the_job_and_survives_a_restart()
    {
        string dir = DataWithBank();
        string resized, plain;
        await using (StudioHost s = await StudioHost.InProcess(dir))
        {
            byte[] content = StudioHost.Png(48, 40);
            resized = await Run(s, new { model = BankName, regionStyles = "ff0000:waves,0000ff:hat" }, HalvesMask(96, 80), content);
            plain = await Run(s, new { model = BankName, regionStyles = "ff0000:waves,0000ff:hat" }, HalvesMask(48, 40), content);
            string[] notes = (await s.Job(resized)).GetProperty("notes").EnumerateArray().Select(n => n.GetString()!).ToArray();
            Assert.Single(notes);
            Assert.Contains("is 96×80 and the image 48×40: the mask was resized to fit", notes[0]);
            Assert.Equal(0, (await s.Job(plain)).GetProperty("notes").GetArrayLength());
            s.KeepData = true; // for the restart below
        }
        await using (StudioHost again = await StudioHost.InProcess(dir))
        {
            JsonElement job = await again.Job(resized);
            Assert.Contains("the mask was resized to fit", job.GetProperty("notes")[0].GetString());
        }
    }

    [Fact]
    public async Task Mistakes_are_refused_with_one_sentence_naming_the_banks_styles()
    {
        await using StudioHost s = await StudioHost.InProcess(DataWithBank());
        const string holds = "it holds 0 waves, 1 dots, 2 hat";

        (HttpStatusCode st, string body) = await Post(s, new { model = BankName, style = "zebra" }, null);
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.Equal($"The bank has no style 'zebra'; {holds}.", Error(body));

        (st, body) = await Post(s, new { model = BankName, regionStyles = "ff0000:waves,0000ff:zebra" }, HalvesMask(48, 40));
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.Equal($"The bank has no style 'zebra'; {holds}.", Error(body));

        (st, body) = await Post(s, new { model = BankName, blend = "waves:0.5,zebra:0.5" }, null);
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.Contains(holds, Error(body));

        (st, body) = await Post(s, new { model = BankName }, null);
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.Contains("is a StyleBank", Error(body));
        Assert.Contains(holds, Error(body));

        (st, body) = await Post(s, new { model = BankName, style = "waves", blend = "dots:1" }, null);
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.Contains("not both 'style' and 'blend'", Error(body));

        (st, body) = await Post(s, new { model = BankName, style = "waves" }, HalvesMask(48, 40));
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.Equal("A mask paints styles by region; send it without 'style'.", Error(body));

        (st, body) = await Post(s, new { model = BankName }, HalvesMask(48, 40));
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.StartsWith("A mask needs 'region-styles'", Error(body));

        (st, body) = await Post(s, new { model = BankName, style = "waves", feather = 4 }, null);
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.Equal("Option 'feather' goes with a mask (the file field mask).", Error(body));

        (st, body) = await Post(s, new { model = BankName, regionStyles = "red:waves" }, HalvesMask(48, 40));
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.Contains("region-styles", Error(body));

        (st, body) = await Post(s, new { model = "random", style = "waves" }, null);
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.Equal("Option 'style' is for StyleBank models, and 'random' is not one.", Error(body));

        (st, body) = await Post(s, new { model = "random", regionStyles = "ff0000:waves" }, HalvesMask(48, 40));
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.Equal("A mask is for StyleBank models, and 'random' is not one.", Error(body));

        (st, body) = await Post(s, new { model = "absent.safetensors", style = "waves" }, null);
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.Equal($"The studio's models folder has no 'absent.safetensors'; it holds {BankName}.", Error(body));

        (st, body) = await Post(s, new { model = BankName, regions = "/etc/passwd", regionStyles = "ff0000:waves" }, null);
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.StartsWith("The option 'regions' is not one apply takes here", Error(body));

        // Bad masks: not PNG (JPEG, garbage), undecodable PNG, too small.
        var grey = new Image(16, 16, 3);
        byte[] jpeg = JpegEncoder.EncodeToArray(grey);
        (st, body) = await Post(s, new { model = BankName, regionStyles = "ff0000:waves" }, jpeg);
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.Equal("The mask is a JPEG file; upload a PNG image.", Error(body));
        (st, body) = await Post(s, new { model = BankName, regionStyles = "ff0000:waves" }, "not an image at all"u8.ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.Equal("The mask is not a PNG image.", Error(body));
        byte[] broken = HalvesMask(48, 40)[..60];
        (st, body) = await Post(s, new { model = BankName, regionStyles = "ff0000:waves" }, broken);
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.StartsWith("The mask cannot be read", Error(body));
        (st, body) = await Post(s, new { model = BankName, regionStyles = "ff0000:waves" }, HalvesMask(4, 4));
        Assert.Equal(HttpStatusCode.BadRequest, st);
        Assert.StartsWith("The mask is only 4×4 pixels", Error(body));

        // A mask for a method that takes none.
        using HttpResponseMessage r = await s.Client.PostAsync("/api/jobs", StudioHost.Form("stylize", """{"model":"random","size":32,"iterations":2}""",
            [("content", "a.png", StudioHost.Png(40, 40)), ("style", "b.png", StudioHost.Png(40, 40, 1)), ("mask", "m.png", HalvesMask(40, 40))]));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal("The method stylize takes no mask.", Error(await r.Content.ReadAsStringAsync()));

        JsonElement list = JsonDocument.Parse(await s.Client.GetStringAsync("/api/jobs")).RootElement;
        Assert.Equal(0, list.GetArrayLength()); // nothing refused was queued
    }
}
