using System.Numerics.Tensors;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Autograd;

internal sealed class ReluOp(Value x) : Op(x.Shape, x)
{
    public override bool BackwardReadsInput(int index) => false;

    public override void Forward(Value y) => TensorPrimitives.Max(x.Data, 0f, y.Data);

    public override void Backward(Value y)
    {
        if (!x.RequiresGrad) return;
        float[] dx = x.Graph.BeginGrad(x, out bool acc);
        Activation.ReluMask(y.Grad!, y.Data, dx.AsSpan(0, y.Length));
        Graph.EndGrad(x, dx, acc);
    }

    /// <summary>g[i] = 0 where the ReLU output y[i] is not positive.</summary>
    public static void MaskInPlace(float[] g, float[] y) => Activation.ReluMask(g, y, g);
}

// x (…, C) -> y (…, C): y[…, c] = x[…, perm[c]] · scale[c] + shift[c]
internal sealed class ChannelAffineOp : Op
{
    private readonly Value _x;
    private readonly int[] _perm;
    private readonly float[] _scale, _shift;

    public ChannelAffineOp(Value x, int[] perm, float[] scale, float[] shift) : base(x.Shape, x)
    {
        int c = x.Shape[^1];
        if (perm.Length != c || scale.Length != c || shift.Length != c)
            throw new ArgumentException($"ChannelAffine needs {c} entries per parameter.");
        _x = x; _perm = (int[])perm.Clone(); _scale = (float[])scale.Clone(); _shift = (float[])shift.Clone();
    }

    public override bool BackwardReadsInput(int index) => false;

    public override bool BackwardReadsOutput => false;

    public override void Forward(Value y)
    {
        float[] xd = _x.Data, yd = y.Data;
        int c = _perm.Length;
        for (int i = 0; i < yd.Length; i += c)
            for (int k = 0; k < c; k++)
                yd[i + k] = xd[i + _perm[k]] * _scale[k] + _shift[k];
    }

    public override void Backward(Value y)
    {
        if (!_x.RequiresGrad) return;
        float[] dx = _x.Graph.BeginGrad(_x, out bool acc);
        float[] dy = y.Grad!;
        int c = _perm.Length;
        for (int i = 0; i < dy.Length; i += c)
            for (int k = 0; k < c; k++)
                dx[i + _perm[k]] = dy[i + k] * _scale[k];
        Graph.EndGrad(_x, dx, acc);
    }
}

internal enum BinaryKind { Add, Sub, Mul }

// Element-wise a ∘ b on equal shapes.
internal sealed class BinaryOp : Op
{
    private readonly Value _a, _b;
    private readonly BinaryKind _kind;

    public BinaryOp(Value a, Value b, BinaryKind kind) : base(a.Shape, a, b)
    {
        if (!a.Shape.AsSpan().SequenceEqual(b.Shape))
            throw new ArgumentException($"{kind} needs equal shapes, got [{string.Join(",", a.Shape)}] and [{string.Join(",", b.Shape)}].");
        _a = a; _b = b; _kind = kind;
    }

    public override bool BackwardReadsInput(int index) => _kind == BinaryKind.Mul;

    public override bool BackwardReadsOutput => false;

    public override void Forward(Value y)
    {
        switch (_kind)
        {
            case BinaryKind.Add: TensorPrimitives.Add(_a.Data, _b.Data, y.Data); break;
            case BinaryKind.Sub: TensorPrimitives.Subtract(_a.Data, _b.Data, y.Data); break;
            default: TensorPrimitives.Multiply(_a.Data, _b.Data, y.Data); break;
        }
    }

    public override void Backward(Value y)
    {
        float[] dy = y.Grad!;
        if (_a.RequiresGrad)
        {
            float[] da = _a.Graph.BeginGrad(_a, out bool acc);
            if (_kind == BinaryKind.Mul) TensorPrimitives.Multiply(dy, _b.Data, da.AsSpan(0, dy.Length));
            else dy.CopyTo(da, 0);
            Graph.EndGrad(_a, da, acc);
        }
        if (_b.RequiresGrad)
        {
            float[] db = _b.Graph.BeginGrad(_b, out bool acc);
            Span<float> d = db.AsSpan(0, dy.Length);
            switch (_kind)
            {
                case BinaryKind.Add: dy.CopyTo(d); break;
                case BinaryKind.Sub: TensorPrimitives.Negate(dy, d); break;
                default: TensorPrimitives.Multiply(dy, _a.Data, d); break;
            }
            Graph.EndGrad(_b, db, acc);
        }
    }
}

