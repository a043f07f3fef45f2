using System.Numerics.Tensors;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Autograd;

// x (N,H,W,Ci), w (Co,Ci,3,3), b (Co) -> y (N,Ho,Wo,Co), stride 1, optional fused ReLU, on the fast 3×3 kernels.
// Reflect padding (which those kernels lack) reflect-pads x into a pooled scratch buffer and runs the Valid kernel;
// its backward runs the Valid backward-input into a scratch and folds the pad's gradient back (Pad2d.Backward).
internal sealed class Conv3x3Op : Op
{
    private readonly Value _x, _w;
    private readonly Value? _b;
    private readonly ConvPadding _padding;
    private readonly bool _relu;
    private Conv3x3Weights? _packed;

    public Conv3x3Op(Value x, Value w, Value? b, ConvPadding padding, bool relu)
        : base(ConvShapes.Output(x, w, b, 3, 1, padding, "Conv3x3"), b is null ? [x, w] : [x, w, b])
    {
        _x = x; _w = w; _b = b; _padding = padding; _relu = relu;
        // Inference with frozen weights, reflect padding and wide layers (the Johnson network's residual blocks):
        // Winograd F(2×2, 3×3), 2.25× fewer multiply-adds, reading x in place (no padded copy).
        // With AVX-512, F(4×4, 3×3): 1.78× fewer multiply-adds again, its 6×6 transforms vectorised 16 channels wide.
        if (x.Graph.Mode != GraphMode.Training && w.IsFrozen && padding == ConvPadding.Reflect && w.Shape[0] >= 64 && w.Shape[1] >= 64)
        {
            _winograd4x4 = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated;
            _winograd = x.Graph.Mode == GraphMode.Inference ? WinogradWeightCache.Get(w.Data, w.Shape[0], w.Shape[1], _winograd4x4) : null;
        }

        // Frozen zero-padded weights — VGG in the Gatys problem, where only the image has a gradient, and in its target
        // passes: Winograd F(4×4, 3×3) forward and backward to the input where it beats direct convolution
        // (Winograd4x4.Wins); its transformed weights are made on first use and shared by every graph, so that the
        // direct packing is never made for these layers (Conv3x3Weights.FrozenBytes counts what is held).
        if (w.IsFrozen && padding == ConvPadding.Zero)
        {
            int ci = w.Shape[1], co = w.Shape[0], h = x.Shape[1], wd = x.Shape[2];
            _frozenForward = Winograd4x4.Wins(ci, co, h, wd);
            _frozenBackward = Winograd4x4.Wins(co, ci, h, wd);
        }
    }

    private readonly bool _frozenForward, _frozenBackward;

    /// <summary>Whether the forward / the backward to the input take the Winograd F(4×4) route (for tests).</summary>
    internal (bool Forward, bool BackwardInput) WinogradRoute => (_frozenForward, _frozenBackward);
    private float[]? _frozenU, _frozenUBackward;

    private float[] FrozenU => _frozenU ??= FrozenWinogradCache.Get(_w.Data, _w.Shape[0], _w.Shape[1], backward: false);

    private float[] FrozenUBackward => _frozenUBackward ??= FrozenWinogradCache.Get(_w.Data, _w.Shape[0], _w.Shape[1], backward: true);

    private readonly float[]? _winograd;
    private readonly bool _winograd4x4;

    // Packed on first use, so a shapes-only graph (a memory estimate) and the Winograd path never pack: frozen weights
    // are packed once and shared by every graph over the same contents; a parameter or a computed weight is re-packed
    // on every forward pass.
    private Conv3x3Weights Packed => _packed ??= _w.IsFrozen
        ? PackedWeightCache.Get(_w.Data, _w.Shape[0], _w.Shape[1])
        : new Conv3x3Weights(_w.Shape[0], _w.Shape[1]);

    // The input is read only for the weight gradient; the output only for the fused ReLU's mask.
    public override bool BackwardReadsInput(int index) => index != 0 || _w.RequiresGrad || _b?.RequiresGrad == true;

