using NeuralStyle.Cli;
using NeuralStyle.Imaging;
using NeuralStyle.Models.Johnson;
using NeuralStyle.Tests.FastStyle;
using NeuralStyle.TestSupport;

namespace NeuralStyle.Tests.Cli;

/// <summary><c>neuralstyle apply</c> end to end on the tiny fixture network, and its bad-input answers.</summary>
public sealed class ApplyCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-apply-cli-").FullName;
    private readonly string _model;
    private readonly string _inputs;

    public ApplyCommandTests()
    {
        _model = Path.Combine(_dir, "tiny.onnx");
        TransformerNetOnnx.Write(_model, FastStyleApplierTests.Tiny());
        _inputs = Path.Combine(_dir, "in");
        Directory.CreateDirectory(_inputs);
        for (int i = 0; i < 4; i++) ImageIO.Save(FastStyleApplierTests.Smooth(21 + i, 19, i), Path.Combine(_inputs, $"img{i}.{(i == 3 ? "jpg" : "png")}"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => NeuralStyle.Tests.Cli.CliRunner.Run(args);

    private static void AssertOneSentence(string err)
    {
        string[] lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("neuralstyle: ", lines[0]);
        Assert.DoesNotContain("internal error", err);
    }

    [Fact]
    public void Apply_Folder_WritesEveryImageUnderItsName_AtItsSize()
    {
        string output = Path.Combine(_dir, "out");
        var r = Run("apply", "--model", _model, _inputs, "-o", output, "--quality", "90");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("images/s", r.Err);
        for (int i = 0; i < 4; i++)
        {
            Image img = ImageIO.Load(Path.Combine(output, $"img{i}.{(i == 3 ? "jpg" : "png")}"));
            Assert.Equal((21 + i, 19), (img.Width, img.Height));
        }
    }

    [Fact]
    public void Apply_ShardAndSkipExisting_TogetherCoverEveryFileOnce()
    {
        string output = Path.Combine(_dir, "out");
        var a = Run("apply", "--model", _model, _inputs, "-o", output, "--shard", "0/2", "--tile", "32", "--temporal");
        Assert.True(a.Code == 0, a.Err);
        Assert.Equal(["img0.png", "img2.png"], Directory.GetFiles(output).Select(Path.GetFileName).Order());
        var b = Run("apply", "--model", _model, _inputs, "-o", output, "--skip-existing", "--original-colors");
        Assert.True(b.Code == 0, b.Err);
        Assert.Contains("2 skipped", b.Err);
        Assert.Equal(4, Directory.GetFiles(output).Length);
    }

    [Fact]
    public void Apply_SingleFile_ToAnImagePath()
    {
        string output = Path.Combine(_dir, "one.png");
        var r = Run("apply", "--model", _model, Path.Combine(_inputs, "img1.png"), "-o", output, "--size", "40", "--bit-depth", "16");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(40, ImageIO.Load(output).Width);
    }

    [Fact]
    public void Apply_CorruptOnnx_OneSentence_NothingOverwritten()
    {
        string corrupt = Path.Combine(_dir, "bad.onnx");
        byte[] bytes = File.ReadAllBytes(_model);
        File.WriteAllBytes(corrupt, bytes[..(bytes.Length / 3)]);
        string output = Path.Combine(_dir, "out");
        Directory.CreateDirectory(output);
        File.WriteAllBytes(Path.Combine(output, "img0.png"), [9, 9]);
        var r = Run("apply", "--model", corrupt, _inputs, "-o", output);
        Assert.Equal(1, r.Code);
        AssertOneSentence(r.Err);
        Assert.Contains("ONNX", r.Err);
        Assert.Equal([9, 9], File.ReadAllBytes(Path.Combine(output, "img0.png")));
        Assert.Single(Directory.GetFiles(output));
    }

    [Fact]
    public void Apply_ModelOfAnotherArchitecture_OneSentence()
    {
        var r = Run("apply", "--model", Fixtures.Gatys("vgg19_narrow.safetensors"), _inputs, "-o", Path.Combine(_dir, "out"));
        Assert.Equal(1, r.Code);
        AssertOneSentence(r.Err);
        Assert.Contains("not a fast style-transfer network", r.Err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "out")), "the output folder made for the results is removed again");
        var v = Run("apply", "--model", "vgg19", _inputs, "-o", Path.Combine(_dir, "out"));
        Assert.Equal(1, v.Code);
        AssertOneSentence(v.Err);
    }

    [Fact]
    public void Apply_MissingInput_UnwritableOutput_BadShard_AreUsageErrors()
    {
        var missing = Run("apply", "--model", _model, Path.Combine(_dir, "nope.png"), "-o", Path.Combine(_dir, "out"));
        Assert.Equal(2, missing.Code);
        AssertOneSentence(missing.Err);

        string file = Path.Combine(_dir, "afile");
        File.WriteAllText(file, "x");
        var unwritable = Run("apply", "--model", _model, _inputs, "-o", file);
        Assert.Equal(2, unwritable.Code);
        AssertOneSentence(unwritable.Err);
        Assert.Equal("x", File.ReadAllText(file));

        var shard = Run("apply", "--model", _model, _inputs, "-o", Path.Combine(_dir, "out"), "--shard", "2/2");
        Assert.Equal(2, shard.Code);
        AssertOneSentence(shard.Err);
        Assert.Contains("--shard", shard.Err);
    }

    [Fact]
    public void Apply_Help_ListsTheOptions()
    {
        var r = Run("apply", "--help");
        Assert.Equal(0, r.Code);
        foreach (string flag in new[] { "--model", "--size", "--content-scale", "--original-colors", "--tile", "--temporal", "--shard", "--skip-existing", "--threads", "--quality", "--bit-depth" })
            Assert.Contains(flag, r.Out);
    }
}
