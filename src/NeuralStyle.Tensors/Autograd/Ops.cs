using System.Numerics.Tensors;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Autograd;

// The one table of gradient rules: every primitive operation of the engine, forward beside backward.
// Forward writes y.Data from the inputs' data; Backward reads y.Grad and adds d(loss)/d(input) to every input that
// requires a gradient (through Graph.BeginGrad/EndGrad, which turn "overwrite" kernels into accumulation).

internal abstract class Op
{
    protected Op(int[] outputShape, params Value[] inputs)
    {
        OutputShape = outputShape;
        Inputs = inputs;
    }

    public int[] OutputShape { get; }
    public Value[] Inputs { get; }

    /// <summary>When set, the output shares this input's data buffer (identity-forward ops).</summary>
    public virtual Value? AliasInput => null;

    public abstract void Forward(Value y);
    public abstract void Backward(Value y);

    protected static void RequireRank(Value x, int rank, string op)
    {
        if (x.Rank != rank) throw new ArgumentException($"{op} expects a rank-{rank} tensor, got [{string.Join(",", x.Shape)}].");
    }
}

// x (N,H,W,Ci), w (Co,Ci,3,3), b (Co) -> y (N,Ho,Wo,Co), optional fused ReLU.
internal sealed class Conv3x3Op : Op
{
    private readonly Value _x, _w;
    private readonly Value? _b;
    private readonly ConvPadding _padding;
    private readonly bool _relu;
    private readonly Conv3x3Weights _packed;
    private float[]? _packedFrom;

    // Fixed weights are packed once per weight array and shared by every graph that uses them (a VGG-19 packs to
    // ~200 MB; the target passes and the loss graph would otherwise each hold a copy).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<float[], Conv3x3Weights> SharedPacks = new();

    public Conv3x3Op(Value x, Value w, Value? b, ConvPadding padding, bool relu)
        : base(OutShape(x, w, padding), b is null ? [x, w] : [x, w, b])
    {
        _x = x; _w = w; _b = b; _padding = padding; _relu = relu;
        if (w.RequiresGrad)
        {
            _packed = new Conv3x3Weights(w.Shape[0], w.Shape[1]);
        }
        else
        {
            _packed = SharedPacks.GetValue(w.Data, data =>
            {
                var p = new Conv3x3Weights(w.Shape[0], w.Shape[1]);
                p.Pack(data);
                return p;
            });
            _packedFrom = w.Data;
        }
    }

    private static int[] OutShape(Value x, Value w, ConvPadding padding)
    {
        RequireRank(x, 4, "Conv3x3");
        if (w.Rank != 4 || w.Shape[2] != 3 || w.Shape[3] != 3 || w.Shape[1] != x.Shape[3])
            throw new ArgumentException($"Conv3x3 weight [{string.Join(",", w.Shape)}] does not fit input [{string.Join(",", x.Shape)}].");
        int h = x.Shape[1], wd = x.Shape[2];
        if (padding == ConvPadding.Valid) { h -= 2; wd -= 2; }
        if (h < 1 || wd < 1) throw new ArgumentException($"Input [{string.Join(",", x.Shape)}] is too small for a valid 3×3 convolution.");
        return [x.Shape[0], h, wd, w.Shape[0]];
    }

    public override void Forward(Value y)
    {
        // Trainable weights change between passes: re-pack them every time. Fixed weights are packed once.
        if (_packedFrom != _w.Data || _w.RequiresGrad)
        {
            _packed.Pack(_w.Data);
            _packedFrom = _w.Data;
        }
        Conv3x3.Forward(_x.Data, _x.Shape[0], _x.Shape[1], _x.Shape[2], _packed, _b?.Data, y.Data, _padding, _relu);
    }

