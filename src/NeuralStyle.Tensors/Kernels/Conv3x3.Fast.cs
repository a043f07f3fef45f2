// Fast drivers of Conv3x3. Forward and backward-input share one direct-convolution driver:
//   out (N,Ho',Wo',Cout)[oy, ox] = Σ_{ky,kx,i} in[oy+ky−pad, ox+kx−pad, i] · packed[co/32][ky][kx][i][co%32]
// forward:        in = x,  packed = weights.Forward,  pad 1 (Zero/Circular) or 0 (Valid)
// backward-input: in = dy, packed = weights.Backward (channels transposed, kernel flipped), pad 1 or 2 (Valid).
// Bands of a few output rows are copied into a padded scratch slab (zeros or wrap-around at the borders, and
// extra zero columns so every row is a whole number of 8-pixel tiles); the Tile8x32 microkernel then runs
// without any border test. Backward-weights lives in Conv3x3.BackwardWeights.cs.
// Backward-input with Ci ≤ 16 (the first layer) instead multiplies dy by a (Co × 9·Ci) weight matrix with Gemm and
// gathers the 9 shifted taps, so the 32-wide tile is not mostly padding.
using System.Buffers;

namespace NeuralStyle.Tensors.Kernels;

public static unsafe partial class Conv3x3
{
    private const int BandRows = 4;
    private const int NarrowInput = 16; // backward-input through GEMM when Ci ≤ this

    private static void ForwardFast(float[] x, int n, int h, int w, Conv3x3Weights weights, float[]? bias, float[] y, ConvPadding padding, bool relu)
    {
        int ho = KernelChecks.ConvOutSize(h, padding), wo = KernelChecks.ConvOutSize(w, padding);
        int pad = padding == ConvPadding.Valid ? 0 : 1;
        Direct(x, n, h, w, weights.InChannels, weights.Forward, weights.OutChannels, bias, y, ho, wo, pad, padding == ConvPadding.Circular, relu);
    }

    private static void BackwardInputFast(float[] dy, int n, int h, int w, Conv3x3Weights weights, float[] dx, ConvPadding padding)
    {
        int ho = KernelChecks.ConvOutSize(h, padding), wo = KernelChecks.ConvOutSize(w, padding);
        if (weights.InChannels <= NarrowInput)
        {
            BackwardInputNarrow(dy, n, h, w, weights, dx, padding);
            return;
        }

        int pad = padding == ConvPadding.Valid ? 2 : 1;
        Direct(dy, n, ho, wo, weights.OutChannels, weights.Backward, weights.InChannels, null, dx, h, w, pad, padding == ConvPadding.Circular, relu: false);
    }