    public override bool BackwardReadsOutput => _relu;

    private bool Reflect => _padding == ConvPadding.Reflect;

    public override void Forward(Value y)
    {
        int n = _x.Shape[0], h = _x.Shape[1], w = _x.Shape[2];
        if (_winograd is not null)
        {
            if (_winograd4x4) Winograd4x4.Forward(_x.Data, n, h, w, _x.Shape[3], _w.Shape[0], _winograd, _b?.Data, y.Data, _padding, _relu);
            else Winograd2x2.Forward(_x.Data, n, h, w, _x.Shape[3], _w.Shape[0], _winograd, _b?.Data, y.Data, _padding, _relu);
            return;
        }

        if (_frozenForward)
        {
            Winograd4x4.ForwardPacked(_x.Data, null, n, h, w, _x.Shape[3], _w.Shape[0], FrozenU, _b?.Data, y.Data, _relu);
            return;
        }

        if (!_w.IsFrozen) Packed.Pack(_w.Data);

        if (!Reflect)
        {
            Conv3x3.Forward(_x.Data, n, h, w, Packed, _b?.Data, y.Data, _padding, _relu);
            return;
        }

        float[] padded = ReflectPadded(out int hp, out int wp);
        try
        {
            Conv3x3.Forward(padded, n, hp, wp, Packed, _b?.Data, y.Data, ConvPadding.Valid, _relu);
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(padded);
        }
    }

    public override void Backward(Value y)
    {
        float[] dy = y.Grad!;
        // The Winograd backward reads dy through the ReLU mask when nothing else reads the masked dy.
        bool fusedMask = _relu && _frozenBackward && _x.RequiresGrad && _b?.RequiresGrad != true;
        if (_relu && !fusedMask) ReluOp.MaskInPlace(dy, y.Data);
        int n = _x.Shape[0], h = _x.Shape[1], w = _x.Shape[2], ci = _x.Shape[3];
        if (_x.RequiresGrad)
        {
            float[] dx = _x.Graph.BeginGrad(_x, out bool acc);
            if (_frozenBackward)
            {
                Winograd4x4.BackwardInputPacked(dy, fusedMask ? y.Data : null, n, h, w, ci, _w.Shape[0], FrozenUBackward, dx);
            }
            else if (!Reflect)
            {
                Conv3x3.BackwardInput(dy, n, h, w, Packed, dx, _padding);
            }
            else
            {
                int hp = h + 2, wp = w + 2;
                float[] dPadded = System.Buffers.ArrayPool<float>.Shared.Rent(n * hp * wp * ci);
                try
                {
                    Conv3x3.BackwardInput(dy, n, hp, wp, Packed, dPadded, ConvPadding.Valid);
                    Pad2d.Backward(dPadded, n, h, w, ci, 1, 1, 1, 1, ConvPadding.Reflect, dx);
                }
                finally
                {
                    System.Buffers.ArrayPool<float>.Shared.Return(dPadded);
                }
            }

            Graph.EndGrad(_x, dx, acc);
        }

        bool biasGrad = _b?.RequiresGrad == true;
        if (!_w.RequiresGrad)
        {
            if (biasGrad) ConvShapes.AddBiasGradient(dy, _w.Shape[0], Graph.AccumulateGrad(_b!));
            return;
        }

        // The weight kernel adds into its destinations.
        float[] dw = Graph.AccumulateGrad(_w);
        float[]? db = biasGrad ? Graph.AccumulateGrad(_b!) : null;
        if (!Reflect)
        {
            Conv3x3.BackwardWeights(_x.Data, dy, n, h, w, ci, _w.Shape[0], dw, db, _padding);
            return;
        }

        float[] padded = ReflectPadded(out int hp2, out int wp2);
        try
        {
            Conv3x3.BackwardWeights(padded, dy, n, hp2, wp2, ci, _w.Shape[0], dw, db, ConvPadding.Valid);
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(padded);
        }
    }

