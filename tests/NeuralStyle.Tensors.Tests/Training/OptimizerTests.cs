using NeuralStyle.Tensors.Optim;
using NeuralStyle.Tensors.Training;

namespace NeuralStyle.Tensors.Tests.Training;

public class OptimizerTests
{
    private static ParameterSet OneVector(float[] x)
    {
        var set = new ParameterSet();
        set.Add("w", [x.Length], x);
        return set;
    }

    [Fact]
    public void Sgd_FollowsTorchsMomentumNesterovAndWeightDecayFormulas()
    {
        foreach (bool nesterov in new[] { false, true })
        {
            const double lr = 0.1, mu = 0.9, wd = 0.01;
            var set = OneVector([1f, -2f]);
            var opt = new SgdOptimizer(set, lr, momentum: mu, weightDecay: wd, nesterov: nesterov);
            double[] x = [1, -2], buf = new double[2];
            double[][] grads = [[0.5, 0.25], [-1, 2], [0.125, -0.5]];
            for (int s = 0; s < grads.Length; s++)
            {
                for (int i = 0; i < 2; i++)
                {
                    set["w"].Grad[i] = (float)grads[s][i];
                    double d = grads[s][i] + wd * x[i];
                    buf[i] = s == 0 ? d : mu * buf[i] + d;
                    x[i] -= lr * (nesterov ? d + mu * buf[i] : buf[i]);
                }
                opt.Step();
                for (int i = 0; i < 2; i++) Assert.Equal(x[i], set["w"].Data[i], 5);
            }
        }
    }

    [Fact]
    public void Adam_OverASet_MatchesTheFlatAdam()
    {
        float[] x = [0.5f, -1f, 2f, 0.25f, 3f, -0.75f, 1.5f, -2.5f, 0.125f];
        float[] flat = (float[])x.Clone();
        var set = OneVector((float[])x.Clone());
        var opt = new AdamOptimizer(set, 0.05);
        var reference = new Adam(x.Length, 0.05);
        var rng = new Rng(3);
        for (int s = 0; s < 6; s++)
        {
            rng.FillGaussian(set["w"].Grad);
            reference.Step(flat, set["w"].Grad);
            opt.Step();
        }
        Assert.Equal(flat, set["w"].Data);
    }

    [Fact]
    public void StepDecay_IsTorchsStepLR()
    {
        var decay = new StepDecay(2, 0.5);
        Assert.Equal(new[] { 0.1, 0.1, 0.05, 0.05, 0.025 }, Enumerable.Range(0, 5).Select(k => decay.RateAt(0.1, k)));
        Assert.Equal(0.1 * Math.Pow(0.8, 3), new StepDecay(30_000, 0.8).RateAt(0.1, 90_000), 15);
        Assert.Equal(0.3, new ConstantRate().RateAt(0.3, 12345));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(0, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(10, 0));

        var opt = new SgdOptimizer(OneVector([1f]), 0.1, schedule: decay);
        var rates = new List<double>();
        for (int s = 0; s < 5; s++)
        {
            rates.Add(opt.CurrentLearningRate);
            opt.Step();
        }
        Assert.Equal(new[] { 0.1, 0.1, 0.05, 0.05, 0.025 }, rates);
    }

    [Fact]
    public void ExportImport_ContinuesIdentically_AndRejectsMismatches()
    {
        foreach (Func<ParameterSet, IOptimizer> make in new Func<ParameterSet, IOptimizer>[]
        {
            s => new AdamOptimizer(s, 0.01, weightDecay: 1e-3, schedule: new StepDecay(3, 0.5)),
            s => new SgdOptimizer(s, 0.01, momentum: 0.9, nesterov: true, schedule: new StepDecay(3, 0.5)),
        })
        {
            var a = OneVector([1f, 2f, 3f]);
            IOptimizer optA = make(a);
            var rng = new Rng(9);
            for (int s = 0; s < 4; s++)
            {
                rng.FillGaussian(a["w"].Grad);
                optA.Step();
            }
            var b = OneVector([7f, 7f, 7f]);
            IOptimizer optB = make(b);
            optB.LearningRate = 123;
            optB.ImportState(optA.ExportState());
            a["w"].Data.CopyTo(b["w"].Data, 0);
            Assert.Equal(optA.LearningRate, optB.LearningRate);
            Assert.Equal(4, optB.Steps);
            for (int s = 0; s < 3; s++)
            {
                rng.FillGaussian(a["w"].Grad);
                a["w"].Grad.CopyTo(b["w"].Grad, 0);
                optA.Step();
                optB.Step();
            }
            Assert.Equal(a["w"].Data, b["w"].Data);

            var other = new ParameterSet();
            other.Add("v", [3]);
            Assert.Contains("'w'", Assert.Throws<ArgumentException>(() => make(other).ImportState(optA.ExportState())).Message);
            var shorter = OneVector([1f, 2f]);
            Assert.Contains("has 3 values", Assert.Throws<ArgumentException>(() => make(shorter).ImportState(optA.ExportState())).Message);
        }
        var sgdState = new SgdOptimizer(OneVector([1f]), 0.1).ExportState();
        Assert.Contains("cannot be loaded into a adam", Assert.Throws<ArgumentException>(() => new AdamOptimizer(OneVector([1f])).ImportState(sgdState)).Message);
    }

    [Fact]
    public void Constructors_RejectBadHyperparameters()
    {
        var set = OneVector([1f]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamOptimizer(set, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamOptimizer(set, 1e-3, beta1: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SgdOptimizer(set, double.NaN));
        Assert.Throws<ArgumentException>(() => new SgdOptimizer(set, 0.1, nesterov: true));
    }
}
