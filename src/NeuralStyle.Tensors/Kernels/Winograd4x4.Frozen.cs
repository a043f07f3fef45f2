// Winograd F(4×4, 3×3) for zero-padded stride-1 3×3 convolutions with frozen weights in training graphs (VGG in the
// Gatys problem, where only the image has a gradient):
//  - forward with bias and ReLU fused into the output transform;
//  - backward to the input as the same algorithm run on dy with the kernel flipped in space and its input/output
//    channels swapped (transformed once too), the ReLU mask of the convolution's own output fused into dy's input
//    transform (dy ⊙ [y > 0] is never written).
// Two drivers. Up to 128×128 channels (transformed weights ≤ 2.5 MB) each thread takes its own blocks of 32 tiles
// and runs all three phases on them (V and M stay in its L2, no join per block), like Forward. Beyond, both threads
// work on one chunk of tiles at a time: the input transform split by tiles, then 36 × ⌈Co/32⌉ GEMM items (one Ci × 32
// panel of transformed weights against the chunk's V[ξ], on the 8×32 register tile), then the output transform split
// by tiles. Each weight panel is read once per chunk, not once per 32 tiles: VGG's 512-channel layers hold
// 36·512·512 floats = 38 MB of transformed weights, more than the caches, and their whole 64×48 image (192 tiles) fits
// in one chunk.
// The reference is direct convolution (Conv3x3.ForwardReference / BackwardInputReference, KernelComparisons).
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralStyle.Tensors.Kernels;

public static unsafe partial class Winograd4x4
{
    /// <summary>Upper bound on one chunk's scratch (V and M), in floats: 32 MB, rented from the shared pool.</summary>
    private const int ChunkFloats = 8 << 20;

    /// <summary>The largest chunk, in tiles (more only adds scratch once the weights are read rarely enough).</summary>
    private const int MaxChunkTiles = 1024;

    /// <summary>Transformed weights up to this many floats (2.5 MB: Ci·Co ≤ 128·128) take the per-thread-block driver.</summary>
    private const long PerThreadWeightFloats = 36L * 128 * 128;

    /// <summary>Tiles per block of the per-thread driver (V and M of a 64-channel block: 2 × 295 KB).</summary>
    private const int BlockTiles = 32;

    /// <summary>
    /// Whether <see cref="ForwardPacked"/> beats direct convolution (Conv3x3) for a zero-padded h×w layer with
    /// <paramref name="ci"/> input and <paramref name="co"/> output channels (for the backward to the input, pass them
    /// swapped). Measured per VGG-19 layer (bench/NOTES.md, "Winograd F(4×4) for VGG"): with fewer than 32 input
    /// channels the 36 GEMMs are too short, with fewer than 32 output channels most of the 32-wide register tile is
    /// padding (VGG's first layer, 3 → 64, and its backward, 64 → 3); below 8 tiles of 4×4 (e.g. conv5_1 of a 128 px
    /// image, 8×6) reading the transformed weights, 4× the direct packing, costs more than the multiplies it saves.
    /// AVX-512 only: the rule was measured with the Vector512 register tile and transforms; without them (Vector256 or
    /// scalar fallbacks, which stay correct and tested) direct convolution keeps every layer.
    /// </summary>
    public static bool Wins(int ci, int co, int h, int w)
        => Vector512.IsHardwareAccelerated && ci >= 32 && co >= 32 && (long)((h + 3) / 4) * ((w + 3) / 4) >= 8;

    /// <summary>Floats of <see cref="TransformWeightsPacked"/>'s result for <paramref name="co"/> output and <paramref name="ci"/> input channels.</summary>
    public static long PackedLength(int co, int ci) => 36L * ((co + 31) / 32 * 32) * ci;

    /// <summary>
    /// Transformed weights for <see cref="ForwardPacked"/>: G g Gᵀ of the (Co,Ci,3,3) weights packed as
    /// [ξ][⌈Co/32⌉][Ci][32] (output channels zero-padded to a multiple of 32).
    /// </summary>
    public static float[] TransformWeightsPacked(float[] weightOihw, int co, int ci) => TransformPacked(weightOihw, co, ci, backward: false);

    /// <summary>
    /// Transformed weights for <see cref="BackwardInputPacked"/>: those of the (Ci,Co,3,3) kernel w'[i][o][ky][kx] =
    /// w[o][i][2−ky][2−kx], packed like <see cref="TransformWeightsPacked"/> with Ci output channels.
    /// </summary>
    public static float[] TransformWeightsBackwardPacked(float[] weightOihw, int co, int ci) => TransformPacked(weightOihw, co, ci, backward: true);

