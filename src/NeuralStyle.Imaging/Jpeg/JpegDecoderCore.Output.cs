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

    private byte[] ConvertToOutput(out int channels)
    {
        if (_progressive) InverseTransformAll();

        int w = _width, h = _height, n = _components.Length;
        var full = new byte[n][];
        for (int i = 0; i < n; i++) full[i] = Upsample(_components[i]);

        int pixels = w * h;
        if (n == 1)
        {
            channels = 1;
            return full[0];
        }

        channels = 3;
        var rgb = new byte[pixels * 3];
        if (n == 3)
        {
            bool isRgb = !_jfif && (_adobe ? _adobeTransform == 0 : _components[0].Id == 'R' && _components[1].Id == 'G' && _components[2].Id == 'B');
            byte[] c0 = full[0], c1 = full[1], c2 = full[2];
            if (isRgb)
            {
                for (int i = 0, o = 0; i < pixels; i++, o += 3)
                {
                    rgb[o] = c0[i];
                    rgb[o + 1] = c1[i];
                    rgb[o + 2] = c2[i];
                }
            }
            else
            {
                YccToRgb(c0, c1, c2, rgb, pixels);
            }
            return rgb;
        }

        // Four components: CMYK, or YCCK when the Adobe marker says transform 2. Values are taken as Adobe-style
        // inverted CMYK (what Photoshop and PIL write), so RGB = stored C × stored K / 255, as djpeg's CMYK→RGB does.
        byte[] k = full[3];
        byte[] cc = full[0], mm = full[1], yy = full[2];
        if (_adobe && _adobeTransform == 2)
        {
            var tmp = new byte[pixels * 3];
            YccToRgb(full[0], full[1], full[2], tmp, pixels);
            cc = new byte[pixels];
            mm = new byte[pixels];
            yy = new byte[pixels];
            for (int i = 0; i < pixels; i++)
            {
                cc[i] = (byte)(255 - tmp[3 * i]);
                mm[i] = (byte)(255 - tmp[3 * i + 1]);
                yy[i] = (byte)(255 - tmp[3 * i + 2]);
            }
        }
        for (int i = 0, o = 0; i < pixels; i++, o += 3)
        {
            int kk = k[i];
            rgb[o] = (byte)((2 * cc[i] * kk + 255) / 510);
            rgb[o + 1] = (byte)((2 * mm[i] * kk + 255) / 510);
            rgb[o + 2] = (byte)((2 * yy[i] * kk + 255) / 510);
        }
        return rgb;
    }

    private static void YccToRgb(byte[] y, byte[] cb, byte[] cr, byte[] rgb, int pixels)
    {
        int[] crR = CrR, cbB = CbB, crG = CrG, cbG = CbG;
        for (int i = 0, o = 0; i < pixels; i++, o += 3)
        {
            int yv = y[i], cbv = cb[i], crv = cr[i];
            rgb[o] = Clamp(yv + crR[crv]);
            rgb[o + 1] = Clamp(yv + ((cbG[cbv] + crG[crv]) >> ScaleBits));
            rgb[o + 2] = Clamp(yv + cbB[cbv]);
        }
    }

    private static byte Clamp(int v) => (byte)(v < 0 ? 0 : v > 255 ? 255 : v);

    private unsafe void InverseTransformAll()
    {
        foreach (var c in _components)
        {
            if (c.Quant is null) continue; // the component never appeared in a scan: it stays mid-grey-free zero
            fixed (short* coef = c.Coefficients)
            fixed (byte* plane = c.Plane)
            fixed (ushort* q = c.Quant)
            {
                for (int by = 0; by < c.BlocksPerColumn; by++)
                    for (int bx = 0; bx < c.BlocksPerLine; bx++)
                        JpegIdct.Transform(coef + ((long)by * c.BlocksPerLineAlloc + bx) * 64, q, plane + (long)by * 8 * c.Stride + bx * 8, c.Stride);
            }
        }
    }

    /// <summary>
    /// Upsamples one component to the full image size exactly as libjpeg-turbo's jdsample.c does by default:
    /// h2v1/h2v2 "fancy" (triangular) when the downsampled width exceeds 2, else replication; h1v2 always fancy.
    /// Rows above the first and below the last real row repeat the edge row (jdmainct.c context rows).
    /// </summary>
    private byte[] Upsample(JpegComponent c)
    {
        int w = _width, h = _height;
        int fx = _hMax / c.H, fy = _vMax / c.V;
        byte[] src = c.Plane;
        int stride = c.Stride;
        int dw = c.Width, dh = c.Height;
        var dst = new byte[w * h];

        if (fx == 1 && fy == 1)
        {
            for (int y = 0; y < h; y++) Buffer.BlockCopy(src, y * stride, dst, y * w, w);
            return dst;
        }

        // Horizontal fancy needs dw > 2 (libjpeg falls back to replication otherwise).
        bool fancyH = fx == 2 && dw > 2;
        var rowBuf = new int[2 * Math.Max(dw, 1) + 2];

        for (int y = 0; y < h; y++)
        {
            int outRow = y;
            int dstOff = y * w;
            if (fy == 1)
            {
                int srcOff = outRow * stride;
                if (fancyH) H2V1Row(src, srcOff, dw, dst, dstOff, w);
                else for (int x = 0; x < w; x++) dst[dstOff + x] = src[srcOff + x / fx];
                continue;
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
                for (int x = 0; x < w; x++) dst[dstOff + x] = (byte)((3 * src[off0 + x] + src[off1 + x] + bias) >> 2);
            }
            else if (fancyH)
            {
                // h2v2 fancy: vertical 3:1 column sums, then horizontal 3:1 with biases 8 and 7, >> 4.
                int this0 = src[off0] * 3 + src[off1];
                int next = src[off0 + 1] * 3 + src[off1 + 1];
                var tmp = rowBuf;
                tmp[0] = (this0 * 4 + 8) >> 4;
                tmp[1] = (this0 * 3 + next + 7) >> 4;
                int last = this0, cur = next, o = 2;
                for (int col = 2; col < dw; col++)
                {
                    next = src[off0 + col] * 3 + src[off1 + col];
                    tmp[o++] = (cur * 3 + last + 8) >> 4;
                    tmp[o++] = (cur * 3 + next + 7) >> 4;
                    last = cur;
                    cur = next;
                }
                tmp[o++] = (cur * 3 + last + 8) >> 4;
                tmp[o] = (cur * 4 + 7) >> 4;
                for (int x = 0; x < w; x++) dst[dstOff + x] = (byte)tmp[x];
            }
            else
            {
                // Plain h2v2 replication (narrow components).
                for (int x = 0; x < w; x++) dst[dstOff + x] = src[off0 + (x >> 1)];
            }
        }
        return dst;
    }

    private static void H2V1Row(byte[] src, int off, int dw, byte[] dst, int dstOff, int w)
    {
        // libjpeg h2v1_fancy_upsample: first column replicated, then 3:1 with biases 1 and 2, last column replicated.
        Span<byte> tmp = dw * 2 <= 4096 ? stackalloc byte[dw * 2] : new byte[dw * 2];
        int v = src[off];
        tmp[0] = (byte)v;
        tmp[1] = (byte)((v * 3 + src[off + 1] + 2) >> 2);
        int o = 2;
        for (int col = 1; col < dw - 1; col++)
        {
            v = src[off + col] * 3;
            tmp[o++] = (byte)((v + src[off + col - 1] + 1) >> 2);
            tmp[o++] = (byte)((v + src[off + col + 1] + 2) >> 2);
        }
        v = src[off + dw - 1];
        tmp[o++] = (byte)((v * 3 + src[off + dw - 2] + 1) >> 2);
        tmp[o] = (byte)v;
        tmp[..w].CopyTo(dst.AsSpan(dstOff, w));
    }

    /// <summary>Applies EXIF orientation 1-8 so the result is upright (same mapping as PIL's exif_transpose).</summary>
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
