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

    /// <summary>One step: x ← x − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).</summary>
    public void Step(Span<float> x, ReadOnlySpan<float> grad)
    {
        if (x.Length != _m.Length || grad.Length != _m.Length) throw new ArgumentException("Length mismatch.");
        _t++;
        float b1 = (float)Beta1, b2 = (float)Beta2;
        float c1 = 1f - b1, c2 = 1f - b2;
        double bias1 = 1 - Math.Pow(Beta1, _t);
        double bias2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, _t));
        float stepSize = (float)(LearningRate / bias1);
        float invBias2Sqrt = (float)(1 / bias2Sqrt);
        float eps = (float)Eps;
        for (int i = 0; i < x.Length; i++)
        {
            float g = grad[i];
            float m = _m[i] = b1 * _m[i] + c1 * g;
            float v = _v[i] = b2 * _v[i] + c2 * g * g;
            x[i] -= stepSize * m / (MathF.Sqrt(v) * invBias2Sqrt + eps);
        }
    }

    public void Reset()
    {
        Array.Clear(_m);
        Array.Clear(_v);
        _t = 0;
    }
}