    public override void Backward(Value y)
    {
        float[] dy = y.Grad!;
        if (_relu) ReluOp.MaskInPlace(dy, y.Data);
        int n = _x.Shape[0], h = _x.Shape[1], w = _x.Shape[2];
        if (_x.RequiresGrad)
        {
            float[] dx = _x.Graph.BeginGrad(_x, out bool acc);
            Conv3x3.BackwardInput(dy, n, h, w, _packed, dx, _padding);
            Graph.EndGrad(_x, dx, acc);
        }
        if (_w.RequiresGrad || (_b?.RequiresGrad ?? false))
        {
            // Weight and bias gradients accumulate (+=); leaves are cleared at the start of Backward.
            float[] dw = _w.RequiresGrad ? _w.Grad! : new float[_w.Length];
            Conv3x3.BackwardWeights(_x.Data, dy, n, h, w, _w.Shape[1], _w.Shape[0], dw, _b?.RequiresGrad == true ? _b.Grad : null, _padding);
        }
    }
}

internal sealed class ReluOp(Value x) : Op(x.Shape, x)
{
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

// x (N,H,W,C) -> y (N,H/2,W/2,C), 2×2 window, stride 2, floor.
internal sealed class PoolOp : Op
{
    private readonly Value _x;
    private readonly bool _max;

    public PoolOp(Value x, bool max) : base(OutShape(x), x)
    {
        _x = x; _max = max;
    }

    private static int[] OutShape(Value x)
    {
        RequireRank(x, 4, "Pool2x2");
        if (x.Shape[1] < 2 || x.Shape[2] < 2)
            throw new ArgumentException($"Input [{string.Join(",", x.Shape)}] is too small for 2×2 pooling.");
        return [x.Shape[0], x.Shape[1] / 2, x.Shape[2] / 2, x.Shape[3]];
    }

    public override void Forward(Value y)
    {
        int[] s = _x.Shape;
        if (_max) Pool2x2.MaxForward(_x.Data, s[0], s[1], s[2], s[3], y.Data);
        else Pool2x2.AvgForward(_x.Data, s[0], s[1], s[2], s[3], y.Data);
    }

    public override void Backward(Value y)
    {
        if (!_x.RequiresGrad) return;
        int[] s = _x.Shape;
        float[] dx = _x.Graph.BeginGrad(_x, out bool acc);
        if (_max) Pool2x2.MaxBackward(_x.Data, y.Grad!, s[0], s[1], s[2], s[3], dx);
        else Pool2x2.AvgBackward(y.Grad!, s[0], s[1], s[2], s[3], dx);
        Graph.EndGrad(_x, dx, acc);
    }
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

    private static int[] OutShape(Value f)
    {
        RequireRank(f, 4, "Gram");
        return [f.Shape[0], f.Shape[3], f.Shape[3]];
    }

    public override void Forward(Value y)
    {
        int n = _f.Shape[0], m = _f.Shape[1] * _f.Shape[2], c = _f.Shape[3];
        for (int s = 0; s < n; s++)
            Gemm.Sgemm(true, false, c, c, m, _alpha, _f.Data, s * m * c, c, _f.Data, s * m * c, c, 0f, y.Data, s * c * c, c);
    }

