using System.Numerics.Tensors;

namespace NeuralStyle.Tensors.Autograd;

// Ops that combine values (builders in Graph.Bank.cs): concatenation, batch broadcast, broadcast masks, weighted
// sums, run-time choice, and mask-weighted biases. All are copies or element-wise products, so TensorPrimitives
// does the vector work and no kernel of their own is needed.

// parts along one axis -> one value; each part gets back its slice of the gradient.
internal sealed class ConcatOp : Op
{
    private readonly Value[] _parts;
    private readonly int _axis, _outer, _inner, _outAxis;

    public ConcatOp(int axis, Value[] parts) : base(OutShape(axis, parts), parts)
    {
        _parts = parts;
        int rank = parts[0].Rank;
        if (axis < 0) axis += rank;
        _axis = axis;
        _outer = 1;
        for (int i = 0; i < axis; i++) _outer *= parts[0].Shape[i];
        _inner = 1;
        for (int i = axis + 1; i < rank; i++) _inner *= parts[0].Shape[i];
        _outAxis = OutputShape[axis];
    }

    public override bool BackwardReadsInput(int index) => false;

    public override bool BackwardReadsOutput => false;

    private static int[] OutShape(int axis, Value[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Length == 0) throw new ArgumentException("Concat needs at least one part.");
        int rank = parts[0].Rank;
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ArgumentException($"Concat axis {axis} is outside a rank-{rank} tensor.");
        int[] shape = (int[])parts[0].Shape.Clone();
        shape[a] = 0;
        foreach (Value p in parts)
        {
            ArgumentNullException.ThrowIfNull(p);
            bool fits = p.Rank == rank;
            for (int i = 0; fits && i < rank; i++) fits = i == a || p.Shape[i] == parts[0].Shape[i];
            if (!fits)
                throw new ArgumentException($"Concat along axis {a} needs equal sizes on every other axis, got [{string.Join(",", p.Shape)}] and [{string.Join(",", parts[0].Shape)}].");
            shape[a] += p.Shape[a];
        }
        return shape;
    }

    public override void Forward(Value y)
    {
        int offset = 0;
        foreach (Value p in _parts)
        {
            int block = p.Shape[_axis] * _inner;
            for (int o = 0; o < _outer; o++)
                Array.Copy(p.Data, o * block, y.Data, o * _outAxis * _inner + offset, block);
            offset += block;
        }
    }

    public override void Backward(Value y)
    {
        int offset = 0;
        foreach (Value p in _parts)
        {
            int block = p.Shape[_axis] * _inner;
            if (p.RequiresGrad)
            {
                float[] dp = p.Graph.BeginGrad(p, out bool acc);
                for (int o = 0; o < _outer; o++)
                    Array.Copy(y.Grad!, o * _outAxis * _inner + offset, dp, o * block, block);
                Graph.EndGrad(p, dp, acc);
            }
            offset += block;
        }
    }
}

// t (1, …) -> (n, …): n copies; the gradient sums over the batch.
internal sealed class BroadcastBatchOp : Op
{
    private readonly Value _t;
    private readonly int _n;

    public BroadcastBatchOp(Value t, int n) : base(OutShape(t, n), t)
    {
        _t = t; _n = n;
    }

    public override bool BackwardReadsInput(int index) => false;

    public override bool BackwardReadsOutput => false;

    private static int[] OutShape(Value t, int n)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.Rank < 1 || t.Shape[0] != 1) throw new ArgumentException($"BroadcastBatch needs a batch-1 value, got [{string.Join(",", t.Shape)}].");
        if (n < 1) throw new ArgumentException($"BroadcastBatch needs a batch size of at least 1, got {n}.");
        int[] shape = (int[])t.Shape.Clone();
        shape[0] = n;
        return shape;
    }

    public override void Forward(Value y)
    {
        int per = _t.Length;
        for (int b = 0; b < _n; b++) Array.Copy(_t.Data, 0, y.Data, b * per, per);
    }

    public override void Backward(Value y)
    {
        if (!_t.RequiresGrad) return;
        int per = _t.Length;
        float[] dt = _t.Graph.BeginGrad(_t, out bool acc);
        Span<float> d = dt.AsSpan(0, per);
        y.Grad.AsSpan(0, per).CopyTo(d);
        for (int b = 1; b < _n; b++) TensorPrimitives.Add(d, y.Grad.AsSpan(b * per, per), d);
        Graph.EndGrad(_t, dt, acc);
    }
}

