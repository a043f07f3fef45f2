using System.Numerics.Tensors;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Autograd;

// x (N,H,W,Ci), w (Co,Ci,3,3), b (Co) -> y (N,Ho,Wo,Co), optional fused ReLU.
internal sealed class Conv3x3Op : Op
{
    private readonly Value _x, _w;
    private readonly Value? _b;
    private readonly ConvPadding _padding;
    private readonly bool _relu;
    private readonly Conv3x3Weights _packed;
    private float[]? _weightGradScratch;

    public Conv3x3Op(Value x, Value w, Value? b, ConvPadding padding, bool relu)
        : base(OutShape(x, w, padding), b is null ? [x, w] : [x, w, b])
    {
        _x = x; _w = w; _b = b; _padding = padding; _relu = relu;
        // Frozen weights are packed once (and shared by every graph over the same contents); anything else, a
        // parameter or a computed weight, is re-packed on every forward pass.
        _packed = w.IsFrozen ? PackedWeightCache.Get(w.Data, w.Shape[0], w.Shape[1]) : new Conv3x3Weights(w.Shape[0], w.Shape[1]);
    }

    // The input is read only for the weight gradient; the output only for the fused ReLU's mask.
    public override bool BackwardReadsInput(int index) => index != 0 || _w.RequiresGrad || _b?.RequiresGrad == true;

    public override bool BackwardReadsOutput => _relu;

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
        if (!_w.IsFrozen) _packed.Pack(_w.Data);
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
        bool biasGrad = _b?.RequiresGrad == true;
        if (_w.RequiresGrad || biasGrad)
        {
            // The weight kernel adds into its destinations.
            float[] dw;
            if (_w.RequiresGrad) dw = Graph.AccumulateGrad(_w);
            else Array.Clear(dw = _weightGradScratch ??= new float[_w.Length]);
            Conv3x3.BackwardWeights(_x.Data, dy, n, h, w, _w.Shape[1], _w.Shape[0], dw, biasGrad ? Graph.AccumulateGrad(_b!) : null, _padding);
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