    private static float[] TransformPacked(float[] weightOihw, int co, int ci, bool backward)
    {
        if (co < 1 || ci < 1) throw new ArgumentException($"Channel counts must be positive (got Co={co}, Ci={ci}).");
        if (weightOihw.Length < co * ci * 9) throw new ArgumentException($"The weight holds {weightOihw.Length} values; (Co,Ci,3,3) needs {co * ci * 9}.");
        int outputs = backward ? ci : co, inputs = backward ? co : ci, blocks = (outputs + 31) / 32;
        var packed = new float[PackedLength(outputs, inputs)];
        Span<double> out36 = stackalloc double[36];
        for (int o = 0; o < co; o++)
        {
            for (int i = 0; i < ci; i++)
            {
                TransformKernel(weightOihw.AsSpan(((o * ci) + i) * 9, 9), flip: backward, out36);
                int output = backward ? i : o, input = backward ? o : i;
                for (int xi = 0; xi < 36; xi++)
                    packed[(((((xi * blocks) + (output / 32)) * inputs) + input) * 32) + (output % 32)] = (float)out36[xi];
            }
        }

        return packed;
    }

    /// <summary>
    /// y (N,H,W,Co) = zero-padded 3×3 convolution of x (N,H,W,Ci), with bias and ReLU fused; <paramref name="packed"/> from
    /// <see cref="TransformWeightsPacked"/>. With <paramref name="inputMask"/> (N,H,W,Ci), x counts as 0 wherever the
    /// mask is not positive (a ReLU's backward fused into the read).
    /// </summary>
    public static void ForwardPacked(float[] x, float[]? inputMask, int n, int h, int w, int ci, int co, float[] packed, float[]? bias, float[] y, bool relu)
    {
        if (n < 1 || h < 1 || w < 1 || ci < 1 || co < 1)
            throw new ArgumentException($"Winograd4x4 needs positive sizes (got n={n}, {h}×{w}, Ci={ci}, Co={co}).");
        int blocks = (co + 31) / 32, coPad = blocks * 32;
        long pixels = (long)n * h * w;
        if (x.Length < pixels * ci || y.Length < pixels * co || packed.Length < 36L * blocks * ci * 32 || (bias is not null && bias.Length < co)
            || (inputMask is not null && inputMask.Length < pixels * ci))
            throw new ArgumentException("Winograd4x4: an operand is shorter than its shape.");
        int th = (h + 3) / 4, tw = (w + 3) / 4, tiles = n * th * tw;
        int[] rows = new int[(4 * th) + 2], cols = new int[(4 * tw) + 2];
        for (int t = 0; t < rows.Length; t++) rows[t] = Conv2d.Source(t - 1, h, ConvPadding.Zero);
        for (int t = 0; t < cols.Length; t++) cols[t] = Conv2d.Source(t - 1, w, ConvPadding.Zero);
        var g = new Geometry(h, w, th, tw, ci, co, coPad, blocks, rows, cols);
        if (36L * ci * coPad <= PerThreadWeightFloats)
        {
            PerThreadBlocks(g, x, inputMask, packed, bias, y, tiles, relu);
            return;
        }

        int chunk = (int)Math.Min(Math.Min((tiles + 7) / 8 * 8, MaxChunkTiles), Math.Max(8, ChunkFloats / (36L * (ci + coPad)) / 8 * 8));
        float[] v = ArrayPool<float>.Shared.Rent(36 * chunk * ci);
        float[] m = ArrayPool<float>.Shared.Rent(36 * chunk * coPad);
        float[] zeros = ArrayPool<float>.Shared.Rent(ci);
        Array.Clear(zeros, 0, ci);
        try
        {
            for (int t0 = 0; t0 < tiles; t0 += chunk)
            {
                int count = Math.Min(chunk, tiles - t0), padded = (count + 7) / 8 * 8, first = t0;
                // The register tile runs 8 rows at a time: rows past the chunk's last tile are zeros (their M rows are unused).
                for (int xi = 0; xi < 36 && padded > count; xi++) Array.Clear(v, ((xi * padded) + count) * ci, (padded - count) * ci);
                KernelThreading.For(count, Math.Max(1, 4096 / ci), (j0, j1) =>
                {
                    fixed (float* xp = x, mp = inputMask, vp = v, zp = zeros)
                        InputTiles(g, xp, mp, zp, first, j0, j1, vp, padded);
                });

                // Items are taken one at a time by the workers (a core slowed by another process takes fewer); each
                // worker's consecutive items mostly share V[ξ].
                int items = 36 * blocks, nextItem = 0;
                int minItems = (int)Math.Clamp(Math.Ceiling(2e6 / (2.0 * padded * ci * 32)), 1, items);
                int workers = Math.Max(1, Math.Min(KernelThreading.MaxDegree, items / minItems));
                KernelThreading.For(workers, 1, (_, _) =>
                {
                    fixed (float* vp = v, up = packed, mp = m)
                    {
                        for (int item; (item = Interlocked.Increment(ref nextItem) - 1) < items;)
                            Multiply(g, vp, up, mp, padded, item);
                    }
                });

                KernelThreading.For(count, Math.Max(1, 4096 / co), (j0, j1) =>
                {
                    fixed (float* mp = m, yp = y, bp = bias)
                        OutputTiles(g, mp, yp, bp, first, j0, j1, padded, relu);
                });
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(zeros);
            ArrayPool<float>.Shared.Return(m);
            ArrayPool<float>.Shared.Return(v);
        }
    }

    /// <summary>
    /// Few channels (transformed weights ≤ <see cref="PerThreadWeightFloats"/>, e.g. VGG's 64- and 128-channel layers):
    /// each worker takes blocks of <see cref="BlockTiles"/> tiles and runs all three phases on them alone, so its V and M
    /// stay in its L2 and no join is paid per block; the weights are re-read per block from L2/L3.
    /// </summary>
    private static void PerThreadBlocks(Geometry g, float[] x, float[]? inputMask, float[] packed, float[]? bias, float[] y, int tiles, bool relu)
    {
        int blockCount = (tiles + BlockTiles - 1) / BlockTiles, nextBlock = 0;
        double flopsPerBlock = 2.0 * 36 * BlockTiles * g.Ci * g.CoPad;
        int minBlocks = (int)Math.Clamp(Math.Ceiling(2e6 / flopsPerBlock), 1, blockCount);
        int workers = Math.Max(1, Math.Min(KernelThreading.MaxDegree, blockCount / minBlocks));
        KernelThreading.For(workers, 1, (_, _) =>
        {
            float[] v = ArrayPool<float>.Shared.Rent(36 * BlockTiles * g.Ci);
            float[] m = ArrayPool<float>.Shared.Rent(36 * BlockTiles * g.CoPad);
            float[] zeros = ArrayPool<float>.Shared.Rent(g.Ci);
            Array.Clear(zeros, 0, g.Ci);
            try
            {
                fixed (float* xp = x, maskp = inputMask, vp = v, zp = zeros, up = packed, mp = m, yp = y, bp = bias)
                {
                    for (int blk; (blk = Interlocked.Increment(ref nextBlock) - 1) < blockCount;)
                    {
                        int first = blk * BlockTiles, count = Math.Min(BlockTiles, tiles - first), padded = (count + 7) / 8 * 8;
                        for (int xi = 0; xi < 36 && padded > count; xi++)
                            new Span<float>(vp + ((((long)xi * padded) + count) * g.Ci), (padded - count) * g.Ci).Clear();
                        InputTiles(g, xp, maskp, zp, first, 0, count, vp, padded);
                        for (int item = 0; item < 36 * g.Blocks; item++) Multiply(g, vp, up, mp, padded, item);
                        OutputTiles(g, mp, yp, bp, first, 0, count, padded, relu);
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(zeros);
                ArrayPool<float>.Shared.Return(m);
                ArrayPool<float>.Shared.Return(v);
            }
        });
    }

    /// <summary>Sizes of one call: image, tiles, channels (Co padded to the register tile) and the padded row/column sources.</summary>
    private readonly record struct Geometry(int H, int W, int Th, int Tw, int Ci, int Co, int CoPad, int Blocks, int[] Rows, int[] Cols);

    /// <summary>V rows j0..j1 of a chunk whose first tile is <paramref name="first"/> and whose V[ξ] hold <paramref name="padded"/> rows.</summary>
    private static void InputTiles(in Geometry g, float* xp, float* maskp, float* zp, int first, int j0, int j1, float* vp, int padded)
    {
        nint* src = stackalloc nint[36];
        nint* maskSlots = stackalloc nint[36];
        nint* mask = maskp == null ? null : maskSlots;
        for (int j = j0; j < j1; j++)
        {
            int tile = first + j, b = tile / (g.Th * g.Tw), rest = tile % (g.Th * g.Tw), ty = rest / g.Tw, tx = rest % g.Tw;
            for (int r = 0; r < 6; r++)
            {
                int iy = g.Rows[(4 * ty) + r];
                for (int c = 0; c < 6; c++)
                {
                    int ix = g.Cols[(4 * tx) + c];
                    long at = ((((((long)b * g.H) + iy) * g.W) + ix) * g.Ci);
                    bool zero = iy < 0 || ix < 0;
                    src[(r * 6) + c] = zero ? (nint)zp : (nint)(xp + at);
                    if (mask != null) mask[(r * 6) + c] = zero ? (nint)zp : (nint)(maskp + at);
                }
            }

            if (mask == null) InputTile<Unmasked>(src, null, g.Ci, vp + ((long)j * g.Ci), (nint)padded * g.Ci);
            else InputTile<Masked>(src, mask, g.Ci, vp + ((long)j * g.Ci), (nint)padded * g.Ci);
        }
    }

    /// <summary>GEMM item (ξ, output block): M[ξ][rows][32 outputs] = V[ξ] · U[ξ][block] over all padded rows.</summary>
    private static void Multiply(in Geometry g, float* vp, float* up, float* mp, int padded, int item)
    {
        int xi = item / g.Blocks, cb = item % g.Blocks, ci = g.Ci;
        float* a = vp + ((long)xi * padded * ci);
        float* bp = up + ((((long)xi * g.Blocks) + cb) * ci * 32);
        float* c = mp + ((long)xi * padded * g.CoPad) + (cb * 32);
        for (int r = 0; r < padded; r += 8)
            Tile8x32.MulStore(a + ((long)r * ci), 1, ci, bp, 32, ci, c + ((long)r * g.CoPad), g.CoPad, 1f, 0f);
    }

    /// <summary>Output tiles j0..j1 of a chunk (bias, ReLU), the parts inside the image stored.</summary>
    private static void OutputTiles(in Geometry g, float* mp, float* yp, float* bp, int first, int j0, int j1, int padded, bool relu)
    {
        for (int j = j0; j < j1; j++)
        {
            int tile = first + j, b = tile / (g.Th * g.Tw), rest = tile % (g.Th * g.Tw), ty = rest / g.Tw, tx = rest % g.Tw;
            int oy = 4 * ty, ox = 4 * tx;
            float* y0 = yp + ((((((long)b * g.H) + oy) * g.W) + ox) * g.Co);
            OutputTile(mp + ((long)j * g.CoPad), (nint)padded * g.CoPad, g.Co, bp, y0, (nint)g.W * g.Co, Math.Min(4, g.H - oy), Math.Min(4, g.W - ox), relu);
        }
    }

    /// <summary>
    /// dx (N,H,W,Ci), overwritten = the gradient of a zero-padded stride-1 3×3 convolution's input for dy (N,H,W,Co);
    /// <paramref name="packedBackward"/> from <see cref="TransformWeightsBackwardPacked"/>. With
    /// <paramref name="outputMask"/> (the convolution's ReLU output), dy counts as 0 wherever the output is not positive.
    /// </summary>
    public static void BackwardInputPacked(float[] dy, float[]? outputMask, int n, int h, int w, int ci, int co, float[] packedBackward, float[] dx)
        => ForwardPacked(dy, outputMask, n, h, w, co, ci, packedBackward, null, dx, relu: false);

    /// <summary>Whether the input transform reads its values through a ReLU mask (a type argument: no test in the unmasked loads).</summary>
    private interface IMaskMode
    {
        static abstract bool On { get; }
    }

    private readonly struct Masked : IMaskMode
    {
        public static bool On => true;
    }

    private readonly struct Unmasked : IMaskMode
    {
        public static bool On => false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load<TMask>(nint* src, nint* mask, int k, int i)
        where TMask : struct, IMaskMode
    {
        Vector512<float> value = Vector512.Load((float*)src[k] + i);
        return !TMask.On ? value : Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Load((float*)mask[k] + i), Vector512<float>.Zero), value, Vector512<float>.Zero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Load1<TMask>(nint* src, nint* mask, int k, int i)
        where TMask : struct, IMaskMode
        => !TMask.On || ((float*)mask[k])[i] > 0f ? ((float*)src[k])[i] : 0f;
}
