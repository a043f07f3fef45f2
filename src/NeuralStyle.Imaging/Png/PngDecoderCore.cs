using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralStyle.Imaging.Png;

/// <summary>
/// The PNG decoding worker: walks the chunks (checking every CRC), validates the header against
/// <see cref="DecoderOptions.MaxPixels"/> before allocating, then inflates IDAT row by row, reading exactly the
/// number of bytes the header implies (so a zip bomb is never expanded past the image) and converting each
/// unfiltered row straight into float samples.
/// </summary>
internal static class PngDecoderCore
{
    internal static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    // Adam7 passes: x start, y start, x step, y step.
    private static ReadOnlySpan<byte> Adam7 => [0, 0, 8, 8, 4, 0, 8, 8, 0, 4, 4, 8, 2, 0, 4, 4, 0, 2, 2, 4, 1, 0, 2, 2, 0, 1, 1, 2];

    private static readonly float[] Lut8 = BuildLut(8);

    private static float[] BuildLut(int bits)
    {
        int max = (1 << bits) - 1;
        var lut = new float[max + 1];
        for (int v = 0; v <= max; v++) lut[v] = v / (float)max;
        return lut;
    }

    public static bool IsPng(ReadOnlySpan<byte> data) => data.Length >= 8 && data[..8].SequenceEqual(Signature);

    public static Image Decode(ReadOnlySpan<byte> data, DecoderOptions options, out PngInfo info)
    {
        if (!IsPng(data))
            PngThrowHelper.ThrowInvalid("the PNG signature is missing (not a PNG file).");

        Header header = default;
        bool haveHeader = false;
        float[]? palette = null; // RGBA, 256 entries, unused entries opaque black
        int paletteCount = 0;
        bool hasTrns = false;
        int trnsR = -1, trnsG = -1, trnsB = -1; // grey key in trnsR
        double? gamma = null;
        string? iccName = null;
        bool srgb = false;
        var idat = new List<(int Offset, int Length)>();
        long idatTotal = 0;

        int pos = 8;
        bool ended = false;
        while (!ended)
        {
            if (data.Length - pos < 8) PngThrowHelper.ThrowTruncated("no IEND chunk");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(pos, 4));
            if (length > int.MaxValue) PngThrowHelper.ThrowInvalid($"chunk length {length} at offset {pos} exceeds 2^31-1.");
            ReadOnlySpan<byte> type = data.Slice(pos + 4, 4);
            if (!IsValidChunkType(type)) PngThrowHelper.ThrowInvalid($"bad chunk type at offset {pos + 4}.");
            string name = System.Text.Encoding.ASCII.GetString(type);
            if ((long)data.Length - pos - 12 < length) PngThrowHelper.ThrowTruncated($"inside the {name} chunk");
            ReadOnlySpan<byte> body = data.Slice(pos + 8, (int)length);
            uint storedCrc = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(pos + 8 + (int)length, 4));
            if (Crc32.Compute(data.Slice(pos + 4, (int)length + 4)) != storedCrc)
                PngThrowHelper.ThrowInvalid($"CRC mismatch in the {name} chunk at offset {pos} (the file is corrupt).");
            int bodyOffset = pos + 8;
            pos += 12 + (int)length;

            if (!haveHeader)
            {
                if (name != "IHDR") PngThrowHelper.ThrowInvalid("the first chunk is not IHDR.");
                header = ParseHeader(body, options);
                haveHeader = true;
                continue;
            }

