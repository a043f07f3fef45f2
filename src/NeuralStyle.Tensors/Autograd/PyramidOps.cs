using System.Numerics.Tensors;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Autograd;

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

    public override bool BackwardReadsInput(int index) => false;

    public override bool BackwardReadsOutput => false;

    public override long WorkspaceBytes => 4L * _tmp.Length;

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

    public override bool BackwardReadsInput(int index) => false;

    public override bool BackwardReadsOutput => false;

    public override long WorkspaceBytes => 4L * _tmp.Length;

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