// x (N,H,W,C) × mask (Nm,H,W,Cm), Nm ∈ {1,N}, Cm ∈ {1,C}.
internal sealed class MulBroadcastOp : Op
{
    private readonly Value _x, _m;
    private readonly int _n, _pixels, _c;
    private readonly bool _maskPerSample, _maskPerChannel;

    public MulBroadcastOp(Value x, Value mask) : base(OutShape(x, mask), x, mask)
    {
        _x = x; _m = mask;
        _n = x.Shape[0]; _pixels = x.Shape[1] * x.Shape[2]; _c = x.Shape[3];
        _maskPerSample = mask.Shape[0] == _n && _n > 1;
        _maskPerChannel = mask.Shape[3] == _c && _c > 1;
    }

    public override bool BackwardReadsOutput => false;

    private static int[] OutShape(Value x, Value mask)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(mask);
        RequireRank(x, 4, "MulBroadcast");
        bool fits = mask.Rank == 4 && (mask.Shape[0] == 1 || mask.Shape[0] == x.Shape[0]) && mask.Shape[1] == x.Shape[1]
            && mask.Shape[2] == x.Shape[2] && (mask.Shape[3] == 1 || mask.Shape[3] == x.Shape[3]);
        if (!fits)
            throw new ArgumentException($"MulBroadcast needs a mask of shape (N or 1, H, W, 1 or C) for input [{string.Join(",", x.Shape)}], got [{string.Join(",", mask.Shape)}].");
        return x.Shape;
    }

    private int MaskOffset(int b) => (_maskPerSample ? b : 0) * _pixels * (_maskPerChannel ? _c : 1);

    /// <summary>dst = a × mask (broadcast), for a and dst shaped like x.</summary>
    private void Multiply(float[] a, float[] dst)
    {
        int per = _pixels * _c;
        for (int b = 0; b < _n; b++)
        {
            int mo = MaskOffset(b);
            if (_maskPerChannel)
            {
                TensorPrimitives.Multiply(a.AsSpan(b * per, per), _m.Data.AsSpan(mo, per), dst.AsSpan(b * per, per));
                continue;
            }
            for (int p = 0; p < _pixels; p++)
            {
                int o = b * per + p * _c;
                TensorPrimitives.Multiply(a.AsSpan(o, _c), _m.Data[mo + p], dst.AsSpan(o, _c));
            }
        }
    }

    public override void Forward(Value y) => Multiply(_x.Data, y.Data);

    public override void Backward(Value y)
    {
        float[] dy = y.Grad!;
        if (_x.RequiresGrad)
        {
            float[] dx = _x.Graph.BeginGrad(_x, out bool acc);
            Multiply(dy, dx);
            Graph.EndGrad(_x, dx, acc);
        }
        if (!_m.RequiresGrad) return;
        // d mask = Σ over the broadcast axes of dy ⊙ x.
        float[] dm = _m.Graph.BeginGrad(_m, out bool accM);
        Span<float> d = dm.AsSpan(0, _m.Length);
        d.Clear();
        int per = _pixels * _c;
        for (int b = 0; b < _n; b++)
        {
            int mo = MaskOffset(b);
            if (_maskPerChannel)
            {
                Span<float> dst = d.Slice(mo, per);
                TensorPrimitives.MultiplyAdd(dy.AsSpan(b * per, per), _x.Data.AsSpan(b * per, per), dst, dst);
                continue;
            }
            for (int p = 0; p < _pixels; p++)
            {
                int o = b * per + p * _c;
                d[mo + p] += TensorPrimitives.Dot(dy.AsSpan(o, _c), _x.Data.AsSpan(o, _c));
            }
        }
        Graph.EndGrad(_m, dm, accM);
    }
}