            switch (name)
            {
                case "IHDR":
                    PngThrowHelper.ThrowInvalid("more than one IHDR chunk.");
                    break;
                case "PLTE":
                    if (idat.Count > 0) PngThrowHelper.ThrowInvalid("PLTE chunk after IDAT.");
                    if (header.ColorType is PngColorType.Grayscale or PngColorType.GrayscaleAlpha)
                        PngThrowHelper.ThrowInvalid("PLTE chunk in a greyscale image.");
                    if (body.Length % 3 != 0 || body.Length == 0 || body.Length > 768)
                        PngThrowHelper.ThrowInvalid($"PLTE chunk length {body.Length} is not 3 × (1..256).");
                    paletteCount = body.Length / 3;
                    palette = new float[256 * 4];
                    for (int i = 0; i < 256; i++)
                    {
                        if (i < paletteCount)
                        {
                            palette[4 * i] = Lut8[body[3 * i]];
                            palette[4 * i + 1] = Lut8[body[3 * i + 1]];
                            palette[4 * i + 2] = Lut8[body[3 * i + 2]];
                        }
                        palette[4 * i + 3] = 1f;
                    }
                    break;
                case "tRNS":
                    if (idat.Count > 0) PngThrowHelper.ThrowInvalid("tRNS chunk after IDAT.");
                    switch (header.ColorType)
                    {
                        case PngColorType.Palette:
                            if (palette is null) PngThrowHelper.ThrowInvalid("tRNS chunk before PLTE.");
                            if (body.Length > paletteCount) PngThrowHelper.ThrowInvalid("tRNS chunk has more entries than the palette.");
                            for (int i = 0; i < body.Length; i++) palette[4 * i + 3] = Lut8[body[i]];
                            break;
                        case PngColorType.Grayscale:
                            if (body.Length != 2) PngThrowHelper.ThrowInvalid("tRNS chunk of a greyscale image must have 2 bytes.");
                            trnsR = BinaryPrimitives.ReadUInt16BigEndian(body);
                            break;
                        case PngColorType.Rgb:
                            if (body.Length != 6) PngThrowHelper.ThrowInvalid("tRNS chunk of an RGB image must have 6 bytes.");
                            trnsR = BinaryPrimitives.ReadUInt16BigEndian(body);
                            trnsG = BinaryPrimitives.ReadUInt16BigEndian(body[2..]);
                            trnsB = BinaryPrimitives.ReadUInt16BigEndian(body[4..]);
                            break;
                        default:
                            PngThrowHelper.ThrowInvalid("tRNS chunk in an image that already has an alpha channel.");
                            break;
                    }
                    hasTrns = true;
                    break;
                case "IDAT":
                    if (header.ColorType == PngColorType.Palette && palette is null)
                        PngThrowHelper.ThrowInvalid("a palette image has no PLTE chunk before its IDAT.");
                    idat.Add((bodyOffset, body.Length));
                    idatTotal += body.Length;
                    break;
                case "gAMA":
                    if (body.Length == 4) gamma = BinaryPrimitives.ReadUInt32BigEndian(body) / 100000.0;
                    break;
                case "iCCP":
                    int nul = body.IndexOf((byte)0);
                    if (nul > 0) iccName = System.Text.Encoding.Latin1.GetString(body[..nul]);
                    break;
                case "sRGB":
                    srgb = true;
                    break;
                case "IEND":
                    ended = true;
                    break;
                default:
                    if ((type[0] & 0x20) == 0)
                        PngThrowHelper.ThrowInvalid($"unsupported critical chunk {name}.");
                    break; // ancillary chunks are skipped
            }
        }

        if (idat.Count == 0) PngThrowHelper.ThrowInvalid("no IDAT chunk (no image data).");

        var compressed = new byte[idatTotal];
        int at = 0;
        foreach (var (offset, len) in idat)
        {
            data.Slice(offset, len).CopyTo(compressed.AsSpan(at));
            at += len;
        }

        info = new PngInfo(header.Width, header.Height, header.BitDepth, header.ColorType, header.Interlaced,
            hasTrns, gamma, iccName, srgb);

        var rows = new RowConverter(header, palette, hasTrns, trnsR, trnsG, trnsB);
        var image = new Image(header.Width, header.Height, rows.OutChannels);
        try
        {
            using var zlib = new ZLibStream(new MemoryStream(compressed, writable: false), CompressionMode.Decompress);
            if (!header.Interlaced)
            {
                DecodePass(zlib, header, rows, image, 0, 0, 1, 1, header.Width, header.Height);
            }
            else
            {
                ReadOnlySpan<byte> adam7 = Adam7;
                for (int p = 0; p < 7; p++)
                {
                    int xs = adam7[4 * p], ys = adam7[4 * p + 1], dx = adam7[4 * p + 2], dy = adam7[4 * p + 3];
                    int pw = (int)(((long)header.Width - xs + dx - 1) / dx);
                    int ph = (int)(((long)header.Height - ys + dy - 1) / dy);
                    if (pw > 0 && ph > 0) DecodePass(zlib, header, rows, image, xs, ys, dx, dy, pw, ph);
                }
            }
        }
        catch (InvalidDataException ex)
        {
            PngThrowHelper.ThrowInvalid("the compressed image data is corrupt (" + ex.Message + ").", ex);
        }
        catch (EndOfStreamException ex)
        {
            PngThrowHelper.ThrowInvalid("the compressed image data ends before the last row (truncated IDAT).", ex);
        }
        catch (IOException ex) // ZLibException: zlib rejected the stream (e.g. a bad window size in the header)
        {
            PngThrowHelper.ThrowInvalid("the compressed image data is corrupt (" + ex.Message + ").", ex);
        }

        return image;
    }

    private static bool IsValidChunkType(ReadOnlySpan<byte> type)
    {
        foreach (byte b in type)
            if (!((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z'))) return false;
        return true;
    }

    private static Header ParseHeader(ReadOnlySpan<byte> body, DecoderOptions options)
    {
        if (body.Length != 13) PngThrowHelper.ThrowInvalid($"IHDR chunk has {body.Length} bytes instead of 13.");
        uint width = BinaryPrimitives.ReadUInt32BigEndian(body);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
        byte depth = body[8], colorType = body[9];
        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
            PngThrowHelper.ThrowInvalid($"image dimensions {width}×{height} are out of range.");
        int channels = colorType switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16 ? 1 : -1,
            2 => depth is 8 or 16 ? 3 : -1,
            3 => depth is 1 or 2 or 4 or 8 ? 1 : -1,
            4 => depth is 8 or 16 ? 2 : -1,
            6 => depth is 8 or 16 ? 4 : -1,
            _ => -2,
        };
        if (channels == -2) PngThrowHelper.ThrowInvalid($"unknown colour type {colorType}.");
        if (channels == -1) PngThrowHelper.ThrowInvalid($"bit depth {depth} is not allowed for colour type {colorType}.");
        if (body[10] != 0) PngThrowHelper.ThrowInvalid($"unknown compression method {body[10]}.");
        if (body[11] != 0) PngThrowHelper.ThrowInvalid($"unknown filter method {body[11]}.");
        if (body[12] > 1) PngThrowHelper.ThrowInvalid($"unknown interlace method {body[12]}.");
        long pixels = (long)width * height;
        if (pixels > options.MaxPixels || pixels * 4 > Array.MaxLength)
            PngThrowHelper.ThrowTooLarge(width, height, Math.Min(options.MaxPixels, Array.MaxLength / 4));
        return new Header((int)width, (int)height, depth, (PngColorType)colorType, channels, body[12] == 1);
    }

    private static void DecodePass(Stream zlib, in Header header, RowConverter rows, Image image,
        int xs, int ys, int dx, int dy, int passWidth, int passHeight)
    {
        int bitsPerPixel = header.FileChannels * header.BitDepth;
        int rowBytes = (int)(((long)passWidth * bitsPerPixel + 7) / 8);
        int bpp = Math.Max(1, bitsPerPixel / 8);
        byte[] previous = new byte[rowBytes + 1];
        byte[] current = new byte[rowBytes + 1];
        for (int y = 0; y < passHeight; y++)
        {
            zlib.ReadExactly(current);
            Unfilter(current[0], current.AsSpan(1), previous.AsSpan(1), bpp);
            rows.Convert(current.AsSpan(1), image.Data, ys + y * dy, xs, dx, passWidth);
            (previous, current) = (current, previous);
        }
    }

    internal static void Unfilter(byte filter, Span<byte> cur, ReadOnlySpan<byte> prev, int bpp)
    {
        int n = cur.Length;
        if (prev.Length < n) PngThrowHelper.ThrowInvalid("internal row buffer mismatch.");
        ref byte c0 = ref MemoryMarshal.GetReference(cur);
        ref byte p0 = ref MemoryMarshal.GetReference(prev);
        int head = Math.Min(bpp, n);
        switch (filter)
        {
            case 0:
                break;
            case 1:
                for (int i = bpp; i < n; i++) Unsafe.Add(ref c0, i) += Unsafe.Add(ref c0, i - bpp);
                break;
            case 2:
            {
                int i = 0;
                if (Vector128.IsHardwareAccelerated)
                    for (; i + 16 <= n; i += 16)
                        (Vector128.LoadUnsafe(ref c0, (nuint)i) + Vector128.LoadUnsafe(ref p0, (nuint)i)).StoreUnsafe(ref c0, (nuint)i);
                for (; i < n; i++) Unsafe.Add(ref c0, i) += Unsafe.Add(ref p0, i);
                break;
            }
            case 3:
                for (int i = 0; i < head; i++) Unsafe.Add(ref c0, i) += (byte)(Unsafe.Add(ref p0, i) >> 1);
                for (int i = bpp; i < n; i++)
                    Unsafe.Add(ref c0, i) += (byte)((Unsafe.Add(ref c0, i - bpp) + Unsafe.Add(ref p0, i)) >> 1);
                break;
            case 4:
                for (int i = 0; i < head; i++) Unsafe.Add(ref c0, i) += Unsafe.Add(ref p0, i);
                for (int i = bpp; i < n; i++)
                    Unsafe.Add(ref c0, i) += Paeth(Unsafe.Add(ref c0, i - bpp), Unsafe.Add(ref p0, i), Unsafe.Add(ref p0, i - bpp));
                break;
            default:
                PngThrowHelper.ThrowInvalid($"unknown row filter type {filter}.");
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte Paeth(byte a, byte b, byte c)
    {
        int pa = Math.Abs(b - c), pb = Math.Abs(a - c), pc = Math.Abs(a + b - 2 * c); // |p − a|, |p − b|, |p − c|
        // Same choice as the spec's "a if pa ≤ pb and pa ≤ pc, else b if pb ≤ pc, else c", written for cmov.
        byte bc = pb <= pc ? b : c;
        return pa <= Math.Min(pb, pc) ? a : bc;
    }

    private readonly record struct Header(int Width, int Height, int BitDepth, PngColorType ColorType, int FileChannels, bool Interlaced);

    /// <summary>Turns one unfiltered row of file samples into float samples of the output image.</summary>
    private sealed class RowConverter
    {
        private readonly Header _h;
        private readonly float[]? _palette;
        private readonly float[] _lowLut;
        private readonly bool _trns;
        private readonly int _kr, _kg, _kb;
        private ushort[]? _scratch; // big-endian 16-bit samples swapped to native order (non-interlaced rows only)

        public RowConverter(in Header header, float[]? palette, bool hasTrns, int kr, int kg, int kb)
        {
            _h = header;
            _palette = palette;
            _trns = hasTrns;
            _kr = kr; _kg = kg; _kb = kb;
            _lowLut = header.BitDepth < 8 ? BuildLut(header.BitDepth) : Lut8;
            OutChannels = header.ColorType switch
            {
                PngColorType.Grayscale => hasTrns ? 2 : 1,
                PngColorType.Rgb => hasTrns ? 4 : 3,
                PngColorType.Palette => hasTrns ? 4 : 3,
                PngColorType.GrayscaleAlpha => 2,
                _ => 4,
            };
        }

        public int OutChannels { get; }

        public void Convert(ReadOnlySpan<byte> row, float[] dst, int y, int xs, int dx, int count)
        {
            int oc = OutChannels;
            int o = ((y * _h.Width) + xs) * oc;
            if (dx == 1 && oc == _h.FileChannels && _h.ColorType != PngColorType.Palette && _h.BitDepth >= 8)
            {
                // Contiguous 8/16-bit samples without tRNS: one vectorised conversion for the whole row.
                // (Division, not multiplication by a reciprocal, so every value equals v / max exactly.)
                Span<float> d = dst.AsSpan(o, count * oc);
                if (_h.BitDepth == 8)
                {
                    TensorPrimitives.ConvertChecked<byte, float>(row[..d.Length], d);
                    TensorPrimitives.Divide(d, 255f, d);
                }
                else
                {
                    _scratch ??= new ushort[d.Length];
                    BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ushort>(row[..(2 * d.Length)]), _scratch);
                    TensorPrimitives.ConvertChecked<ushort, float>(_scratch, d);
                    TensorPrimitives.Divide(d, 65535f, d);
                }
                return;
            }
            int step = dx * oc;
            int depth = _h.BitDepth;
            switch (_h.ColorType)
            {
                case PngColorType.Grayscale when depth < 8:
                {
                    int perByte = 8 / depth, mask = (1 << depth) - 1;
                    for (int i = 0; i < count; i++, o += step)
                    {
                        int v = (row[i / perByte] >> (8 - depth - (i % perByte) * depth)) & mask;
                        dst[o] = _lowLut[v];
                        if (_trns) dst[o + 1] = v == _kr ? 0f : 1f;
                    }
                    break;
                }
                case PngColorType.Grayscale when depth == 8:
                    for (int i = 0; i < count; i++, o += step)
                    {
                        int v = row[i];
                        dst[o] = Lut8[v];
                        if (_trns) dst[o + 1] = v == _kr ? 0f : 1f;
                    }
                    break;
                case PngColorType.Grayscale:
                    for (int i = 0; i < count; i++, o += step)
                    {
                        int v = (row[2 * i] << 8) | row[2 * i + 1];
                        dst[o] = v / 65535f;
                        if (_trns) dst[o + 1] = v == _kr ? 0f : 1f;
                    }
                    break;
                case PngColorType.Palette:
                {
                    float[] pal = _palette!;
                    int perByte = 8 / depth, mask = (1 << depth) - 1;
                    for (int i = 0; i < count; i++, o += step)
                    {
                        int v = depth == 8 ? row[i] : (row[i / perByte] >> (8 - depth - (i % perByte) * depth)) & mask;
                        int p = 4 * v;
                        dst[o] = pal[p];
                        dst[o + 1] = pal[p + 1];
                        dst[o + 2] = pal[p + 2];
                        if (oc == 4) dst[o + 3] = pal[p + 3];
                    }
                    break;
                }
                case PngColorType.Rgb when depth == 8:
                    for (int i = 0; i < count; i++, o += step)
                    {
                        int r = row[3 * i], g = row[3 * i + 1], b = row[3 * i + 2];
                        dst[o] = Lut8[r];
                        dst[o + 1] = Lut8[g];
                        dst[o + 2] = Lut8[b];
                        if (_trns) dst[o + 3] = r == _kr && g == _kg && b == _kb ? 0f : 1f;
                    }
                    break;
                case PngColorType.Rgb:
                    for (int i = 0; i < count; i++, o += step)
                    {
                        int r = (row[6 * i] << 8) | row[6 * i + 1];
                        int g = (row[6 * i + 2] << 8) | row[6 * i + 3];
                        int b = (row[6 * i + 4] << 8) | row[6 * i + 5];
                        dst[o] = r / 65535f;
                        dst[o + 1] = g / 65535f;
                        dst[o + 2] = b / 65535f;
                        if (_trns) dst[o + 3] = r == _kr && g == _kg && b == _kb ? 0f : 1f;
                    }
                    break;
                default: // grey+alpha and RGBA: every file sample maps to one output sample
                {
                    int n = _h.FileChannels;
                    if (depth == 8)
                    {
                        for (int i = 0; i < count; i++, o += step)
                            for (int c = 0; c < n; c++) dst[o + c] = Lut8[row[n * i + c]];
                    }
                    else
                    {
                        for (int i = 0; i < count; i++, o += step)
                            for (int c = 0; c < n; c++)
                            {
                                int k = 2 * (n * i + c);
                                dst[o + c] = ((row[k] << 8) | row[k + 1]) / 65535f;
                            }
                    }
                    break;
                }
            }
        }
    }
}
