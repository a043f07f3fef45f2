namespace NeuralStyle.Models;

/// <summary>A weights file that does not fit the network asked for; the message is one sentence for the user.</summary>
public sealed class ModelWeightsException(string message) : Exception(message);