internal enum UnaryKind { Scale, Square, Abs, Pow, SmoothAbs }

internal sealed class UnaryOp : Op
{
    private readonly Value _a;
    private readonly UnaryKind _kind;
    private readonly float _p;

    public UnaryOp(Value a, UnaryKind kind, float p) : base(a.Shape, a)
    {
        _a = a; _kind = kind; _p = p;
    }

    public override bool BackwardReadsInput(int index) => _kind != UnaryKind.Scale;

    public override bool BackwardReadsOutput => false;

    public override void Forward(Value y)
    {
        float[] x = _a.Data, yd = y.Data;
        switch (_kind)
        {
            case UnaryKind.Scale: TensorPrimitives.Multiply(x, _p, yd); break;
            case UnaryKind.Square: TensorPrimitives.Multiply(x, x, yd); break;
            case UnaryKind.Abs: TensorPrimitives.Abs(x, yd); break;
            case UnaryKind.SmoothAbs:
            {
                // √(x² + ε²) − ε, one vector pass per operation (the same IEEE operations as the scalar formula)
                Span<float> r = yd.AsSpan(0, x.Length);
                TensorPrimitives.Multiply(x, x, r);
                TensorPrimitives.Add(r, _p * _p, r);
                TensorPrimitives.Sqrt(r, r);
                TensorPrimitives.Subtract(r, _p, r);
                break;
            }
            default:
                for (int i = 0; i < x.Length; i++) yd[i] = x[i] > 0f ? MathF.Pow(x[i], _p) : 0f;
                break;
        }
    }

    public override void Backward(Value y)
    {
        if (!_a.RequiresGrad) return;
        // Scale does not read its input (BackwardReadsInput), whose buffer may already be released.
        float[] x = _kind == UnaryKind.Scale ? [] : _a.Data, dy = y.Grad!;
        float[] dx = _a.Graph.BeginGrad(_a, out bool acc);
        switch (_kind)
        {
            case UnaryKind.Scale: TensorPrimitives.Multiply(dy, _p, dx.AsSpan(0, dy.Length)); break;
            case UnaryKind.Square:
                for (int i = 0; i < dy.Length; i++) dx[i] = 2f * x[i] * dy[i];
                break;
            case UnaryKind.Abs:
                for (int i = 0; i < dy.Length; i++) dx[i] = x[i] > 0f ? dy[i] : x[i] < 0f ? -dy[i] : 0f;
                break;
            case UnaryKind.SmoothAbs:
            {
                // x / √(x² + ε²) · dy, built in dx's own span
                int n = dy.Length;
                Span<float> d = dx.AsSpan(0, n);
                ReadOnlySpan<float> xs = x.AsSpan(0, n);
                TensorPrimitives.Multiply(xs, xs, d);
                TensorPrimitives.Add(d, _p * _p, d);
                TensorPrimitives.Sqrt(d, d);
                TensorPrimitives.Divide(xs, d, d);
                TensorPrimitives.Multiply(d, dy, d);
                break;
            }
            default:
                for (int i = 0; i < dy.Length; i++) dx[i] = x[i] > 0f ? _p * MathF.Pow(x[i], _p - 1f) * dy[i] : 0f;
                break;
        }
        Graph.EndGrad(_a, dx, acc);
    }
}

// Identity forward (shares the input's buffer); backward: dx += strength · g / (‖g‖₁ + 1e-8).
internal sealed class GradNormalizeOp(Value a, float strength) : Op(a.Shape, a)
{
    public override Value? AliasInput => a;

    public override bool BackwardReadsInput(int index) => false;

    public override bool BackwardReadsOutput => false;

    public override void Forward(Value y) { }

    public override void Backward(Value y)
    {
        if (!a.RequiresGrad) return;
        float[] dy = y.Grad!;
        double l1 = PreciseSums.SumOfMagnitudes(dy);
        float k = (float)(strength / (l1 + 1e-8));
        float[] dx = a.Graph.BeginGrad(a, out bool acc);
        TensorPrimitives.Multiply(dy, k, dx.AsSpan(0, dy.Length));
        Graph.EndGrad(a, dx, acc);
    }
}
