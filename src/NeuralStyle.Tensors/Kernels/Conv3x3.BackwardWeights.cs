// Fast backward-to-weights of Conv3x3:
//   dw[o, i, ky, kx] += Σ_{b,oy,ox} x[b, oy+ky−pad, ox+kx−pad, i] · dy[b, oy, ox, o],   db[o] += Σ dy[b, oy, ox, o]
// a (9·Ci × Co) result reduced over N·Ho·Wo pixels, computed per "segment" (a run of output rows of one image, all
// of it unless the image is large) in two phases, each split over both cores:
// 1. pack: x and dy of the segment are copied once into channel-blocked scratches, so that the microkernel reads
//    two sequential streams (no 2 KB pixel strides that fall into a handful of L1 sets, no half-used cache lines):
//      x  [ci/8][rows + 2][Wo + 2][8]   (zeros or wrap-around at the borders, channels past Ci zero)
//      dy [co/32][rows · Wo][32]        (channels past Co zero)
// 2. multiply: work items of one co block × up to 8 ci blocks (taken one at a time by the cores); an item's tiles
//    (9 KB per ci block) stay in L1/L2 while it walks the segment in bands of ~256 pixels, whose 32 KB of dy stay
//    close across its ci blocks and taps. The Tile8x32.MulAcc tile accumulates one tap of
//    8 ci × 32 co (16 vector accumulators) over a band; the tiles live in a packed scratch [cb][ib][tap][8][32]
//    that is added to dw (OIHW) at the end (8 × 8 AVX transposes into dw's contiguous 72-float runs per output
//    channel) — or, when the whole call is one segment, in a per-worker scratch that each item adds to dw itself.
//    db is summed from the packed dy by the items of the first ci group.
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

// The kernel check (tests/NeuralStyle.KernelCheck) shares the comparisons that set WeightsSegmentFloatsForTests.
[assembly: InternalsVisibleTo("NeuralStyle.KernelCheck")]

namespace NeuralStyle.Tensors.Kernels;

public static unsafe partial class Conv3x3
{
    /// <summary>Pixels per band of the multiply phase: one co block of dy (128 B a pixel) stays in L1.</summary>
    private const int WeightsBandPixels = 256;

    /// <summary>
    /// Ci blocks of 8 per work item: its 8 × 9 KB of tiles and the band's x of those 64 channels stay in L2 (with 64
    /// blocks, 576 KB of tiles plus 700 KB of x made conv5_1 at 32² 1.2–1.3× the peer instead of 0.8–0.9×).
    /// </summary>
    private const int WeightsGroupBlocks = 8;

    /// <summary>
    /// Packed floats (x + dy) per segment: bounds the scratch (16 MB) for large images. At 2 M floats conv3_1 (128²,
    /// 128→256) took 4 segments and ran at 1.16× the peer; at 4 M it takes 2 and runs at 0.94–0.96× (8 M: the same).
    /// </summary>
    private const int WeightsSegmentFloats = 4 << 20;

    /// <summary>Tests only: a smaller segment budget (in floats) for BackwardWeights calls made on this thread; 0 = the default.</summary>
    [ThreadStatic]
    internal static int WeightsSegmentFloatsForTests;

