namespace NeuralStyle.Tensors.Kernels;

public static partial class Conv3x3
{
    private static void ForwardFast(float[] x, int n, int h, int w, Conv3x3Weights weights, float[]? bias, float[] y, ConvPadding padding, bool relu)
        => ForwardReference(x, n, h, w, weights.InChannels, weights.OutChannels, weights.Oihw, bias, y, padding, relu);

    private static void BackwardInputFast(float[] dy, int n, int h, int w, Conv3x3Weights weights, float[] dx, ConvPadding padding)
        => BackwardInputReference(dy, n, h, w, weights.InChannels, weights.OutChannels, weights.Oihw, dx, padding);

    private static void BackwardWeightsFast(float[] x, float[] dy, int n, int h, int w, int ci, int co, float[] dw, float[]? db, ConvPadding padding)
        => BackwardWeightsReference(x, dy, n, h, w, ci, co, dw, db, padding);
}
