// Element-wise parameter updates of the optimisers, in torch.optim's order of float32 operations.
// Adam:  g' = g + wd·x;  m = β₁m + (1−β₁)g';  v = β₂v + (1−β₂)g'g';  x = x − s·m / (√v / √(1−β₂ᵗ) + ε),  s = lr/(1−β₁ᵗ)
// Sgd:   d = g + wd·x;  b = first ? d : μb + (1−τ)d;  d = nesterov ? d + μb : b;  x = x − lr·d
// The vector paths perform exactly the scalar operations (no fused multiply-add), so they match the references bit for bit.
using System.Numerics;

namespace NeuralStyle.Tensors.Kernels;

/// <summary>The scalars of one Adam update (already converted to float the way torch passes them to its kernels).</summary>
public readonly record struct AdamCoefficients(float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2,
    float StepSize, float Bias2Sqrt, float Eps, float WeightDecay)
{
    /// <summary>The coefficients of step <paramref name="step"/> (1 for the first update).</summary>
    public static AdamCoefficients For(long step, double learningRate, double beta1, double beta2, double eps, double weightDecay)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), "The Adam step count starts at 1.");
        double bias1 = 1 - Math.Pow(beta1, step);
        double bias2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, step));
        return new((float)beta1, (float)(1 - beta1), (float)beta2, (float)(1 - beta2),
            (float)(learningRate / bias1), (float)bias2Sqrt, (float)eps, (float)weightDecay);
    }
}

/// <summary>The optimisers' update kernels (fast paths and references).</summary>
public static class OptimizerUpdates
{
    public static void Adam(Span<float> x, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, in AdamCoefficients k)
    {
        CheckLengths(x.Length, grad.Length, m.Length, v.Length);
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var b1 = new Vector<float>(k.Beta1); var c1 = new Vector<float>(k.OneMinusBeta1);
            var b2 = new Vector<float>(k.Beta2); var c2 = new Vector<float>(k.OneMinusBeta2);
            var step = new Vector<float>(k.StepSize); var bias2 = new Vector<float>(k.Bias2Sqrt);
            var eps = new Vector<float>(k.Eps); var wd = new Vector<float>(k.WeightDecay);
            bool decay = k.WeightDecay != 0;
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var xi = new Vector<float>(x[i..]);
                var g = new Vector<float>(grad[i..]);
                if (decay) g += wd * xi;
                var mi = b1 * new Vector<float>(m[i..]) + c1 * g;
                var vi = b2 * new Vector<float>(v[i..]) + c2 * g * g;
                mi.CopyTo(m[i..]);
                vi.CopyTo(v[i..]);
                (xi - step * mi / (Vector.SquareRoot(vi) / bias2 + eps)).CopyTo(x[i..]);
            }
        }
        AdamReference(x[i..], grad[i..], m[i..], v[i..], k);
    }

    public static void AdamReference(Span<float> x, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, in AdamCoefficients k)
    {
        CheckLengths(x.Length, grad.Length, m.Length, v.Length);
        for (int i = 0; i < x.Length; i++)
        {
            float g = grad[i];
            if (k.WeightDecay != 0) g += k.WeightDecay * x[i];
            float mi = m[i] = k.Beta1 * m[i] + k.OneMinusBeta1 * g;
            float vi = v[i] = k.Beta2 * v[i] + k.OneMinusBeta2 * g * g;
            x[i] -= k.StepSize * mi / (MathF.Sqrt(vi) / k.Bias2Sqrt + k.Eps);
        }
    }

    /// <summary>
    /// One SGD update. <paramref name="momentumBuffer"/> is ignored when <paramref name="momentum"/> is 0; on the
    /// first step (<paramref name="firstStep"/>) it is set to the decayed gradient, as torch clones it.
    /// </summary>
    public static void Sgd(Span<float> x, ReadOnlySpan<float> grad, Span<float> momentumBuffer, float learningRate, float momentum,
        float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        CheckLengths(x.Length, grad.Length, momentum != 0 ? momentumBuffer.Length : x.Length, x.Length);
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var lr = new Vector<float>(learningRate); var mu = new Vector<float>(momentum);
            var keep = new Vector<float>(1 - dampening); var wd = new Vector<float>(weightDecay);
            bool decay = weightDecay != 0;
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var xi = new Vector<float>(x[i..]);
                var d = new Vector<float>(grad[i..]);
                if (decay) d += wd * xi;
                if (momentum != 0)
                {
                    var b = firstStep ? d : mu * new Vector<float>(momentumBuffer[i..]) + keep * d;
                    b.CopyTo(momentumBuffer[i..]);
                    d = nesterov ? d + mu * b : b;
                }
                (xi - lr * d).CopyTo(x[i..]);
            }
        }
        SgdReference(x[i..], grad[i..], momentum != 0 ? momentumBuffer[i..] : default, learningRate, momentum, dampening, weightDecay, nesterov, firstStep);
    }

    public static void SgdReference(Span<float> x, ReadOnlySpan<float> grad, Span<float> momentumBuffer, float learningRate, float momentum,
        float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        CheckLengths(x.Length, grad.Length, momentum != 0 ? momentumBuffer.Length : x.Length, x.Length);
        for (int i = 0; i < x.Length; i++)
        {
            float d = grad[i];
            if (weightDecay != 0) d += weightDecay * x[i];
            if (momentum != 0)
            {
                float b = momentumBuffer[i] = firstStep ? d : momentum * momentumBuffer[i] + (1 - dampening) * d;
                d = nesterov ? d + momentum * b : b;
            }
            x[i] -= learningRate * d;
        }
    }

    private static void CheckLengths(int x, int grad, int a, int b)
    {
        if (grad != x || a != x || b != x)
            throw new ArgumentException($"The parameter ({x}), gradient ({grad}) and state ({a}, {b}) lengths differ.");
    }
}