    /// <summary>x reflect-padded by 1 into a pooled buffer the caller returns.</summary>
    private float[] ReflectPadded(out int hp, out int wp)
    {
        int n = _x.Shape[0], h = _x.Shape[1], w = _x.Shape[2], ci = _x.Shape[3];
        hp = h + 2; wp = w + 2;
        float[] padded = System.Buffers.ArrayPool<float>.Shared.Rent(n * hp * wp * ci);
        Pad2d.Forward(_x.Data, n, h, w, ci, 1, 1, 1, 1, ConvPadding.Reflect, padded);
        return padded;
    }
}

// x (N,H,W,Ci), w (Co,Ci,k,k), b (Co) -> y (N,Ho,Wo,Co), any k and stride, on the general im2col + GEMM kernels.
internal sealed class Conv2dOp : Op
{
    private readonly Value _x, _w;
    private readonly Value? _b;
    private readonly int _stride;
    private readonly ConvPadding _padding;
    private readonly bool _relu;

    public Conv2dOp(Value x, Value w, Value? b, int stride, ConvPadding padding, bool relu)
        : base(ConvShapes.Output(x, w, b, w.Rank == 4 ? w.Shape[2] : 0, stride, padding, "Conv2d"), b is null ? [x, w] : [x, w, b])
    {
        _x = x; _w = w; _b = b; _stride = stride; _padding = padding; _relu = relu;
    }

    // The input is read only for the weight gradient (the bias gradient is a sum of dy); the output only for the ReLU.
    public override bool BackwardReadsInput(int index) => index != 0 || _w.RequiresGrad;

    public override bool BackwardReadsOutput => _relu;

    private int Kernel => _w.Shape[2];

    public override void Forward(Value y)
        => Conv2d.Forward(_x.Data, _x.Shape[0], _x.Shape[1], _x.Shape[2], _x.Shape[3], _w.Shape[0], Kernel, _stride, _w.Data, _b?.Data, y.Data, _padding, _relu);

    public override void Backward(Value y)
    {
        float[] dy = y.Grad!;
        if (_relu) ReluOp.MaskInPlace(dy, y.Data);
        int n = _x.Shape[0], h = _x.Shape[1], w = _x.Shape[2], ci = _x.Shape[3], co = _w.Shape[0];
        if (_x.RequiresGrad)
        {
            float[] dx = _x.Graph.BeginGrad(_x, out bool acc);
            Conv2d.BackwardInput(dy, n, h, w, ci, co, Kernel, _stride, _w.Data, dx, _padding);
            Graph.EndGrad(_x, dx, acc);
        }

        bool biasGrad = _b?.RequiresGrad == true;
        if (_w.RequiresGrad)
            Conv2d.BackwardWeights(_x.Data, dy, n, h, w, ci, co, Kernel, _stride, Graph.AccumulateGrad(_w), biasGrad ? Graph.AccumulateGrad(_b!) : null, _padding);
        else if (biasGrad)
            ConvShapes.AddBiasGradient(dy, co, Graph.AccumulateGrad(_b!));
    }
}

// x (N,H,W,C) -> (N, top+H+bottom, left+W+right, C) padded with zeros, a reflection or wrap-around.
internal sealed class PadOp : Op
{
    private readonly Value _x;
    private readonly int _top, _bottom, _left, _right;
    private readonly ConvPadding _mode;

    public PadOp(Value x, int top, int bottom, int left, int right, ConvPadding mode)
        : base(OutShape(x, top, bottom, left, right, mode), x)
    {
        _x = x; _top = top; _bottom = bottom; _left = left; _right = right; _mode = mode;
    }

    public override bool BackwardReadsInput(int index) => false;

    public override bool BackwardReadsOutput => false;

