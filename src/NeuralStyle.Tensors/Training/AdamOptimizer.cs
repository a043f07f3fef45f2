using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Training;

/// <summary>
/// torch.optim.Adam (amsgrad off) over a parameter set: per-parameter moments and step counts (bias corrections use
/// the parameter's own count, so a parameter unfrozen later starts its correction afresh, as in torch), L2 weight decay
/// added to the gradient.
/// </summary>
public sealed class AdamOptimizer : ScheduledOptimizer
{
    public const string Kind = "adam";

    private sealed class Slot(int length)
    {
        public readonly float[] M = new float[length], V = new float[length];
        public long Steps;
    }

    private readonly Dictionary<Parameter, Slot> _slots = [];

    public AdamOptimizer(ParameterSet parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, LearningRateSchedule? schedule = null)
        : base(parameters, learningRate, schedule)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), "beta1 must lie in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), "beta2 must lie in [0, 1).");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), "eps must not be negative.");
        if (!(weightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(weightDecay), "The weight decay must not be negative.");
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
    }

    public double Beta1 { get; private set; }
    public double Beta2 { get; private set; }
    public double Eps { get; private set; }
    public double WeightDecay { get; private set; }

    public override void Step()
    {
        double lr = CurrentLearningRate;
        foreach (Parameter p in Parameters.Trainable)
        {
            if (!_slots.TryGetValue(p, out Slot? s)) _slots.Add(p, s = new Slot(p.Length));
            s.Steps++;
            OptimizerUpdates.Adam(p.Data, p.Grad, s.M, s.V, AdamCoefficients.For(s.Steps, lr, Beta1, Beta2, Eps, WeightDecay));
        }
        Steps++;
    }

    public override OptimizerState ExportState() => new()
    {
        Kind = Kind,
        Settings = new Dictionary<string, double>
        {
            ["lr"] = LearningRate, ["beta1"] = Beta1, ["beta2"] = Beta2, ["eps"] = Eps, ["weight_decay"] = WeightDecay,
        },
        Steps = Steps,
        Schedule = Schedule,
        Parameters = _slots.ToDictionary(e => e.Key.Name, e => new ParameterState(e.Value.Steps,
            new Dictionary<string, float[]> { ["exp_avg"] = (float[])e.Value.M.Clone(), ["exp_avg_sq"] = (float[])e.Value.V.Clone() })),
    };

    public override void ImportState(OptimizerState state)
    {
        OptimizerStates.CheckKind(state, Kind);
        var slots = new Dictionary<Parameter, Slot>();
        foreach (var (name, entry) in state.Parameters)
        {
            float[] m = OptimizerStates.Buffer(Parameters, Kind, name, entry, "exp_avg");
            float[] v = OptimizerStates.Buffer(Parameters, Kind, name, entry, "exp_avg_sq");
            if (entry.Steps < 1) throw new ArgumentException($"The adam optimiser state of '{name}' has the step count {entry.Steps} (at least 1 expected).", nameof(state));
            var slot = new Slot(m.Length) { Steps = entry.Steps };
            m.CopyTo(slot.M, 0);
            v.CopyTo(slot.V, 0);
            slots.Add(Parameters[name], slot);
        }
        double lr = OptimizerStates.Setting(state, "lr"), b1 = OptimizerStates.Setting(state, "beta1"), b2 = OptimizerStates.Setting(state, "beta2");
        double eps = OptimizerStates.Setting(state, "eps"), wd = OptimizerStates.Setting(state, "weight_decay");
        // Validate through the constructor's checks before changing anything.
        _ = new AdamOptimizer(Parameters, lr, b1, b2, eps, wd, state.Schedule);
        (LearningRate, Beta1, Beta2, Eps, WeightDecay, Schedule, Steps) = (lr, b1, b2, eps, wd, state.Schedule, state.Steps);
        _slots.Clear();
        foreach (var (p, s) in slots) _slots.Add(p, s);
    }
}
