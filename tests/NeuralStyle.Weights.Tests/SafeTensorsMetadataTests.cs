using System.Text;

namespace NeuralStyle.Weights.Tests;

/// <summary>The optional <c>__metadata__</c> string map: written by the Write overload, read by ReadMetadata.</summary>
public class SafeTensorsMetadataTests
{
    [Fact]
    public void Write_WithMetadata_RoundTripsItAndTheTensors()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        var meta = new Dictionary<string, string> { ["architecture"] = "tiny", ["options"] = "{\"a\": [1, 2], \"é\": \"\\\"q\\\"\"}" };
        SafeTensors.Write(path, [new WeightTensor("w", [2], [1f, -2f])], meta);
        Assert.Equal(meta, SafeTensors.ReadMetadata(path));
        Assert.Equal([1f, -2f], SafeTensors.Read(path)["w"].Data);
        Assert.Equal(0, BitConverter.ToInt64(File.ReadAllBytes(path), 0) % 8); // the header stays padded
    }

    [Fact]
    public void ReadMetadata_AbsentIsEmpty_NonStringIsAFormatError()
    {
        using var dir = new TempDir();
        string plain = dir.File("p.safetensors");
        SafeTensors.Write(plain, [new WeightTensor("w", [1], [1f])]);
        Assert.Empty(SafeTensors.ReadMetadata(plain));

        byte[] header = Encoding.UTF8.GetBytes("{\"__metadata__\":{\"step\":3}}");
        string bad = dir.Write("b.safetensors", [.. BitConverter.GetBytes((ulong)header.Length), .. header]);
        Assert.Contains("'step' is not a string", Assert.Throws<WeightFormatException>(() => SafeTensors.ReadMetadata(bad)).Message);
    }
}
