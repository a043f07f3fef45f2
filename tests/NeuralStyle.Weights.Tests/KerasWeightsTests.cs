using System.Buffers.Binary;
using NeuralStyle.Weights.Keras;

using NeuralStyle.TestSupport;

namespace NeuralStyle.Weights.Tests;

/// <summary>The Keras HDF5 reader on files written by h5py in Keras' layouts (tools/fixtures/engine/keras.py).</summary>
public class KerasWeightsTests
{
    internal static string File(string name)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (System.IO.File.Exists(Path.Combine(d.FullName, "NeuralStyle.slnx")))
                return Path.Combine(d.FullName, "tests", "fixtures", "engine", "keras", name);
        throw new InvalidOperationException("Cannot find the repository root.");
    }

    private static readonly string[] Vgg19Names =
    [
        "input_1", "block1_conv1", "block1_conv2", "block1_pool", "block2_conv1", "block2_conv2", "block2_pool",
        "block3_conv1", "block3_conv2", "block3_conv3", "block3_conv4", "block3_pool", "block4_conv1", "block4_conv2",
        "block4_conv3", "block4_conv4", "block4_pool", "block5_conv1", "block5_conv2", "block5_conv3", "block5_conv4", "block5_pool",
    ];

    [Fact]
    public void Read_Keras2Notop_LayersInFileOrderWithWeightNamesWithoutSuffixAndStoredShapes()
    {
        IReadOnlyList<KerasLayer> layers = KerasWeights.Read(File("vgg19_notop_keras2.h5"));

        Assert.Equal(Vgg19Names, layers.Select(l => l.Name));
        Assert.Empty(layers[0].Weights); // input_1: an empty weight_names list (stored as an empty float64 array)
        Assert.Empty(layers[3].Weights); // block1_pool
        Assert.Equal(["block1_conv1/kernel", "block1_conv1/bias"], layers[1].Weights.Select(w => w.Name));
        Assert.Equal([3, 3, 3, 4], layers[1].Weights[0].Shape); // H×W×In×Out as stored
        Assert.Equal([4], layers[1].Weights[1].Shape);
        Assert.Equal([3, 3, 10, 10], layers[^2].Weights[0].Shape);
        // The values as stored: kernel[y, x, i, o] = torch weight[o, i, y, x] (checked against the torch weights in
        // the Models tests); here one element by hand.
        var expected = SafeTensors.Read(File("vgg19_expected.safetensors"));
        WeightTensor oihw = expected["features.0.weight"];
        Assert.Equal(oihw.Data[((2 * 3 + 1) * 3 + 0) * 3 + 2], layers[1].Weights[0].Data[((0 * 3 + 2) * 3 + 1) * 4 + 2]);
    }

    [Fact]
    public void Read_Keras3FullModel_FindsModelWeightsJoinsChunkedLayerNamesAndKeepsDenseLayers()
    {
        IReadOnlyList<KerasLayer> layers = KerasWeights.Read(File("vgg16_full_keras3.h5"));

        Assert.Equal(23, layers.Count); // 19 of VGG-16 (input, 13 convs, 5 pools) + flatten, fc1, fc2, predictions
        Assert.Equal(["flatten", "fc1", "fc2", "predictions"], layers.Skip(19).Select(l => l.Name));
        Assert.Equal(["block1_conv1/kernel", "block1_conv1/bias"], layers[1].Weights.Select(w => w.Name)); // Keras 3: no ":0"
        Assert.Equal([10, 16], layers[20].Weights[0].Shape);
    }

    [Fact]
    public void Read_Keras3WeightsFile_OrdersLayersByClassThenCounterNotAlphabetically()
    {
        IReadOnlyList<KerasLayer> keras3 = KerasWeights.Read(File("vgg19_keras3.weights.h5"));
        IReadOnlyList<KerasLayer> keras2 = KerasWeights.Read(File("vgg19_notop_keras2.h5"));

        var convs = keras3.Where(l => l.Weights.Count > 0).ToList();
        Assert.Equal(Enumerable.Range(0, 16).Select(k => k == 0 ? "conv2d" : $"conv2d_{k}"), convs.Select(l => l.Name));
        Assert.Equal(["conv2d_10/0", "conv2d_10/1"], convs[10].Weights.Select(w => w.Name));
        // Same weights as the Keras 2 file, in the same order (later kernels are chunked, shuffled and deflated).
        var fromKeras2 = keras2.Where(l => l.Weights.Count > 0).ToList();
        for (int k = 0; k < 16; k++)
            for (int w = 0; w < 2; w++)
            {
                Assert.Equal(fromKeras2[k].Weights[w].Shape, convs[k].Weights[w].Shape);
                Assert.Equal(fromKeras2[k].Weights[w].Data, convs[k].Weights[w].Data);
            }
    }

    [Fact]
    public void Read_Filter_SkipsRejectedLayersAndSeesShapesBeforeData()
    {
        var seen = new List<(string, string)>();
        IReadOnlyList<KerasLayer> layers = KerasWeights.Read(File("vgg16_full_keras3.h5"), (name, shapes) =>
        {
            seen.Add((name, string.Join(";", shapes.Select(s => string.Join("x", s)))));
            return shapes.Count == 2 && shapes[0].Length == 4;
        });

        Assert.Equal(13, layers.Count);
        Assert.All(layers, l => Assert.StartsWith("block", l.Name));
        Assert.Contains(("fc1", "10x16;16"), seen);
        Assert.Contains(("block1_pool", ""), seen);
    }

    [Fact]
    public void Read_VariableLengthStringsAndBatchNormOrder_AsStored()
    {
        IReadOnlyList<KerasLayer> layers = KerasWeights.Read(File("resnet50_stub_keras2.h5"));

        Assert.Equal(["input_1", "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool"], layers.Select(l => l.Name));
        Assert.Equal(["conv1_bn/gamma", "conv1_bn/beta", "conv1_bn/moving_mean", "conv1_bn/moving_variance"], layers[3].Weights.Select(w => w.Name));
        Assert.Equal([7, 7, 3, 4], layers[2].Weights[0].Shape);
    }

    [Fact]
    public void IsHdf5_DecidesByContentNotByExtension()
    {
        using var dir = new TempDir();
        string renamed = dir.Write("weights.pth", System.IO.File.ReadAllBytes(File("vgg19_notop_keras2.h5")));
        string safetensors = dir.Write("model.h5", System.IO.File.ReadAllBytes(File("vgg19_expected.safetensors")));

        Assert.True(KerasWeights.IsHdf5(renamed));
        Assert.Equal(22, KerasWeights.Read(renamed).Count);
        Assert.False(KerasWeights.IsHdf5(safetensors));
        var ex = Assert.Throws<WeightFormatException>(() => KerasWeights.Read(safetensors));
        Assert.Contains("not an HDF5", ex.Message);
    }

    [Theory]
    [InlineData("hostile_huge_dims.h5", "more than any layer weight")]
    [InlineData("hostile_huge_bytes.h5", "claims 1073741824 bytes")]
    [InlineData("hostile_huge_chunked.h5", "claims 1073741824 bytes")]
    public void Read_AbsurdClaimedSizes_OneSentenceWithoutAllocating(string file, string expected)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<WeightFormatException>(() => KerasWeights.Read(File(file)));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains(expected, ex.Message);
        Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Read_GroupsLinkingBackToTheirAncestors_ReadsWithoutFollowingTheCycle()
    {
        // Newest format (superblock v3, v2 object headers, link messages): layers/loop -> layers, .../vars/up -> /.
        IReadOnlyList<KerasLayer> layers = KerasWeights.Read(File("hostile_cycle.weights.h5"));

        Assert.Equal(["conv2d", "loop"], layers.Select(l => l.Name));
        Assert.Equal([0f, 1, 2, 3, 4, 5], layers[0].Weights[0].Data);
        Assert.Equal([1, 1, 2, 3], layers[0].Weights[0].Shape);
        Assert.Empty(layers[1].Weights);
    }

    [Fact]
    public void Read_GroupBTreeNodePointingToItself_OneSentence()
    {
        byte[] data = System.IO.File.ReadAllBytes(File("vgg19_notop_keras2.h5"));
        int node = data.AsSpan().IndexOf("TREE"u8);
        data[node + 5] = 1; // an internal node...
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(node + 32), (ulong)node); // ...whose first child is itself

        var ex = Assert.Throws<WeightFormatException>(() => KerasWeights.Read(new MemoryStream(data), (_, _) => true));
        Assert.Contains("loops", ex.Message);
    }

    [Fact]
    public void Read_TruncatedAnywhere_OneSentence()
    {
        byte[] data = System.IO.File.ReadAllBytes(File("vgg19_notop_keras2.h5"));
        foreach (int length in new[] { 0, 5, 8, 12, 13, 14, 15, 40, 100, 500, 2000, 10_000, 50_000, data.Length - 1 })
        {
            var ex = Assert.Throws<WeightFormatException>(() => KerasWeights.Read(new MemoryStream(data[..length]), (_, _) => true));
            Assert.False(string.IsNullOrWhiteSpace(ex.Message));
            Assert.DoesNotContain('\n', ex.Message);
        }
    }

    private static readonly string[] FuzzSeeds =
        ["vgg19_notop_keras2.h5", "vgg16_full_keras3.h5", "vgg19_keras3.weights.h5", "resnet50_stub_keras2.h5", "hostile_cycle.weights.h5"];

    /// <summary>
    /// Mutated files (fixed seed): byte flips anywhere and in the metadata, truncations, extreme 8-byte values (sizes,
    /// addresses). Each must end in layers or one WeightFormatException, quickly and without a large allocation.
    /// </summary>
    [Fact]
    public void Read_ThousandsOfMutatedFiles_LayersOrWeightFormatExceptionQuicklyAndSmall()
    {
        byte[][] seeds = FuzzSeeds.Select(f => System.IO.File.ReadAllBytes(File(f))).ToArray();
        const int Count = 3000;
        FuzzOutcomes outcomes = Fuzz.Run(Count, new Random(20261128),
            rng =>
            {
                int seed = rng.Next(seeds.Length);
                return new Mutant(Mutate(seeds[seed], rng), FuzzSeeds[seed]);
            },
            m =>
            {
                try
                {
                    KerasWeights.Read(new MemoryStream(m.Bytes), (_, _) => true);
                    return "read";
                }
                catch (WeightFormatException ex)
                {
                    Assert.False(string.IsNullOrWhiteSpace(ex.Message));
                    return "rejected";
                }
            },
            maxAllocation: 16 << 20);
        Assert.True(outcomes["read"] > Count / 20, $"only {outcomes["read"]} mutants were read");
        Assert.True(outcomes["rejected"] > Count / 5, $"only {outcomes["rejected"]} mutants were rejected");
    }

    private static byte[] Mutate(byte[] seed, Random rng)
    {
        byte[] d = (byte[])seed.Clone();
        switch (rng.Next(4))
        {
            case 0: // flip a few bytes anywhere
                for (int i = rng.Next(1, 6); i > 0; i--) d[rng.Next(d.Length)] ^= (byte)rng.Next(1, 256);
                return d;
            case 1: // truncate
                return d[..rng.Next(d.Length)];
            case 2: // overwrite bytes in the first 4 KB (superblock, root header, heaps, B-trees)
                for (int i = rng.Next(1, 4); i > 0; i--) d[rng.Next(Math.Min(d.Length, 4096))] = (byte)rng.Next(256);
                return d;
            default: // an extreme 8-byte value where sizes and addresses live
            {
                int at = rng.Next(Math.Min(d.Length, 8192) - 8);
                ulong v = rng.Next(3) switch { 0 => ulong.MaxValue, 1 => (ulong)rng.Next(), _ => (ulong)rng.NextInt64() };
                BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(at), v);
                return d;
            }
        }
    }

    [Theory]
    [InlineData("conv2d", "conv2d", 0)]
    [InlineData("conv2d_12", "conv2d", 12)]
    [InlineData("batch_normalization_3", "batch_normalization", 3)]
    [InlineData("input_layer", "input_layer", 0)]
    public void SplitCounter_SeparatesKeras3ClassCounter(string name, string expectedBase, long expectedCounter)
    {
        Assert.Equal((expectedBase, expectedCounter), KerasWeights.SplitCounter(name));
    }
}