    public override void Backward(Value y)
    {
        if (!_f.RequiresGrad) return;
        int n = _f.Shape[0], m = _f.Shape[1] * _f.Shape[2], c = _f.Shape[3];
        // dF = alpha · F (dG + dGᵀ); written straight into the gradient with beta = 1 when accumulating.
        bool acc = _f.GradWritten;
        float[] df = _f.Grad!;
        float[] dg = y.Grad!;
        for (int s = 0; s < n; s++)
        {
            int go = s * c * c;
            for (int i = 0; i < c; i++)
                for (int j = 0; j < c; j++)
                    _sym[i * c + j] = dg[go + i * c + j] + dg[go + j * c + i];
            Gemm.Sgemm(false, false, m, c, c, _alpha, _f.Data, s * m * c, c, _sym, 0, c, acc ? 1f : 0f, df, s * m * c, c);
        }
        _f.GradWritten = true;
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

internal enum UnaryKind { Scale, Square, Abs, Pow }

internal sealed class UnaryOp : Op
{
    private readonly Value _a;
    private readonly UnaryKind _kind;
    private readonly float _p;

    public UnaryOp(Value a, UnaryKind kind, float p) : base(a.Shape, a)
    {
        _a = a; _kind = kind; _p = p;
    }

    public override void Forward(Value y)
    {
        float[] x = _a.Data, yd = y.Data;
        switch (_kind)
        {
            case UnaryKind.Scale: TensorPrimitives.Multiply(x, _p, yd); break;
            case UnaryKind.Square: TensorPrimitives.Multiply(x, x, yd); break;
            case UnaryKind.Abs: TensorPrimitives.Abs(x, yd); break;
            default:
                for (int i = 0; i < x.Length; i++) yd[i] = x[i] > 0f ? MathF.Pow(x[i], _p) : 0f;
                break;
        }
    }

    public override void Backward(Value y)
    {
        if (!_a.RequiresGrad) return;
        float[] x = _a.Data, dy = y.Grad!;
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
            default:
                for (int i = 0; i < dy.Length; i++) dx[i] = x[i] > 0f ? _p * MathF.Pow(x[i], _p - 1f) * dy[i] : 0f;
                break;
        }
        Graph.EndGrad(_a, dx, acc);
    }
}

// a (any) -> [1]: sum or mean, accumulated in double.
internal sealed class ReduceOp(Value a, bool mean) : Op([1], a)
{
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

// a -> a[…, start:start+length, …] along one axis.
internal sealed class SliceOp : Op
{
    private readonly Value _a;
    private readonly int _outer, _axisLen, _inner, _start, _len;

    public SliceOp(Value a, int axis, int start, int length) : base(OutShape(a, axis, start, length), a)
    {
        _a = a;
        if (axis < 0) axis += a.Rank;
        _outer = 1;
        for (int i = 0; i < axis; i++) _outer *= a.Shape[i];
        _inner = 1;
        for (int i = axis + 1; i < a.Rank; i++) _inner *= a.Shape[i];
        _axisLen = a.Shape[axis];
        _start = start;
        _len = length;
    }

    private static int[] OutShape(Value a, int axis, int start, int length)
    {
        if (axis < 0) axis += a.Rank;
        if (axis < 0 || axis >= a.Rank || start < 0 || length < 1 || start + length > a.Shape[axis])
            throw new ArgumentException($"Slice {start}+{length} on axis {axis} is outside [{string.Join(",", a.Shape)}].");
        int[] s = (int[])a.Shape.Clone();
        s[axis] = length;
        return s;
    }

    public override void Forward(Value y)
    {
        int block = _len * _inner;
        for (int o = 0; o < _outer; o++)
            Array.Copy(_a.Data, (o * _axisLen + _start) * _inner, y.Data, o * block, block);
    }

    public override void Backward(Value y)
    {
        if (!_a.RequiresGrad) return;
        int block = _len * _inner;
        if (_a.GradWritten)
        {
            for (int o = 0; o < _outer; o++)
            {
                Span<float> dst = _a.Grad.AsSpan((o * _axisLen + _start) * _inner, block);
                TensorPrimitives.Add(dst, y.Grad.AsSpan(o * block, block), dst);
            }
        }
        else
        {
            Array.Clear(_a.Grad!);
            for (int o = 0; o < _outer; o++)
                Array.Copy(y.Grad!, o * block, _a.Grad!, (o * _axisLen + _start) * _inner, block);
            _a.GradWritten = true;
        }
    }
}

// Identity forward (shares the input's buffer); backward: dx += strength · g / (‖g‖₁ + 1e-8).
internal sealed class GradNormalizeOp(Value a, float strength) : Op(a.Shape, a)
{
    public override Value? AliasInput => a;

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

/// <summary>How the 5-tap pyramid filter reads outside the image.</summary>
public enum PyramidBorder
{
    /// <summary>Mirror without repeating the edge sample; output ⌈n/2⌉.</summary>
    Reflect,
    /// <summary>Periodic (tileable); output ⌈n/2⌉.</summary>
    Wrap,
    /// <summary>No padding (subjective-functions): output ⌊(n − 5)/2⌋ + 1.</summary>
    Valid,
}

/// <summary>The separable 5-tap Burt–Adelson filter of spec §4 along one axis, subsampling by 2, and its transpose.</summary>
internal static class PyramidAxis
{
    public static float[] Kernel(float a) => [0.25f - a / 2, 0.25f, a, 0.25f, 0.25f - a / 2];

