using NeuralStyle.Cli;
using NeuralStyle.Imaging;
using NeuralStyle.Models.Johnson;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;

namespace NeuralStyle.Tests.Cli;

/// <summary>The train command end to end on the narrow fixture network, and its bad-input answers.</summary>
public sealed class TrainCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-train-cli-").FullName;
    private static readonly string Style = Fixtures.Gatys("style_a.png");
    private static readonly string Narrow = Fixtures.Gatys("vgg16_narrow.safetensors");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) Run(params string[] args) => NeuralStyle.Tests.Cli.CliRunner.Run(args);

    private string Dataset() => CliRunner.TwoPhotoDataset(_dir);

    private string[] Small(string output, params string[] args) =>
        ["train", "--style", Style, "--dataset", Dataset(), "-o", output, "--weights", Narrow, "--arch", "johnson-half",
         "--image-size", "32", "--batch-size", "2", .. args];

    [Fact]
    public void Train_WritesPthModelCheckpointPlotAndPreview()
    {
        string model = Path.Combine(_dir, "m.pth"), plot = Path.Combine(_dir, "loss.svg");
        var (code, _, err) = Run(Small(model, "--steps", "2", "--plot", plot, "--preview-every", "2", Fixtures.Gatys("content.png")));
        Assert.True(code == 0, err);
        Assert.Equal("johnson-half", TransformerNet.FromStateDict(WeightFile.Load(model)).Architecture.Name);
        Assert.True(File.Exists(Path.Combine(_dir, "m.ckpt.safetensors")));
        Assert.True(File.Exists(Path.Combine(_dir, "m_preview_0002.png")));
        Assert.Contains("<svg", File.ReadAllText(plot));
        Assert.Contains("Wrote", err);
    }

    [Fact]
    public void Train_StyleNotAnImage_OneSentenceNothingWritten()
    {
        string bad = Path.Combine(_dir, "style.png");
        File.WriteAllText(bad, "this is not an image");
        string model = Path.Combine(_dir, "m.safetensors");
        string[] args = Small(model, "--steps", "1");
        args[2] = bad;
        var (code, _, err) = Run(args);
        Assert.Equal(1, code);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("neuralstyle: ", err);
        Assert.False(File.Exists(model));
        Assert.False(File.Exists(Path.Combine(_dir, "m.ckpt.safetensors")));
    }

    [Fact]
    public void Train_DatasetWithoutImages_OneSentence()
    {
        string empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        string model = Path.Combine(_dir, "m.safetensors");
        var (code, _, err) = Run("train", "--style", Style, "--dataset", empty, "-o", model, "--weights", Narrow);
        Assert.Equal(1, code);
        Assert.Contains("--dataset folder", err);
        Assert.Contains("has no .png or .jpg images", err);
        Assert.False(File.Exists(model));
    }

    [Fact]
    public void Train_ResumeFromAnotherArchitecture_OneSentenceNothingOverwritten()
    {
        string model = Path.Combine(_dir, "m.safetensors");
        Assert.Equal(0, Run(Small(model, "--steps", "1")).Code);
        byte[] modelBefore = File.ReadAllBytes(model);
        string ckpt = Path.Combine(_dir, "m.ckpt.safetensors");
        byte[] ckptBefore = File.ReadAllBytes(ckpt);
        string[] args = Small(model, "--steps", "2", "--resume", ckpt);
        args[Array.IndexOf(args, "johnson-half")] = "johnson";
        var (code, _, err) = Run(args);
        Assert.Equal(1, code);
        Assert.Contains("is of the architecture 'fast-style:johnson-half', not 'fast-style:johnson'", err);
        Assert.Equal(modelBefore, File.ReadAllBytes(model));
        Assert.Equal(ckptBefore, File.ReadAllBytes(ckpt));
    }

    [Fact]
    public void Train_Help_ListsTheOptions()
    {
        var (code, output, _) = Run("train", "--help");
        Assert.Equal(0, code);
        foreach (string flag in new[] { "--dataset", "--arch", "--checkpoint-every", "--resume", "--preview-every", "--format", "--tv-weight", "--style-size" })
            Assert.Contains(flag, output);
    }
}
