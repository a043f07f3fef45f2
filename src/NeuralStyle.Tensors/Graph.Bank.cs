using NeuralStyle.Tensors.Autograd;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors;

// Builders for combining values: concatenation, batch broadcast, masks, weighted sums, run-time choice, and the
// StyleBank compositions built from them (a per-sample filter bank, region fusion). Rules: Autograd/CombineOps.cs.
public sealed partial class Graph
{
    /// <summary>
    /// Joins values along one axis (negative counts from the end; channels are the last axis). Every other axis
    /// must agree; each part receives its slice of the gradient.
    /// </summary>
    public Value Concat(int axis, params Value[] parts) => Node(new ConcatOp(axis, parts), null);

    /// <summary>
    /// Repeats a batch-1 value n times along the batch axis: (1, …) -> (n, …). The gradient is the sum over the
    /// batch (a style target shared by every sample, or a parameter every sample uses).
    /// </summary>
    public Value BroadcastBatch(Value t, int n, string? name = null) => Node(new BroadcastBatchOp(t, n), name);

    /// <summary>
    /// x (N,H,W,C) × mask (N or 1, H, W, 1 or C), the mask broadcast over the batch and/or the channels. Both
    /// inputs receive gradients (a mask may be a parameter).
    /// </summary>
    public Value MulBroadcast(Value x, Value mask, string? name = null) => Node(new MulBroadcastOp(x, mask), name);

    /// <summary>
    /// Σᵢ weights[i] · sets[i] over equally shaped values, with weights a (S) value: gradients go to every set and to
    /// the weights. A blended filter Σ wᵢKᵢ built this way can feed a convolution as its weight.
    /// </summary>
    public Value WeightedSum(IReadOnlyList<Value> sets, Value weights, string? name = null) => Node(new WeightedSumOp(sets, weights), name);

    /// <summary>
    /// A copy of candidates[index()], with <paramref name="index"/> called on every forward pass (and once now). The
    /// gradient goes to the candidate chosen at the last forward pass only: an unchosen leaf ends a backward pass
    /// with a zero gradient, and the backward rule of an unchosen computed value is not run at all (unless something
    /// else uses it). All candidates must have one shape; they are all still computed by every forward pass, so
    /// choose among weights (cheap) rather than among the outputs of expensive branches.
    /// </summary>
    public Value Choose(IReadOnlyList<Value> candidates, Func<int> index, string? name = null) => Node(new ChooseOp(candidates, index), name);

