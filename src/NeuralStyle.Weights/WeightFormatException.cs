namespace NeuralStyle.Weights;

/// <summary>The one exception for a weights file that is corrupt, truncated, unsupported or unsafe.</summary>
public sealed class WeightFormatException : Exception
{
    public WeightFormatException(string message) : base(message) { }
    public WeightFormatException(string message, Exception inner) : base(message, inner) { }
}