    public static int OutLength(int n, PyramidBorder border)
        => border == PyramidBorder.Valid ? (n - 5) / 2 + 1 : (n + 1) / 2;

    public static int Source(int j, int n, PyramidBorder border)
    {
        if ((uint)j < (uint)n) return j;
        if (border == PyramidBorder.Wrap) return ((j % n) + n) % n;
        if (n == 1) return 0;
        int period = 2 * n - 2;
        int m = Math.Abs(j) % period;
        return m >= n ? period - m : m;
    }

    // src (outer, n, inner) -> dst (outer, m, inner): dst[o,i,:] = Σ_t k[t]·src[o, B(2i+t−2), :] (valid: src[o, 2i+t, :])
    public static void Reduce(float[] src, float[] dst, int outer, int n, int m, int inner, float[] k, PyramidBorder border)
    {
        int off = border == PyramidBorder.Valid ? 0 : -2;
        Parallel.For(0, outer, new ParallelOptions { MaxDegreeOfParallelism = KernelThreading.MaxDegree }, o =>
        {
            for (int i = 0; i < m; i++)
            {
                Span<float> d = dst.AsSpan((o * m + i) * inner, inner);
                d.Clear();
                for (int t = 0; t < 5; t++)
                {
                    int j = Source(2 * i + t + off, n, border);
                    TensorPrimitives.MultiplyAdd(src.AsSpan((o * n + j) * inner, inner), k[t], d, d);
                }
            }
        });
    }

    // The transpose: src (outer, n, inner) += Σ k[t]·dst[o, i, :] at B(2i+t−2); src is overwritten first when !accumulate.
    public static void ReduceTranspose(float[] dst, float[] src, int outer, int n, int m, int inner, float[] k, PyramidBorder border, float scale)
    {
        int off = border == PyramidBorder.Valid ? 0 : -2;
        Parallel.For(0, outer, new ParallelOptions { MaxDegreeOfParallelism = KernelThreading.MaxDegree }, o =>
        {
            src.AsSpan(o * n * inner, n * inner).Clear();
            for (int i = 0; i < m; i++)
            {
                ReadOnlySpan<float> d = dst.AsSpan((o * m + i) * inner, inner);
                for (int t = 0; t < 5; t++)
                {
                    int j = Source(2 * i + t + off, n, border);
                    Span<float> s = src.AsSpan((o * n + j) * inner, inner);
                    TensorPrimitives.MultiplyAdd(d, k[t] * scale, s, s);
                }
            }
        });
    }
}

// x (N,H,W,C) -> y (N,mh,mw,C): blur with the 5-tap kernel along H then W, keeping even positions.
internal sealed class PyramidReduceOp : Op
{
    private readonly Value _x;
    private readonly PyramidBorder _border;
    private readonly float[] _k, _tmp;

    public PyramidReduceOp(Value x, PyramidBorder border, float a) : base(OutShape(x, border), x)
    {
        _x = x; _border = border; _k = PyramidAxis.Kernel(a);
        _tmp = new float[x.Shape[0] * OutputShape[1] * x.Shape[2] * x.Shape[3]];
    }

    private static int[] OutShape(Value x, PyramidBorder border)
    {
        RequireRank(x, 4, "PyramidReduce");
        int mh = PyramidAxis.OutLength(x.Shape[1], border), mw = PyramidAxis.OutLength(x.Shape[2], border);
        if (mh < 1 || mw < 1) throw new ArgumentException($"[{string.Join(",", x.Shape)}] is too small for another pyramid level.");
        return [x.Shape[0], mh, mw, x.Shape[3]];
    }

    public override void Forward(Value y)
    {
        int n = _x.Shape[0], h = _x.Shape[1], w = _x.Shape[2], c = _x.Shape[3], mh = y.Shape[1], mw = y.Shape[2];
        PyramidAxis.Reduce(_x.Data, _tmp, n, h, mh, w * c, _k, _border);
        PyramidAxis.Reduce(_tmp, y.Data, n * mh, w, mw, c, _k, _border);
    }

