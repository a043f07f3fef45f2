using System.Diagnostics;
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
        var rng = new Random(20261201);
        byte[][] seeds = new[] { "tiny_opset9.onnx", "tiny_opset11.onnx", "tiny_zoo9.onnx" }.Select(f => File.ReadAllBytes(Fixtures.Engine("onnx", f))).ToArray();
        int nets = 0, corrupt = 0, other = 0;
        var total = Stopwatch.StartNew();
        long worstMs = 0;
        const int Count = 3000;
        for (int n = 0; n < Count; n++)
        {
            byte[] mutant = Mutate(seeds[rng.Next(seeds.Length)], rng);
            var one = Stopwatch.StartNew();
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                TransformerNetOnnx.FromModel(OnnxFile.Parse(mutant));
                nets++;
            }
            catch (WeightFormatException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                Assert.DoesNotContain('\n', e.Message);
                corrupt++;
            }
            catch (ModelWeightsException e)
            {
                Assert.DoesNotContain('\n', e.Message);
                other++;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutant {n} threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 64L * mutant.Length + (16 << 20), $"mutant {n} allocated {allocated} bytes");
            worstMs = Math.Max(worstMs, one.ElapsedMilliseconds);
        }
        Assert.True(total.Elapsed < TimeSpan.FromSeconds(60), $"{Count} mutants took {total.Elapsed}");
        Assert.True(worstMs < 2000, $"slowest mutant took {worstMs} ms");
        Assert.True(nets > Count / 50, $"only {nets} mutants read as networks");
        Assert.True(corrupt > Count / 10, $"only {corrupt} mutants rejected as corrupt");
        Assert.True(other > Count / 50, $"only {other} mutants rejected as another network");
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
