// Winograd F(4×4, 3×3) for zero-padded stride-1 3×3 convolutions with frozen weights in training graphs (VGG in the
// Gatys problem, where only the image has a gradient):
//  - forward with bias and ReLU fused into the output transform;
//  - backward to the input as the same algorithm run on dy with the kernel flipped in space and its input/output
//    channels swapped (transformed once too), the ReLU mask of the convolution's own output fused into dy's input
//    transform (dy ⊙ [y > 0] is never written).
// Unlike Forward (each thread its own blocks of 32 tiles and 36 small GEMMs), both threads work on one chunk of tiles
// at a time: the input transform split by tiles, then 36 × ⌈Co/32⌉ GEMM items (one Ci × 32 panel of transformed weights
// against the chunk's V[ξ], on the 8×32 register tile), then the output transform split by tiles. Each weight panel is
// read once per chunk, not once per 32 tiles: VGG's 512-channel layers hold 36·512·512 floats = 38 MB of transformed
// weights, more than the caches, and their whole 64×48 image (192 tiles) fits in one chunk.
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

    /// <summary>
    /// Whether <see cref="ForwardPacked"/> beats direct convolution (Conv3x3) for a zero-padded h×w layer with
    /// <paramref name="ci"/> input and <paramref name="co"/> output channels (for the backward to the input, pass them
    /// swapped). Measured per VGG-19 layer (bench/NOTES.md, "Winograd F(4×4) for VGG"): with fewer than 32 input
    /// channels the 36 GEMMs are too short, with fewer than 32 output channels most of the 32-wide register tile is
    /// padding (VGG's first layer, 3 → 64, and its backward, 64 → 3); below 8 tiles of 4×4 (e.g. conv5_1 of a 128 px
    /// image, 8×6) reading the transformed weights, 4× the direct packing, costs more than the multiplies it saves.
    /// Both need AVX-512 (without it the register tile is 4× slower and direct convolution stays).
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
                int minTiles = Math.Max(1, 4096 / ci);
                KernelThreading.For(count, minTiles, (j0, j1) =>
                {
                    fixed (float* xp = x, mp = inputMask, vp = v, zp = zeros)
                    {
                        nint* src = stackalloc nint[36];
                        nint* maskSlots = stackalloc nint[36];
                        nint* mask = mp == null ? null : maskSlots;
                        for (int j = j0; j < j1; j++)
                        {
                            int tile = first + j, b = tile / (th * tw), rest = tile % (th * tw), ty = rest / tw, tx = rest % tw;
                            for (int r = 0; r < 6; r++)
                            {
                                int iy = rows[(4 * ty) + r];
                                for (int c = 0; c < 6; c++)
                                {
                                    int ix = cols[(4 * tx) + c];
                                    long at = ((((long)b * h) + iy) * w + ix) * ci;
                                    bool zero = iy < 0 || ix < 0;
                                    src[(r * 6) + c] = zero ? (nint)zp : (nint)(xp + at);
                                    if (mask != null) mask[(r * 6) + c] = zero ? (nint)zp : (nint)(mp + at);
                                }
                            }

                            InputTile(src, mask, ci, vp + (j * ci), (nint)padded * ci);
                        }
                    }
                });

                int items = 36 * blocks;
                int minItems = (int)Math.Clamp(Math.Ceiling(2e6 / (2.0 * padded * ci * 32)), 1, items);
                KernelThreading.For(items, minItems, (i0, i1) =>
                {
                    fixed (float* vp = v, up = packed, mp = m)
                    {
                        for (int item = i0; item < i1; item++)
                        {
                            int xi = item / blocks, cb = item % blocks;
                            float* a = vp + ((long)xi * padded * ci);
                            float* bp = up + ((((long)xi * blocks) + cb) * ci * 32);
                            float* c = mp + ((long)xi * padded * coPad) + (cb * 32);
                            for (int r = 0; r < padded; r += 8)
                                Tile8x32.MulStore(a + ((long)r * ci), 1, ci, bp, 32, ci, c + ((long)r * coPad), coPad, 1f, 0f);
                        }
                    }
                });

                KernelThreading.For(count, Math.Max(1, 4096 / co), (j0, j1) =>
                {
                    fixed (float* mp = m, yp = y, bp = bias)
                    {
                        for (int j = j0; j < j1; j++)
                        {
                            int tile = first + j, b = tile / (th * tw), rest = tile % (th * tw), ty = rest / tw, tx = rest % tw;
                            int oy = 4 * ty, ox = 4 * tx;
                            float* y0 = yp + ((((((long)b * h) + oy) * w) + ox) * co);
                            OutputTile(mp + ((long)j * coPad), (nint)padded * coPad, co, bp, y0, (nint)w * co, Math.Min(4, h - oy), Math.Min(4, w - ox), relu);
                        }
                    }
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
    /// dx (N,H,W,Ci), overwritten = the gradient of a zero-padded stride-1 3×3 convolution's input for dy (N,H,W,Co);
    /// <paramref name="packedBackward"/> from <see cref="TransformWeightsBackwardPacked"/>. With
    /// <paramref name="outputMask"/> (the convolution's ReLU output), dy counts as 0 wherever the output is not positive.
    /// </summary>
    public static void BackwardInputPacked(float[] dy, float[]? outputMask, int n, int h, int w, int ci, int co, float[] packedBackward, float[] dx)
        => ForwardPacked(dy, outputMask, n, h, w, co, ci, packedBackward, null, dx, relu: false);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load(nint* src, nint* mask, int k, int i)
    {
        Vector512<float> value = Vector512.Load((float*)src[k] + i);
        return mask == null ? value : Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Load((float*)mask[k] + i), Vector512<float>.Zero), value, Vector512<float>.Zero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Load1(nint* src, nint* mask, int k, int i)
        => mask == null || ((float*)mask[k])[i] > 0f ? ((float*)src[k])[i] : 0f;
}
