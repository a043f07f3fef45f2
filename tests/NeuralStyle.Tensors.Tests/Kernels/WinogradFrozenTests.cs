using NeuralStyle.Tensors.Kernels;
using Xunit.Abstractions;

namespace NeuralStyle.Tensors.Tests.Kernels;

/// <summary>
/// Winograd F(4×4, 3×3) on frozen zero-padded weights (VGG in the Gatys problem): the kernel against the direct
/// references in this process (AVX-512 when the machine has it; the fallbacks run in KernelCheck), and its rounding error
/// per VGG-19 layer against direct convolution.
/// </summary>
[Collection(KernelThreadingCollection.Name)]
public class WinogradFrozenTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1, 1, 1, 1, 1, false, false, false)]
    [InlineData(2, 5, 7, 3, 16, true, true, true)]
    [InlineData(1, 9, 8, 17, 33, false, true, true)]
    [InlineData(1, 16, 15, 64, 64, true, false, false)]
    [InlineData(1, 11, 13, 69, 31, true, true, true)]
    [InlineData(1, 29, 30, 32, 8, false, false, true)]
    [InlineData(2, 43, 37, 40, 96, true, true, true)]
    [InlineData(1, 9, 11, 133, 130, true, true, true)] // transformed weights past the per-thread driver's bound: the shared-chunk driver
    [InlineData(2, 30, 29, 160, 129, false, true, false)]
    public void ForwardAndBackwardInput_MatchDirectReferences(int n, int h, int w, int ci, int co, bool relu, bool bias, bool masked)
    {
        string? failure = KernelComparisons.CompareWinogradFrozen(n, h, w, ci, co, relu, bias, masked, seed: (h * 31) + w);
        Assert.True(failure is null, failure);
    }

    [Fact]
    public void Forward_SingleThreaded_MatchesReference()
    {
        using (KernelThreadingCollection.Degree(1))
        {
            string? failure = KernelComparisons.CompareWinogradFrozen(1, 21, 19, 48, 64, relu: true, withBias: true, masked: true, seed: 7);
            Assert.True(failure is null, failure);
        }
    }

    [Fact]
    public void BadArguments_Throw()
    {
        float[] u = Winograd4x4.TransformWeightsPacked(new float[2 * 3 * 9], 2, 3);
        Assert.Throws<ArgumentException>(() => Winograd4x4.ForwardPacked(new float[4 * 3], null, 1, 2, 2, 3, 2, u, null, new float[3], relu: false));
        Assert.Throws<ArgumentException>(() => Winograd4x4.ForwardPacked(new float[4 * 3], null, 1, 0, 2, 3, 2, u, null, new float[8], relu: false));
        Assert.Throws<ArgumentException>(() => Winograd4x4.TransformWeightsPacked(new float[5], 2, 3));
    }

    /// <summary>
    /// The worst error of each VGG-19 layer (to conv5_1, the Gatys network) on the Winograd path and on direct convolution,
    /// both against a double-precision reference, relative to the layer's largest output: inputs in [0, 1) like ReLU
    /// activations, He-scaled weights, dy in [−1, 1) read through a random ReLU mask for the backward to the input.
    /// </summary>
    [Fact]
    public void VggLayers_WinogradErrorStaysNearDirect()
    {
        var layers = new (string Name, int Ci, int Co)[]
        {
            ("conv1_2", 64, 64), ("conv2_1", 64, 128), ("conv2_2", 128, 128), ("conv3_1", 128, 256), ("conv3_2", 256, 256),
            ("conv3_3", 256, 256), ("conv3_4", 256, 256), ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512),
            ("conv4_4", 512, 512), ("conv5_1", 512, 512),
        };
        const int h = 12, w = 10;
        double worst = 0;
        output.WriteLine("| layer | Ci→Co | Winograd fwd | direct fwd | Winograd bwd-input | direct bwd-input |");
        output.WriteLine("|---|---|--:|--:|--:|--:|");
        int seed = 1;
        foreach (var (name, ci, co) in layers)
        {
            var rng = new Random(seed++);
            float[] x = Uniform(rng, h * w * ci, 0, 1);
            double scale = Math.Sqrt(6.0 / (9 * ci)); // He-uniform
            float[] weight = Uniform(rng, co * ci * 9, -scale, scale);
            float[] bias = Uniform(rng, co, -0.1, 0.1);
            float[] dy = Uniform(rng, h * w * co, -1, 1);
            float[] mask = Uniform(rng, h * w * co, -1, 1);
            float[] dyMasked = new float[dy.Length];
            Activation.ReluMaskReference(dy, mask, dyMasked);

            var exact = new float[h * w * co];
            Conv3x3.ForwardReference(x, 1, h, w, ci, co, weight, bias, exact, ConvPadding.Zero, relu: false);
            var packed = new Conv3x3Weights(co, ci);
            packed.Pack(weight);
            var direct = new float[exact.Length];
            Conv3x3.Forward(x, 1, h, w, packed, bias, direct, ConvPadding.Zero, relu: false);
            var wino = new float[exact.Length];
            Winograd4x4.ForwardPacked(x, null, 1, h, w, ci, co, Winograd4x4.TransformWeightsPacked(weight, co, ci), bias, wino, relu: false);

            var dxExact = new float[h * w * ci];
            Conv3x3.BackwardInputReference(dyMasked, 1, h, w, ci, co, weight, dxExact, ConvPadding.Zero);
            var dxDirect = new float[dxExact.Length];
            Conv3x3.BackwardInput(dyMasked, 1, h, w, packed, dxDirect, ConvPadding.Zero);
            var dxWino = new float[dxExact.Length];
            Winograd4x4.BackwardInputPacked(dy, mask, 1, h, w, ci, co, Winograd4x4.TransformWeightsBackwardPacked(weight, co, ci), dxWino);

            double wf = RelativeError(wino, exact), df = RelativeError(direct, exact);
            double wb = RelativeError(dxWino, dxExact), db = RelativeError(dxDirect, dxExact);
            output.WriteLine($"| {name} | {ci}→{co} | {wf:E2} | {df:E2} | {wb:E2} | {db:E2} |");
            worst = Math.Max(worst, Math.Max(wf, wb));
        }

        output.WriteLine($"worst Winograd error: {worst:E2}");
        // F(4×4)'s transforms scale by up to 8 (points ±2): a few times direct convolution's ~1e-7, far below the 1e-4
        // the Gatys conformance fixtures allow.
        Assert.True(worst <= 4e-5, $"worst relative error of the Winograd path {worst:E2}");
    }

    private static float[] Uniform(Random rng, int length, double low, double high)
    {
        var data = new float[length];
        for (int i = 0; i < length; i++) data[i] = (float)(low + ((high - low) * rng.NextDouble()));
        return data;
    }

    /// <summary>max |a − exact| / max |exact|.</summary>
    private static double RelativeError(float[] a, float[] exact)
    {
        double diff = 0, scale = 0;
        for (int i = 0; i < exact.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs((double)a[i] - exact[i]));
            scale = Math.Max(scale, Math.Abs((double)exact[i]));
        }

        return diff / scale;
    }
}
