using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Autograd;

// x (N,H,W,C), gamma (C)?, beta (C)? -> y (N,H,W,C): instance norm, optional affine and fused ReLU.
internal sealed class InstanceNormOp : Op
{
    private readonly Value _x;
    private readonly Value? _gamma, _beta;
    private readonly float _eps;
    private readonly bool _relu;
    private readonly float[] _mean, _rstd; // per (n, c), kept from the forward pass

    public InstanceNormOp(Value x, Value? gamma, Value? beta, float eps, bool relu) : base(Validate(x, gamma, beta, eps), InputList(x, gamma, beta))
    {
        _x = x; _gamma = gamma; _beta = beta; _eps = eps; _relu = relu;
        _mean = new float[x.Shape[0] * x.Shape[3]];
        _rstd = new float[x.Shape[0] * x.Shape[3]];
    }

    // Backward reads x (and re-derives the ReLU mask from it), never y.
    public override bool BackwardReadsOutput => false;

    public override long WorkspaceBytes => 8L * _mean.Length;

    private static Value[] InputList(Value x, Value? gamma, Value? beta)
        => gamma is null ? (beta is null ? [x] : [x, beta]) : (beta is null ? [x, gamma] : [x, gamma, beta]);

    private static int[] Validate(Value x, Value? gamma, Value? beta, float eps)
    {
        RequireRank(x, 4, "InstanceNorm");
        int c = x.Shape[3];
        if (x.Shape[1] < 1 || x.Shape[2] < 1) throw new ArgumentException($"InstanceNorm needs at least one position, got [{string.Join(",", x.Shape)}].");
        if (gamma is not null && (gamma.Rank != 1 || gamma.Shape[0] != c))
            throw new ArgumentException($"InstanceNorm gamma [{string.Join(",", gamma.Shape)}] must have shape [{c}].");
        if (beta is not null && (beta.Rank != 1 || beta.Shape[0] != c))
            throw new ArgumentException($"InstanceNorm beta [{string.Join(",", beta.Shape)}] must have shape [{c}].");
        if (!(eps > 0) || float.IsInfinity(eps)) throw new ArgumentException($"InstanceNorm eps must be positive and finite (got {eps}).");
        return x.Shape;
    }

    public override void Forward(Value y)
    {
        int[] s = _x.Shape;
        Kernels.InstanceNorm.Forward(_x.Data, s[0], s[1] * s[2], s[3], _gamma?.Data, _beta?.Data, _eps, _relu, y.Data, _mean, _rstd);
    }

    public override void Backward(Value y)
    {
        bool gammaGrad = _gamma?.RequiresGrad == true, betaGrad = _beta?.RequiresGrad == true;
        if (!_x.RequiresGrad && !gammaGrad && !betaGrad) return;
        int[] s = _x.Shape;
        float[]? dx = null;
        bool acc = false;
        if (_x.RequiresGrad) dx = _x.Graph.BeginGrad(_x, out acc);
        // The kernel adds into dgamma and dbeta, and overwrites dx.
        Kernels.InstanceNorm.Backward(_x.Data, y.Grad!, s[0], s[1] * s[2], s[3], _gamma?.Data, _beta?.Data, _relu, _mean, _rstd,
                                      dx, gammaGrad ? Graph.AccumulateGrad(_gamma!) : null, betaGrad ? Graph.AccumulateGrad(_beta!) : null);
        if (dx is not null) Graph.EndGrad(_x, dx, acc);
    }
}

// x (N,H,W,C) -> y (N,H,W,C): softmax over C of x / T at every position.
internal sealed class SoftmaxChannelsOp : Op
{
    private readonly Value _x;
    private readonly float _temperature;

    public SoftmaxChannelsOp(Value x, float temperature) : base(x.Shape, x)
    {
        RequireRank(x, 4, "SoftmaxChannels");
        if (!(temperature > 0) || float.IsInfinity(temperature))
            throw new ArgumentException($"SoftmaxChannels needs a positive finite temperature (got {temperature}).");
        _x = x; _temperature = temperature;
    }

    public override bool BackwardReadsInput(int index) => false;

    private int Positions => _x.Shape[0] * _x.Shape[1] * _x.Shape[2];

    public override void Forward(Value y) => Kernels.SoftmaxChannels.Forward(_x.Data, Positions, _x.Shape[3], _temperature, y.Data);

    public override void Backward(Value y)
    {
        if (!_x.RequiresGrad) return;
        float[] dx = _x.Graph.BeginGrad(_x, out bool acc);
        Kernels.SoftmaxChannels.Backward(y.Data, y.Grad!, Positions, _x.Shape[3], _temperature, dx);
        Graph.EndGrad(_x, dx, acc);
    }
}