    public override void Backward(Value y)
    {
        if (!_x.RequiresGrad) return;
        int n = _x.Shape[0], h = _x.Shape[1], w = _x.Shape[2], c = _x.Shape[3], mh = y.Shape[1], mw = y.Shape[2];
        PyramidAxis.ReduceTranspose(y.Grad!, _tmp, n * mh, w, mw, c, _k, _border, 1f);
        float[] dx = _x.Graph.BeginGrad(_x, out bool acc);
        PyramidAxis.ReduceTranspose(_tmp, dx, n, h, mh, w * c, _k, _border, 1f);
        Graph.EndGrad(_x, dx, acc);
    }
}

// y (N,mh,mw,C) -> x (N,H,W,C): 4 × the transpose of PyramidReduce for the given fine size.
internal sealed class PyramidExpandOp : Op
{
    private readonly Value _y;
    private readonly PyramidBorder _border;
    private readonly float[] _k, _tmp;

    public PyramidExpandOp(Value y, int height, int width, PyramidBorder border, float a) : base([y.Shape[0], height, width, y.Shape[3]], y)
    {
        RequireRank(y, 4, "PyramidExpand");
        if (PyramidAxis.OutLength(height, border) != y.Shape[1] || PyramidAxis.OutLength(width, border) != y.Shape[2])
            throw new ArgumentException($"[{string.Join(",", y.Shape)}] is not the reduced size of {height}×{width}.");
        _y = y; _border = border; _k = PyramidAxis.Kernel(a);
        _tmp = new float[y.Shape[0] * y.Shape[1] * width * y.Shape[3]];
    }

    public override void Forward(Value x)
    {
        int n = x.Shape[0], h = x.Shape[1], w = x.Shape[2], c = x.Shape[3], mh = _y.Shape[1], mw = _y.Shape[2];
        PyramidAxis.ReduceTranspose(_y.Data, _tmp, n * mh, w, mw, c, _k, _border, 2f);
        PyramidAxis.ReduceTranspose(_tmp, x.Data, n, h, mh, w * c, _k, _border, 2f);
    }

    public override void Backward(Value x)
    {
        if (!_y.RequiresGrad) return;
        int n = x.Shape[0], h = x.Shape[1], w = x.Shape[2], c = x.Shape[3], mh = _y.Shape[1], mw = _y.Shape[2];
        PyramidAxis.Reduce(x.Grad!, _tmp, n, h, mh, w * c, _k, _border);
        float[] dy = _y.Graph.BeginGrad(_y, out bool acc);
        PyramidAxis.Reduce(_tmp, dy, n * mh, w, mw, c, _k, _border);
        TensorPrimitives.Multiply(dy.AsSpan(0, _y.Length), 4f, dy.AsSpan(0, _y.Length));
        Graph.EndGrad(_y, dy, acc);
    }
}

// x (N, …) -> y (N, …): y[n] = x[(n + shift) mod N] (cyclic shift of the batch, for looping animations).
internal sealed class RollBatchOp : Op
{
    private readonly Value _x;
    private readonly int _shift;

    public RollBatchOp(Value x, int shift) : base(x.Shape, x)
    {
        _x = x;
        int n = x.Shape[0];
        _shift = ((shift % n) + n) % n;
    }

    public override void Forward(Value y)
    {
        int n = _x.Shape[0], per = _x.Length / n;
        for (int b = 0; b < n; b++) Array.Copy(_x.Data, ((b + _shift) % n) * per, y.Data, b * per, per);
    }

    public override void Backward(Value y)
    {
        if (!_x.RequiresGrad) return;
        int n = _x.Shape[0], per = _x.Length / n;
        float[] dx = _x.Graph.BeginGrad(_x, out bool acc);
        for (int b = 0; b < n; b++) Array.Copy(y.Grad!, b * per, dx, ((b + _shift) % n) * per, per);
        Graph.EndGrad(_x, dx, acc);
    }
}

// x (N, …) -> y (N): the sum of each sample, accumulated in double.
internal sealed class SumPerSampleOp(Value x) : Op([x.Shape[0]], x)
{
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
