using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Kernels;
using NeuralStyle.Tensors.Training;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;

namespace NeuralStyle.Models.Tests.Training;

/// <summary>
/// A tiny conv net (conv3x3+bias, ReLU, conv3x3+bias, MSE) trained five steps by torch.optim.Adam and by
/// torch.optim.SGD with StepLR (tests/fixtures/engine/train): the loss and every parameter after every step.
/// </summary>
public class TrainingFixtureTests
{
    private static readonly IReadOnlyDictionary<string, WeightTensor> Start = SafeTensors.Read(Fixtures.Engine("train", "tinynet.safetensors"));
    private static readonly string[] Names = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"];

    private static WeightTensor StepSlice(WeightTensor t, int step)
    {
        int[] shape = t.Shape[1..];
        int length = (int)new WeightTensor("", shape, []).ElementCount;
        return new WeightTensor(t.Name, shape, t.Data.AsSpan(step * length, length).ToArray());
    }

    private static void Train(string file, Func<ParameterSet, IOptimizer> makeOptimizer)
    {
        var expected = SafeTensors.Read(Fixtures.Engine("train", file));
        var set = new ParameterSet();
        foreach (string name in Names) set.Add(name, Start["init." + name].Shape, (float[])Start["init." + name].Data.Clone());
        IOptimizer optimizer = makeOptimizer(set);

        var g = new Graph();
        ParameterBinding b = set.Bind(g);
        WeightTensor inputs = Start["inputs"], targets = Start["targets"];
        Value x = g.Input([inputs.Shape[1], inputs.Shape[3], inputs.Shape[4], inputs.Shape[2]]);
        Value target = g.Input([targets.Shape[1], targets.Shape[3], targets.Shape[4], targets.Shape[2]]);
        Value h = g.Conv3x3(x, b["conv1.weight"], b["conv1.bias"], ConvPadding.Zero, relu: true);
        Value y = g.Conv3x3(h, b["conv2.weight"], b["conv2.bias"], ConvPadding.Zero);
        Value loss = g.Mean(g.Square(g.Sub(y, target)));

        float[] rates = expected["lr"].Data;
        float[] losses = expected["loss"].Data;
        for (int step = 0; step < losses.Length; step++)
        {
            Fixtures.ToNhwc(StepSlice(inputs, step)).CopyTo(x.Data, 0);
            Fixtures.ToNhwc(StepSlice(targets, step)).CopyTo(target.Data, 0);
            Assert.Equal(rates[step], (float)optimizer.CurrentLearningRate);
            g.Forward();
            Assert.True(Math.Abs(loss.Data[0] - losses[step]) <= 1e-5 && Fixtures.Relative(loss.Data[0], losses[step]) <= 1e-4,
                $"{file} step {step}: loss {loss.Data[0]:R}, torch {losses[step]:R}");
            g.Backward(loss);
            b.ReadGradients();
            optimizer.Step();
            foreach (string name in Names)
            {
                float[] torch = StepSlice(expected["params." + name], step).Data;
                float[] ours = set[name].Data;
                double maxAbs = 0;
                for (int i = 0; i < ours.Length; i++) maxAbs = Math.Max(maxAbs, Math.Abs((double)ours[i] - torch[i]));
                double rel = Fixtures.RelativeError(ours, torch);
                Assert.True(maxAbs <= 1e-5 && rel <= 1e-4, $"{file} step {step} {name}: max |Δ| {maxAbs:E2}, relative {rel:E2}");
            }
        }
    }

    [Fact]
    public void Adam_FiveSteps_MatchTorch() => Train("adam.safetensors", set => new AdamOptimizer(set, 1e-3));

    [Fact]
    public void SgdWithMomentumWeightDecayAndStepLR_FiveSteps_MatchTorch()
        => Train("sgd.safetensors", set => new SgdOptimizer(set, 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: false, schedule: new StepDecay(2, 0.5)));
}
