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

    [Fact]
    public void Texture_UsesNothingOfGatys()
    {
        foreach ((string file, string text) in Sources("Texture"))
            foreach (string gatys in new[] { "NeuralStyle.Gatys", "StylizeOptions", "Stylizer", "Presets", "StylizeResult" })
                Assert.False(text.Contains(gatys, StringComparison.Ordinal), $"Texture/{file} uses {gatys}");
    }

    [Fact]
    public void Gatys_UsesNothingOfTexture()
    {
        foreach ((string file, string text) in Sources("Gatys"))
            foreach (string texture in new[] { "NeuralStyle.Texture", "TextureOptions", "TextureSynthesizer" })
                Assert.False(text.Contains(texture, StringComparison.Ordinal), $"Gatys/{file} uses {texture}");
    }

    [Fact]
    public void CoreAndLosses_UseNoMethod()
    {
        foreach (string folder in new[] { "Core", "Losses" })
            foreach ((string file, string text) in Sources(folder))
                foreach (string method in new[] { "NeuralStyle.Gatys", "NeuralStyle.Texture", "StylizeOptions", "TextureOptions" })
                    Assert.False(text.Contains(method, StringComparison.Ordinal), $"{folder}/{file} uses {method}");
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
