namespace NeuralStyle.Core;

/// <summary>The optimisers of the engine (Tensors/Optim) that the methods can choose.</summary>
public enum OptimizerKind { Lbfgs, Adam }
