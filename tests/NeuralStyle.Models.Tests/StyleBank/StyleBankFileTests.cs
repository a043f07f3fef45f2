using NeuralStyle.Models.Johnson;
using NeuralStyle.Models.StyleBank;
using NeuralStyle.Weights;

namespace NeuralStyle.Models.Tests.StyleBank;

/// <summary>The one-file bank: round trip, curation (remove, rename) keeping bytes, and files that are not banks.</summary>
public sealed class StyleBankFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-bankfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public void SaveLoad_RoundTrip_KeepsWeightsStylesAndInfo()
    {
        var net = StyleBankNet.Random(["a", "b"], 1);
        net.SetStyleInfo(1, "b.jpg", 1200);
        net.SharedSteps = 3000;
        StyleBankFile.Save(PathOf("x.safetensors"), net, new Dictionary<string, string> { ["training"] = "{}" });
        Assert.True(StyleBankFile.IsStyleBank(PathOf("x.safetensors")));
        StyleBankNet back = StyleBankFile.Load(PathOf("x.safetensors"));
        Assert.Equal(["a", "b"], back.Styles);
        Assert.Equal("b.jpg", back.StyleInfo[1].Source);
        Assert.Equal(1200, back.StyleInfo[1].Steps);
        Assert.Equal(3000, back.SharedSteps);
        foreach (var p in net.Parameters) Assert.Equal(p.Data, back.Parameters[p.Name].Data);
        StyleBankFileInfo info = StyleBankFile.ReadInfo(PathOf("x.safetensors"));
        Assert.Equal("{}", info.Extra["training"]);
        Assert.Equal(StyleBankFile.Format, SafeTensors.ReadMetadata(PathOf("x.safetensors"))["format"]);
    }

    [Fact]
    public void RemoveAndRename_KeepEveryOtherTensorsBytes_AndTheBankDense()
    {
        var net = StyleBankNet.Random(["a", "b", "c"], 2);
        StyleBankFile.Save(PathOf("three.safetensors"), net);
        var before = SafeTensors.Read(PathOf("three.safetensors"));
        net.RemoveStyle("b");
        net.RenameStyle("c", "sea");
        StyleBankFile.Save(PathOf("two.safetensors"), net);
        var after = SafeTensors.Read(PathOf("two.safetensors"));
        Assert.Equal(["a", "sea"], StyleBankFile.Load(PathOf("two.safetensors")).Styles);
        Assert.Equal(before.Count - 2, after.Count);
        foreach (var (name, t) in after)
        {
            string old = name.StartsWith("bank.1.", StringComparison.Ordinal) ? "bank.2." + name["bank.1.".Length..] : name; // c moved down
            Assert.Equal(before[old].Data, t.Data);
        }
        Assert.False(after.ContainsKey("bank.2.weight"));
        Assert.Throws<ArgumentException>(() => net.RenameStyle("a", "sea"));
        Assert.Throws<ArgumentException>(() => net.RenameStyle("a", " "));
        net.RemoveStyle("sea");
        Assert.Throws<ArgumentException>(() => net.RemoveStyle("a")); // the last one stays
    }

    [Fact]
    public void AFastStyleNetwork_IsRefusedInOneSentence()
    {
        var johnson = TransformerNet.Random(TransformerArchitecture.JohnsonHalf, 1);
        SafeTensors.Write(PathOf("j.safetensors"), johnson.StateDict(), new Dictionary<string, string> { ["method"] = "fast-style", ["arch"] = "johnson-half" });
        var e = Assert.Throws<ModelWeightsException>(() => StyleBankFile.Load(PathOf("j.safetensors")));
        Assert.Contains("not a StyleBank file", e.Message);
        Assert.Contains("fast-style network", e.Message);
        Assert.False(StyleBankFile.IsStyleBank(PathOf("j.safetensors")));
        File.WriteAllText(PathOf("junk.safetensors"), "not safetensors at all");
        Assert.Throws<ModelWeightsException>(() => StyleBankFile.Load(PathOf("junk.safetensors")));
        Assert.Throws<ModelWeightsException>(() => StyleBankFile.Load(PathOf("missing.safetensors")));
    }

    [Fact]
    public void MissingOrMisShapedTensors_AreRefused()
    {
        var net = StyleBankNet.Random(["a", "b"], 3);
        StyleBankFile.Save(PathOf("ok.safetensors"), net);
        var meta = SafeTensors.ReadMetadata(PathOf("ok.safetensors"));
        var tensors = SafeTensors.Read(PathOf("ok.safetensors"));

        SafeTensors.Write(PathOf("missing.safetensors"), tensors.Values.Where(t => t.Name != "bank.1.bias"), meta);
        var e = Assert.Throws<ModelWeightsException>(() => StyleBankFile.Load(PathOf("missing.safetensors")));
        Assert.Contains("'bank.1.bias'", e.Message);

        SafeTensors.Write(PathOf("shape.safetensors"), tensors.Values.Select(t => t.Name == "decoder.in4.weight" ? t with { Shape = [8, 8], Data = new float[64] } : t), meta);
        e = Assert.Throws<ModelWeightsException>(() => StyleBankFile.Load(PathOf("shape.safetensors")));
        Assert.Contains("decoder.in4.weight", e.Message);

        SafeTensors.Write(PathOf("extra.safetensors"), tensors.Values.Append(new WeightTensor("bank.2.weight", [1], [0f])), meta);
        Assert.Throws<ModelWeightsException>(() => StyleBankFile.Load(PathOf("extra.safetensors")));
    }
}
