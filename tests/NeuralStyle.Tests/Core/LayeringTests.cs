using NeuralStyle.IO;
using NeuralStyle.TestSupport;

namespace NeuralStyle.Tests.Core;

/// <summary>Which method may use what, and the one place output paths are checked.</summary>
public sealed class LayeringTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-layer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static IEnumerable<(string File, string Text)> Sources(string folder) =>
        Directory.EnumerateFiles(Path.Combine(Fixtures.RepoRoot, "src", "NeuralStyle", folder), "*.cs", SearchOption.AllDirectories)
            .Select(f => (Path.GetFileName(f), File.ReadAllText(f)));

    /// <summary>What names each method's public face: no other method (nor Core or Losses) may mention it.</summary>
    private static readonly Dictionary<string, string[]> MethodMarkers = new()
    {
        ["Gatys"] = ["NeuralStyle.Gatys", "StylizeOptions", "Stylizer", "Presets", "StylizeResult"],
        ["Texture"] = ["NeuralStyle.Texture", "TextureOptions", "TextureSynthesizer"],
        ["FastStyle"] = ["NeuralStyle.FastStyle", "FastStyleTrainer", "FastStyleApplier", "TrainOptions", "ApplyOptions"],
        ["StyleBank"] = ["NeuralStyle.StyleBank", "BankTrainer", "BankApplier", "BankTrainingOptions", "BankRecipe"],
    };

    [Theory]
    [InlineData("Gatys")]
    [InlineData("Texture")]
    [InlineData("FastStyle")]
    [InlineData("StyleBank")]
    [InlineData("Core")]
    [InlineData("Losses")]
    public void Folder_UsesNoOtherMethod(string folder)
    {
        foreach ((string file, string text) in Sources(folder))
            foreach ((string method, string[] markers) in MethodMarkers.Where(m => m.Key != folder))
                foreach (string marker in markers)
                    Assert.False(text.Contains(marker, StringComparison.Ordinal), $"{folder}/{file} uses {method} ({marker})");
    }

    [Fact]
    public void EnsureWritable_MissingFolder_NamesItAndCreatesNothing()
    {
        string path = Path.Combine(_dir, "no-such-folder", "out.png");
        var e = Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.EnsureWritable(path));
        Assert.Contains("no-such-folder", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_dir, "no-such-folder")));
    }

    [Fact]
    public void EnsureWritable_CreateDirectory_CreatesItAndLeavesNoProbe()
    {
        string path = Path.Combine(_dir, "logs", "run.jsonl");
        AtomicFile.EnsureWritable(path, createDirectory: true);
        Assert.True(Directory.Exists(Path.Combine(_dir, "logs")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_dir, "logs")));
    }

    [Fact]
    public void EnsureWritable_PathIsAFolder_Refused()
        => Assert.Throws<IOException>(() => AtomicFile.EnsureWritable(_dir));

    [Fact]
    public void WriteAllText_ReplacesAtomically()
    {
        string path = Path.Combine(_dir, "a.svg");
        AtomicFile.WriteAllText(path, "old");
        AtomicFile.WriteAllText(path, "new ×");
        Assert.Equal("new ×", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Theory]
    [InlineData("stylize")]
    [InlineData("texture")]
    public void Cli_OutputInAMissingFolder_RefusedBeforeAnyWork(string command)
    {
        string output = Path.Combine(_dir, "missing", "o.png"), log = Path.Combine(_dir, "log.jsonl");
        string[] args = command == "stylize"
            ? ["stylize", "--content", Fixtures.Gatys("content.png"), "--style", Fixtures.Gatys("style_a.png")]
            : ["texture", Fixtures.TextureFile("source_a.png")];
        var err = new StringWriter();
        int code = NeuralStyle.Cli.CliApp.Run([.. args, "--weights", Fixtures.Gatys("vgg19_narrow.safetensors"), "--input-flavor", "caffe",
            "--log", log, "-o", output], new NeuralStyle.Cli.CliContext(new StringWriter(), err, interactive: false));
        Assert.Equal(1, code);
        Assert.Contains("does not exist", err.ToString());
        Assert.Contains("missing", err.ToString());
        Assert.False(File.Exists(log)); // refused before the run began
    }
}