    private static int[] OutShape(Value x, int top, int bottom, int left, int right, ConvPadding mode)
    {
        RequireRank(x, 4, "Pad");
        int h = x.Shape[1], w = x.Shape[2];
        if (top < 0 || bottom < 0 || left < 0 || right < 0)
            throw new ArgumentException($"Pad amounts must be non-negative (got {top},{bottom},{left},{right}).");
        if (mode is not (ConvPadding.Zero or ConvPadding.Reflect or ConvPadding.Circular))
            throw new ArgumentException($"Pad takes Zero, Reflect or Circular, not {mode}.");
        if (mode == ConvPadding.Reflect && (Math.Max(top, bottom) >= h || Math.Max(left, right) >= w))
            throw new ArgumentException($"Reflect padding ({top},{bottom},{left},{right}) must be smaller than the {h}×{w} input.");
        if (mode == ConvPadding.Circular && (Math.Max(top, bottom) > h || Math.Max(left, right) > w))
            throw new ArgumentException($"Circular padding ({top},{bottom},{left},{right}) must not exceed the {h}×{w} input.");
        return [x.Shape[0], h + top + bottom, w + left + right, x.Shape[3]];
    }

    public override void Forward(Value y)
        => Pad2d.Forward(_x.Data, _x.Shape[0], _x.Shape[1], _x.Shape[2], _x.Shape[3], _top, _bottom, _left, _right, _mode, y.Data);

    public override void Backward(Value y)
    {
        if (!_x.RequiresGrad) return;
        float[] dx = _x.Graph.BeginGrad(_x, out bool acc);
        Pad2d.Backward(y.Grad!, _x.Shape[0], _x.Shape[1], _x.Shape[2], _x.Shape[3], _top, _bottom, _left, _right, _mode, dx);
        Graph.EndGrad(_x, dx, acc);
    }
}

internal static class ConvShapes
{
    /// <summary>Validates a convolution's operands and returns its output shape (N,Ho,Wo,Co).</summary>
    public static int[] Output(Value x, Value w, Value? b, int kernel, int stride, ConvPadding padding, string op)
    {
        if (x.Rank != 4) throw new ArgumentException($"{op} expects an (N,H,W,C) input, got [{string.Join(",", x.Shape)}].");
        if (w.Rank != 4 || w.Shape[1] != x.Shape[3] || w.Shape[2] != w.Shape[3] || w.Shape[2] != kernel || kernel < 1)
            throw new ArgumentException($"{op} weight [{string.Join(",", w.Shape)}] is not a square (Co,{x.Shape[3]},k,k) kernel{(op == "Conv3x3" ? " with k = 3" : "")} for input [{string.Join(",", x.Shape)}].");
        if (b is not null && (b.Rank != 1 || b.Shape[0] != w.Shape[0]))
            throw new ArgumentException($"{op} bias [{string.Join(",", b.Shape)}] must have shape [{w.Shape[0]}].");
        if (stride < 1) throw new ArgumentException($"{op} stride must be positive (got {stride}).");
        if (padding is not (ConvPadding.Zero or ConvPadding.Valid or ConvPadding.Circular or ConvPadding.Reflect))
            throw new ArgumentException($"Unknown padding mode {padding}.");
        int h = x.Shape[1], wd = x.Shape[2], p = Conv2d.PadAmount(kernel, padding);
        if (padding == ConvPadding.Reflect && (p >= h || p >= wd))
            throw new ArgumentException($"Reflect padding {p} needs an input larger than {p}×{p}, got [{string.Join(",", x.Shape)}].");
        if (padding == ConvPadding.Circular && (p > h || p > wd))
            throw new ArgumentException($"Circular padding {p} needs an input of at least {p}×{p}, got [{string.Join(",", x.Shape)}].");
        int ho = Conv2d.OutSize(h, kernel, stride, padding), wo = Conv2d.OutSize(wd, kernel, stride, padding);
        if (ho < 1 || wo < 1)
            throw new ArgumentException($"Input [{string.Join(",", x.Shape)}] is too small for a {kernel}×{kernel} {padding} convolution.");
        return [x.Shape[0], ho, wo, w.Shape[0]];
    }

