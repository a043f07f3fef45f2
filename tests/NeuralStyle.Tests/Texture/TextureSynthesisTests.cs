using NeuralStyle.Cli;
using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Losses;
using NeuralStyle.Imaging;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.TestSupport;
using NeuralStyle.Texture;

namespace NeuralStyle.Tests.Texture;

public sealed class TextureSynthesisTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-tex-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly Lazy<VggNet> Narrow = new(() =>
        VggNet.FromStateDict(VggArchitecture.Vgg19, Fixtures.Tensors("vgg19_narrow.safetensors")));

    private static Backbone Caffe => new(Narrow.Value, InputFlavor.Caffe, "narrow");

    private static Image Source() => ImageIO.Load(Fixtures.TextureFile("source_a.png"));

    private static float[] Roll(float[] x, int h, int w, int dy, int dx)
    {
        var r = new float[x.Length];
        for (int y = 0; y < h; y++)
            for (int c = 0; c < w; c++)
                Array.Copy(x, (y * w + c) * 3, r, ((((y + dy) % h) * w) + (c + dx) % w) * 3, 3);
        return r;
    }

    /// <summary>
    /// With circular padding the whole loss is translation-equivariant (for shifts the pyramid and pools can follow):
    /// rolling the image leaves the loss unchanged and rolls its gradient. That is what makes the output tile.
    /// </summary>
    [Fact]
    public void Circular_RolledImage_SameLossAndRolledGradient()
    {
        var o = new TextureOptions { Width = 48, Height = 40, Octaves = 2, Layers = ["pool1", "relu2_1"], Padding = TexturePadding.Circular, Flavor = InputFlavor.Caffe };
        LossProblem p = new TextureSynthesizer(o, Caffe).Prepare([Source()]);
        float[] x = (float[])p.X.Data.Clone();
        double loss = p.Evaluate(withGradient: true).Loss;
        float[] grad = (float[])p.X.Grad!.Clone();
        Roll(x, 40, 48, 8, 12).CopyTo(p.X.Data, 0);
        double rolledLoss = p.Evaluate(withGradient: true).Loss;
        Assert.True(Fixtures.Relative(rolledLoss, loss) <= 1e-5, $"loss {loss:R} vs rolled {rolledLoss:R}");
        double err = Fixtures.RelativeError(p.X.Grad, Roll(grad, 40, 48, 8, 12));
        Assert.True(err <= 1e-4, $"rolled gradient differs: {err:G3}");
    }

    /// <summary>The wrapped seam of a circular texture has the gradient statistics of its interior.</summary>
    [Fact]
    public void Circular_Synthesis_SeamLooksLikeInterior()
    {
        var o = new TextureOptions { Width = 48, Height = 48, Octaves = 2, Layers = ["pool1", "relu2_1"], Padding = TexturePadding.Circular,
            Flavor = InputFlavor.Caffe, Iterations = 40, SaveEvery = 0 };
        TextureResult r = new TextureSynthesizer(o, Caffe).Run([Source()]);
        Assert.Null(r.Failure);
        Image img = r.Frames[0];
        double Diff(int x0, int x1, int y0, int y1) => Enumerable.Range(0, 3).Sum(c => Math.Abs(img[x0, y0, c] - img[x1, y1, c]));
        double interiorH = 0, seamH = 0, interiorV = 0, seamV = 0;
        int n = 0;
        for (int y = 0; y < 48; y++)
        {
            seamH += Diff(47, 0, y, y);
            for (int x = 0; x < 47; x++, n++) interiorH += Diff(x, x + 1, y, y);
            seamV += Diff(y, y, 47, 0);
            for (int x = 0; x < 47; x++) interiorV += Diff(y, y, x, x + 1);
        }
        interiorH /= n; interiorV /= n; seamH /= 48; seamV /= 48;
        Assert.InRange(seamH / interiorH, 0.6, 1.6);
        Assert.InRange(seamV / interiorV, 0.6, 1.6);
    }

    [Fact]
    public void Synthesis_ReducesTheLossAndReportsEveryLevel()
    {
        var o = new TextureOptions { Width = 40, Height = 40, Octaves = 3, Layers = ["pool1", "relu3_2"], Padding = TexturePadding.Same,
            Flavor = InputFlavor.Caffe, Iterations = 15, SaveEvery = 0 };
        var rows = new List<ProgressRecord>();
        var synth = new TextureSynthesizer(o, Caffe) { Progress = rows.Add };
        TextureResult r = synth.Run([Source(), ImageIO.Load(Fixtures.TextureFile("source_b.png"))]);
        Assert.Null(r.Failure);
        Assert.True(rows[^1].Loss < rows[0].Loss / 5, $"loss {rows[0].Loss} -> {rows[^1].Loss}");
        Assert.Equal(6, rows[0].Terms.Count);
        Assert.Contains("style:2:relu3_2", rows[0].Terms.Keys);
    }

    [Fact]
    public void Cli_CountFrames_WritesNumberedFramesAndLog()
    {
        string output = Path.Combine(_dir, "anim.png"), log = Path.Combine(_dir, "anim.jsonl");
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(["texture", Fixtures.TextureFile("source_a.png"), "--weights", Fixtures.Gatys("vgg19_narrow.safetensors"),
            "--input-flavor", "caffe", "--width", "40", "--octaves", "2", "--layers", "pool1,relu2_1", "--padding", "same",
            "--count", "3", "--iterations", "4", "--save-every", "2", "--log", log, "-o", output], new CliContext(o, e, false));
        Assert.True(code == 0, e.ToString());
        foreach (string f in TextureCommand.FramePaths(output, 3)) Assert.True(File.Exists(f), f);
        Assert.True(File.Exists(Path.Combine(_dir, "anim_0002_002.png")), "the intermediate frames of iteration 2 are missing");
        string[] rows = File.ReadAllLines(log);
        Assert.Equal(5, rows.Length);
        Assert.Contains("\"interframe\"", rows[0]);
    }

    [Fact]
    public void Cli_FolderOfSources_AndTooSmallValidLevel_OneSentence()
    {
        string folder = Path.Combine(_dir, "src");
        Directory.CreateDirectory(folder);
        File.Copy(Fixtures.TextureFile("source_a.png"), Path.Combine(folder, "a.png"));
        File.Copy(Fixtures.TextureFile("source_b.png"), Path.Combine(folder, "b.png"));
        Assert.Equal(2, TextureCommand.SourceFiles([folder]).Count);
        var e = new StringWriter();
        int code = CliApp.Run(["texture", folder, "--weights", Fixtures.Gatys("vgg19_narrow.safetensors"), "--input-flavor", "caffe",
            "--width", "40", "--octaves", "4", "--padding", "valid", "-o", Path.Combine(_dir, "t.png")], new CliContext(new StringWriter(), e, false));
        Assert.Equal(1, code);
        Assert.Contains("too small", e.ToString());
        Assert.Single(e.ToString().Split((char)10, StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("neuralstyle:", StringComparison.Ordinal));
    }

    [Fact]
    public void Cli_ValidConvolutionLeftWithLessThan3x3_OneSentenceNotInternalError()
    {
        // 48 px with valid padding: relu3_2's input shrinks to 2×2 at the coarsest level before the pool check sees it.
        var e = new StringWriter();
        int code = CliApp.Run(["texture", Fixtures.TextureFile("source_a.png"), "--weights", Fixtures.Gatys("vgg19_narrow.safetensors"), "--input-flavor", "caffe",
            "--width", "48", "--iterations", "1", "-o", Path.Combine(_dir, "t48.png")], new CliContext(new StringWriter(), e, false));
        Assert.NotEqual(0, code);
        Assert.Contains("too small", e.ToString());
        Assert.DoesNotContain("internal error", e.ToString());
        Assert.False(File.Exists(Path.Combine(_dir, "t48.png")));
    }
}