    /// <summary>
    /// A per-sample filter bank: sample n of x (N,H,W,C) goes through weights[setOfSample[n]] (with its bias), the
    /// outputs joined along the batch. <paramref name="setOfSample"/> (length N) is the caller's array, read on every
    /// forward pass, so changing its entries re-routes the samples without rebuilding the graph. Gradients go to x
    /// and to the sets used at the last forward pass (added up when two samples share a set); unused sets get zero.
    /// <paramref name="biases"/> may be null (no bias) or hold one entry per set (a null entry means no bias).
    /// </summary>
    public Value FilterBank(Value x, IReadOnlyList<Value> weights, IReadOnlyList<Value?>? biases, int[] setOfSample, ConvPadding padding)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(setOfSample);
        IReadOnlyList<Value>? bankBiases = BankBiases(weights, biases);
        if (x.Rank != 4) throw new ArgumentException($"FilterBank expects an (N,H,W,C) input, got [{string.Join(",", x.Shape)}].");
        int n = x.Shape[0];
        if (setOfSample.Length != n)
            throw new ArgumentException($"FilterBank needs one set index per sample ({n}), got {setOfSample.Length}.");
        // One N=1 convolution per sample: the fast kernels thread over rows, so a sample alone keeps both cores busy,
        // and the extra copies (slice, chosen weight, concat) cost a few per cent of the convolution.
        var outputs = new Value[n];
        for (int s = 0; s < n; s++)
        {
            Func<int> set = SetOf(setOfSample, s, weights.Count);
            Value w = Choose(weights, set);
            Value? b = bankBiases is null ? null : Choose(bankBiases, set);
            outputs[s] = BankConv(Slice(x, 0, s, 1), w, b, padding);
        }
        return n == 1 ? outputs[0] : Concat(0, outputs);
    }

    /// <summary>
    /// StyleBank region fusion (spec §6): Σᵢ Kᵢ ⊗ (Mᵢ × F) with each filter's bias weighted by its mask,
    /// Σᵢ [Wᵢ ⊗ (Mᵢ × F) + Mᵢ·bᵢ], so masks that sum to one with one set everywhere give that set's output (up to rounding).
    /// x (N,H,W,C); masks (N or 1, H, W, 1) at the feature resolution; gradients to x, the sets and the masks.
    /// </summary>
    public Value RegionFusion(Value x, IReadOnlyList<Value> weights, IReadOnlyList<Value?>? biases, IReadOnlyList<Value> masks, ConvPadding padding)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(masks);
        IReadOnlyList<Value>? bankBiases = BankBiases(weights, biases);
        if (masks.Count != weights.Count)
            throw new ArgumentException($"RegionFusion needs one mask per filter set ({weights.Count}), got {masks.Count}.");
        if (padding == ConvPadding.Valid)
            throw new ArgumentException("RegionFusion needs a size-preserving padding, because the masks weight the biases at the input resolution.");
        Value? sum = null;
        for (int i = 0; i < weights.Count; i++)
        {
            if (masks[i].Rank != 4 || masks[i].Shape[3] != 1)
                throw new ArgumentException($"RegionFusion masks must be (N or 1, H, W, 1), got [{string.Join(",", masks[i].Shape)}].");
            Value part = BankConv(MulBroadcast(x, masks[i]), weights[i], null, padding);
            sum = sum is null ? part : Add(sum, part);
        }
        if (bankBiases is not null) sum = Add(sum!, Node(new MaskedBiasOp(masks, bankBiases, x.Shape[0]), null));
        return sum!;
    }

    /// <summary>
    /// The one place the bank convolves. Switching to the general convolution is this line:
    /// <c>Conv2d(x, weight, bias, 1, padding)</c> (which also brings reflection padding and other kernel sizes).
    /// </summary>
    private Value BankConv(Value x, Value weight, Value? bias, ConvPadding padding) => Conv2d(x, weight, bias, 1, padding);

    private static Func<int> SetOf(int[] setOfSample, int sample, int sets) => () =>
    {
        int k = setOfSample[sample];
        if ((uint)k >= (uint)sets)
            throw new ArgumentOutOfRangeException(nameof(setOfSample), $"Sample {sample} asks for filter set {k}, but the bank has {sets} sets.");
        return k;
    };

    /// <summary>Checks a bank's weights and biases; returns one bias per set (zeros for null entries), or null for none.</summary>
    private IReadOnlyList<Value>? BankBiases(IReadOnlyList<Value> weights, IReadOnlyList<Value?>? biases)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count == 0) throw new ArgumentException("A filter bank needs at least one set of weights.");
        foreach (Value w in weights)
            if (!w.Shape.AsSpan().SequenceEqual(weights[0].Shape))
                throw new ArgumentException($"All filter sets must have one shape, got [{string.Join(",", w.Shape)}] and [{string.Join(",", weights[0].Shape)}].");
        if (biases is null || biases.All(b => b is null)) return null;
        if (biases.Count != weights.Count)
            throw new ArgumentException($"A filter bank needs one bias entry per set ({weights.Count}), got {biases.Count}.");
        int co = weights[0].Shape[0];
        var full = new Value[biases.Count];
        for (int i = 0; i < full.Length; i++)
        {
            if (biases[i] is { } b && (b.Rank != 1 || b.Shape[0] != co))
                throw new ArgumentException($"A bias of the bank must be ({co}), got [{string.Join(",", b.Shape)}].");
            full[i] = biases[i] ?? Constant(new float[co], [co]);
        }
        return full;
    }
}
