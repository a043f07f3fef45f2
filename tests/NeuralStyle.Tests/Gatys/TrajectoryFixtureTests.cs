using System.Text.Json;
using NeuralStyle.Gatys;
using NeuralStyle.TestSupport;

namespace NeuralStyle.Tests.Gatys;

/// <summary>Ten optimiser steps of the real stylisation loop against PyTorch's trajectories.</summary>
public class TrajectoryFixtureTests
{
    private static (List<ProgressRecord> Rows, float[] X) Run(string preset, string fixture, Func<StylizeOptions, StylizeOptions> configure)
    {
        JsonElement cfg = Fixtures.Json($"preset_{preset}.json").GetProperty("config");
        var t = Fixtures.Tensors($"{fixture}.safetensors");
        (Stylizer.Problem p, StylizeOptions baseOptions) = PresetFixtureTests.Setup(preset);
        PresetFixtureTests.SetX(p, t["x_start"]);
        StylizeOptions o = configure(baseOptions);
        var flavor = NeuralStyle.Models.InputFlavors.Parse(cfg.GetProperty("flavour").GetString()!);
        var rows = new List<ProgressRecord>();
        var stylizer = new Stylizer(o, new Backbone(PresetFixtureTests.NarrowVgg19.Value, flavor, "narrow")) { Progress = rows.Add };
        StylizeResult result = stylizer.Optimize(p);
        Assert.True(result.Succeeded, result.Failure);
        return (rows, p.X.Data);
    }

    private static void AssertTrajectory(string fixture, List<ProgressRecord> rows, float[] x, double tolerance)
    {
        JsonElement j = Fixtures.Json($"{fixture}.json");
        double[] losses = j.GetProperty("losses").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(losses.Length + 1, rows.Count);
        for (int k = 0; k < losses.Length; k++)
        {
            Assert.Equal(k, rows[k].Iteration);
            Assert.True(Fixtures.Relative(rows[k].Loss, losses[k]) <= tolerance, $"{fixture} step {k}: ours {rows[k].Loss:R}, PyTorch {losses[k]:R}");
        }
        double final = j.GetProperty("final_loss").GetDouble();
        Assert.True(Fixtures.Relative(rows[^1].Loss, final) <= tolerance, $"{fixture} final: ours {rows[^1].Loss:R}, PyTorch {final:R}");
        double err = Fixtures.RelativeError(x, Fixtures.ToNhwc(Fixtures.Tensors($"{fixture}.safetensors")["x_final"]));
        Assert.True(err <= tolerance, $"{fixture}: final image relative error {err:G3}");
    }

    [Fact]
    public void Lbfgs_NeuralStyle_TenEvaluations_MatchTorchLbfgs()
    {
        (var rows, float[] x) = Run("neural-style", "lbfgs_neural-style",
            o => o with { Optimizer = OptimizerKind.Lbfgs, Iterations = 10, LbfgsHistory = 5, LearningRate = 1 });
        AssertTrajectory("lbfgs_neural-style", rows, x, 1e-3);
    }

    [Fact]
    public void Adam_GatysTf_TenSteps_MatchTorchAdam()
    {
        (var rows, float[] x) = Run("gatys-tf", "adam_gatys-tf", o => o with { Iterations = 10, LearningRate = 2.0 });
        AssertTrajectory("adam_gatys-tf", rows, x, 1e-3);
    }

    [Fact]
    public void Adam_RandomFeatures_TenClampedSteps_MatchTorchAdam()
    {
        (var rows, float[] x) = Run("random-features", "adam_random-features", o => o with { Iterations = 10 });
        AssertTrajectory("adam_random-features", rows, x, 1e-3);
    }

    [Fact]
    public void Adam_PytorchTutorial_TenSteps_MatchTorchAdam()
    {
        double lr = Fixtures.Json("adam_pytorch-tutorial.json").GetProperty("optimizer").GetProperty("lr").GetDouble();
        (var rows, float[] x) = Run("pytorch-tutorial", "adam_pytorch-tutorial", o => o with { Iterations = 10, LearningRate = lr });
        AssertTrajectory("adam_pytorch-tutorial", rows, x, 1e-3);
    }
}
