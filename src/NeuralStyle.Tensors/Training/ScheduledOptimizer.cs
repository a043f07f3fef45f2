namespace NeuralStyle.Tensors.Training;

/// <summary>What every optimiser over a parameter set keeps: the set, the base rate, its schedule and the step clock.</summary>
public abstract class ScheduledOptimizer : IOptimizer
{
    private double _learningRate;

    protected ScheduledOptimizer(ParameterSet parameters, double learningRate, LearningRateSchedule? schedule)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters;
        LearningRate = learningRate;
        Schedule = schedule ?? new ConstantRate();
    }

    public ParameterSet Parameters { get; }

    public double LearningRate
    {
        get => _learningRate;
        set
        {
            OptimizerStates.CheckRate(value);
            _learningRate = value;
        }
    }

    public LearningRateSchedule Schedule { get; set; }
    public long Steps { get; protected set; }
    public double CurrentLearningRate => Schedule.RateAt(LearningRate, Steps);

    public abstract void Step();
    public abstract OptimizerState ExportState();
    public abstract void ImportState(OptimizerState state);
}
