using System.Text.Json;

namespace NeuralStyle.Weights.Tests.MatCaffe;

/// <summary>The files of tests/fixtures/engine/matcaffe (written by tools/fixtures/engine/matcaffe.py).</summary>
internal static class MatCaffeFixtures
{
    private static readonly Lazy<string> Dir = new(() =>
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(System.IO.Path.Combine(d.FullName, "NeuralStyle.slnx")))
                return System.IO.Path.Combine(d.FullName, "tests", "fixtures", "engine", "matcaffe");
        throw new InvalidOperationException("Cannot find the repository root (NeuralStyle.slnx).");
    });

    public static string Path(string file) => System.IO.Path.Combine(Dir.Value, file);

    public static byte[] Bytes(string file) => File.ReadAllBytes(Path(file));

    /// <summary>The PyTorch weights the files were written from: "vgg19.features.0.weight" etc., OIHW.</summary>
    public static IReadOnlyDictionary<string, WeightTensor> Weights => LazyWeights.Value;

    private static readonly Lazy<IReadOnlyDictionary<string, WeightTensor>> LazyWeights = new(() => SafeTensors.Read(Path("weights.safetensors")));

    /// <summary>numpy's double-precision mean of each .mat's averageImage (null: the file has none).</summary>
    public static double[]? ExpectedMean(string style)
    {
        JsonElement e = JsonDocument.Parse(File.ReadAllText(Path("expected.json"))).RootElement.GetProperty("mean_rgb").GetProperty(style);
        return e.ValueKind == JsonValueKind.Null ? null : e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
    }
}
