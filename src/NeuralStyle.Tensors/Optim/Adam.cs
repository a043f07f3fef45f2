using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Optim;

/// <summary>Adam with torch.optim.Adam semantics (bias-corrected moments, eps added after the square root).</summary>
public sealed class Adam
{
    private readonly float[] _m, _v;
    private int _t;

    public Adam(int length, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        if (!(learningRate > 0)) throw new ArgumentOutOfRangeException(nameof(learningRate), "The learning rate must be positive.");
        _m = new float[length];
        _v = new float[length];
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
    }

    public double LearningRate { get; set; }
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public int Steps => _t;

    /// <summary>One step: x ← x − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε), in torch's order of float operations.</summary>
    public void Step(Span<float> x, ReadOnlySpan<float> grad)
    {
        if (x.Length != _m.Length || grad.Length != _m.Length) throw new ArgumentException("Length mismatch.");
        _t++;
        OptimizerUpdates.Adam(x, grad, _m, _v, AdamCoefficients.For(_t, LearningRate, Beta1, Beta2, Eps, weightDecay: 0));
    }

    public void Reset()
    {
        Array.Clear(_m);
        Array.Clear(_v);
        _t = 0;
    }
}
