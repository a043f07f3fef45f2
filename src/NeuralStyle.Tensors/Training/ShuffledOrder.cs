namespace NeuralStyle.Tensors.Training;

/// <summary>
/// The order a training loop visits a dataset of <see cref="Count"/> samples: epoch after epoch, each a fresh
/// permutation drawn from an <see cref="Rng"/> (Fisher–Yates) when its first sample is asked for. Its position
/// (<see cref="ExportPosition"/>) and the Rng's state are what a checkpoint needs to continue the same sequence.
/// </summary>
public sealed class ShuffledOrder
{
    private int[]? _permutation;

    public ShuffledOrder(int count, Rng rng)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), "A dataset needs at least one sample.");
        ArgumentNullException.ThrowIfNull(rng);
        Count = count;
        Rng = rng;
    }

    public int Count { get; }

    /// <summary>The generator the permutations are drawn from (checkpoint its state with the position).</summary>
    public Rng Rng { get; }

    /// <summary>The current epoch (0 for the first).</summary>
    public long Epoch { get; private set; }

    /// <summary>How many samples of the current epoch were handed out.</summary>
    public int Index { get; private set; }

    /// <summary>The next sample's index; the first call of an epoch draws its permutation.</summary>
    public int Next()
    {
        if (_permutation is null)
        {
            _permutation = Shuffle();
        }
        else if (Index == Count)
        {
            _permutation = Shuffle();
            Epoch++;
            Index = 0;
        }
        return _permutation[Index++];
    }

    /// <summary>Fills <paramref name="indices"/> with the next samples (a batch may span two epochs).</summary>
    public void NextBatch(Span<int> indices)
    {
        for (int i = 0; i < indices.Length; i++) indices[i] = Next();
    }

    private int[] Shuffle()
    {
        var p = new int[Count];
        for (int i = 0; i < Count; i++) p[i] = i;
        for (int i = Count - 1; i > 0; i--)
        {
            // An unbiased-enough j in [0, i]: the high word of a 64×64-bit product.
            int j = (int)Math.BigMul(Rng.NextUInt64(), (ulong)(i + 1), out _);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    public DataPosition ExportPosition() => new(Epoch, Index, _permutation is null ? [] : (int[])_permutation.Clone());

    /// <summary>Continues from an exported position (restore the Rng's state separately).</summary>
    public void ImportPosition(DataPosition position)
    {
        ArgumentNullException.ThrowIfNull(position);
        int[] perm = position.Permutation;
        if (perm.Length == 0)
        {
            if (position.Epoch != 0 || position.Index != 0)
                throw new ArgumentException("A data position past the start must carry its epoch's permutation.", nameof(position));
            (_permutation, Epoch, Index) = (null, 0, 0);
            return;
        }
        if (perm.Length != Count)
            throw new ArgumentException($"The data position is for a dataset of {perm.Length} samples, not {Count}.", nameof(position));
        var seen = new bool[Count];
        foreach (int i in perm)
        {
            if (i < 0 || i >= Count || seen[i]) throw new ArgumentException("The data position's permutation is not a permutation.", nameof(position));
            seen[i] = true;
        }
        if (position.Epoch < 0 || position.Index < 0 || position.Index > Count)
            throw new ArgumentException($"The data position (epoch {position.Epoch}, index {position.Index}) is out of range.", nameof(position));
        (_permutation, Epoch, Index) = ((int[])perm.Clone(), position.Epoch, position.Index);
    }
}

/// <summary>Where a <see cref="ShuffledOrder"/> is: the epoch, the samples of it handed out, and its permutation (empty before the first).</summary>
public sealed record DataPosition(long Epoch, int Index, int[] Permutation);
