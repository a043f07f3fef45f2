namespace NeuralStyle.Models.Training;

/// <summary>A checkpoint that cannot be read or does not fit what it is loaded into (the message says which and why).</summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException(string message) : base(message) { }
    public CheckpointException(string message, Exception inner) : base(message, inner) { }
}