// Σᵢ weights[i] · sets[i] over equally shaped sets, weights (S).
internal sealed class WeightedSumOp : Op
{
    private readonly Value[] _sets;
    private readonly Value _w;

    public WeightedSumOp(IReadOnlyList<Value> sets, Value weights) : base(OutShape(sets, weights), [.. sets, weights])
    {
        _sets = [.. sets];
        _w = weights;
    }

    public override bool BackwardReadsOutput => false;

    private static int[] OutShape(IReadOnlyList<Value> sets, Value weights)
    {
        ArgumentNullException.ThrowIfNull(sets);
        ArgumentNullException.ThrowIfNull(weights);
        if (sets.Count == 0) throw new ArgumentException("WeightedSum needs at least one set.");
        foreach (Value s in sets)
        {
            ArgumentNullException.ThrowIfNull(s);
            if (!s.Shape.AsSpan().SequenceEqual(sets[0].Shape))
                throw new ArgumentException($"WeightedSum needs equally shaped sets, got [{string.Join(",", s.Shape)}] and [{string.Join(",", sets[0].Shape)}].");
        }
        if (weights.Rank != 1 || weights.Shape[0] != sets.Count)
            throw new ArgumentException($"WeightedSum needs one weight per set ({sets.Count}), got weights [{string.Join(",", weights.Shape)}].");
        return (int[])sets[0].Shape.Clone();
    }

    public override void Forward(Value y)
    {
        TensorPrimitives.Multiply(_sets[0].Data, _w.Data[0], y.Data);
        for (int i = 1; i < _sets.Length; i++) TensorPrimitives.MultiplyAdd(_sets[i].Data, _w.Data[i], y.Data, y.Data);
    }

    public override void Backward(Value y)
    {
        float[] dy = y.Grad!;
        for (int i = 0; i < _sets.Length; i++)
        {
            Value s = _sets[i];
            if (!s.RequiresGrad) continue;
            float[] ds = s.Graph.BeginGrad(s, out bool acc);
            TensorPrimitives.Multiply(dy, _w.Data[i], ds.AsSpan(0, dy.Length));
            Graph.EndGrad(s, ds, acc);
        }
        if (!_w.RequiresGrad) return;
        float[] dw = _w.Graph.BeginGrad(_w, out bool accW);
        for (int i = 0; i < _sets.Length; i++) dw[i] = (float)PreciseSums.Dot(dy, _sets[i].Data);
        Graph.EndGrad(_w, dw, accW);
    }
}

// candidates[index()] copied; index() is read on every forward, and backward routes to the one chosen last.
internal sealed class ChooseOp : Op
{
    private readonly Value[] _candidates;
    private readonly Func<int> _index;
    private int _chosen;

    public ChooseOp(IReadOnlyList<Value> candidates, Func<int> index) : base(OutShape(candidates, index), [.. candidates])
    {
        _candidates = [.. candidates];
        _index = index;
    }

    public override bool BackwardReadsInput(int index) => false;

    public override bool BackwardReadsOutput => false;

    private static int[] OutShape(IReadOnlyList<Value> candidates, Func<int> index)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(index);
        if (candidates.Count == 0) throw new ArgumentException("Choose needs at least one candidate.");
        foreach (Value c in candidates)
        {
            ArgumentNullException.ThrowIfNull(c);
            if (!c.Shape.AsSpan().SequenceEqual(candidates[0].Shape))
                throw new ArgumentException($"Choose needs equally shaped candidates, got [{string.Join(",", c.Shape)}] and [{string.Join(",", candidates[0].Shape)}].");
        }
        return (int[])candidates[0].Shape.Clone();
    }

    public override void Forward(Value y)
    {
        int k = _index();
        if ((uint)k >= (uint)_candidates.Length)
            throw new ArgumentOutOfRangeException("index", $"Choose was asked for candidate {k} of {_candidates.Length}.");
        _chosen = k;
        Array.Copy(_candidates[k].Data, y.Data, y.Length);
    }

    public override void Backward(Value y)
    {
        Value c = _candidates[_chosen];
        if (!c.RequiresGrad) return;
        float[] dc = Graph.AccumulateGrad(c);
        TensorPrimitives.Add(dc, y.Grad!, dc);
    }
}