    private static void BackwardWeightsFast(float[] x, float[] dy, int n, int h, int w, int ci, int co, float[] dw, float[]? db, ConvPadding padding)
    {
        int ho = KernelChecks.ConvOutSize(h, padding), wo = KernelChecks.ConvOutSize(w, padding);
        if (n == 0 || ho <= 0 || wo <= 0)
        {
            return;
        }

        var g = new WeightsGeometry(h, w, ci, co, ho, wo, padding);
        // One segment in all (one image that fits the budget): each item's tiles are final when it ends, so they live
        // in a per-worker scratch (L2) and the item adds them to dw itself; otherwise they accumulate across
        // segments in a scratch for the whole of dw, added at the end.
        bool direct = n == 1 && g.SegmentRows >= ho;
        int tileFloats = direct ? 0 : g.CoBlocks * g.CiBlocks * 9 * 256;
        float[] tiles = ArrayPool<float>.Shared.Rent(tileFloats);
        float[] xPacked = ArrayPool<float>.Shared.Rent(g.CiBlocks * g.XPlane);
        float[] dyPacked = ArrayPool<float>.Shared.Rent(g.CoBlocks * g.DyPlane);
        double[]? bias = db is null ? null : new double[g.CoBlocks * 32];
        try
        {
            bool first = true; // the items clear their own tiles in the first segment (in parallel, not 9 MB serially)
            double rowFlops = 2.0 * 9 * g.CiBlocks * 8 * g.CoBlocks * 32 * wo;
            for (int b = 0; b < n; b++)
            {
                for (int oy0 = 0; oy0 < ho; oy0 += g.SegmentRows)
                {
                    int rows = Math.Min(g.SegmentRows, ho - oy0);
                    // Phase 1: both scratches, split by rows (unit r: x row r of rows + 2, and dy row r when r < rows).
                    KernelThreading.For(rows + 2, 4, (r0, r1) =>
                    {
                        fixed (float* xSrc = x, dySrc = dy, xDst = xPacked, dyDst = dyPacked)
                        {
                            for (int r = r0; r < r1; r++)
                            {
                                PackXRow(xSrc, g, b, oy0 - g.Pad + r, r, xDst);
                                if (r < rows)
                                {
                                    PackDyRow(dySrc + ((((long)b * ho) + oy0 + r) * wo * co), g, r, dyDst);
                                }
                            }
                        }
                    });

                    // Phase 2: the items, taken one at a time by the workers (a core slowed by another process
                    // or by the pack's tail takes fewer items instead of making the other wait at the join).
                    int minItems = (int)Math.Clamp(Math.Ceiling(3e6 / (rowFlops * rows / g.Items)), 1, int.MaxValue);
                    int workers = Math.Clamp(g.Items / minItems, 1, KernelThreading.MaxDegree);
                    bool clear = first;
                    int nextItem = 0;
                    KernelThreading.For(workers, 1, (w0, w1) =>
                    {
                        float[]? local = direct ? ArrayPool<float>.Shared.Rent(g.GroupBlocks * 9 * 256) : null;
                        try
                        {
                            for (int item; (item = Interlocked.Increment(ref nextItem) - 1) < g.Items;)
                            {
                                MultiplyItem(g, rows, item, xPacked, dyPacked, local ?? tiles, local is null, bias, clear, local is null ? null : dw);
                            }
                        }
                        finally
                        {
                            if (local is not null)
                            {
                                ArrayPool<float>.Shared.Return(local);
                            }
                        }
                    });
                    first = false;
                }
            }

            if (!direct)
            {
                KernelThreading.For(g.CoBlocks * g.CiBlocks, 64, (p0, p1) => AddTiles(tiles, g, p0, p1, dw));
            }
            if (db is not null)
            {
                for (int o = 0; o < co; o++)
                {
                    db[o] += (float)bias![o];
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(dyPacked);
            ArrayPool<float>.Shared.Return(xPacked);
            ArrayPool<float>.Shared.Return(tiles);
        }
    }

    private readonly struct WeightsGeometry
    {
        public readonly int H, W, Ci, Co, Ho, Wo, Pad;
        public readonly bool Circular;
        public readonly int CiBlocks, CoBlocks, GroupBlocks, Groups, Items, SlabWidth, SegmentRows, BandRows;

        public WeightsGeometry(int h, int w, int ci, int co, int ho, int wo, ConvPadding padding)
        {
            H = h;
            W = w;
            Ci = ci;
            Co = co;
            Ho = ho;
            Wo = wo;
            Pad = padding == ConvPadding.Valid ? 0 : 1;
            Circular = padding == ConvPadding.Circular;
            CiBlocks = (ci + 7) / 8;
            CoBlocks = (co + 31) / 32;
            GroupBlocks = Math.Min(CiBlocks, WeightsGroupBlocks);
            Groups = (CiBlocks + GroupBlocks - 1) / GroupBlocks;
            Items = CoBlocks * Groups;
            int threads = KernelThreading.MaxDegree;
            while (Items % threads != 0 && Items < 4 * threads && GroupBlocks > 1)
            {
                // Few co blocks (e.g. one): smaller ci groups, so that the cores get equal shares.
                GroupBlocks = (GroupBlocks + 1) / 2;
                Groups = (CiBlocks + GroupBlocks - 1) / GroupBlocks;
                Items = CoBlocks * Groups;
            }

            SlabWidth = wo + 2;
            long floatsPerRow = ((long)SlabWidth * CiBlocks * 8) + ((long)wo * CoBlocks * 32);
            int budget = WeightsSegmentFloatsForTests > 0 ? WeightsSegmentFloatsForTests : WeightsSegmentFloats;
            SegmentRows = (int)Math.Clamp((budget / floatsPerRow) - 2, 1, ho);
            BandRows = Math.Clamp((WeightsBandPixels + wo - 1) / wo, 1, SegmentRows);
        }

        /// <summary>Floats of one ci block of the packed x (a segment's rows + 2 halo rows).</summary>
        public int XPlane => (SegmentRows + 2) * SlabWidth * 8;

        /// <summary>Floats of one co block of the packed dy.</summary>
        public int DyPlane => SegmentRows * Wo * 32;
    }

    /// <summary>
    /// Item (item = group + groups·cb: co block cb and ci blocks group·GroupBlocks …) over the
    /// <paramref name="rows"/> packed rows, in bands; its tiles [ib][tap][8][32] accumulate at their place in the
    /// whole-dw scratch [cb][ib][tap][8][32] (<paramref name="placed"/>) or at the start of a per-worker scratch,
    /// cleared first and then added to <paramref name="directDw"/> when it is given.
    /// </summary>
    private static void MultiplyItem(WeightsGeometry g, int rows, int item, float[] xPacked, float[] dyPacked, float[] tiles, bool placed, double[]? bias, bool clearTiles, float[]? directDw)
    {
        nint xRow = g.SlabWidth * 8, dyRow = g.Wo * 32;
        fixed (float* xp = xPacked, dyp = dyPacked, tp = tiles)
        {
            int cb = item / g.Groups, ibLo = (item % g.Groups) * g.GroupBlocks;
            int ibCount = Math.Min(g.GroupBlocks, g.CiBlocks - ibLo);
            float* dyBlock = dyp + ((long)cb * g.DyPlane);
            float* itemTiles = placed ? tp + ((((long)cb * g.CiBlocks) + ibLo) * 9 * 256) : tp;
            if (clearTiles)
            {
                new Span<float>(itemTiles, ibCount * 9 * 256).Clear();
            }

            for (int r0 = 0; r0 < rows; r0 += g.BandRows)
            {
                int bandRows = Math.Min(g.BandRows, rows - r0);
                float* dyBand = dyBlock + (r0 * dyRow);
                for (int k = 0; k < ibCount; k++)
                {
                    float* xBand = xp + ((long)(ibLo + k) * g.XPlane) + (r0 * xRow);
                    float* t = itemTiles + (k * 9 * 256);
                    for (int tap = 0; tap < 9; tap++)
                    {
                        int ky = tap / 3, kx = tap % 3;
                        Tile8x32.MulAcc(xBand + (ky * xRow) + (kx * 8), 8, 1, xRow, dyBand, 32, dyRow, g.Wo, bandRows, t + (tap * 256));
                    }
                }
            }

            if (bias is not null && ibLo == 0)
            {
                SumBias(dyBlock, rows * g.Wo, bias, cb * 32);
            }

            if (directDw is not null)
            {
                for (int k = 0; k < ibCount; k++)
                {
                    AddTile(itemTiles + (k * 9 * 256), g, cb, ibLo + k, directDw);
                }
            }
        }
    }

    /// <summary>bias[o0 + c] += Σ_p block[p·32 + c] (c &lt; 32), summed in float over runs of 256 pixels, the runs in double.</summary>
    private static void SumBias(float* block, int pixels, double[] bias, int o0)
    {
        for (int p0 = 0; p0 < pixels; p0 += 256)
        {
            int p1 = Math.Min(pixels, p0 + 256);
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (float* s = block + ((long)p0 * 32), end = block + ((long)p1 * 32); s < end; s += 32)
            {
                s0 += Vector256.Load(s);
                s1 += Vector256.Load(s + 8);
                s2 += Vector256.Load(s + 16);
                s3 += Vector256.Load(s + 24);
            }

            for (int c = 0; c < 8; c++)
            {
                bias[o0 + c] += s0[c];
                bias[o0 + 8 + c] += s1[c];
                bias[o0 + 16 + c] += s2[c];
                bias[o0 + 24 + c] += s3[c];
            }
        }
    }

    /// <summary>Adds the tiles of pairs [p0, p1) (pair = ib + ciBlocks·cb; tiles [pair][tap][8 ci][32 co]) to dw (Co, Ci, 3, 3).</summary>
    private static void AddTiles(float[] tiles, WeightsGeometry g, int p0, int p1, float[] dw)
    {
        fixed (float* tp = tiles)
        {
            for (int pair = p0; pair < p1; pair++)
            {
                AddTile(tp + ((long)pair * 9 * 256), g, pair / g.CiBlocks, pair % g.CiBlocks, dw);
            }
        }
    }

    /// <summary>Adds the tile [tap][8 ci][32 co] of co block cb and ci block ib to dw (Co, Ci, 3, 3).</summary>
    private static void AddTile(float* tile, WeightsGeometry g, int cb, int ib, float[] dw)
    {
        int ci = g.Ci;
        int oCount = Math.Min(32, g.Co - (cb * 32)), iCount = Math.Min(8, ci - (ib * 8));
        if (Avx.IsSupported && oCount == 32 && iCount == 8)
        {
            fixed (float* dwp = dw)
            {
                AddFullTile(tile, dwp + ((((long)cb * 32 * ci) + (ib * 8)) * 9), (long)ci * 9);
            }

            return;
        }

        for (int ol = 0; ol < oCount; ol++)
        {
            int dwBase = ((((cb * 32) + ol) * ci) + (ib * 8)) * 9;
            for (int il = 0; il < iCount; il++)
            {
                for (int t = 0; t < 9; t++)
                {
                    dw[dwBase + (il * 9) + t] += tile[(t * 256) + (il * 32) + ol];
                }
            }
        }
    }

    /// <summary>
    /// A full tile [tap][8 il][32 ol] into dw: output channel ol's 72 weights dw[ol·oStride + il·9 + tap] are
    /// contiguous, so the tile is transposed 8 × 8 (eight of those 72 positions × eight output channels) and added a
    /// vector at a time (the scalar strided version cost ~3 ms of conv5_1's ~30 ms at 512→512).
    /// </summary>
    private static void AddFullTile(float* tile, float* dw, long oStride)
    {
        for (int kg = 0; kg < 9; kg++)
        {
            // Position k = 8·kg + j of a 72-run is (il, tap) = (k / 9, k % 9): tile row tap·8 + il.
            float* r0 = TileRow(tile, (8 * kg) + 0), r1 = TileRow(tile, (8 * kg) + 1), r2 = TileRow(tile, (8 * kg) + 2), r3 = TileRow(tile, (8 * kg) + 3);
            float* r4 = TileRow(tile, (8 * kg) + 4), r5 = TileRow(tile, (8 * kg) + 5), r6 = TileRow(tile, (8 * kg) + 6), r7 = TileRow(tile, (8 * kg) + 7);
            for (int og = 0; og < 32; og += 8)
            {
                Vector256<float> t0 = Avx.UnpackLow(Avx.LoadVector256(r0 + og), Avx.LoadVector256(r1 + og));
                Vector256<float> t1 = Avx.UnpackHigh(Avx.LoadVector256(r0 + og), Avx.LoadVector256(r1 + og));
                Vector256<float> t2 = Avx.UnpackLow(Avx.LoadVector256(r2 + og), Avx.LoadVector256(r3 + og));
                Vector256<float> t3 = Avx.UnpackHigh(Avx.LoadVector256(r2 + og), Avx.LoadVector256(r3 + og));
                Vector256<float> t4 = Avx.UnpackLow(Avx.LoadVector256(r4 + og), Avx.LoadVector256(r5 + og));
                Vector256<float> t5 = Avx.UnpackHigh(Avx.LoadVector256(r4 + og), Avx.LoadVector256(r5 + og));
                Vector256<float> t6 = Avx.UnpackLow(Avx.LoadVector256(r6 + og), Avx.LoadVector256(r7 + og));
                Vector256<float> t7 = Avx.UnpackHigh(Avx.LoadVector256(r6 + og), Avx.LoadVector256(r7 + og));
                Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE);
                Vector256<float> s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
                Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE);
                Vector256<float> s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
                float* d = dw + ((long)og * oStride) + (8 * kg);
                AddTo(d, Avx.Permute2x128(s0, s4, 0x20));
                AddTo(d + oStride, Avx.Permute2x128(s1, s5, 0x20));
                AddTo(d + (2 * oStride), Avx.Permute2x128(s2, s6, 0x20));
                AddTo(d + (3 * oStride), Avx.Permute2x128(s3, s7, 0x20));
                AddTo(d + (4 * oStride), Avx.Permute2x128(s0, s4, 0x31));
                AddTo(d + (5 * oStride), Avx.Permute2x128(s1, s5, 0x31));
                AddTo(d + (6 * oStride), Avx.Permute2x128(s2, s6, 0x31));
                AddTo(d + (7 * oStride), Avx.Permute2x128(s3, s7, 0x31));
            }
        }

        static float* TileRow(float* tile, int k) => tile + ((((k % 9) * 8) + (k / 9)) * 32);

        static void AddTo(float* d, Vector256<float> v) => Avx.Store(d, Avx.Add(Avx.LoadVector256(d), v));
    }

