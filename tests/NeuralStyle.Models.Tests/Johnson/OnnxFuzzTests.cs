using NeuralStyle.Models.Johnson;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;
using NeuralStyle.Weights.Onnx;

namespace NeuralStyle.Models.Tests.Johnson;

/// <summary>
/// Feeds thousands of mutated ONNX files (fixed seed) to the reader and the TransformerNet mapper: each must end in a
/// network, a <see cref="WeightFormatException"/> or a <see cref="ModelWeightsException"/>, never another exception,
/// a hang or a giant allocation.
/// </summary>
public class OnnxFuzzTests
{
    [Fact]
    public void Read_ThousandsOfMutatedFiles_NetworkOrOneSentenceWithinTimeBound()
    {
        string[] names = ["tiny_opset9.onnx", "tiny_opset11.onnx", "tiny_zoo9.onnx"];
        byte[][] seeds = names.Select(f => File.ReadAllBytes(Fixtures.Engine("onnx", f))).ToArray();
        const int Count = 3000;
        FuzzOutcomes outcomes = Fuzz.Run(Count, new Random(20261201),
            rng =>
            {
                int seed = rng.Next(seeds.Length);
                return new Mutant(Mutate(seeds[seed], rng), names[seed]);
            },
            m =>
            {
                try
                {
                    TransformerNetOnnx.FromModel(OnnxFile.Parse(m.Bytes));
                    return "net";
                }
                catch (WeightFormatException e)
                {
                    Assert.False(string.IsNullOrWhiteSpace(e.Message));
                    Assert.DoesNotContain('\n', e.Message);
                    return "corrupt";
                }
                catch (ModelWeightsException e)
                {
                    Assert.DoesNotContain('\n', e.Message);
                    return "other";
                }
            },
            maxAllocation: 16 << 20, allocationPerByte: 64);
        Assert.True(outcomes["net"] > Count / 50, $"only {outcomes["net"]} mutants read as networks");
        Assert.True(outcomes["corrupt"] > Count / 10, $"only {outcomes["corrupt"]} mutants rejected as corrupt");
        Assert.True(outcomes["other"] > Count / 50, $"only {outcomes["other"]} mutants rejected as another network");
    }

    private static byte[] Mutate(byte[] seed, Random rng)
    {
        byte[] data = (byte[])seed.Clone();
        switch (rng.Next(5))
        {
            case 0: // flip a few random bytes
                for (int i = rng.Next(1, 5); i > 0; i--) data[rng.Next(data.Length)] ^= (byte)rng.Next(1, 256);
                return data;
            case 1: // truncate
                return data[..rng.Next(data.Length)];
            case 2: // a huge varint somewhere (lengths, dims, counts)
            {
                int at = rng.Next(data.Length - 10);
                for (int i = 0; i < 9; i++) data[at + i] = 0xFF;
                data[at + 9] = 0x01;
                return data;
            }
            case 3: // one byte in the structure part (the graph's nodes sit after the weights in torch's files)
            {
                int at = data.Length - 1 - rng.Next(Math.Min(data.Length, 6000));
                data[at] = (byte)rng.Next(256);
                return data;
            }
            default: // flip a byte inside a weight (still a network)
                data[rng.Next(data.Length / 4, data.Length / 2)] ^= 0x10;
                return data;
        }
    }
}