    /// <summary>db += Σ over pixels of dy (pixels × co), without scratch.</summary>
    public static void AddBiasGradient(float[] dy, int co, float[] db)
    {
        Span<float> d = db.AsSpan(0, co);
        for (int at = 0; at + co <= dy.Length; at += co)
            TensorPrimitives.Add(d, dy.AsSpan(at, co), d);
    }
}

/// <summary>Winograd-transformed frozen weights (Winograd2x2/Winograd4x4.TransformWeights), shared like <see cref="PackedWeightCache"/>.</summary>
internal static class WinogradWeightCache
{
    private sealed record Entry(float[] Source, float[] U);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<float[], Entry> Cache2x2 = new(), Cache4x4 = new();
    private static readonly Lock Gate = new();

    public static float[] Get(float[] data, int outChannels, int inChannels, bool fourByFour)
    {
        var cache = fourByFour ? Cache4x4 : Cache2x2;
        int points = fourByFour ? 36 : 16;
        lock (Gate)
        {
            if (cache.TryGetValue(data, out Entry? e) && e.U.Length == points * outChannels * inChannels && e.Source.AsSpan().SequenceEqual(data))
                return e.U;
            float[] u = fourByFour ? Winograd4x4.TransformWeights(data, outChannels, inChannels) : Winograd2x2.TransformWeights(data, outChannels, inChannels);
            cache.AddOrUpdate(data, new Entry((float[])data.Clone(), u));
            return u;
        }
    }
}

/// <summary>
/// Winograd F(4×4) transforms of frozen zero-padded conv weights for training graphs (forward and backward to the
/// input, Winograd4x4.TransformWeightsPacked / TransformWeightsBackwardPacked), shared like <see cref="PackedWeightCache"/>.
/// </summary>
internal static class FrozenWinogradCache
{
    private sealed class Entry(float[] source, int outChannels, int inChannels)
    {
        public float[] Source { get; } = source;
        public int OutChannels { get; } = outChannels;
        public int InChannels { get; } = inChannels;
        public float[]? Forward { get; set; }
        public float[]? Backward { get; set; }
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<float[], Entry> Cache = new();
    private static readonly Lock Gate = new();

    public static float[] Get(float[] data, int outChannels, int inChannels, bool backward)
    {
        lock (Gate)
        {
            if (!Cache.TryGetValue(data, out Entry? e) || e.OutChannels != outChannels || e.InChannels != inChannels || !e.Source.AsSpan().SequenceEqual(data))
            {
                e = new Entry((float[])data.Clone(), outChannels, inChannels);
                Cache.AddOrUpdate(data, e);
            }

            return backward
                ? e.Backward ??= Winograd4x4.TransformWeightsBackwardPacked(data, outChannels, inChannels)
                : e.Forward ??= Winograd4x4.TransformWeightsPacked(data, outChannels, inChannels);
        }
    }
}

/// <summary>
/// Packings of frozen convolution weights, shared by every graph built over the same array. An entry is reused only
/// while the array still holds the contents it was packed from (compared in full when a graph is built), so a
/// weight array that was changed in between is packed afresh, never served stale.
/// </summary>
internal static class PackedWeightCache
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<float[], Conv3x3Weights> Packs = new();
    private static readonly Lock Gate = new();

    public static Conv3x3Weights Get(float[] data, int outChannels, int inChannels)
    {
        lock (Gate)
        {
            if (Packs.TryGetValue(data, out Conv3x3Weights? p) && p.OutChannels == outChannels && p.InChannels == inChannels
                && p.Oihw.AsSpan().SequenceEqual(data))
                return p;
            var fresh = new Conv3x3Weights(outChannels, inChannels);
            fresh.Pack(data);
            Packs.AddOrUpdate(data, fresh);
            return fresh;
        }
    }
}
