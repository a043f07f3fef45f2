namespace NeuralStyle.Tensors.Kernels;

/// <summary>Border handling of a 3×3, stride-1 convolution.</summary>
public enum ConvPadding
{
    /// <summary>Pad 1 with zeros: output H×W.</summary>
    Zero = 0,

    /// <summary>No padding: output (H−2)×(W−2).</summary>
    Valid = 1,

    /// <summary>Pad 1 with wrap-around (torus): output H×W.</summary>
    Circular = 2,
}
