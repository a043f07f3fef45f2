using System.Diagnostics.CodeAnalysis;

namespace NeuralStyle.Tensors.Kernels;

/// <summary>Argument validation shared by the kernels; throwing lives here so the hot paths stay small.</summary>
internal static class KernelChecks
{
    public static int ConvOutSize(int size, ConvPadding padding) => padding == ConvPadding.Valid ? size - 2 : size;

    public static void ConvShapes(int n, int h, int w, int inChannels, int outChannels, ConvPadding padding)
    {
        if (n < 0 || h < 1 || w < 1 || inChannels < 1 || outChannels < 1)
        {
            Throw($"Conv3x3 needs n ≥ 0 and positive sizes and channels (got n={n}, h={h}, w={w}, ci={inChannels}, co={outChannels}).");
        }

        if (padding == ConvPadding.Reflect)
        {
            Throw("The 3×3 kernels do not implement Reflect padding; reflect-pad the input and run a Valid convolution (Graph.Conv2d does this).");
        }

        if (padding is not (ConvPadding.Zero or ConvPadding.Valid or ConvPadding.Circular))
        {
            Throw($"Unknown padding mode {padding}.");
        }

        if (padding == ConvPadding.Valid && (h < 3 || w < 3))
        {
            Throw($"Valid 3×3 convolution needs an input of at least 3×3 (got {h}×{w}).");
        }
    }

    public static void Length(float[] array, long needed, string name)
    {
        ArgumentNullException.ThrowIfNull(array, name);
        if (array.Length < needed)
        {
            Throw($"Array '{name}' holds {array.Length} floats but {needed} are needed.");
        }
    }

    public static void Matrix(float[] array, int offset, int rows, int cols, int ld, string name)
    {
        ArgumentNullException.ThrowIfNull(array, name);
        if (offset < 0 || ld < Math.Max(1, cols))
        {
            Throw($"Matrix '{name}': offset {offset} must be ≥ 0 and leading dimension {ld} ≥ max(1, {cols}).");
        }

        if (rows > 0 && cols > 0 && offset + ((long)(rows - 1) * ld) + cols > array.Length)
        {
            Throw($"Matrix '{name}' ({rows}×{cols}, ld {ld}, offset {offset}) does not fit in an array of {array.Length} floats.");
        }
    }

    [DoesNotReturn]
    public static void Throw(string message) => throw new ArgumentException(message);
}
