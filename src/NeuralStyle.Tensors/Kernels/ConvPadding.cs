namespace NeuralStyle.Tensors.Kernels;

/// <summary>
/// Border handling of a convolution. For a k×k kernel the padding amount is p = k/2 (integer division) on every side
/// for Zero, Reflect and Circular, and 0 for Valid; the output size is ⌊(H + 2p − k)/stride⌋ + 1, as in PyTorch.
/// The 3×3 stride-1 kernels (<see cref="Conv3x3"/>) implement Zero, Valid and Circular only.
/// </summary>
public enum ConvPadding
{
    /// <summary>Pad p with zeros (3×3: output H×W).</summary>
    Zero = 0,

    /// <summary>No padding (3×3: output (H−2)×(W−2)).</summary>
    Valid = 1,

    /// <summary>Pad p with wrap-around (torus), as PyTorch's padding_mode='circular'.</summary>
    Circular = 2,

    /// <summary>Pad p by mirroring without repeating the edge (PyTorch ReflectionPad2d): row −1 reads row 1.</summary>
    Reflect = 3,
}
