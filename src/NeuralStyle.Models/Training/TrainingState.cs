using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Training;

namespace NeuralStyle.Models.Training;

/// <summary>
/// The live objects of a training run that a <see cref="Checkpoint"/> saves from and loads into. Only
/// <see cref="Architecture"/> and <see cref="Parameters"/> are required; loading into an object the checkpoint
/// lacks is an error, while parts of the checkpoint with no object to load into are skipped.
/// </summary>
public sealed record TrainingState
{
    /// <summary>The network's name (e.g. "stylebank-v1"): a checkpoint loads only into the same architecture.</summary>
    public required string Architecture { get; init; }
    public required ParameterSet Parameters { get; init; }
    public IOptimizer? Optimizer { get; init; }
    public Rng? Rng { get; init; }
    public ShuffledOrder? Data { get; init; }
}
