using System.Runtime.Intrinsics;

namespace NeuralStyle.Imaging.Jpeg;

/// <summary>
/// The JPEG encoding worker: colour conversion (libjpeg's fixed-point RGB→YCbCr), optional 4:2:0 chroma averaging,
/// float forward DCT, Annex K quantisation scaled like libjpeg's quality setting, standard or optimal Huffman tables
/// (Annex K.2, the algorithm of libjpeg's jpeg_gen_optimal_table), baseline sequential output with a JFIF header.
/// </summary>
internal sealed class JpegEncoderCore
{
    private static readonly byte[] ZigZag =
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ];

    // ITU T.81 Annex K.1, natural (row-major) order.
    private static readonly byte[] LumaQuant =
    [
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    ];

    private static readonly byte[] ChromaQuant =
    [
        17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
        24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    ];

    // ITU T.81 Annex K.3.
    private static readonly byte[] DcLumaBits = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    private static readonly byte[] DcChromaBits = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
    private static readonly byte[] DcValues = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    private static readonly byte[] AcLumaBits = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
    private static readonly byte[] AcLumaValues =
    [
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
        0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
        0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
        0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
        0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
        0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
        0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
        0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
        0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
        0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
        0xf9, 0xfa,
    ];
    private static readonly byte[] AcChromaBits = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
    private static readonly byte[] AcChromaValues =
    [
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
        0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
        0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
        0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
        0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
        0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
        0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
        0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
        0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
        0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
        0xf9, 0xfa,
    ];

    // DCT basis: M[u*8+x] = c(u)/2 * cos((2x+1)uπ/16), so F = M·X·Mᵀ is the JPEG-normalised 2-D DCT.
    private static readonly float[] DctMatrix = BuildDct();

    private readonly JpegEncoderOptions _options;

    public JpegEncoderCore(JpegEncoderOptions options) => _options = options;

    private static float[] BuildDct()
    {
        var m = new float[64];
        for (int u = 0; u < 8; u++)
            for (int x = 0; x < 8; x++)
                m[u * 8 + x] = (float)((u == 0 ? Math.Sqrt(0.125) : 0.5) * Math.Cos((2 * x + 1) * u * Math.PI / 16));
        return m;
    }

    /// <summary>libjpeg's jpeg_quality_scaling + jpeg_add_quant_table with force_baseline (values clamped to 1..255).</summary>
    internal static byte[] ScaleQuant(byte[] basic, int quality)
    {
        int scale = quality < 50 ? 5000 / quality : 200 - quality * 2;
        var t = new byte[64];
        for (int i = 0; i < 64; i++)
        {
            long v = (basic[i] * (long)scale + 50) / 100;
            t[i] = (byte)Math.Clamp(v, 1, 255);
        }
        return t;
    }

    private sealed class Plane
    {
        public int Width;   // padded to whole blocks of the MCU grid
        public int Height;
        public byte[] Samples = [];
        public short[] Blocks = []; // quantised coefficients, zig-zag order, 64 per block
        public int BlocksX;
        public int BlocksY;
        public int H = 1;
        public int V = 1;
        public int TableIndex; // 0 luma, 1 chroma
    }

    public byte[] Encode(Image image)
    {
        int w = image.Width, h = image.Height;
        bool colour = image.Channels >= 3;
        bool sub = colour && _options.Subsampling == JpegSubsampling.Yuv420;
        int hmax = sub ? 2 : 1, vmax = sub ? 2 : 1;
        int mcuW = 8 * hmax, mcuH = 8 * vmax;
        int pw = (w + mcuW - 1) / mcuW * mcuW, ph = (h + mcuH - 1) / mcuH * mcuH;

        Plane[] planes = BuildPlanes(image, pw, ph, colour, sub);
        byte[][] quant = [ScaleQuant(LumaQuant, _options.Quality), ScaleQuant(ChromaQuant, _options.Quality)];
        foreach (var p in planes) ForwardTransform(p, quant[p.TableIndex]);

        int mcusX = pw / mcuW, mcusY = ph / mcuH;
        int tables = colour ? 2 : 1;
        var dcBits = new byte[tables][];
        var dcVals = new byte[tables][];
        var acBits = new byte[tables][];
        var acVals = new byte[tables][];
        if (_options.OptimizeHuffman)
        {
            var dcFreq = new long[tables][];
            var acFreq = new long[tables][];
            for (int t = 0; t < tables; t++)
            {
                dcFreq[t] = new long[257];
                acFreq[t] = new long[257];
            }
            ForEachBlock(planes, mcusX, mcusY, (p, blk, pred) => CountBlock(p.Blocks, blk, pred, dcFreq[p.TableIndex], acFreq[p.TableIndex]));
            for (int t = 0; t < tables; t++)
            {
                (dcBits[t], dcVals[t]) = OptimalTable(dcFreq[t]);
                (acBits[t], acVals[t]) = OptimalTable(acFreq[t]);
            }
        }
        else
        {
            dcBits[0] = DcLumaBits; dcVals[0] = DcValues; acBits[0] = AcLumaBits; acVals[0] = AcLumaValues;
            if (colour)
            {
                dcBits[1] = DcChromaBits; dcVals[1] = DcValues; acBits[1] = AcChromaBits; acVals[1] = AcChromaValues;
            }
        }

        var dcCodes = new (uint Code, int Length)[tables][];
        var acCodes = new (uint Code, int Length)[tables][];
        for (int t = 0; t < tables; t++)
        {
            dcCodes[t] = BuildCodes(dcBits[t], dcVals[t]);
            acCodes[t] = BuildCodes(acBits[t], acVals[t]);
        }

        var writer = new JpegBitWriter(w * h / 4 + 1024);
        WriteHeaders(writer, w, h, planes, quant, tables, dcBits, dcVals, acBits, acVals);
        ForEachBlock(planes, mcusX, mcusY, (p, blk, pred) => EmitBlock(writer, p.Blocks, blk, pred, dcCodes[p.TableIndex], acCodes[p.TableIndex]));
        writer.Flush();
        writer.WriteMarker(0xD9);
        return writer.ToArray();
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static Plane[] BuildPlanes(Image image, int pw, int ph, bool colour, bool sub)
    {
        int w = image.Width, h = image.Height, ch = image.Channels;
        float[] src = image.Data;
        int n = colour ? 3 : 1;
        var full = new byte[n][];
        for (int i = 0; i < n; i++) full[i] = new byte[pw * ph];

        // Rows are independent: convert them in parallel for large images.
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        void ConvertRow(int y)
        {
            const int scaleBits = 16;
            const int half = 1 << (scaleBits - 1);
            const int cbcrOffset = 128 << scaleBits;
            int sy = Math.Min(y, h - 1);
            int rowBase = sy * w * ch;
            int o = y * pw;
            if (!colour)
            {
                byte[] g = full[0];
                for (int x = 0; x < w; x++) g[o + x] = ToByte(src[rowBase + x * ch]);
                for (int x = w; x < pw; x++) g[o + x] = g[o + w - 1];
                return;
            }
            byte[] p0 = full[0], p1 = full[1], p2 = full[2];
            Span<byte> rowBytes = w * ch <= 16384 ? stackalloc byte[w * ch] : new byte[w * ch];
            ToBytes(src.AsSpan(rowBase, w * ch), rowBytes);
            for (int x = 0, s = 0; x < w; x++, s += ch)
            {
                int r = rowBytes[s], g = rowBytes[s + 1], b = rowBytes[s + 2];
                // libjpeg jccolor.c rgb_ycc_convert, fixed point.
                p0[o + x] = (byte)((19595 * r + 38470 * g + 7471 * b + half) >> scaleBits);
                p1[o + x] = (byte)((-11059 * r - 21709 * g + 32768 * b + cbcrOffset + half - 1) >> scaleBits);
                p2[o + x] = (byte)((32768 * r - 27439 * g - 5329 * b + cbcrOffset + half - 1) >> scaleBits);
            }
            for (int x = w; x < pw; x++)
            {
                p0[o + x] = p0[o + w - 1];
                p1[o + x] = p1[o + w - 1];
                p2[o + x] = p2[o + w - 1];
            }
        }
        if ((long)pw * ph >= 1 << 20) Parallel.For(0, ph, ConvertRow);
        else for (int y = 0; y < ph; y++) ConvertRow(y);

        var planes = new Plane[n];
        for (int i = 0; i < n; i++)
        {
            bool chroma = i > 0;
            var p = new Plane { TableIndex = chroma ? 1 : 0 };
            if (sub && !chroma)
            {
                p.H = 2;
                p.V = 2;
            }
            if (sub && chroma)
            {
                p.Width = pw / 2;
                p.Height = ph / 2;
                p.Samples = new byte[p.Width * p.Height];
                byte[] f = full[i];
                for (int y = 0; y < p.Height; y++)
                {
                    int bias = 1;
                    for (int x = 0; x < p.Width; x++)
                    {
                        int a = (2 * y) * pw + 2 * x;
                        // libjpeg h2v2_downsample: average of 4 with alternating bias 1, 2.
                        p.Samples[y * p.Width + x] = (byte)((f[a] + f[a + 1] + f[a + pw] + f[a + pw + 1] + bias) >> 2);
                        bias ^= 3;
                    }
                }
            }
            else
            {
                p.Width = pw;
                p.Height = ph;
                p.Samples = full[i];
            }
            p.BlocksX = p.Width / 8;
            p.BlocksY = p.Height / 8;
            planes[i] = p;
        }
        return planes;
    }

    /// <summary>Vectorised <see cref="ToByte"/> over a span: round(clamp(v, 0, 1) × 255), NaN → 0.</summary>
    private static void ToBytes(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var scale = Vector256.Create(255f);
            var half = Vector256.Create(0.5f);
            var zero = Vector256<float>.Zero;
            var max = Vector256.Create(255f);
            Span<int> tmp = stackalloc int[8];
            for (; i + 8 <= src.Length; i += 8)
            {
                var v = Vector256.Create(src.Slice(i, 8)) * scale + half;
                v = Vector256.ConditionalSelect(Vector256.Equals(v, v), v, zero); // NaN → 0
                v = Vector256.Min(Vector256.Max(v, zero), max);
                Vector256.ConvertToInt32(v).CopyTo(tmp);
                for (int k = 0; k < 8; k++) dst[i + k] = (byte)tmp[k];
            }
        }
        for (; i < src.Length; i++) dst[i] = ToByte(src[i]);
    }

    private static byte ToByte(float v)
    {
        float s = v * 255f + 0.5f;
        return (byte)(s <= 0f ? 0 : s >= 255f ? 255 : (int)s); // NaN → 0
    }

    // x (8 rows of 8 samples, level-shifted) -> F = M·X·Mᵀ, quantised, zig-zag. Rows are Vector256<float>; plain
    // multiply and add (no FMA) so the hardware and software paths of Vector256 give the same bits.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void ForwardTransform(Plane p, byte[] quant)
    {
        p.Blocks = new short[p.BlocksX * p.BlocksY * 64];
        const int band = 8;
        int bands = (p.BlocksY + band - 1) / band;
        if ((long)p.Width * p.Height >= 1 << 20)
            Parallel.For(0, bands, b => ForwardTransformRows(p, quant, b * band, Math.Min(p.BlocksY, (b + 1) * band)));
        else
            ForwardTransformRows(p, quant, 0, p.BlocksY);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ForwardTransformRows(Plane p, byte[] quant, int by0, int by1)
    {
        // recipT[v] lane u = 1 / quant[u*8 + v]: quantises a column of F.
        var recipT = new Vector256<float>[8];
        for (int v = 0; v < 8; v++)
        {
            var lanes = new float[8];
            for (int u = 0; u < 8; u++) lanes[u] = 1f / quant[u * 8 + v];
            recipT[v] = Vector256.Create(lanes);
        }
        float[] m = DctMatrix;
        var x = new Vector256<float>[8];
        var t = new Vector256<float>[8];
        var half = Vector256.Create(0.5f);
        var level = Vector256.Create(128f);
        int* q = stackalloc int[8];
        fixed (byte* samples = p.Samples)
        fixed (short* blocks = p.Blocks)
        {
            for (int by = by0; by < by1; by++)
            {
                for (int bx = 0; bx < p.BlocksX; bx++)
                {
                    byte* s = samples + (by * 8) * p.Width + bx * 8;
                    for (int r = 0; r < 8; r++)
                    {
                        byte* row = s + r * p.Width;
                        x[r] = System.Runtime.Intrinsics.X86.Avx2.IsSupported
                            ? Vector256.ConvertToSingle(System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(row)) - level
                            : Vector256.Create((float)row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7]) - level;
                    }

                    // t[u] = Σk M[u,k]·x[k]  (row u of M·X)
                    for (int u = 0; u < 8; u++)
                    {
                        var acc = Vector256.Create(m[u * 8]) * x[0];
                        for (int k = 1; k < 8; k++) acc += Vector256.Create(m[u * 8 + k]) * x[k];
                        t[u] = acc;
                    }
                    Transpose(t); // t[k] lane u = (M·X)[u,k]

                    short* dst = blocks + (by * p.BlocksX + bx) * 64;
                    for (int v = 0; v < 8; v++)
                    {
                        // column v of F: lane u = Σk (M·X)[u,k]·M[v,k]
                        var acc = Vector256.Create(m[v * 8]) * t[0];
                        for (int k = 1; k < 8; k++) acc += Vector256.Create(m[v * 8 + k]) * t[k];
                        var scaled = acc * recipT[v];
                        // round half away from zero
                        var rounded = Vector256.ConvertToInt32(scaled + Vector256.ConditionalSelect(Vector256.LessThan(scaled, Vector256<float>.Zero), -half, half));
                        rounded.Store(q);
                        for (int u = 0; u < 8; u++) dst[ZigZagInverse[u * 8 + v]] = (short)q[u];
                    }
                }
            }
        }
    }

    private static void Transpose(Vector256<float>[] r)
    {
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            // A transpose only moves 32-bit lanes: reuse the integer one on the same bits.
            Vector256<int> r0 = r[0].AsInt32(), r1 = r[1].AsInt32(), r2 = r[2].AsInt32(), r3 = r[3].AsInt32();
            Vector256<int> r4 = r[4].AsInt32(), r5 = r[5].AsInt32(), r6 = r[6].AsInt32(), r7 = r[7].AsInt32();
            JpegIdct.Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
            (r[0], r[1], r[2], r[3]) = (r0.AsSingle(), r1.AsSingle(), r2.AsSingle(), r3.AsSingle());
            (r[4], r[5], r[6], r[7]) = (r4.AsSingle(), r5.AsSingle(), r6.AsSingle(), r7.AsSingle());
            return;
        }
        Span<float> tmp = stackalloc float[64];
        for (int i = 0; i < 8; i++) r[i].CopyTo(tmp.Slice(i * 8, 8));
        for (int i = 0; i < 8; i++)
            r[i] = Vector256.Create(tmp[i], tmp[8 + i], tmp[16 + i], tmp[24 + i], tmp[32 + i], tmp[40 + i], tmp[48 + i], tmp[56 + i]);
    }

    private static readonly byte[] ZigZagInverse = BuildInverse();

    private static byte[] BuildInverse()
    {
        var inv = new byte[64];
        for (int i = 0; i < 64; i++) inv[ZigZag[i]] = (byte)i;
        return inv;
    }

    /// <summary>Visits blocks in interleaved MCU order, giving each block its DC predictor (the previous DC of its plane).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void ForEachBlock(Plane[] planes, int mcusX, int mcusY, Action<Plane, int, int> visit)
    {
        var pred = new int[planes.Length];
        for (int my = 0; my < mcusY; my++)
            for (int mx = 0; mx < mcusX; mx++)
                for (int i = 0; i < planes.Length; i++)
                {
                    var p = planes[i];
                    for (int v = 0; v < p.V; v++)
                        for (int h = 0; h < p.H; h++)
                        {
                            int blk = ((my * p.V + v) * p.BlocksX + mx * p.H + h) * 64;
                            visit(p, blk, pred[i]);
                            pred[i] = p.Blocks[blk];
                        }
                }
    }

    private static int BitLength(int v)
    {
        v = Math.Abs(v);
        return v == 0 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)v);
    }

    /// <summary>Bit k set when AC coefficient k (zig-zag, 1..63) of the block is non-zero.</summary>
    private static unsafe ulong NonZeroMask(short[] blocks, int blk)
    {
        fixed (short* p = &blocks[blk])
        {
            if (Vector256.IsHardwareAccelerated)
            {
                ulong m = 0;
                for (int i = 0; i < 4; i++)
                {
                    var v = Vector256.Load(p + 16 * i);
                    uint bits = ~Vector256.Equals(v, Vector256<short>.Zero).ExtractMostSignificantBits() & 0xFFFF;
                    m |= (ulong)bits << (16 * i);
                }
                return m & ~1UL;
            }
            ulong mask = 0;
            for (int k = 1; k < 64; k++)
                if (p[k] != 0) mask |= 1UL << k;
            return mask;
        }
    }

    private static void CountBlock(short[] blocks, int blk, int pred, long[] dcFreq, long[] acFreq)
    {
        dcFreq[BitLength(blocks[blk] - pred)]++;
        ulong mask = NonZeroMask(blocks, blk);
        int last = 0;
        while (mask != 0)
        {
            int k = System.Numerics.BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            int run = k - last - 1;
            while (run > 15)
            {
                acFreq[0xF0]++;
                run -= 16;
            }
            acFreq[(run << 4) | BitLength(blocks[blk + k])]++;
            last = k;
        }
        if (last < 63) acFreq[0]++;
    }

    private static void EmitBlock(JpegBitWriter wr, short[] blocks, int blk, int pred, (uint Code, int Length)[] dc, (uint Code, int Length)[] ac)
    {
        int diff = blocks[blk] - pred;
        int n = BitLength(diff);
        wr.Write(dc[n].Code, dc[n].Length);
        if (n > 0) wr.Write((uint)(diff < 0 ? diff - 1 : diff) & ((1u << n) - 1), n);
        ulong mask = NonZeroMask(blocks, blk);
        int last = 0;
        while (mask != 0)
        {
            int k = System.Numerics.BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            int run = k - last - 1;
            while (run > 15)
            {
                wr.Write(ac[0xF0].Code, ac[0xF0].Length);
                run -= 16;
            }
            int v = blocks[blk + k];
            n = BitLength(v);
            int sym = (run << 4) | n;
            wr.Write(ac[sym].Code, ac[sym].Length);
            wr.Write((uint)(v < 0 ? v - 1 : v) & ((1u << n) - 1), n);
            last = k;
        }
        if (last < 63) wr.Write(ac[0].Code, ac[0].Length);
    }

    /// <summary>Canonical codes (Annex C) indexed by symbol.</summary>
    private static (uint, int)[] BuildCodes(byte[] bits, byte[] values)
    {
        var codes = new (uint, int)[256];
        uint code = 0;
        int k = 0;
        for (int len = 1; len <= 16; len++)
        {
            for (int i = 0; i < bits[len - 1]; i++) codes[values[k++]] = (code++, len);
            code <<= 1;
        }
        return codes;
    }

    /// <summary>Optimal code lengths limited to 16 bits, as libjpeg's jpeg_gen_optimal_table (ITU T.81 Annex K.2).</summary>
    internal static (byte[] Bits, byte[] Values) OptimalTable(long[] freqIn)
    {
        var freq = (long[])freqIn.Clone();
        freq[256] = 1; // reserved symbol: guarantees no code is all ones
        var codesize = new int[257];
        var others = new int[257];
        Array.Fill(others, -1);
        while (true)
        {
            int c1 = -1, c2 = -1;
            long v = long.MaxValue;
            for (int i = 0; i <= 256; i++)
                if (freq[i] != 0 && freq[i] <= v) { v = freq[i]; c1 = i; }
            v = long.MaxValue;
            for (int i = 0; i <= 256; i++)
                if (freq[i] != 0 && freq[i] <= v && i != c1) { v = freq[i]; c2 = i; }
            if (c2 < 0) break;
            freq[c1] += freq[c2];
            freq[c2] = 0;
            codesize[c1]++;
            while (others[c1] >= 0) { c1 = others[c1]; codesize[c1]++; }
            others[c1] = c2;
            codesize[c2]++;
            while (others[c2] >= 0) { c2 = others[c2]; codesize[c2]++; }
        }
        var bits = new int[64];
        for (int i = 0; i <= 256; i++)
            if (codesize[i] > 0) bits[codesize[i]]++;
        for (int i = 63; i > 16; i--)
        {
            while (bits[i] > 0)
            {
                int j = i - 2;
                while (bits[j] == 0) j--;
                bits[i] -= 2;
                bits[i - 1]++;
                bits[j + 1] += 2;
                bits[j]--;
            }
        }
        int last = 16;
        while (bits[last] == 0) last--;
        bits[last]--; // drop the reserved symbol
        var values = new List<byte>();
        for (int len = 1; len < 64; len++)
            for (int s = 0; s < 256; s++)
                if (codesize[s] == len) values.Add((byte)s);
        var outBits = new byte[16];
        for (int i = 0; i < 16; i++) outBits[i] = (byte)bits[i + 1];
        return (outBits, values.ToArray());
    }

    private static void WriteHeaders(JpegBitWriter wr, int w, int h, Plane[] planes, byte[][] quant, int tables,
        byte[][] dcBits, byte[][] dcVals, byte[][] acBits, byte[][] acVals)
    {
        wr.WriteMarker(0xD8);
        // APP0 JFIF 1.01, aspect ratio 1:1.
        wr.WriteMarker(0xE0);
        wr.WriteRaw([0, 16, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
        // DQT
        wr.WriteMarker(0xDB);
        int len = 2 + tables * 65;
        wr.WriteRaw([(byte)(len >> 8), (byte)len]);
        for (int t = 0; t < tables; t++)
        {
            wr.WriteRaw([(byte)t]);
            var zz = new byte[64];
            for (int i = 0; i < 64; i++) zz[i] = quant[t][ZigZag[i]];
            wr.WriteRaw(zz);
        }
        // SOF0
        wr.WriteMarker(0xC0);
        len = 8 + 3 * planes.Length;
        wr.WriteRaw([(byte)(len >> 8), (byte)len, 8, (byte)(h >> 8), (byte)h, (byte)(w >> 8), (byte)w, (byte)planes.Length]);
        for (int i = 0; i < planes.Length; i++)
            wr.WriteRaw([(byte)(i + 1), (byte)((planes[i].H << 4) | planes[i].V), (byte)planes[i].TableIndex]);
        // DHT
        for (int t = 0; t < tables; t++)
        {
            WriteDht(wr, 0x00 | t, dcBits[t], dcVals[t]);
            WriteDht(wr, 0x10 | t, acBits[t], acVals[t]);
        }
        // SOS
        wr.WriteMarker(0xDA);
        len = 6 + 2 * planes.Length;
        wr.WriteRaw([(byte)(len >> 8), (byte)len, (byte)planes.Length]);
        for (int i = 0; i < planes.Length; i++)
            wr.WriteRaw([(byte)(i + 1), (byte)((planes[i].TableIndex << 4) | planes[i].TableIndex)]);
        wr.WriteRaw([0, 63, 0]);
    }

    private static void WriteDht(JpegBitWriter wr, int classId, byte[] bits, byte[] values)
    {
        wr.WriteMarker(0xC4);
        int len = 2 + 1 + 16 + values.Length;
        wr.WriteRaw([(byte)(len >> 8), (byte)len, (byte)classId]);
        wr.WriteRaw(bits);
        wr.WriteRaw(values);
    }
}

/// <summary>Big-endian bit writer with JPEG byte stuffing (0xFF → 0xFF 0x00) in entropy-coded data.</summary>
internal sealed class JpegBitWriter
{
    private byte[] _buf;
    private int _len;
    private ulong _acc;
    private int _bits;

    public JpegBitWriter(int capacity) => _buf = new byte[Math.Max(capacity, 4096)];

    private void Ensure(int extra)
    {
        if (_len + extra > _buf.Length) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _len + extra));
    }

    public void WriteMarker(int marker)
    {
        Ensure(2);
        _buf[_len++] = 0xFF;
        _buf[_len++] = (byte)marker;
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buf.AsSpan(_len));
        _len += bytes.Length;
    }

    public void Write(uint value, int count)
    {
        _acc = (_acc << count) | value;
        _bits += count;
        if (_bits >= 32) Drain();
    }

    private void Drain()
    {
        Ensure(16);
        while (_bits >= 8)
        {
            byte b = (byte)(_acc >> (_bits - 8));
            _buf[_len++] = b;
            if (b == 0xFF) _buf[_len++] = 0;
            _bits -= 8;
        }
    }

    /// <summary>Pads the last byte with 1-bits and writes everything out.</summary>
    public void Flush()
    {
        Drain();
        if (_bits > 0)
        {
            int pad = 8 - _bits;
            Write((1u << pad) - 1, pad);
            Drain();
        }
        _acc = 0;
    }

    public byte[] ToArray() => _buf.AsSpan(0, _len).ToArray();
}