// Σᵢ maskᵢ (Nm,H,W,1) · biasᵢ (C) -> (N,H,W,C): the biases of region fusion, each weighted by its region.
internal sealed class MaskedBiasOp : Op
{
    private readonly Value[] _masks, _biases;
    private readonly int _n, _pixels, _c;
    private readonly double[] _channelSums;

    public MaskedBiasOp(IReadOnlyList<Value> masks, IReadOnlyList<Value> biases, int n) : base(OutShape(masks, biases, n), [.. masks, .. biases])
    {
        _masks = [.. masks];
        _biases = [.. biases];
        _n = n;
        _pixels = masks[0].Shape[1] * masks[0].Shape[2];
        _c = biases[0].Shape[0];
        _channelSums = new double[_c];
    }

    public override bool BackwardReadsOutput => false;

    private static int[] OutShape(IReadOnlyList<Value> masks, IReadOnlyList<Value> biases, int n)
    {
        if (masks.Count == 0 || masks.Count != biases.Count) throw new ArgumentException("MaskedBias needs one mask per bias.");
        foreach (Value m in masks)
            if (m.Rank != 4 || (m.Shape[0] != 1 && m.Shape[0] != n) || m.Shape[1] != masks[0].Shape[1] || m.Shape[2] != masks[0].Shape[2] || m.Shape[3] != 1)
                throw new ArgumentException($"MaskedBias needs masks of shape ({n} or 1, H, W, 1), got [{string.Join(",", m.Shape)}].");
        foreach (Value b in biases)
            if (b.Rank != 1 || b.Shape[0] != biases[0].Shape[0])
                throw new ArgumentException($"MaskedBias needs equally sized biases, got [{string.Join(",", b.Shape)}].");
        return [n, masks[0].Shape[1], masks[0].Shape[2], biases[0].Shape[0]];
    }

    private int MaskOffset(Value m, int b) => (m.Shape[0] == 1 ? 0 : b) * _pixels;

    public override void Forward(Value y)
    {
        Array.Clear(y.Data);
        for (int i = 0; i < _masks.Length; i++)
        {
            float[] bias = _biases[i].Data;
            for (int b = 0; b < _n; b++)
            {
                int mo = MaskOffset(_masks[i], b);
                for (int p = 0; p < _pixels; p++)
                {
                    Span<float> dst = y.Data.AsSpan((b * _pixels + p) * _c, _c);
                    TensorPrimitives.MultiplyAdd(bias, _masks[i].Data[mo + p], dst, dst);
                }
            }
        }
    }

    public override void Backward(Value y)
    {
        float[] dy = y.Grad!;
        for (int i = 0; i < _masks.Length; i++)
        {
            Value m = _masks[i], bias = _biases[i];
            if (m.RequiresGrad)
            {
                float[] dm = m.Graph.BeginGrad(m, out bool acc);
                dm.AsSpan(0, m.Length).Clear();
                for (int b = 0; b < _n; b++)
                {
                    int mo = MaskOffset(m, b);
                    for (int p = 0; p < _pixels; p++)
                        dm[mo + p] += TensorPrimitives.Dot(dy.AsSpan((b * _pixels + p) * _c, _c), bias.Data);
                }
                Graph.EndGrad(m, dm, acc);
            }
            if (bias.RequiresGrad)
            {
                // Σ over N·H·W pixels per channel: accumulated in double.
                double[] sums = _channelSums;
                Array.Clear(sums);
                for (int b = 0; b < _n; b++)
                {
                    int mo = MaskOffset(m, b);
                    for (int p = 0; p < _pixels; p++)
                    {
                        double mv = m.Data[mo + p];
                        int o = (b * _pixels + p) * _c;
                        for (int ch = 0; ch < _c; ch++) sums[ch] += mv * dy[o + ch];
                    }
                }
                float[] db = bias.Graph.BeginGrad(bias, out bool acc);
                for (int ch = 0; ch < _c; ch++) db[ch] = (float)sums[ch];
                Graph.EndGrad(bias, db, acc);
            }
        }
    }
}
