using System.Numerics.Tensors;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Autograd;

// f (N,H,W,C) -> g (N,C,C) = alpha · Fᵀ F per sample, F the (H·W)×C matrix.
internal sealed class GramOp : Op
{
    private readonly Value _f;
    private readonly float _alpha;
    private readonly float[] _sym;

    public GramOp(Value f, float alpha) : base(OutShape(f), f)
    {
        _f = f; _alpha = alpha;
        _sym = new float[f.Shape[3] * f.Shape[3]];
    }

    public override bool BackwardReadsOutput => false;

    public override long WorkspaceBytes => 4L * _sym.Length;

    private static int[] OutShape(Value f)
    {
        RequireRank(f, 4, "Gram");
        return [f.Shape[0], f.Shape[3], f.Shape[3]];
    }

    public override void Forward(Value y)
    {
        int n = _f.Shape[0], m = _f.Shape[1] * _f.Shape[2], c = _f.Shape[3];
        for (int s = 0; s < n; s++)
            Gemm.Gram(m, c, _alpha, _f.Data, s * m * c, y.Data, s * c * c);
    }

    public override void Backward(Value y)
    {
        if (!_f.RequiresGrad) return;
        int n = _f.Shape[0], m = _f.Shape[1] * _f.Shape[2], c = _f.Shape[3];
        // dF = alpha · F (dG + dGᵀ), written (β = 0) or added (β = 1) straight into the gradient: no zeroing pass.
        float[] df = Graph.GradWithBeta(_f, out float beta);
        float[] dg = y.Grad!;
        for (int s = 0; s < n; s++)
        {
            int go = s * c * c;
            for (int i = 0; i < c; i++)
                for (int j = 0; j < c; j++)
                    _sym[i * c + j] = dg[go + i * c + j] + dg[go + j * c + i];
            Gemm.Sgemm(false, false, m, c, c, _alpha, _f.Data, s * m * c, c, _sym, 0, c, beta, df, s * m * c, c);
        }
    }
}

// a (any) -> [1]: sum or mean, accumulated in double.
internal sealed class ReduceOp(Value a, bool mean) : Op([1], a)
{
    public override bool BackwardReadsInput(int index) => false;

    public override void Forward(Value y)
    {
        double s = PreciseSums.Sum(a.Data);
        y.Data[0] = (float)(mean ? s / a.Length : s);
    }

    public override void Backward(Value y)
    {
        if (!a.RequiresGrad) return;
        float g = y.Grad![0] * (mean ? 1f / a.Length : 1f);
        float[] da = a.Graph.BeginGrad(a, out bool acc);
        da.AsSpan(0, a.Length).Fill(g);
        Graph.EndGrad(a, da, acc);
    }
}

// x (N, …) -> y (N): the sum of each sample, accumulated in double.
internal sealed class SumPerSampleOp(Value x) : Op([x.Shape[0]], x)
{
    public override bool BackwardReadsInput(int index) => false;

    public override bool BackwardReadsOutput => false;

    public override void Forward(Value y)
    {
        int n = x.Shape[0], per = x.Length / n;
        for (int b = 0; b < n; b++) y.Data[b] = (float)PreciseSums.Sum(x.Data.AsSpan(b * per, per));
    }

    public override void Backward(Value y)
    {
        if (!x.RequiresGrad) return;
        int n = x.Shape[0], per = x.Length / n;
        float[] dx = x.Graph.BeginGrad(x, out bool acc);
        for (int b = 0; b < n; b++) dx.AsSpan(b * per, per).Fill(y.Grad![b]);
        Graph.EndGrad(x, dx, acc);
    }
}
