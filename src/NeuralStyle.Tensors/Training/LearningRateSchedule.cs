namespace NeuralStyle.Tensors.Training;

/// <summary>
/// How an optimiser's learning rate changes with its step count: the rate of step k (0 for the first update) is
/// <see cref="RateAt"/>(base rate, k). The schedule's only state is the optimiser's step count, which checkpoints keep.
/// </summary>
public abstract record LearningRateSchedule
{
    private protected LearningRateSchedule() { }

    /// <summary>The learning rate of the update after <paramref name="step"/> earlier ones.</summary>
    public abstract double RateAt(double baseRate, long step);
}

/// <summary>The base rate at every step.</summary>
public sealed record ConstantRate : LearningRateSchedule
{
    public override double RateAt(double baseRate, long step) => baseRate;
}

/// <summary>
/// torch.optim.lr_scheduler.StepLR stepped once per optimiser step: lr · γ^⌊k / stepSize⌋ (the StyleBank paper's
/// ×0.8 every 30,000 steps is <c>new StepDecay(30_000, 0.8)</c>).
/// </summary>
public sealed record StepDecay : LearningRateSchedule
{
    public StepDecay(long stepSize, double gamma)
    {
        if (stepSize < 1) throw new ArgumentOutOfRangeException(nameof(stepSize), "The decay step size must be at least 1.");
        if (!(gamma > 0) || double.IsInfinity(gamma)) throw new ArgumentOutOfRangeException(nameof(gamma), "The decay factor must be positive and finite.");
        StepSize = stepSize;
        Gamma = gamma;
    }

    public long StepSize { get; }
    public double Gamma { get; }

    public override double RateAt(double baseRate, long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), "The step count cannot be negative.");
        long decays = step / StepSize;
        // StepLR multiplies the previous rate by γ at each boundary; repeating that keeps its double rounding exactly.
        if (decays > 4096) return baseRate * Math.Pow(Gamma, decays);
        double rate = baseRate;
        for (long i = 0; i < decays; i++) rate *= Gamma;
        return rate;
    }
}
