namespace NeuralStyle.Imaging.Jpeg;

/// <summary>Output stage: progressive IDCT, libjpeg-compatible "fancy" upsampling, colour conversion, orientation.</summary>
internal sealed partial class JpegDecoderCore
{
    private const int ScaleBits = 16;
    private const int OneHalf = 1 << (ScaleBits - 1);

    private static int Fix(double x) => (int)(x * (1 << ScaleBits) + 0.5);

    private static readonly int[] CrR = BuildTable(i => (Fix(1.40200) * i + OneHalf) >> ScaleBits);
    private static readonly int[] CbB = BuildTable(i => (Fix(1.77200) * i + OneHalf) >> ScaleBits);
    private static readonly int[] CrG = BuildTable(i => -Fix(0.71414) * i);
    private static readonly int[] CbG = BuildTable(i => -Fix(0.34414) * i + OneHalf);

    private static int[] BuildTable(Func<int, int> f)
    {
        var t = new int[256];
        for (int i = 0; i < 256; i++) t[i] = f(i - 128);
        return t;
    }

    private delegate void RowSink(int y, ReadOnlySpan<byte> row);

    /// <summary>
    /// Produces the output rows (upsampled, colour-converted, interleaved 8-bit) and hands each to the sink. Rows are
    /// independent, so large images are converted in parallel bands; each sink call writes a disjoint region.
    /// </summary>
    private void EmitRows(RowSink sink)
    {
        if (_progressive) InverseTransformAll();
        int h = _height;
        const int band = 32;
        int bands = (h + band - 1) / band;
        if ((long)_width * h >= 1 << 20 && Environment.ProcessorCount > 1)
            Parallel.For(0, bands, b => EmitBand(sink, b * band, Math.Min(h, (b + 1) * band)));
        else
            EmitBand(sink, 0, h);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void EmitBand(RowSink sink, int y0, int y1)
    {
        int w = _width, n = _components.Length;
        int channels = n == 1 ? 1 : 3;
        var rowBufs = new byte[n][];
        for (int i = 0; i < n; i++) rowBufs[i] = new byte[2 * _components[i].Stride + 16];
        var tmp = new ushort[_components.Max(c => c.Stride) + 32];
        var outRow = new byte[w * channels];
        var cmyk = n == 4 ? new byte[w * 3] : null;
        var rows = new byte[n][];
        var offs = new int[n];
        bool isRgb = n == 3 && !_jfif && (_adobe ? _adobeTransform == 0 : _components[0].Id == 'R' && _components[1].Id == 'G' && _components[2].Id == 'B');

        for (int y = y0; y < y1; y++)
        {
            for (int i = 0; i < n; i++) (rows[i], offs[i]) = UpsampleRow(_components[i], y, rowBufs[i], tmp);
            if (n == 1)
            {
                sink(y, rows[0].AsSpan(offs[0], w));
                continue;
            }
            ReadOnlySpan<byte> c0 = rows[0].AsSpan(offs[0], w), c1 = rows[1].AsSpan(offs[1], w), c2 = rows[2].AsSpan(offs[2], w);
            if (n == 3)
            {
                if (isRgb)
                    for (int x = 0, o = 0; x < w; x++, o += 3) (outRow[o], outRow[o + 1], outRow[o + 2]) = (c0[x], c1[x], c2[x]);
                else
                    YccToRgb(c0, c1, c2, outRow);
                sink(y, outRow);
                continue;
            }

            // Four components: CMYK, or YCCK when the Adobe marker says transform 2. Values are taken as Adobe-style
            // inverted CMYK (what Photoshop and PIL write), so RGB = stored C × stored K / 255, as djpeg's CMYK→RGB does.
            ReadOnlySpan<byte> k = rows[3].AsSpan(offs[3], w);
            if (_adobe && _adobeTransform == 2)
            {
                YccToRgb(c0, c1, c2, cmyk);
                for (int x = 0; x < 3 * w; x++) cmyk![x] = (byte)(255 - cmyk[x]);
                for (int x = 0, o = 0; x < w; x++, o += 3)
                {
                    int kk = k[x];
                    outRow[o] = (byte)((2 * cmyk![o] * kk + 255) / 510);
                    outRow[o + 1] = (byte)((2 * cmyk[o + 1] * kk + 255) / 510);
                    outRow[o + 2] = (byte)((2 * cmyk[o + 2] * kk + 255) / 510);
                }
            }
            else
            {
                for (int x = 0, o = 0; x < w; x++, o += 3)
                {
                    int kk = k[x];
                    outRow[o] = (byte)((2 * c0[x] * kk + 255) / 510);
                    outRow[o + 1] = (byte)((2 * c1[x] * kk + 255) / 510);
                    outRow[o + 2] = (byte)((2 * c2[x] * kk + 255) / 510);
                }
            }
            sink(y, outRow);
        }
    }

    private static void YccToRgb(ReadOnlySpan<byte> y, ReadOnlySpan<byte> cb, ReadOnlySpan<byte> cr, Span<byte> rgb)
    {
        int[] crR = CrR, cbB = CbB, crG = CrG, cbG = CbG;
        for (int i = 0, o = 0; i < y.Length; i++, o += 3)
        {
            int yv = y[i], cbv = cb[i], crv = cr[i];
            rgb[o] = Clamp(yv + crR[crv]);
            rgb[o + 1] = Clamp(yv + ((cbG[cbv] + crG[crv]) >> ScaleBits));
            rgb[o + 2] = Clamp(yv + cbB[cbv]);
        }
    }

    private static byte Clamp(int v) => (byte)(v < 0 ? 0 : v > 255 ? 255 : v);

    private void InverseTransformAll()
    {
        foreach (var c in _components)
        {
            if (c.Quant is null) continue; // the component never appeared in a scan: its plane stays 0
            // Block rows are independent: transform them in parallel bands for large images.
            const int band = 8;
            int bands = (c.BlocksPerColumn + band - 1) / band;
            if ((long)c.BlocksPerLine * c.BlocksPerColumn >= 16384 && Environment.ProcessorCount > 1)
                Parallel.For(0, bands, b => InverseTransformRows(c, b * band, Math.Min(c.BlocksPerColumn, (b + 1) * band)));
            else
                InverseTransformRows(c, 0, c.BlocksPerColumn);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static unsafe void InverseTransformRows(JpegComponent c, int by0, int by1)
    {
        fixed (short* coef = c.Coefficients)
        fixed (byte* plane = c.Plane)
        fixed (ushort* q = c.Quant)
        {
            for (int by = by0; by < by1; by++)
                for (int bx = 0; bx < c.BlocksPerLine; bx++)
                    JpegIdct.Transform(coef + ((long)by * c.BlocksPerLineAlloc + bx) * 64, q, plane + (long)by * 8 * c.Stride + bx * 8, c.Stride);
        }
    }

    /// <summary>
    /// One full-width row of a component, upsampled exactly as libjpeg-turbo's jdsample.c does by default:
    /// h2v1/h2v2 "fancy" (triangular) when the downsampled width exceeds 2, else replication; h1v2 always fancy.
    /// Rows above the first and below the last real row repeat the edge row (jdmainct.c context rows).
    /// Returns the array and offset where the row starts (the plane itself when no upsampling is needed).
    /// </summary>
    private (byte[] Row, int Offset) UpsampleRow(JpegComponent c, int y, byte[] buf, ushort[] tmp)
    {
        int w = _width;
        int fx = _hMax / c.H, fy = _vMax / c.V;
        byte[] src = c.Plane;
        int stride = c.Stride;
        int dw = c.Width, dh = c.Height;
        bool fancyH = fx == 2 && dw > 2; // libjpeg falls back to replication for narrow components

        if (fy == 1)
        {
            int srcOff = y * stride;
            if (fx == 1) return (src, srcOff);
            if (fancyH) JpegUpsampler.H2V1FancyRow(src.AsSpan(srcOff, dw), buf);
            else for (int x = 0; x < w; x++) buf[x] = src[srcOff + (x >> 1)];
            return (buf, 0);
        }

        // fy == 2: output row y comes from input row r = y/2, paired with the row above (even y) or below (odd y).
        int r = y >> 1;
        bool upper = (y & 1) == 0;
        int nr = upper ? r - 1 : r + 1;
        nr = nr < 0 ? 0 : nr > dh - 1 ? dh - 1 : nr;
        int r0 = Math.Min(r, dh - 1);
        int off0 = r0 * stride, off1 = nr * stride;

        if (fx == 1)
        {
            // h1v2 fancy: (3*near + far + bias) >> 2, bias 1 for the upper output row and 2 for the lower.
            int bias = upper ? 1 : 2;
            for (int x = 0; x < w; x++) buf[x] = (byte)((3 * src[off0 + x] + src[off1 + x] + bias) >> 2);
        }
        else if (fancyH)
        {
            // h2v2 fancy: vertical 3:1 column sums, then horizontal 3:1 with biases 8 and 7, >> 4.
            JpegUpsampler.H2V2FancyRow(src.AsSpan(off0, dw), src.AsSpan(off1, dw), tmp, buf);
        }
        else
        {
            for (int x = 0; x < w; x++) buf[x] = src[off0 + (x >> 1)]; // plain h2v2 replication (narrow components)
        }
        return (buf, 0);
    }

    /// <summary>Applies EXIF orientation 1-8 so the result is upright (same mapping as PIL's exif_transpose).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static byte[] ApplyOrientation(byte[] src, int w, int h, int ch, int orientation, out int outW, out int outH)
    {
        if (orientation is < 2 or > 8)
        {
            outW = w;
            outH = h;
            return src;
        }
        bool swap = orientation >= 5;
        outW = swap ? h : w;
        outH = swap ? w : h;
        var dst = new byte[src.Length];
        int ow = outW, oh = outH;
        for (int y = 0; y < oh; y++)
        {
            for (int x = 0; x < ow; x++)
            {
                int sx, sy;
                switch (orientation)
                {
                    case 2: sx = w - 1 - x; sy = y; break;
                    case 3: sx = w - 1 - x; sy = h - 1 - y; break;
                    case 4: sx = x; sy = h - 1 - y; break;
                    case 5: sx = y; sy = x; break;
                    case 6: sx = y; sy = h - 1 - x; break;
                    case 7: sx = w - 1 - y; sy = h - 1 - x; break;
                    default: sx = w - 1 - y; sy = x; break; // 8
                }
                int s = (sy * w + sx) * ch, d = (y * ow + x) * ch;
                for (int c = 0; c < ch; c++) dst[d + c] = src[s + c];
            }
        }
        return dst;
    }
}
