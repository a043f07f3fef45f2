namespace NeuralStyle.Tensors.Training;

/// <summary>An optimiser over the trainable parameters of a <see cref="ParameterSet"/>.</summary>
public interface IOptimizer
{
    ParameterSet Parameters { get; }

    /// <summary>The base learning rate the <see cref="Schedule"/> scales.</summary>
    double LearningRate { get; set; }

    LearningRateSchedule Schedule { get; set; }

    /// <summary>Number of <see cref="Step"/> calls so far (the schedule's clock).</summary>
    long Steps { get; }

    /// <summary>The rate the next <see cref="Step"/> uses.</summary>
    double CurrentLearningRate { get; }

    /// <summary>Updates every trainable parameter from its <see cref="Parameter.Grad"/>; frozen ones keep data and state.</summary>
    void Step();

    /// <summary>A copy of everything needed to continue exactly (hyperparameters, step counts, schedule, buffers).</summary>
    OptimizerState ExportState();

    /// <summary>Continues from an exported state; throws <see cref="ArgumentException"/> when it does not fit this optimiser or set.</summary>
    void ImportState(OptimizerState state);
}

/// <summary>Everything an optimiser needs to continue exactly: what checkpoints store.</summary>
public sealed class OptimizerState
{
    /// <summary>"adam" or "sgd".</summary>
    public required string Kind { get; init; }

    /// <summary>Hyperparameters by torch's names (lr, betas as beta1/beta2, eps, weight_decay, momentum, …).</summary>
    public required IReadOnlyDictionary<string, double> Settings { get; init; }

    public required long Steps { get; init; }
    public required LearningRateSchedule Schedule { get; init; }

    /// <summary>Per-parameter state by parameter name (absent for parameters never updated).</summary>
    public required IReadOnlyDictionary<string, ParameterState> Parameters { get; init; }
}

/// <summary>One parameter's optimiser state: its own update count and buffers (exp_avg, exp_avg_sq, momentum_buffer).</summary>
public sealed record ParameterState(long Steps, IReadOnlyDictionary<string, float[]> Buffers);

internal static class OptimizerStates
{
    public static double Setting(OptimizerState state, string name) => state.Settings.TryGetValue(name, out double v)
        ? v : throw new ArgumentException($"The {state.Kind} optimiser state has no '{name}' setting.", nameof(state));

    /// <summary>The parameter a state entry belongs to, and its buffer <paramref name="buffer"/> checked for length.</summary>
    public static float[] Buffer(ParameterSet set, string kind, string parameter, ParameterState entry, string buffer)
    {
        Parameter p = set.Contains(parameter) ? set[parameter]
            : throw new ArgumentException($"The {kind} optimiser state has an entry for '{parameter}', which the parameter set does not have.");
        if (!entry.Buffers.TryGetValue(buffer, out float[]? data))
            throw new ArgumentException($"The {kind} optimiser state of '{parameter}' has no '{buffer}' buffer.");
        if (data.Length != p.Length)
            throw new ArgumentException($"The {kind} optimiser buffer '{buffer}' of '{parameter}' has {data.Length} values but the parameter has {p.Length}.");
        return (float[])data.Clone();
    }

    public static void CheckKind(OptimizerState state, string kind)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Kind != kind)
            throw new ArgumentException($"A {state.Kind} optimiser state cannot be loaded into a {kind} optimiser.", nameof(state));
        if (state.Steps < 0) throw new ArgumentException("The optimiser state has a negative step count.", nameof(state));
    }

    public static void CheckRate(double learningRate)
    {
        if (!(learningRate >= 0) || double.IsInfinity(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), "The learning rate must be finite and not negative.");
    }
}
