using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Training;

/// <summary>
/// torch.optim.SGD over a parameter set: L2 weight decay added to the gradient, momentum with dampening (the buffer
/// starts as the first gradient, as torch clones it), Nesterov momentum when asked.
/// </summary>
public sealed class SgdOptimizer : ScheduledOptimizer
{
    public const string Kind = "sgd";

    private sealed class Slot(int length, bool withMomentum)
    {
        public readonly float[] Momentum = withMomentum ? new float[length] : [];
        public long Steps;
    }

    private readonly Dictionary<Parameter, Slot> _slots = [];

    public SgdOptimizer(ParameterSet parameters, double learningRate, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false, LearningRateSchedule? schedule = null)
        : base(parameters, learningRate, schedule)
    {
        if (!(momentum >= 0)) throw new ArgumentOutOfRangeException(nameof(momentum), "The momentum must not be negative.");
        if (!(dampening >= 0 && dampening <= 1)) throw new ArgumentOutOfRangeException(nameof(dampening), "The dampening must lie in [0, 1].");
        if (!(weightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(weightDecay), "The weight decay must not be negative.");
        if (nesterov && (momentum == 0 || dampening != 0))
            throw new ArgumentException("Nesterov momentum needs a positive momentum and zero dampening.", nameof(nesterov));
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
    }

    public double Momentum { get; private set; }
    public double Dampening { get; private set; }
    public double WeightDecay { get; private set; }
    public bool Nesterov { get; private set; }

    public override void Step()
    {
        float lr = (float)CurrentLearningRate;
        foreach (Parameter p in Parameters.Trainable)
        {
            if (!_slots.TryGetValue(p, out Slot? s)) _slots.Add(p, s = new Slot(p.Length, Momentum != 0));
            OptimizerUpdates.Sgd(p.Data, p.Grad, s.Momentum, lr, (float)Momentum, (float)Dampening, (float)WeightDecay, Nesterov, firstStep: s.Steps == 0);
            s.Steps++;
        }
        Steps++;
    }

    public override OptimizerState ExportState() => new()
    {
        Kind = Kind,
        Settings = new Dictionary<string, double>
        {
            ["lr"] = LearningRate, ["momentum"] = Momentum, ["dampening"] = Dampening, ["weight_decay"] = WeightDecay,
            ["nesterov"] = Nesterov ? 1 : 0,
        },
        Steps = Steps,
        Schedule = Schedule,
        Parameters = _slots.ToDictionary(e => e.Key.Name, e => new ParameterState(e.Value.Steps, Momentum != 0
            ? new Dictionary<string, float[]> { ["momentum_buffer"] = (float[])e.Value.Momentum.Clone() }
            : new Dictionary<string, float[]>())),
    };

    public override void ImportState(OptimizerState state)
    {
        OptimizerStates.CheckKind(state, Kind);
        double lr = OptimizerStates.Setting(state, "lr"), momentum = OptimizerStates.Setting(state, "momentum");
        double dampening = OptimizerStates.Setting(state, "dampening"), wd = OptimizerStates.Setting(state, "weight_decay");
        bool nesterov = OptimizerStates.Setting(state, "nesterov") != 0;
        // Validate through the constructor's checks before changing anything.
        _ = new SgdOptimizer(Parameters, lr, momentum, dampening, wd, nesterov, state.Schedule);
        var slots = new Dictionary<Parameter, Slot>();
        foreach (var (name, entry) in state.Parameters)
        {
            if (!Parameters.Contains(name))
                throw new ArgumentException($"The sgd optimiser state has an entry for '{name}', which the parameter set does not have.", nameof(state));
            if (entry.Steps < 1) throw new ArgumentException($"The sgd optimiser state of '{name}' has the step count {entry.Steps} (at least 1 expected).", nameof(state));
            var slot = new Slot(Parameters[name].Length, momentum != 0) { Steps = entry.Steps };
            if (momentum != 0) OptimizerStates.Buffer(Parameters, Kind, name, entry, "momentum_buffer").CopyTo(slot.Momentum, 0);
            slots.Add(Parameters[name], slot);
        }
        (LearningRate, Momentum, Dampening, WeightDecay, Nesterov, Schedule, Steps) = (lr, momentum, dampening, wd, nesterov, state.Schedule, state.Steps);
        _slots.Clear();
        foreach (var (p, s) in slots) _slots.Add(p, s);
    }
}
