using NeuralStyle.Models.Johnson;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;
using NeuralStyle.Weights.Onnx;

namespace NeuralStyle.Models.Tests.Johnson;

/// <summary>
/// ONNX files of PyTorch's TransformerNet (tools/fixtures/engine/onnx.py, widths 4/8/16) read back with the state
/// dict's exact weights and PyTorch's forward; our writer's files read back identically.
/// </summary>
public class TransformerNetOnnxTests
{
    private static string File(string name) => Fixtures.Engine("onnx", name);

    private static readonly Lazy<IReadOnlyDictionary<string, WeightTensor>> Reference = new(() => SafeTensors.Read(File("tiny_state_dict.safetensors")));

    private static IReadOnlyDictionary<string, WeightTensor> StateDict()
        => Reference.Value.Where(kv => !kv.Key.StartsWith("x_", StringComparison.Ordinal) && !kv.Key.StartsWith("y_", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value);

    [Theory]
    [InlineData("tiny_opset9.onnx")]
    [InlineData("tiny_opset11.onnx")]
    [InlineData("tiny_zoo9.onnx")]
    public void Read_PyTorchExport_GivesTheStateDictBitwise(string file)
    {
        TransformerNet net = TransformerNetOnnx.Read(File(file));
        var expected = StateDict();
        Assert.Equal(expected.Count, net.Parameters.Count);
        foreach (var p in net.Parameters)
        {
            Assert.Equal(expected[p.Name].Shape, p.Shape);
            Assert.True(expected[p.Name].Data.AsSpan().SequenceEqual(p.Data), $"{p.Name} differs in {file}");
        }
    }

    [Theory]
    [InlineData("tiny_opset9.onnx", "x_fixed", "y_fixed")]
    [InlineData("tiny_opset9.onnx", "x_other", "y_other")] // the file's fixed 16×24 input does not limit the size
    [InlineData("tiny_opset11.onnx", "x_other", "y_other")]
    [InlineData("tiny_zoo9.onnx", "x_other", "y_other")]
    public void Read_PyTorchExport_ForwardMatchesPyTorch(string file, string x, string y)
    {
        TransformerNet net = TransformerNetOnnx.Read(File(file));
        WeightTensor input = Reference.Value[x], output = Reference.Value[y];
        int h = input.Shape[2], w = input.Shape[3];
        float[] got = net.Stylize(Fixtures.ToNhwc(input), h, w);
        // PyTorch does not crop; compare the top-left h×w (here h, w are multiples of 2 but 22 is not of 4).
        float[] want = Fixtures.ToNhwc(output);
        int wh = output.Shape[2], ww = output.Shape[3];
        var cropped = new float[h * w * 3];
        for (int i = 0; i < h; i++) Array.Copy(want, (i * ww) * 3, cropped, i * w * 3, w * 3);
        Assert.True(wh >= h && ww >= w);
        double err = Fixtures.RelativeError(got, cropped);
        Assert.True(err <= 1e-4, $"{file} {x}: relative error {err:E2}");
    }

    [Fact]
    public void Write_ThenRead_GivesIdenticalWeights_AndDynamicInput()
    {
        TransformerNet net = TransformerNet.Random(TransformerArchitecture.JohnsonHalf, 5);
        string path = Path.Combine(Path.GetTempPath(), $"ns-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            TransformerNetOnnx.Write(path, net);
            OnnxModel model = OnnxFile.Read(path);
            Assert.Equal(11, model.Opset);
            Assert.Equal("input1", model.Graph.Inputs[0].Name);
            Assert.Equal("output1", model.Graph.Outputs[0].Name);
            Assert.Equal("height", model.Graph.Inputs[0].Shape![2].Param);
            TransformerNet back = TransformerNetOnnx.Read(path);
            Assert.Equal(net.Architecture, back.Architecture);
            foreach (var p in net.Parameters) Assert.True(p.Data.AsSpan().SequenceEqual(back.Parameters[p.Name].Data), p.Name);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    /// <summary>The committed ours_written.onnx (validated once by onnx.checker in the fixture script) is what our
    /// writer writes today, byte for byte: a change of the writer must re-run that validation.</summary>
    [Fact]
    public void OnnxWriterFixture_IsWhatTheWriterWritesToday()
    {
        TransformerNet net = TransformerNet.FromStateDict(StateDict());
        byte[] bytes = OnnxFile.Serialize(TransformerNetOnnx.ToModel(net));
        string committed = File("ours_written.onnx");
        if (Environment.GetEnvironmentVariable("NEURALSTYLE_WRITE_ONNX_FIXTURE") == "1") System.IO.File.WriteAllBytes(committed, bytes);
        Assert.True(System.IO.File.ReadAllBytes(committed).AsSpan().SequenceEqual(bytes),
            "the writer's output changed: regenerate ours_written.onnx and re-run tools/fixtures/engine/onnx.py to validate it");
        Assert.Contains("passed", System.IO.File.ReadAllText(File("ours_written.validation.json")));
    }

    [Fact]
    public void Read_CorruptFile_OneSentenceWeightFormatException()
    {
        byte[] data = System.IO.File.ReadAllBytes(File("tiny_opset11.onnx"));
        string path = Path.Combine(Path.GetTempPath(), $"ns-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            System.IO.File.WriteAllBytes(path, data[..(data.Length / 2)]);
            var e = Assert.Throws<WeightFormatException>(() => TransformerNetOnnx.Read(path));
            Assert.DoesNotContain('\n', e.Message);
            Assert.EndsWith(".", e.Message);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Fact]
    public void Read_AnotherNetwork_OneSentenceModelWeightsException()
    {
        // A valid ONNX graph of a different network: one convolution.
        var model = new OnnxModel();
        model.OpsetImports.Add(("", 11));
        model.Graph.Inputs.Add(new OnnxValueInfo { Name = "x", ElementType = OnnxDataType.Float, Shape = [(1, null), (3, null), (8, null), (8, null)] });
        model.Graph.Outputs.Add(new OnnxValueInfo { Name = "y", ElementType = OnnxDataType.Float });
        model.Graph.Initializers.Add(OnnxTensor.FromFloats("w", new float[2 * 3 * 9], 2, 3, 3, 3));
        model.Graph.Initializers.Add(OnnxTensor.FromFloats("b", new float[2], 2));
        var conv = new OnnxNode { OpType = "Conv", Name = "c" };
        conv.Inputs.AddRange(["x", "w", "b"]);
        conv.Outputs.Add("y");
        conv.Attributes.Add(OnnxAttribute.IntList("pads", 1, 1, 1, 1));
        model.Graph.Nodes.Add(conv);
        var e = Assert.Throws<ModelWeightsException>(() => TransformerNetOnnx.FromModel(OnnxFile.Parse(OnnxFile.Serialize(model)), "'other.onnx'"));
        Assert.Contains("not a fast style-transfer network", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
