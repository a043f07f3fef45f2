using System.Text.Json;
using NeuralStyle.Weights;

namespace NeuralStyle.TestSupport;

/// <summary>Access to the committed PyTorch golden files (tests/fixtures) and tensor layout helpers.</summary>
public static class Fixtures
{
    private static readonly Lazy<string> RootDir = new(() =>
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "NeuralStyle.slnx"))) return d.FullName;
        throw new InvalidOperationException("Cannot find the repository root (NeuralStyle.slnx) above " + AppContext.BaseDirectory);
    });

    public static string RepoRoot => RootDir.Value;

    public static string Gatys(string file) => Path.Combine(RepoRoot, "tests", "fixtures", "gatys", file);

    public static IReadOnlyDictionary<string, WeightTensor> Tensors(string file) => SafeTensors.Read(Gatys(file));

    public static string TextureFile(string file) => Path.Combine(RepoRoot, "tests", "fixtures", "texture", file);

    public static IReadOnlyDictionary<string, WeightTensor> TextureTensors(string file) => SafeTensors.Read(TextureFile(file));

    public static JsonElement TextureJson(string file) => JsonDocument.Parse(File.ReadAllText(TextureFile(file))).RootElement;

    public static JsonElement Json(string file) => JsonDocument.Parse(File.ReadAllText(Gatys(file))).RootElement;

    /// <summary>A file of an engine-op fixture folder: tests/fixtures/engine/&lt;name&gt;/&lt;file&gt;.</summary>
    public static string Engine(string name, string file) => Path.Combine(RepoRoot, "tests", "fixtures", "engine", name, file);

    /// <summary>(N,C,H,W) -> (N,H,W,C).</summary>
    public static float[] ToNhwc(WeightTensor t)
    {
        int n = t.Shape[0], c = t.Shape[1], h = t.Shape[2], w = t.Shape[3];
        var r = new float[t.Data.Length];
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        r[((b * h + y) * w + x) * c + ch] = t.Data[((b * c + ch) * h + y) * w + x];
        return r;
    }

    /// <summary>Largest |a − b| divided by the largest |b| (a scale-aware relative error for whole tensors).</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length) return double.PositiveInfinity;
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)actual[i] - expected[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)expected[i]));
            if (double.IsNaN(actual[i])) return double.PositiveInfinity;
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    public static double Relative(double actual, double expected)
        => Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-30);
}
