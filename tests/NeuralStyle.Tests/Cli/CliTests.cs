using System.Text.Json;
using NeuralStyle.Cli;
using NeuralStyle.Imaging;
using NeuralStyle.TestSupport;

namespace NeuralStyle.Tests.Cli;

/// <summary>The stylize command end to end on the small fixture network and images, and its bad-input answers.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-cli-").FullName;
    private static readonly string Content = Fixtures.Gatys("content.png");
    private static readonly string Style = Fixtures.Gatys("style_a.png");
    private static readonly string StyleB = Fixtures.Gatys("style_b.png");
    private static readonly string Narrow = Fixtures.Gatys("vgg19_narrow.safetensors");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) Run(params string[] args) => NeuralStyle.Tests.Cli.CliRunner.Run(args);

    private string[] Narrowed(params string[] args) =>
        ["stylize", "--content", Content, "--style", Style, "--weights", Narrow, "--input-flavor", "caffe", "--size", "45", .. args];

    private static void AssertOneSentence(string err)
    {
        string[] lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string last = lines[^1];
        Assert.StartsWith("neuralstyle: ", last);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void Stylize_Iterations0_WritesTheContentUnchanged()
    {
        string output = Path.Combine(_dir, "same.png");
        var r = Run(Narrowed("-o", output, "--iterations", "0", "--init", "image"));
        Assert.True(r.Code == 0, r.Err);
        Image a = ImageIO.Load(output), b = ImageIO.Load(Content);
        Assert.Equal(b.Width, a.Width);
        Assert.Equal(b.Height, a.Height);
        Assert.Equal(b.Data, a.Data);
    }

    [Fact]
    public void Stylize_LogPlotSaveEvery_WritesRowsAndFiles()
    {
        string output = Path.Combine(_dir, "out.png"), log = Path.Combine(_dir, "log.jsonl"), plot = Path.Combine(_dir, "plot.svg");
        var r = Run(Narrowed("-o", output, "--iterations", "6", "--save-every", "3", "--log", log, "--plot", plot, "--optimizer", "adam", "--learning-rate", "5"));
        Assert.True(r.Code == 0, r.Err);
        string[] rows = File.ReadAllLines(log);
        Assert.Equal(7, rows.Length);
        for (int k = 0; k < rows.Length; k++)
        {
            JsonElement j = JsonDocument.Parse(rows[k]).RootElement;
            Assert.Equal(k, j.GetProperty("iteration").GetInt32());
            double sum = j.GetProperty("terms").EnumerateObject().Sum(t => t.Value.GetDouble());
            Assert.Equal(j.GetProperty("loss").GetDouble(), sum, 1e-3 * j.GetProperty("loss").GetDouble());
            Assert.True(j.GetProperty("terms").TryGetProperty("content:relu4_2", out _));
            Assert.True(j.GetProperty("terms").TryGetProperty("style:relu5_1", out _));
            Assert.True(j.GetProperty("seconds").GetDouble() >= 0);
        }
        Assert.True(JsonDocument.Parse(rows[^1]).RootElement.GetProperty("loss").GetDouble() < JsonDocument.Parse(rows[0]).RootElement.GetProperty("loss").GetDouble());
        Assert.True(File.Exists(Path.Combine(_dir, "out_0003.png")));
        Assert.Contains("<svg", File.ReadAllText(plot));
        Assert.Contains("polyline", File.ReadAllText(plot));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void Stylize_TwoStylesWithBlend_Runs()
    {
        string output = Path.Combine(_dir, "two.png");
        var r = Run(["stylize", "--content", Content, "--style", Style, StyleB, "--style-blend", "0.7,0.3", "--weights", Narrow,
            "--input-flavor", "caffe", "--size", "45", "-o", output, "--iterations", "3", "--original-colors"]);
        Assert.True(r.Code == 0, r.Err);
        Assert.True(File.Exists(output));
    }

    [Fact]
    public void Stylize_MissingContent_OneSentenceExit2()
    {
        var r = Run("stylize", "--content", Path.Combine(_dir, "nope.png"), "--style", Style, "-o", Path.Combine(_dir, "o.png"));
        Assert.Equal(2, r.Code);
        AssertOneSentence(r.Err);
        Assert.Contains("nope.png", r.Err);
    }

    [Theory]
    [InlineData("--preset", "keras", "--tv-smoothing", "1")]
    [InlineData("--optimizer", "adam", "--precondition-levels", "2")]
    public void Stylize_OptimiserSettingsThatCannotWork_AreRefusedBeforeAnyNetworkIsLoaded(params string[] extra)
    {
        // No --weights: were the network loaded first, the offline fallback would announce itself on stderr.
        var r = Run(["stylize", "--content", Content, "--style", Style, "-o", Path.Combine(_dir, "o.png"), .. extra]);
        Assert.Equal(1, r.Code);
        AssertOneSentence(r.Err);
        Assert.Contains(extra[2], r.Err);
        Assert.DoesNotContain("pretrained", r.Err);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(File.Exists(Path.Combine(_dir, "o.png")));
    }

    [Fact]
    public void Stylize_NotAnImage_OneSentenceExit1()
    {
        string bad = Path.Combine(_dir, "text.png");
        File.WriteAllText(bad, "this is not an image");
        var r = Run(Narrowed("-o", Path.Combine(_dir, "o.png")).Select(s => s == Content ? bad : s).ToArray());
        Assert.Equal(1, r.Code);
        AssertOneSentence(r.Err);
    }

    [Fact]
    public void Stylize_WeightsOfAnotherArchitecture_NamesKeyExit1()
    {
        var r = Run("stylize", "--content", Content, "--style", Style, "--weights", Fixtures.Gatys("vgg16_narrow.safetensors"),
            "--model", "vgg19", "-o", Path.Combine(_dir, "o.png"));
        Assert.Equal(1, r.Code);
        AssertOneSentence(r.Err);
        Assert.Contains("features.16.weight", r.Err);
    }

    [Fact]
    public void Stylize_UnknownLayer_ListsValidNamesExit1()
    {
        var r = Run(Narrowed("-o", Path.Combine(_dir, "o.png"), "--content-layers", "relu9_9"));
        Assert.Equal(1, r.Code);
        AssertOneSentence(r.Err);
        Assert.Contains("relu9_9", r.Err);
        Assert.Contains("relu4_2", r.Err);
    }

    [Fact]
    public void Stylize_BlendCountMismatch_Exit2()
    {
        var r = Run(Narrowed("-o", Path.Combine(_dir, "o.png"), "--style-blend", "1,2,3"));
        Assert.Equal(2, r.Code);
        AssertOneSentence(r.Err);
        Assert.Contains("--style-blend", r.Err);
    }

    [Fact]
    public void Stylize_SizeBeyondMemory_RefusesAndSuggestsSize()
    {
        var r = Run("stylize", "--content", Content, "--style", Style, "--weights", Narrow, "--input-flavor", "caffe",
            "--size", "16000", "-o", Path.Combine(_dir, "o.png"));
        Assert.Equal(2, r.Code);
        AssertOneSentence(r.Err);
        Assert.Contains("--size", r.Err);
        Assert.False(File.Exists(Path.Combine(_dir, "o.png")));
    }

    [Fact]
    public void Stylize_LossBecomesInfinite_KeepsLastFiniteImageAndNamesTheWeight()
    {
        string output = Path.Combine(_dir, "nan.png");
        var r = Run(Narrowed("-o", output, "--optimizer", "adam", "--learning-rate", "1e38", "--iterations", "5", "--init", "image"));
        Assert.Equal(1, r.Code);
        AssertOneSentence(r.Err);
        Assert.Contains("--learning-rate", r.Err);
        Assert.True(File.Exists(output));
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--size", "abc")]
    [InlineData("--optimizer", "sgd")]
    [InlineData("--preset", "nope")]
    [InlineData("--iterations")]
    public void Stylize_BadOption_Exit2(params string[] extra)
    {
        var r = Run(Narrowed(["-o", Path.Combine(_dir, "o.png"), .. extra]));
        Assert.Equal(2, r.Code);
        AssertOneSentence(r.Err);
    }

    [Fact]
    public void Stylize_OutputExtension_MustBeImage()
    {
        var r = Run(Narrowed("-o", Path.Combine(_dir, "o.gif")));
        Assert.Equal(2, r.Code);
        Assert.Contains(".png", r.Err);
    }

    [Fact]
    public void Help_ListsEveryOption()
    {
        var r = Run("stylize", "--help");
        Assert.Equal(0, r.Code);
        foreach (OptionSpec s in StylizeCommand.Options) Assert.Contains(s.Name, r.Out);
    }
}