    /// <summary>
    /// Input row iy of image b into packed row r of every ci block ([ib][r][SlabWidth][8]): slab column j holds
    /// input column j − pad; outside the image zeros, or wrap-around when circular; channels past Ci zero.
    /// </summary>
    private static void PackXRow(float* x, WeightsGeometry g, int b, int iy, int r, float* dst)
    {
        int ci = g.Ci, fullBlocks = ci / 8, tail = ci % 8;
        long plane = g.XPlane;
        float* rowDst = dst + ((long)r * g.SlabWidth * 8);
        if (iy < 0 || iy >= g.H)
        {
            if (!g.Circular)
            {
                for (int ib = 0; ib < g.CiBlocks; ib++)
                {
                    new Span<float>(rowDst + (ib * plane), g.SlabWidth * 8).Clear();
                }

                return;
            }

            iy = ((iy % g.H) + g.H) % g.H;
        }

        float* srcRow = x + ((((long)b * g.H) + iy) * g.W * ci);
        for (int j = 0; j < g.SlabWidth; j++)
        {
            float* d = rowDst + (j * 8);
            int ix = j - g.Pad;
            if (ix < 0 || ix >= g.W)
            {
                if (!g.Circular || j >= g.W + (2 * g.Pad))
                {
                    for (int ib = 0; ib < g.CiBlocks; ib++)
                    {
                        Vector256<float>.Zero.Store(d + (ib * plane));
                    }

                    continue;
                }

                ix = ((ix % g.W) + g.W) % g.W;
            }

            float* s = srcRow + ((long)ix * ci);
            for (int ib = 0; ib < fullBlocks; ib++)
            {
                Vector256.Load(s + (ib * 8)).Store(d + (ib * plane));
            }

            if (tail != 0)
            {
                float* dt = d + (fullBlocks * plane);
                for (int k = 0; k < 8; k++)
                {
                    dt[k] = k < tail ? s[(fullBlocks * 8) + k] : 0f;
                }
            }
        }
    }

    /// <summary>One row of dy (Wo pixels, stride Co) into packed row r of every co block ([cb][r·Wo + ox][32]), channels past Co zero.</summary>
    private static void PackDyRow(float* dy, WeightsGeometry g, int r, float* dst)
    {
        int co = g.Co, fullBlocks = co / 32, tail = co % 32;
        long plane = g.DyPlane;
        float* rowDst = dst + ((long)r * g.Wo * 32);
        for (int ox = 0; ox < g.Wo; ox++)
        {
            float* s = dy + ((long)ox * co);
            float* d = rowDst + (ox * 32);
            for (int cb = 0; cb < fullBlocks; cb++)
            {
                float* sb = s + (cb * 32);
                float* db = d + (cb * plane);
                Vector256.Load(sb).Store(db);
                Vector256.Load(sb + 8).Store(db + 8);
                Vector256.Load(sb + 16).Store(db + 16);
                Vector256.Load(sb + 24).Store(db + 24);
            }

            if (tail != 0)
            {
                float* st = s + (fullBlocks * 32);
                float* dt = d + (fullBlocks * plane);
                for (int c = 0; c < 32; c++)
                {
                    dt[c] = c < tail ? st[c] : 0f;
                }
            }
        }
    }
}
