using System.Runtime.CompilerServices;

namespace NeuralStyle.Imaging.Jpeg;

/// <summary>
/// The JPEG decoding worker: marker parsing, Huffman entropy decoding (baseline and progressive), IDCT,
/// chroma upsampling, colour conversion and EXIF orientation. One instance decodes one image.
/// </summary>
internal sealed partial class JpegDecoderCore
{
    private static readonly byte[] ZigZag =
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
        // Extra entries absorb run lengths that overshoot position 63 in corrupt data.
        63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
        63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    ];

    private readonly DecoderOptions _options;
    private byte[] _data = [];
    private int _pos;

    // Tables.
    private readonly ushort[]?[] _quant = new ushort[4][];
    private readonly JpegHuffmanTable?[] _dcTables = new JpegHuffmanTable[4];
    private readonly JpegHuffmanTable?[] _acTables = new JpegHuffmanTable[4];

    // Frame.
    private bool _frameSeen;
    private bool _progressive;
    private int _width;
    private int _height;
    private int _hMax;
    private int _vMax;
    private int _mcusX;
    private int _mcusY;
    private JpegComponent[] _components = [];
    private int _restartInterval;
    private bool _anyScan;

    // Markers that choose the colour transform and orientation.
    private bool _jfif;
    private bool _adobe;
    private int _adobeTransform;
    private int _orientation = 1;

    // Entropy decoder state.
    private ulong _bitBuf;
    private int _bitCount;
    private bool _markerHit;
    private int _eobRun;

    public JpegDecoderCore(DecoderOptions options) => _options = options;

    public Image Decode(ReadOnlySpan<byte> data)
    {
        _data = data.ToArray();
        ParseAndDecode();
        int channels = _components.Length == 1 ? 1 : 3;
        if (_orientation is >= 2 and <= 8)
        {
            byte[] pixels = ApplyOrientation(ConvertToBytes(), _width, _height, channels, _orientation, out int w, out int h);
            var oriented = new Image(w, h, channels);
            JpegSampleConverter.BytesToUnitFloats(pixels, oriented.Data);
            return oriented;
        }
        var image = new Image(_width, _height, channels);
        float[] dst = image.Data;
        int rowLength = _width * channels;
        EmitRows((y, row) => JpegSampleConverter.BytesToUnitFloats(row, dst.AsSpan(y * rowLength, rowLength)));
        return image;
    }

    public byte[] DecodeBytes(ReadOnlySpan<byte> data, out int width, out int height, out int channels)
    {
        _data = data.ToArray();
        ParseAndDecode();
        channels = _components.Length == 1 ? 1 : 3;
        return ApplyOrientation(ConvertToBytes(), _width, _height, channels, _orientation, out width, out height);
    }

    private byte[] ConvertToBytes()
    {
        int channels = _components.Length == 1 ? 1 : 3;
        int rowLength = _width * channels;
        var pixels = new byte[rowLength * _height];
        EmitRows((y, row) => row.CopyTo(pixels.AsSpan(y * rowLength, rowLength)));
        return pixels;
    }

    // ---------------------------------------------------------------- markers

    private void ParseAndDecode()
    {
        if (_data.Length < 4 || _data[0] != 0xFF || _data[1] != 0xD8)
            JpegThrowHelper.ThrowInvalid("the data does not start with the SOI marker (FF D8); it is not a JPEG file.");
        _pos = 2;
        while (true)
        {
            int marker = NextMarker();
            if (marker < 0)
            {
                // The data ended without EOI. A baseline image whose scan completed is kept (libjpeg does the
                // same); a progressive one has probably lost scans, so it is reported as truncated.
                if (!_anyScan || _progressive) JpegThrowHelper.ThrowTruncated();
                return;
            }

            switch (marker)
            {
                case 0xD8: // SOI again: ignore
                case >= 0xD0 and <= 0xD7: // stray RSTn between segments
                case 0x01: // TEM
                    break;
                case 0xD9: // EOI
                    if (!_anyScan) JpegThrowHelper.ThrowInvalid("the file ends (EOI) before any image data (no SOS segment).");
                    return;
                case 0xC0:
                case 0xC1:
                case 0xC2:
                    ReadFrame(ReadSegment(), marker == 0xC2);
                    break;
                case 0xC3:
                    JpegThrowHelper.ThrowUnsupported("lossless JPEG (SOF3) is not supported.");
                    break;
                case 0xC5:
                case 0xC6:
                case 0xC7:
                    JpegThrowHelper.ThrowUnsupported("hierarchical JPEG (SOF5-7) is not supported.");
                    break;
                case 0xC9:
                case 0xCA:
                case 0xCB:
                case 0xCD:
                case 0xCE:
                case 0xCF:
                    JpegThrowHelper.ThrowUnsupported("arithmetic-coded JPEG is not supported; re-save the image with Huffman coding.");
                    break;
                case 0xCC: // DAC
                    JpegThrowHelper.ThrowUnsupported("arithmetic-coded JPEG is not supported; re-save the image with Huffman coding.");
                    break;
                case 0xDE:
                case 0xDF:
                    JpegThrowHelper.ThrowUnsupported("hierarchical JPEG (DHP/EXP markers) is not supported.");
                    break;
                case 0xC4:
                    ReadHuffmanTables(ReadSegment());
                    break;
                case 0xDB:
                    ReadQuantTables(ReadSegment());
                    break;
                case 0xDD:
                    ReadRestartInterval(ReadSegment());
                    break;
                case 0xDA:
                    ReadScanAndDecode(ReadSegment());
                    break;
                case 0xE0:
                    ReadJfif(ReadSegment());
                    break;
                case 0xE1:
                    ReadExif(ReadSegment());
                    break;
                case 0xEE:
                    ReadAdobe(ReadSegment());
                    break;
                default:
                    ReadSegment(); // APPn, COM, DNL and anything else with a length: skipped
                    break;
            }
        }
    }

    /// <summary>Finds the next marker at or after _pos; returns its code, or -1 at the end of data.</summary>
    private int NextMarker()
    {
        byte[] d = _data;
        while (_pos < d.Length)
        {
            if (d[_pos] != 0xFF)
            {
                _pos++; // extraneous byte between segments (libjpeg warns and skips it too)
                continue;
            }
            while (_pos < d.Length && d[_pos] == 0xFF) _pos++; // fill bytes
            if (_pos >= d.Length) return -1;
            int m = d[_pos++];
            if (m != 0) return m;
        }
        return -1;
    }

    private ReadOnlySpan<byte> ReadSegment()
    {
        if (_pos + 2 > _data.Length) JpegThrowHelper.ThrowTruncated();
        int length = (_data[_pos] << 8) | _data[_pos + 1];
        if (length < 2) JpegThrowHelper.ThrowInvalid($"a marker segment declares length {length}, less than 2.");
        if (_pos + length > _data.Length) JpegThrowHelper.ThrowTruncated();
        var seg = new ReadOnlySpan<byte>(_data, _pos + 2, length - 2);
        _pos += length;
        return seg;
    }

    private void ReadQuantTables(ReadOnlySpan<byte> seg)
    {
        int p = 0;
        while (p < seg.Length)
        {
            int pq = seg[p] >> 4, tq = seg[p] & 15;
            p++;
            if (pq > 1) JpegThrowHelper.ThrowInvalid($"quantization table precision {pq} (only 0 and 1 exist).");
            if (tq > 3) JpegThrowHelper.ThrowInvalid($"quantization table id {tq} (only 0-3 exist).");
            int need = pq == 0 ? 64 : 128;
            if (p + need > seg.Length) JpegThrowHelper.ThrowInvalid("a DQT segment is shorter than its tables.");
            var table = new ushort[64];
            for (int i = 0; i < 64; i++)
            {
                int v = pq == 0 ? seg[p + i] : (seg[p + 2 * i] << 8) | seg[p + 2 * i + 1];
                table[ZigZag[i]] = (ushort)v;
            }
            p += need;
            _quant[tq] = table;
        }
    }

    private void ReadHuffmanTables(ReadOnlySpan<byte> seg)
    {
        int p = 0;
        while (p < seg.Length)
        {
            int tc = seg[p] >> 4, th = seg[p] & 15;
            p++;
            if (tc > 1 || th > 3) JpegThrowHelper.ThrowInvalid($"Huffman table class {tc} / id {th} is out of range.");
            if (p + 16 > seg.Length) JpegThrowHelper.ThrowInvalid("a Huffman table (DHT segment) is shorter than its code-length counts.");
            ReadOnlySpan<byte> counts = seg.Slice(p, 16);
            p += 16;
            int total = 0;
            foreach (byte c in counts) total += c;
            if (total > 256) JpegThrowHelper.ThrowInvalid("a Huffman table has more than 256 symbols.");
            if (p + total > seg.Length) JpegThrowHelper.ThrowInvalid("a Huffman table (DHT segment) is shorter than its symbol list.");
            var table = new JpegHuffmanTable(counts, seg.Slice(p, total));
            p += total;
            if (tc == 0) _dcTables[th] = table;
            else _acTables[th] = table;
        }
    }

    private void ReadRestartInterval(ReadOnlySpan<byte> seg)
    {
        if (seg.Length < 2) JpegThrowHelper.ThrowInvalid("the DRI segment is too short.");
        _restartInterval = (seg[0] << 8) | seg[1];
    }

    private void ReadJfif(ReadOnlySpan<byte> seg)
    {
        if (seg.Length >= 5 && seg[0] == 'J' && seg[1] == 'F' && seg[2] == 'I' && seg[3] == 'F' && seg[4] == 0) _jfif = true;
    }

    private void ReadAdobe(ReadOnlySpan<byte> seg)
    {
        if (seg.Length >= 12 && seg[0] == 'A' && seg[1] == 'd' && seg[2] == 'o' && seg[3] == 'b' && seg[4] == 'e')
        {
            _adobe = true;
            _adobeTransform = seg[11];
        }
    }

    /// <summary>Reads the orientation tag (0x0112) of IFD0 from an APP1 Exif segment; ignores anything malformed.</summary>
    private void ReadExif(ReadOnlySpan<byte> seg)
    {
        if (seg.Length < 14 || seg[0] != 'E' || seg[1] != 'x' || seg[2] != 'i' || seg[3] != 'f' || seg[4] != 0 || seg[5] != 0) return;
        ReadOnlySpan<byte> tiff = seg[6..];
        bool little;
        if (tiff[0] == 'I' && tiff[1] == 'I') little = true;
        else if (tiff[0] == 'M' && tiff[1] == 'M') little = false;
        else return;
        if (U16(tiff, 2, little) != 42) return;
        long ifd = U32(tiff, 4, little);
        if (ifd < 8 || ifd + 2 > tiff.Length) return;
        int count = U16(tiff, (int)ifd, little);
        for (int i = 0; i < count; i++)
        {
            long e = ifd + 2 + 12L * i;
            if (e + 12 > tiff.Length) return;
            int tag = U16(tiff, (int)e, little);
            if (tag != 0x0112) continue;
            int type = U16(tiff, (int)e + 2, little);
            if (type != 3) return; // SHORT
            int value = U16(tiff, (int)e + 8, little);
            if (value is >= 1 and <= 8) _orientation = value;
            return;
        }

        static int U16(ReadOnlySpan<byte> b, int o, bool le) => le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
        static long U32(ReadOnlySpan<byte> b, int o, bool le) => le
            ? (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24))
            : (uint)((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
    }

    private void ReadFrame(ReadOnlySpan<byte> seg, bool progressive)
    {
        if (_frameSeen) JpegThrowHelper.ThrowInvalid("the file has more than one frame header (SOF).");
        if (seg.Length < 6) JpegThrowHelper.ThrowInvalid("the frame header (SOF) is too short.");
        int precision = seg[0];
        if (precision != 8)
            JpegThrowHelper.ThrowUnsupported($"{precision}-bit sample precision is not supported (only 8-bit JPEG is).");
        _height = (seg[1] << 8) | seg[2];
        _width = (seg[3] << 8) | seg[4];
        int n = seg[5];
        if (_height == 0) JpegThrowHelper.ThrowUnsupported("the image height is 0 (height given by a DNL marker is not supported).");
        if (_width == 0) JpegThrowHelper.ThrowInvalid("the image width is 0.");
        if (n is not (1 or 3 or 4)) JpegThrowHelper.ThrowUnsupported($"{n} colour components (only 1, 3 and 4 are supported).");
        if (seg.Length < 6 + 3 * n) JpegThrowHelper.ThrowInvalid("the frame header (SOF) is shorter than its component list.");
        long pixels = (long)_width * _height;
        if (pixels > _options.MaxPixels) JpegThrowHelper.ThrowTooLarge(pixels, _options.MaxPixels);

        _components = new JpegComponent[n];
        _hMax = 1;
        _vMax = 1;
        for (int i = 0; i < n; i++)
        {
            int id = seg[6 + 3 * i], h = seg[7 + 3 * i] >> 4, v = seg[7 + 3 * i] & 15, tq = seg[8 + 3 * i];
            if (h is < 1 or > 4 || v is < 1 or > 4) JpegThrowHelper.ThrowInvalid($"component {id} has sampling factors {h}x{v} (each must be 1-4).");
            if (h > 2 || v > 2) JpegThrowHelper.ThrowUnsupported($"sampling factors {h}x{v} (only 1 and 2 are supported).");
            if (tq > 3) JpegThrowHelper.ThrowInvalid($"component {id} uses quantization table {tq} (only 0-3 exist).");
            for (int j = 0; j < i; j++)
                if (_components[j].Id == id) JpegThrowHelper.ThrowInvalid($"two components share the id {id}.");
            _components[i] = new JpegComponent { Id = id, H = h, V = v, QuantTableId = tq };
            _hMax = Math.Max(_hMax, h);
            _vMax = Math.Max(_vMax, v);
        }

        _mcusX = (_width + 8 * _hMax - 1) / (8 * _hMax);
        _mcusY = (_height + 8 * _vMax - 1) / (8 * _vMax);
        foreach (var c in _components)
        {
            c.Width = (int)(((long)_width * c.H + _hMax - 1) / _hMax);
            c.Height = (int)(((long)_height * c.V + _vMax - 1) / _vMax);
            c.BlocksPerLine = (c.Width + 7) / 8;
            c.BlocksPerColumn = (c.Height + 7) / 8;
            c.BlocksPerLineAlloc = _mcusX * c.H;
            c.BlocksPerColumnAlloc = _mcusY * c.V;
        }

        foreach (var c in _components)
        {
            long samples = (long)c.BlocksPerLineAlloc * c.BlocksPerColumnAlloc * 64;
            if (samples > int.MaxValue) JpegThrowHelper.ThrowTooLarge(pixels, _options.MaxPixels);
        }
        _progressive = progressive;
        _frameSeen = true;
    }

    // ---------------------------------------------------------------- scans

    private void ReadScanAndDecode(ReadOnlySpan<byte> seg)
    {
        if (!_frameSeen) JpegThrowHelper.ThrowInvalid("a scan (SOS) comes before the frame header (SOF).");
        if (seg.Length < 1) JpegThrowHelper.ThrowInvalid("the scan header (SOS) is empty.");
        int n = seg[0];
        if (n < 1 || n > 4 || n > _components.Length) JpegThrowHelper.ThrowInvalid($"a scan lists {n} components.");
        if (seg.Length < 1 + 2 * n + 3) JpegThrowHelper.ThrowInvalid("the scan header (SOS) is too short.");
        var comps = new JpegComponent[n];
        int blocksPerMcu = 0;
        for (int i = 0; i < n; i++)
        {
            int id = seg[1 + 2 * i];
            JpegComponent? c = null;
            foreach (var cc in _components)
                if (cc.Id == id) c = cc;
            if (c is null) JpegThrowHelper.ThrowInvalid($"a scan refers to component {id}, which the frame does not define.");
            for (int j = 0; j < i; j++)
                if (comps[j] == c) JpegThrowHelper.ThrowInvalid($"a scan lists component {id} twice.");
            c.DcTableId = seg[2 + 2 * i] >> 4;
            c.AcTableId = seg[2 + 2 * i] & 15;
            if (c.DcTableId > 3 || c.AcTableId > 3) JpegThrowHelper.ThrowInvalid("a scan selects a Huffman table id above 3.");
            comps[i] = c;
            blocksPerMcu += c.H * c.V;
        }
        if (n > 1 && blocksPerMcu > 10) JpegThrowHelper.ThrowInvalid($"an MCU would hold {blocksPerMcu} blocks (at most 10 are allowed).");

        int ss = seg[1 + 2 * n], se = seg[2 + 2 * n], ah = seg[3 + 2 * n] >> 4, al = seg[3 + 2 * n] & 15;
        if (_progressive)
        {
            bool bad = ss > 63 || se > 63 || ss > se || ah > 13 || al > 13 || (ss == 0 && se != 0) || (ss > 0 && n != 1);
            if (bad) JpegThrowHelper.ThrowInvalid($"progressive scan parameters Ss={ss} Se={se} Ah={ah} Al={al} are inconsistent.");
        }

        // Before anything is allocated, check the scan can be complete: a sequential block needs at least 2 bits
        // (DC code + EOB), a progressive DC scan 1 bit per block. A tiny file claiming a huge image fails here.
        long blocksInScan = n == 1 ? (long)comps[0].BlocksPerLine * comps[0].BlocksPerColumn : (long)_mcusX * _mcusY * blocksPerMcu;
        long minBits = blocksInScan * (!_progressive ? 2 : ss == 0 ? 1 : 0);
        if (minBits > 8L * (_data.Length - _pos)) JpegThrowHelper.ThrowTruncated();
        if (_progressive && ss > 0 && comps[0].Quant is null)
            JpegThrowHelper.ThrowInvalid("a progressive AC scan comes before the DC scan of its component.");
        AllocateBuffers();

        foreach (var c in comps)
        {
            // Latch the quantization table at the component's first scan, as libjpeg does.
            if (c.Quant is null)
            {
                c.Quant = _quant[c.QuantTableId];
                if (c.Quant is null) JpegThrowHelper.ThrowInvalid($"component {c.Id} uses quantization table {c.QuantTableId}, which is not defined.");
            }
            bool needDc = !_progressive || (ss == 0 && ah == 0);
            bool needAc = !_progressive || ss > 0;
            if (needDc && _dcTables[c.DcTableId] is null) JpegThrowHelper.ThrowInvalid($"a scan uses DC Huffman table {c.DcTableId}, which is not defined.");
            if (needAc && _acTables[c.AcTableId] is null) JpegThrowHelper.ThrowInvalid($"a scan uses AC Huffman table {c.AcTableId}, which is not defined.");
            c.DcPred = 0;
        }

        _bitBuf = 0;
        _bitCount = 0;
        _markerHit = false;
        _eobRun = 0;
        DecodeScan(comps, ss, se, ah, al);
        _anyScan = true;

        // Skip to the marker that ends the scan's entropy-coded data.
        SeekMarker();
    }

    /// <summary>Allocates the sample planes (and progressive coefficients) at the first scan; sizes are bounded by MaxPixels.</summary>
    private void AllocateBuffers()
    {
        foreach (var c in _components)
        {
            if (c.Plane.Length > 0) continue;
            int samples = c.BlocksPerLineAlloc * c.BlocksPerColumnAlloc * 64;
            c.Plane = new byte[samples];
            if (_progressive) c.Coefficients = new short[samples];
        }
    }

    /// <summary>Moves _pos to the next 0xFF that starts a real marker (not a stuffed zero, not fill).</summary>
    private void SeekMarker()
    {
        byte[] d = _data;
        int p = _pos;
        while (p + 1 < d.Length)
        {
            if (d[p] == 0xFF && d[p + 1] != 0 && d[p + 1] != 0xFF) break;
            if (d[p] == 0xFF && d[p + 1] == 0xFF) { p++; continue; }
            p++;
        }
        _pos = p;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private unsafe void DecodeScan(JpegComponent[] comps, int ss, int se, int ah, int al)
    {
        int mode = !_progressive ? 0 : ss == 0 ? (ah == 0 ? 1 : 2) : (ah == 0 ? 3 : 4);
        short* block = stackalloc short[64];
        int restartsLeft = _restartInterval;
        if (comps.Length == 1)
        {
            var c = comps[0];
            int bw = c.BlocksPerLine, bh = c.BlocksPerColumn;
            for (int by = 0; by < bh; by++)
            {
                for (int bx = 0; bx < bw; bx++)
                {
                    if (_restartInterval > 0)
                    {
                        if (restartsLeft == 0) { ProcessRestart(comps); restartsLeft = _restartInterval; }
                        restartsLeft--;
                    }
                    DecodeBlock(c, by, bx, mode, ss, se, al, block);
                }
                // Data ran out before the last row: truncated (a missing EOI after complete data is tolerated).
                if (by < bh - 1 && _pos >= _data.Length && !_markerHit) JpegThrowHelper.ThrowTruncated();
            }
        }
        else
        {
            for (int my = 0; my < _mcusY; my++)
            {
                for (int mx = 0; mx < _mcusX; mx++)
                {
                    if (_restartInterval > 0)
                    {
                        if (restartsLeft == 0) { ProcessRestart(comps); restartsLeft = _restartInterval; }
                        restartsLeft--;
                    }
                    foreach (var c in comps)
                    {
                        for (int v = 0; v < c.V; v++)
                            for (int h = 0; h < c.H; h++)
                                DecodeBlock(c, my * c.V + v, mx * c.H + h, mode, ss, se, al, block);
                    }
                }
                if (my < _mcusY - 1 && _pos >= _data.Length && !_markerHit) JpegThrowHelper.ThrowTruncated();
            }
        }
    }

    private void ProcessRestart(JpegComponent[] comps)
    {
        _bitBuf = 0;
        _bitCount = 0;
        SeekMarker();
        if (_pos + 1 < _data.Length && _data[_pos + 1] is >= 0xD0 and <= 0xD7)
        {
            _pos += 2;
            _markerHit = false;
        }
        else if (_pos + 1 >= _data.Length)
        {
            JpegThrowHelper.ThrowTruncated();
        }
        else
        {
            _markerHit = true; // some other marker: the rest of the scan decodes as zeros, like libjpeg
        }
        foreach (var c in comps) c.DcPred = 0;
        _eobRun = 0;
    }

    private unsafe void DecodeBlock(JpegComponent c, int row, int col, int mode, int ss, int se, int al, short* block)
    {
        if (mode == 0)
        {
            new Span<short>(block, 64).Clear();
            DecodeBaseline(c, block);
            fixed (byte* plane = c.Plane)
            fixed (ushort* q = c.Quant)
            {
                JpegIdct.Transform(block, q, plane + (long)row * 8 * c.Stride + col * 8, c.Stride);
            }
            return;
        }

        fixed (short* coefBase = c.Coefficients)
        {
            short* coef = coefBase + ((long)row * c.BlocksPerLineAlloc + col) * 64;
            switch (mode)
            {
                case 1: DecodeDcFirst(c, coef, al); break;
                case 2: DecodeDcRefine(coef, al); break;
                case 3: DecodeAcFirst(c, coef, ss, se, al); break;
                default: DecodeAcRefine(c, coef, ss, se, al); break;
            }
        }
    }

    // ---------------------------------------------------------------- entropy decoding

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Fill()
    {
        byte[] d = _data;
        while (_bitCount <= 56)
        {
            int b = 0;
            if (!_markerHit)
            {
                if (_pos >= d.Length)
                {
                    // Out of data: feed zeros; the scan loop reports truncation after the MCU row.
                }
                else
                {
                    b = d[_pos];
                    if (b == 0xFF)
                    {
                        int next = _pos + 1 < d.Length ? d[_pos + 1] : -1;
                        if (next == 0)
                        {
                            _pos += 2;
                        }
                        else
                        {
                            if (next < 0) _pos++; // lone FF at the very end: truncated
                            else _markerHit = true;
                            b = 0;
                        }
                    }
                    else
                    {
                        _pos++;
                    }
                }
            }
            _bitBuf |= (ulong)b << (56 - _bitCount);
            _bitCount += 8;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int GetBits(int n)
    {
        if (_bitCount < n) Fill();
        int v = (int)(_bitBuf >> (64 - n));
        _bitBuf <<= n;
        _bitCount -= n;
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int GetBit()
    {
        if (_bitCount < 1) Fill();
        int v = (int)(_bitBuf >> 63);
        _bitBuf <<= 1;
        _bitCount--;
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int DecodeHuffman(JpegHuffmanTable t)
    {
        if (_bitCount < 16) Fill();
        int e = t.Lookup[(int)(_bitBuf >> (64 - JpegHuffmanTable.LookupBits))];
        if (e != 0)
        {
            int len = e >> 8;
            _bitBuf <<= len;
            _bitCount -= len;
            return e & 0xFF;
        }
        return DecodeHuffmanSlow(t);
    }

    private int DecodeHuffmanSlow(JpegHuffmanTable t)
    {
        int peek = (int)(_bitBuf >> 48);
        for (int len = JpegHuffmanTable.LookupBits + 1; len <= 16; len++)
        {
            int code = peek >> (16 - len);
            if (code <= t.MaxCode[len])
            {
                _bitBuf <<= len;
                _bitCount -= len;
                int idx = code + t.ValOffset[len];
                if ((uint)idx > 255) JpegThrowHelper.ThrowBadHuffmanCode();
                return t.Values[idx];
            }
        }
        JpegThrowHelper.ThrowBadHuffmanCode();
        return 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Extend(int v, int n) => v < (1 << (n - 1)) ? v - (1 << n) + 1 : v;

    private unsafe void DecodeBaseline(JpegComponent c, short* block)
    {
        var dc = _dcTables[c.DcTableId]!;
        var ac = _acTables[c.AcTableId]!;
        int s = DecodeHuffman(dc);
        int diff = 0;
        if (s != 0)
        {
            if (s > 11) JpegThrowHelper.ThrowInvalid($"a DC difference has {s} bits (at most 11 are valid).");
            diff = Extend(GetBits(s), s);
        }
        c.DcPred += diff;
        block[0] = (short)c.DcPred;
        int[] fastAc = ac.FastAc;
        for (int k = 1; k < 64;)
        {
            if (_bitCount < 16) Fill();
            int fast = fastAc[(int)(_bitBuf >> (64 - JpegHuffmanTable.LookupBits))];
            if (fast != 0)
            {
                int len = fast & 15;
                k += (fast >> 4) & 15;
                block[ZigZag[k]] = (short)(fast >> 8);
                k++;
                _bitBuf <<= len;
                _bitCount -= len;
                continue;
            }
            int rs = DecodeHuffman(ac);
            int r = rs >> 4;
            s = rs & 15;
            if (s != 0)
            {
                k += r;
                int v = Extend(GetBits(s), s);
                block[ZigZag[k]] = (short)v;
                k++;
            }
            else
            {
                if (r != 15) break;
                k += 16;
            }
        }
    }

    private unsafe void DecodeDcFirst(JpegComponent c, short* coef, int al)
    {
        int s = DecodeHuffman(_dcTables[c.DcTableId]!);
        int diff = 0;
        if (s != 0)
        {
            if (s > 11) JpegThrowHelper.ThrowInvalid($"a DC difference has {s} bits (at most 11 are valid).");
            diff = Extend(GetBits(s), s);
        }
        c.DcPred += diff;
        coef[0] = (short)(c.DcPred << al);
    }

    private unsafe void DecodeDcRefine(short* coef, int al)
    {
        if (GetBit() != 0) coef[0] |= (short)(1 << al);
    }

    private unsafe void DecodeAcFirst(JpegComponent c, short* coef, int ss, int se, int al)
    {
        if (_eobRun > 0)
        {
            _eobRun--;
            return;
        }
        var ac = _acTables[c.AcTableId]!;
        for (int k = ss; k <= se;)
        {
            int rs = DecodeHuffman(ac);
            int r = rs >> 4, s = rs & 15;
            if (s == 0)
            {
                if (r < 15)
                {
                    _eobRun = (1 << r) - 1;
                    if (r > 0) _eobRun += GetBits(r);
                    break;
                }
                k += 16;
                continue;
            }
            k += r;
            if (k > 63) break;
            coef[ZigZag[k]] = (short)(Extend(GetBits(s), s) * (1 << al));
            k++;
        }
    }

    private unsafe void DecodeAcRefine(JpegComponent c, short* coef, int ss, int se, int al)
    {
        int p1 = 1 << al, m1 = -1 << al;
        int k = ss;
        var ac = _acTables[c.AcTableId]!;
        if (_eobRun == 0)
        {
            for (; k <= se; k++)
            {
                int rs = DecodeHuffman(ac);
                int r = rs >> 4, s = rs & 15;
                if (s != 0)
                {
                    s = GetBit() != 0 ? p1 : m1;
                }
                else if (r != 15)
                {
                    _eobRun = 1 << r;
                    if (r > 0) _eobRun += GetBits(r);
                    break;
                }

                do
                {
                    short* p = coef + ZigZag[k];
                    if (*p != 0)
                    {
                        if (GetBit() != 0 && (*p & p1) == 0)
                            *p = (short)(*p >= 0 ? *p + p1 : *p + m1);
                    }
                    else
                    {
                        if (--r < 0) break;
                    }
                    k++;
                } while (k <= se);

                if (s != 0 && k <= 63) coef[ZigZag[k]] = (short)s;
            }
        }

        if (_eobRun > 0)
        {
            for (; k <= se; k++)
            {
                short* p = coef + ZigZag[k];
                if (*p != 0 && GetBit() != 0 && (*p & p1) == 0)
                    *p = (short)(*p >= 0 ? *p + p1 : *p + m1);
            }
            _eobRun--;
        }
    }
}
