using NeuralStyle.Cli;
using NeuralStyle.Imaging;
using NeuralStyle.Models.StyleBank;
using NeuralStyle.Tests.FastStyle;
using NeuralStyle.Tests.StyleBank;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;
using NeuralStyle.Models.Johnson;

namespace NeuralStyle.Tests.Cli;

/// <summary><c>neuralstyle bank …</c> and <c>apply --model BANK</c> end to end on a small random bank, and their bad-input answers.</summary>
public sealed class BankCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-bank-cli-").FullName;
    private readonly string _bank;
    private readonly string _photo;

    public BankCliTests()
    {
        _bank = Path.Combine(_dir, "bank.safetensors");
        StyleBankFile.Save(_bank, TestBank());
        _photo = Path.Combine(_dir, "photo.png");
        ImageIO.Save(FastStyleApplierTests.Smooth(40, 28, 3), _photo);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Three random styles, the decoder's last layer scaled so the output spans the 0–255 range as a trained bank's does.</summary>
    internal static StyleBankNet TestBank()
    {
        var net = StyleBankNet.Random(["starry", "waves", "hat"], 7);
        float[] w = net.Parameters["decoder.deconv3.weight"].Data, b = net.Parameters["decoder.deconv3.bias"].Data;
        for (int i = 0; i < w.Length; i++) w[i] *= 40f;
        for (int i = 0; i < b.Length; i++) b[i] += 128f;
        return net;
    }

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static void AssertOneSentence((int Code, string Out, string Err) r, int code)
    {
        Assert.True(r.Code == code, $"exit {r.Code}: {r.Err}");
        string[] lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("neuralstyle: ", lines[0]);
        Assert.DoesNotContain("internal error", r.Err);
    }

    private float[] Apply(string name, params string[] options)
    {
        string output = Path.Combine(_dir, name);
        var r = Run(["apply", "--model", _bank, _photo, "-o", output, .. options]);
        Assert.True(r.Code == 0, r.Err);
        return ImageIO.Load(output).Data;
    }

    private string ColourMask(string name, int w, int h, int split, (byte, byte, byte) left, (byte, byte, byte) right)
    {
        string path = Path.Combine(_dir, name);
        ImageIO.Save(RegionMaskTests.TwoColours(w, h, split, left, right), path);
        return path;
    }

    private static double MeanAbs(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Average();

    // ---- apply ---------------------------------------------------------------------------------------------------

    [Fact]
    public void Apply_StyleByNameOrIndex_BlendOfOne_AndFullMask_AllEqualThatStyle()
    {
        float[] waves = Apply("waves.png", "--style", "waves");
        Assert.True(MeanAbs(waves, Apply("starry.png", "--style", "starry")) > 0.02, "the styles differ (else the equalities below prove nothing)");
        Assert.Equal(waves, Apply("one.png", "--style", "1"));
        Assert.Equal(waves, Apply("blend.png", "--blend", "waves:1,hat:0"));
        string all = ColourMask("all.png", 40, 28, 40, (255, 0, 0), (0, 0, 255));
        Assert.Equal(waves, Apply("composite.png", "--regions", all, "--region-styles", "ff0000:waves"));
        Assert.True(MeanAbs(waves, Apply("feature.png", "--regions", all, "--region-styles", "ff0000:waves", "--region-mode", "feature")) < 1.5 / 255);
        // Two halves both given the same style: that style.
        string halves = ColourMask("halves.png", 40, 28, 20, (255, 0, 0), (0, 0, 255));
        Assert.True(MeanAbs(waves, Apply("halves-out.png", "--regions", halves, "--region-styles", "ff0000:waves,0000ff:1", "--region-mode", "feature")) < 1.5 / 255);
    }

    [Fact]
    public void Apply_TwoRegions_EachHalfIsItsStyle_InCompositeMode_AndReconstructRuns()
    {
        float[] starry = Apply("s.png", "--style", "starry"), hat = Apply("h.png", "--style", "hat");
        string halves = ColourMask("halves.png", 40, 28, 20, (255, 0, 0), (0, 0, 255));
        float[] both = Apply("both.png", "--regions", halves, "--region-styles", "ff0000:starry,0000ff:hat");
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 40; x++)
                for (int c = 0; c < 3; c++)
                    Assert.Equal((x < 20 ? starry : hat)[(y * 40 + x) * 3 + c], both[(y * 40 + x) * 3 + c]);
        // The reconstruction is the auto-encoder's own output: neither style (were the flag ignored, it would be one).
        float[] rec = Apply("rec.png", "--reconstruct");
        Assert.True(MeanAbs(rec, starry) > 1.0 / 255 && MeanAbs(rec, hat) > 1.0 / 255);
    }

    [Fact]
    public void Apply_BankThroughTheFastStylePath_FoldersTilesTemporalSize()
    {
        string inputs = Path.Combine(_dir, "in");
        Directory.CreateDirectory(inputs);
        for (int i = 0; i < 3; i++) ImageIO.Save(FastStyleApplierTests.Smooth(70 + i, 50, i), Path.Combine(inputs, $"f{i}.png"));
        string mask = ColourMask("m.png", 70, 50, 35, (255, 0, 0), (0, 0, 255));
        string output = Path.Combine(_dir, "out");
        var r = Run("apply", "--model", _bank, inputs, "-o", output, "--regions", mask, "--region-styles", "ff0000:starry,0000ff:hat",
            "--feather", "4", "--tile", "32", "--temporal", "--size", "60");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(3, Directory.GetFiles(output).Length);
        Assert.Equal(60, ImageIO.Load(Path.Combine(output, "f0.png")).Width);
        // The mask is resized to each image's size, and each size is said once.
        Assert.Contains("warning: The mask m.png is 70×50 and the image 60×43: the mask was resized to fit.", r.Err);
        Assert.Contains("regions (composite mode) starry, hat", r.Err);
    }

    [Fact]
    public void Apply_TiledRegions_MatchTheUntiledMasks()
    {
        var big = Path.Combine(_dir, "big.png");
        ImageIO.Save(FastStyleApplierTests.Smooth(96, 80, 5), big);
        string mask = ColourMask("m.png", 96, 80, 40, (255, 0, 0), (0, 0, 255));
        string whole = Path.Combine(_dir, "whole.png"), tiled = Path.Combine(_dir, "tiled.png");
        Assert.Equal(0, Run("apply", "--model", _bank, big, "-o", whole, "--regions", mask, "--region-styles", "ff0000:starry,0000ff:hat").Code);
        Assert.Equal(0, Run("apply", "--model", _bank, big, "-o", tiled, "--regions", mask, "--region-styles", "ff0000:starry,0000ff:hat", "--tile", "48").Code);
        // Tiles differ only by instance-norm statistics; a misplaced mask would swap whole stripes of style.
        Assert.True(MeanAbs(ImageIO.Load(whole).Data, ImageIO.Load(tiled).Data) < 0.05);
    }

    [Fact]
    public void Apply_MaskMistakes_WarnOrOneSentence()
    {
        string small = ColourMask("small.png", 10, 7, 5, (255, 0, 0), (0, 255, 0));
        string output = Path.Combine(_dir, "o.png");
        var r = Run("apply", "--model", _bank, _photo, "-o", output, "--regions", small, "--region-styles", "ff0000:starry");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("warning: 50% of small.png (00ff00) has a colour no style is assigned to; it is left as the reconstruction.", r.Err);
        Assert.Contains("warning: The mask small.png is 10×7 and the image 40×28: the mask was resized to fit.", r.Err);

        var hex = Run("apply", "--model", _bank, _photo, "-o", output, "--regions", small, "--region-styles", "red:starry");
        AssertOneSentence(hex, 2);
        Assert.Contains("--region-styles expects RRGGBB:NAME", hex.Err);
        Assert.Contains("'red' is not a six-digit hex colour", hex.Err);

        var noAssignment = Run("apply", "--model", _bank, _photo, "-o", output, "--regions", small);
        AssertOneSentence(noAssignment, 2);
        var missing = Run("apply", "--model", _bank, _photo, "-o", output, "--regions", Path.Combine(_dir, "none.png"), "--region-styles", "ff0000:starry");
        AssertOneSentence(missing, 2);
        var stray = Run("apply", "--model", _bank, _photo, "-o", output, "--style", "hat", "--feather", "3");
        AssertOneSentence(stray, 2);
        Assert.Contains("--feather goes with --regions", stray.Err);
    }

    [Fact]
    public void Apply_UnknownStyle_ListsTheValidOnes_Exit2_NothingWritten()
    {
        string output = Path.Combine(_dir, "out");
        var r = Run("apply", "--model", _bank, _photo, "-o", output, "--style", "zebra");
        AssertOneSentence(r, 2);
        Assert.Contains("The bank has no style 'zebra'; it holds 0 starry, 1 waves, 2 hat.", r.Err);
        Assert.False(Directory.Exists(output));
        AssertOneSentence(Run("apply", "--model", _bank, _photo, "-o", output, "--blend", "starry:1,zebra:1"), 2);
        AssertOneSentence(Run("apply", "--model", _bank, _photo, "-o", output, "--style", "3"), 2);
        string mask = ColourMask("m.png", 40, 28, 20, (255, 0, 0), (0, 0, 255));
        var regions = Run("apply", "--model", _bank, _photo, "-o", output, "--regions", mask, "--region-styles", "ff0000:starry,0000ff:zebra");
        AssertOneSentence(regions, 2);
        Assert.Contains("zebra", regions.Err);
    }

    [Fact]
    public void Apply_ConflictingOrMissingChoice_IsAUsageError()
    {
        string output = Path.Combine(_dir, "o.png");
        var both = Run("apply", "--model", _bank, _photo, "-o", output, "--style", "hat", "--blend", "hat:1");
        AssertOneSentence(both, 2);
        Assert.Contains("not both --style and --blend", both.Err);
        var none = Run("apply", "--model", _bank, _photo, "-o", output);
        AssertOneSentence(none, 2);
        Assert.Contains("0 starry, 1 waves, 2 hat", none.Err);
        var badBlend = Run("apply", "--model", _bank, _photo, "-o", output, "--blend", "hat=1");
        AssertOneSentence(badBlend, 2);
        var zero = Run("apply", "--model", _bank, _photo, "-o", output, "--blend", "hat:0");
        AssertOneSentence(zero, 2);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Apply_BankOptionsOnAFastStyleNetwork_AndABankOfAnotherArchitecture()
    {
        string onnx = Path.Combine(_dir, "tiny.onnx");
        TransformerNetOnnx.Write(onnx, FastStyleApplierTests.Tiny());
        var r = Run("apply", "--model", onnx, _photo, "-o", Path.Combine(_dir, "o.png"), "--style", "hat");
        AssertOneSentence(r, 2);
        Assert.Contains("--style is for StyleBank models", r.Err);

        string other = Path.Combine(_dir, "other.safetensors");
        var meta = new Dictionary<string, string>(SafeTensors.ReadMetadata(_bank)) { ["architecture"] = "stylebank: 5 residual blocks" };
        SafeTensors.Write(other, SafeTensors.Read(_bank).Values, meta);
        var arch = Run("apply", "--model", other, _photo, "-o", Path.Combine(_dir, "o.png"), "--style", "hat");
        AssertOneSentence(arch, 1);
        Assert.Contains("another architecture", arch.Err);
        AssertOneSentence(Run("bank", "list", other), 1);
        // A fast-style network is not a bank either.
        string fast = Path.Combine(_dir, "fast.safetensors");
        SafeTensors.Write(fast, FastStyleApplierTests.Tiny().StateDict(), new Dictionary<string, string> { ["method"] = "fast-style" });
        var notBank = Run("bank", "list", fast);
        AssertOneSentence(notBank, 1);
        Assert.Contains("not a StyleBank file (a fast-style network", notBank.Err);
    }

    // ---- list / remove / rename ------------------------------------------------------------------------------------

    [Fact]
    public void List_PrintsTheStyles_AndWritesThumbnails()
    {
        string thumbs = Path.Combine(_dir, "thumbs");
        var r = Run("bank", "list", _bank, "--thumbnails", thumbs);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("bank.safetensors: 3 styles", r.Out);
        Assert.Matches(@"\n\s+1\s+waves\s+0 steps", r.Out);
        Assert.Equal(["00_starry.jpg", "01_waves.jpg", "02_hat.jpg"], Directory.GetFiles(thumbs).Select(Path.GetFileName).Order());
        Image t = ImageIO.Load(Path.Combine(thumbs, "01_waves.jpg"));
        Assert.Equal((128, 85), (t.Width, t.Height));
    }

    [Fact]
    public void RemoveAndRename_RewriteTheFile_OtherWeightsKeepTheirBytes()
    {
        var before = SafeTensors.Read(_bank);
        var rename = Run("bank", "rename", _bank, "waves", "sea");
        Assert.True(rename.Code == 0, rename.Err);
        var remove = Run("bank", "remove", _bank, "0");
        Assert.True(remove.Code == 0, remove.Err);
        Assert.Contains("it holds 0 sea, 1 hat", remove.Err);
        Assert.Equal(["sea", "hat"], StyleBankFile.ReadInfo(_bank).Styles.Select(s => s.Name));
        var after = SafeTensors.Read(_bank);
        Assert.Equal(before["bank.1.weight"].Data, after["bank.0.weight"].Data);
        Assert.Equal(before["bank.2.bias"].Data, after["bank.1.bias"].Data);
        Assert.Equal(before["encoder.conv1.weight"].Data, after["encoder.conv1.weight"].Data);
        Assert.False(after.ContainsKey("bank.2.weight"));
        Assert.DoesNotContain(Directory.GetFiles(_dir), f => f.Contains(".tmp", StringComparison.Ordinal));

        AssertOneSentence(Run("bank", "remove", _bank, "zebra"), 2);
        AssertOneSentence(Run("bank", "rename", _bank, "hat", "sea"), 2);
        AssertOneSentence(Run("bank", "rename", _bank, "hat", "7"), 2);
        Assert.Equal(0, Run("bank", "remove", _bank, "sea").Code);
        var last = Run("bank", "remove", _bank, "hat");
        AssertOneSentence(last, 2);
        Assert.Contains("only style", last.Err);
        AssertOneSentence(Run("bank", "remove", Path.Combine(_dir, "none.safetensors"), "hat"), 2);
        AssertOneSentence(Run("bank", "frobnicate"), 2);
    }

    // ---- train / add-style ----------------------------------------------------------------------------------------

    private string Dataset() => CliRunner.TwoPhotoDataset(_dir);

    private static readonly string Narrow = Fixtures.Gatys("vgg16_narrow.safetensors");

    [Fact]
    public void Train_ThenAddStyle_OldWeightsBitIdentical_ThenApply()
    {
        string bank = Path.Combine(_dir, "new.safetensors"), plot = Path.Combine(_dir, "loss.svg");
        var r = Run("bank", "train", "--styles", Fixtures.Gatys("style_a.png"), Fixtures.Gatys("style_b.png"), "--names", "a,b",
            "--dataset", Dataset(), "-o", bank, "--weights", Narrow, "--image-size", "32", "--batch-size", "2", "--steps", "3",
            "--plot", plot, "--preview-every", "3", Fixtures.Gatys("content.png"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("2 styles, T+1 with T = 2, gradient balancing λ = 1", r.Err);
        Assert.Equal(["a", "b"], StyleBankFile.ReadInfo(bank).Styles.Select(s => s.Name));
        Assert.True(File.Exists(Path.Combine(_dir, "new.ckpt.safetensors")));
        Assert.Equal(2 * ImageIO.Load(Fixtures.Gatys("content.png")).Width, ImageIO.Load(Path.Combine(_dir, "new_preview_0003.png")).Width); // both styles side by side
        Assert.Contains("<svg", File.ReadAllText(plot));

        string grown = Path.Combine(_dir, "grown.safetensors");
        var add = Run("bank", "add-style", bank, "--style", Fixtures.Gatys("content.png"), "--name", "c", "--dataset", Dataset(), "-o", grown,
            "--weights", Narrow, "--image-size", "32", "--batch-size", "2", "--steps", "2");
        Assert.True(add.Code == 0, add.Err);
        Assert.Contains("adding c to a bank of 2", add.Err);
        var before = SafeTensors.Read(bank);
        var after = SafeTensors.Read(grown);
        foreach ((string name, WeightTensor t) in before) Assert.True(t.Data.SequenceEqual(after[name].Data), $"{name} changed");
        Assert.True(after.ContainsKey("bank.2.weight"));
        Assert.Equal(["a", "b", "c"], StyleBankFile.ReadInfo(grown).Styles.Select(s => s.Name));
        Assert.Contains("training", StyleBankFile.ReadInfo(grown).Extra.Keys);

        var apply = Run("apply", "--model", grown, _photo, "-o", Path.Combine(_dir, "c.png"), "--style", "c");
        Assert.True(apply.Code == 0, apply.Err);
    }

    [Fact]
    public void Train_Mistakes_AreOneSentence_NothingWritten()
    {
        string bank = Path.Combine(_dir, "new.safetensors");
        string a = Fixtures.Gatys("style_a.png");
        AssertOneSentence(Run("bank", "train", "--styles", a, a, "--dataset", Dataset(), "-o", bank), 2);
        AssertOneSentence(Run("bank", "train", "--styles", a, "--names", "x,y", "--dataset", Dataset(), "-o", bank), 2);
        AssertOneSentence(Run("bank", "train", "--styles", a, "--dataset", Dataset(), "-o", Path.Combine(_dir, "b.pth")), 2);
        AssertOneSentence(Run("bank", "train", "--styles", a, "--dataset", Dataset(), "-o", bank, "--separate-optimizers", "--lambda", "2"), 2);
        AssertOneSentence(Run("bank", "train", "--styles", a, "--dataset", Dataset(), "-o", bank, "--image-size", "30", "--weights", Narrow), 1);
        AssertOneSentence(Run("bank", "add-style", _bank, "--style", a, "--name", "hat", "--dataset", Dataset()), 2);
        Assert.False(File.Exists(bank));
    }

    [Fact]
    public void Help_ListsEveryOption_AndTheTrainingFlagsAreTrainsOwnObjects()
    {
        var r = Run("bank", "train", "--help");
        Assert.Equal(0, r.Code);
        foreach (OptionSpec s in BankCommand.TrainOptions) Assert.Contains(s.Name, r.Out);
        foreach (OptionSpec shared in CommonOptions.TrainingGroup.Concat(CommonOptions.TrainingLossGroup))
        {
            Assert.Contains(shared, TrainCommand.Options);
            Assert.Contains(shared, BankCommand.TrainOptions);
            Assert.Contains(shared, BankCommand.AddOptions);
        }
        var apply = Run("apply", "--help");
        foreach (OptionSpec s in BankApplyOptions.Group) Assert.Contains(s.Name, apply.Out);
        Assert.Contains("bank", Run("--help").Out);
    }
}
