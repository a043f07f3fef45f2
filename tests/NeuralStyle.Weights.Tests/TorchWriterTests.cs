using System.IO.Compression;
using NeuralStyle.Weights.Torch;

namespace NeuralStyle.Weights.Tests;

public class TorchWriterTests
{
    [Fact]
    public void Write_ThenLoad_GivesTheSameTensorsInOrder()
    {
        string dir = Directory.CreateTempSubdirectory("torchwriter").FullName;
        string path = Path.Combine(dir, "model.pth");
        var rng = new Random(3);
        WeightTensor[] tensors =
        [
            new("conv1.conv2d.weight", [4, 3, 3, 3], Enumerable.Range(0, 108).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray()),
            new("conv1.conv2d.bias", [4], [1e-30f, -0f, float.MaxValue, 3.25f]),
            new("big", [300], Enumerable.Range(0, 300).Select(i => (float)i).ToArray()),
            new("ünïcode.key", [1, 1], [7f]),
        ];

        TorchWriter.Write(path, tensors);
        var back = WeightFile.Load(path);

        Assert.Equal(tensors.Select(t => t.Name), back.Keys);
        foreach (WeightTensor t in tensors)
        {
            Assert.Equal(t.Shape, back[t.Name].Shape);
            Assert.Equal(t.Data, back[t.Name].Data);
        }
        using var zip = ZipFile.OpenRead(path);
        Assert.Equal(["archive/data.pkl", "archive/data/0", "archive/data/1", "archive/data/2", "archive/data/3", "archive/version"],
            zip.Entries.Select(e => e.FullName));
        Assert.All(zip.Entries, e => Assert.Equal(e.Length, e.CompressedLength)); // stored, as torch writes
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Write_DuplicateName_Throws()
    {
        string path = Path.Combine(Path.GetTempPath(), $"dup{Guid.NewGuid():N}.pth");
        var e = Assert.Throws<ArgumentException>(() => TorchWriter.Write(path, [new("a", [1], [1f]), new("a", [1], [2f])]));
        Assert.Contains("'a' appears twice", e.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Write_IsDeterministic()
    {
        string a = Path.Combine(Path.GetTempPath(), $"a{Guid.NewGuid():N}.pth"), b = Path.Combine(Path.GetTempPath(), $"b{Guid.NewGuid():N}.pth");
        WeightTensor[] t = [new("w", [2, 2], [1f, 2f, 3f, 4f])];
        TorchWriter.Write(a, t);
        TorchWriter.Write(b, t);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        File.Delete(a);
        File.Delete(b);
    }
}