    /// <summary>
    /// Backward-input for few input channels (the direct kernel would waste most of its 32-channel tile):
    /// per band of dx rows, col (Wo × 9·Ci) = dy row · Columns for each dy row the band needs (one halo row
    /// each side), then dx[iy, ix, i] = Σ_{ky,kx} col[oy = iy−ky+pad][ox = ix−kx+pad][ky, kx, i].
    /// </summary>
    private static void BackwardInputNarrow(float[] dy, int n, int h, int w, Conv3x3Weights weights, float[] dx, ConvPadding padding)
    {
        int ci = weights.InChannels, co = weights.OutChannels, ld = weights.ColumnsStride;
        int ho = KernelChecks.ConvOutSize(h, padding), wo = KernelChecks.ConvOutSize(w, padding);
        int pad = padding == ConvPadding.Valid ? 0 : 1;
        bool circular = padding == ConvPadding.Circular;
        int bandRows = Math.Min(h, Math.Max(8, 16384 / w));
        int bandsPerImage = (h + bandRows - 1) / bandRows;
        float[] columns = weights.Columns;
        double flopsPerBand = 2.0 * (bandRows + 2) * wo * ld * co;
        int minBands = (int)Math.Clamp(Math.Ceiling(2e6 / flopsPerBand), 1, int.MaxValue);

        KernelThreading.For(n * bandsPerImage, minBands, (u0, u1) =>
        {
            int slots = bandRows + 2;
            float[] col = ArrayPool<float>.Shared.Rent(slots * wo * ld);
            Span<bool> valid = stackalloc bool[slots];
            try
            {
                fixed (float* colPtr = col, dxPtr = dx)
                {
                    for (int u = u0; u < u1; u++)
                    {
                        int b = u / bandsPerImage;
                        int iy0 = (u % bandsPerImage) * bandRows, iy1 = Math.Min(h, iy0 + bandRows);
                        int oyLo = iy0 - 2 + pad;
                        for (int s = 0; s < (iy1 - iy0) + 2; s++)
                        {
                            int oy = oyLo + s;
                            if (oy < 0 || oy >= ho)
                            {
                                if (!circular)
                                {
                                    valid[s] = false;
                                    continue;
                                }

                                oy = ((oy % ho) + ho) % ho;
                            }

                            valid[s] = true;
                            Gemm.SgemmSerial(false, false, wo, ld, co, 1f, dy, ((b * ho) + oy) * wo * co, co,
                                             columns, 0, ld, 0f, col, s * wo * ld, ld);
                        }

                        for (int iy = iy0; iy < iy1; iy++)
                        {
                            float* dst = dxPtr + ((((long)b * h) + iy) * w * ci);
                            new Span<float>(dst, w * ci).Clear();
                            for (int ky = 0; ky < 3; ky++)
                            {
                                int s = (iy - iy0) + 2 - ky;
                                if (!valid[s])
                                {
                                    continue;
                                }

                                float* colRow = colPtr + ((long)s * wo * ld);
                                for (int kx = 0; kx < 3; kx++)
                                {
                                    float* tap = colRow + (((ky * 3) + kx) * ci);

                                    // Columns whose source ox = ix − kx + pad is inside the row.
                                    int lo = Math.Max(0, kx - pad), hi = Math.Min(w, wo + kx - pad);
                                    float* sp = tap + ((long)(lo - kx + pad) * ld);
                                    float* dp = dst + ((long)lo * ci);
                                    for (int ix = lo; ix < hi; ix++, sp += ld, dp += ci)
                                    {
                                        for (int c = 0; c < ci; c++)
                                        {
                                            dp[c] += sp[c];
                                        }
                                    }

                                    if (circular)
                                    {
                                        for (int ix = 0; ix < w; ix++)
                                        {
                                            if (ix >= lo && ix < hi)
                                            {
                                                continue;
                                            }

                                            int ox = ix - kx + pad;
                                            ox = ((ox % wo) + wo) % wo;
                                            float* wrapped = tap + ((long)ox * ld);
                                            for (int c = 0; c < ci; c++)
                                            {
                                                dst[(ix * ci) + c] += wrapped[c];
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(col);
            }
        });
    }

    /// <summary>in (N,Hi,Wi,Cin) -> out (N,Ho,Wo,Cout) with packed [cout/32][3][3][cin][32] weights.</summary>
    private static void Direct(float[] input, int n, int hi, int wi, int cin, float[] packed, int cout, float[]? bias,
                               float[] output, int ho, int wo, int pad, bool circular, bool relu)
    {
        if (n == 0 || ho <= 0 || wo <= 0)
        {
            return;
        }

        int coBlocks = (cout + 31) / 32;
        int tiles = (wo + 7) / 8;
        int slabWidth = (tiles * 8) + 2;
        int rowStride = slabWidth * cin;
        double flopsPerRow = 18.0 * wo * coBlocks * 32 * cin;
        int minRows = (int)Math.Clamp(Math.Ceiling(3e6 / flopsPerRow), 1, int.MaxValue);

        KernelThreading.For(n * ho, minRows, (start, end) =>
        {
            float[] slab = ArrayPool<float>.Shared.Rent((BandRows + 2) * rowStride);
            float[] biasPadded = ArrayPool<float>.Shared.Rent((coBlocks * 32) + (8 * 32));
            try
            {
                Array.Clear(biasPadded);
                if (bias is not null)
                {
                    Array.Copy(bias, biasPadded, cout);
                }

                fixed (float* slabPtr = slab, wPtr = packed, bPtr = biasPadded, yPtr = output)
                {
                    float* temp = bPtr + (coBlocks * 32); // 8×32 scratch for partial tiles
                    int row = start;
                    while (row < end)
                    {
                        int b = row / ho, oy0 = row % ho;
                        int count = Math.Min(BandRows, Math.Min(ho - oy0, end - row));
                        FillSlab(input, b, hi, wi, cin, cin, oy0 - pad, count + 2, pad, slabWidth, circular, slabPtr);
                        for (int cb = 0; cb < coBlocks; cb++)
                        {
                            float* wBlock = wPtr + ((long)cb * 9 * cin * 32);
                            int co0 = cb * 32;
                            int coCount = Math.Min(32, cout - co0);
                            for (int r = 0; r < count; r++)
                            {
                                float* outRow = yPtr + ((long)(row + r) * wo * cout);
                                float* slabRow = slabPtr + ((long)r * rowStride);
                                for (int t = 0; t < tiles; t++)
                                {
                                    int ox0 = t * 8;
                                    int px = Math.Min(8, wo - ox0);
                                    float* xTile = slabRow + ((long)ox0 * cin);
                                    if (px == 8 && coCount == 32)
                                    {
                                        Tile8x32.Conv(xTile, cin, rowStride, wBlock, bPtr + co0, outRow + ((long)ox0 * cout) + co0, cout, relu);
                                    }
                                    else
                                    {
                                        Tile8x32.Conv(xTile, cin, rowStride, wBlock, bPtr + co0, temp, 32, relu);
                                        for (int p = 0; p < px; p++)
                                        {
                                            new ReadOnlySpan<float>(temp + (p * 32), coCount)
                                                .CopyTo(new Span<float>(outRow + ((long)(ox0 + p) * cout) + co0, coCount));
                                        }
                                    }
                                }
                            }
                        }

                        row += count;
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(biasPadded);
                ArrayPool<float>.Shared.Return(slab);
            }
        });
    }

    /// <summary>
    /// Copies input rows iy0 … iy0+rows−1 of image b into a slab of <paramref name="slabWidth"/> pixels per row and
    /// <paramref name="stride"/> floats per pixel (channels beyond cin are zero); slab column j holds input column
    /// j − pad. Outside the image: zeros, or wrap-around when circular (columns past wi + 2·pad stay zero).
    /// </summary>
    private static void FillSlab(float[] input, int b, int hi, int wi, int cin, int stride, int iy0, int rows, int pad,
                                 int slabWidth, bool circular, float* slab)
    {
        long rowFloats = (long)slabWidth * stride;
        for (int r = 0; r < rows; r++)
        {
            float* dst = slab + (r * rowFloats);
            int iy = iy0 + r;
            if (iy < 0 || iy >= hi)
            {
                if (!circular)
                {
                    new Span<float>(dst, (int)rowFloats).Clear();
                    continue;
                }

                iy = ((iy % hi) + hi) % hi;
            }

            long srcRow = ((long)b * hi + iy) * wi * cin;
            if (stride != cin)
            {
                new Span<float>(dst, (int)rowFloats).Clear();
            }

            for (int j = 0; j < slabWidth; j++)
            {
                int ix = j - pad;
                if (ix < 0 || ix >= wi)
                {
                    if (!circular || j >= wi + (2 * pad))
                    {
                        if (stride == cin)
                        {
                            new Span<float>(dst + ((long)j * stride), cin).Clear();
                        }

                        continue;
                    }

                    ix = ((ix % wi) + wi) % wi;
                }
                else if (stride == cin)
                {
                    // Copy the whole in-range run at once.
                    int run = Math.Min(wi - ix, slabWidth - j);
                    input.AsSpan((int)(srcRow + ((long)ix * cin)), run * cin).CopyTo(new Span<float>(dst + ((long)j * stride), run * cin));
                    j += run - 1;
                    continue;
                }

                input.AsSpan((int)(srcRow + ((long)ix * cin)), cin).CopyTo(new Span<float>(dst + ((long)j * stride), cin));
            }
        }
    }
}
