using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace NeuralStyle.Weights.Mat;

/// <summary>
/// Reads MATLAB MAT-files of Level 5 (MATLAB 5 to 7.x, <c>-v6</c>/<c>-v7</c>; not the HDF5-based 7.3): a 128-byte
/// header, then tagged data elements, top-level variables possibly wrapped in zlib-compressed elements; numeric,
/// logical, char, cell and struct arrays. Every size a file declares is checked against the bytes that can hold it
/// before anything is allocated; a compressed element may not claim more than zlib can produce from its bytes, and its
/// output is read in growing chunks, so a bomb or a lie costs a bounded amount of memory. Any problem is a
/// <see cref="WeightFormatException"/> with one sentence.
/// </summary>
public static class MatFile
{
    private const string Magic = "MATLAB 5.0 MAT-file";

    /// <summary>True when <paramref name="head"/> (the file's first bytes) starts a Level 5 MAT-file.</summary>
    public static bool HasHeader(ReadOnlySpan<byte> head) =>
        head.Length >= Magic.Length && head[..Magic.Length].SequenceEqual(Encoding.ASCII.GetBytes(Magic));

    /// <summary>Reads the variables of the file at <paramref name="path"/> that <paramref name="variableFilter"/> accepts (all when null).</summary>
    public static IReadOnlyDictionary<string, MatValue> Read(string path, Func<string, bool>? variableFilter = null, MatReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using (FileStream file = WeightFileStream.OpenRead(path, "MAT-file")) return Read(file, variableFilter, options);
    }

    /// <summary>Reads from a seekable stream positioned at the start of the file.</summary>
    public static IReadOnlyDictionary<string, MatValue> Read(Stream stream, Func<string, bool>? variableFilter = null, MatReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("The MAT-file stream must be readable and seekable.", nameof(stream));
        var reader = new Reader(stream, options ?? new MatReadOptions());
        try
        {
            return reader.ReadFile(variableFilter ?? (static _ => true));
        }
        catch (InvalidDataException e)
        {
            throw new WeightFormatException("The MAT-file is corrupt (its compressed data cannot be inflated).", e);
        }
        catch (EndOfStreamException e)
        {
            throw new WeightFormatException("The MAT-file is truncated.", e);
        }
    }

    // Data types of the tags (miXXX).
    private const int MiInt8 = 1, MiUInt8 = 2, MiInt16 = 3, MiUInt16 = 4, MiInt32 = 5, MiUInt32 = 6, MiSingle = 7, MiDouble = 9,
        MiInt64 = 12, MiUInt64 = 13, MiMatrix = 14, MiCompressed = 15, MiUtf8 = 16, MiUtf16 = 17, MiUtf32 = 18;

    /// <summary>Deflate cannot expand its input by more than about 1032:1; a compressed element claiming more is lying.</summary>
    private const long MaxInflateRatio = 1100;

    private sealed class Reader(Stream file, MatReadOptions options)
    {
        private Stream? _inflater;   // the inflater of the current compressed element; null: reading the file itself
        private Stream _in => _inflater ?? file;
        private long _pos;           // bytes consumed from _in
        private bool _big;           // big-endian file ("MI")
        private int _arrays;
        private long _keptBytes;
        private readonly byte[] _scratch = new byte[1 << 16];

        public Dictionary<string, MatValue> ReadFile(Func<string, bool> filter)
        {
            long length = file.Length;
            Span<byte> header = stackalloc byte[128];
            if (file.ReadAtLeast(header, 128, throwOnEndOfStream: false) < 128 || !HasHeader(header))
            {
                if (header.StartsWith("MATLAB 7.3 MAT-file"u8))
                    throw new WeightFormatException("The MAT-file is in MATLAB 7.3 (HDF5) format, which is not supported; re-save it with save(..., '-v7').");
                throw new WeightFormatException("The file is not a MATLAB Level 5 MAT-file (its header does not start with 'MATLAB 5.0 MAT-file').");
            }
            if (header[126] == 'I' && header[127] == 'M') _big = false;
            else if (header[126] == 'M' && header[127] == 'I') _big = true;
            else throw new WeightFormatException("The MAT-file header has no valid byte-order mark.");

            var result = new Dictionary<string, MatValue>(StringComparer.Ordinal);
            long at = 128;
            while (length - at >= 8)
            {
                file.Position = at;
                _inflater = null;
                _pos = at;
                (int type, long size, bool small) = ReadTag(length);
                long bodyStart = _pos;
                if (small)
                {
                    at = bodyStart;
                    continue;
                }
                if (size > length - bodyStart) throw Corrupt($"a top-level element declares {size} bytes but only {length - bodyStart} remain");
                if (type == MiCompressed)
                {
                    ReadCompressed(size, filter, result);
                    at = bodyStart + size; // compressed elements are not padded
                }
                else
                {
                    if (type == MiMatrix) ReadVariable(bodyStart + size, filter, result);
                    at = bodyStart + size + Pad(size);
                }
            }
            return result;
        }

        private void ReadCompressed(long size, Func<string, bool> filter, Dictionary<string, MatValue> result)
        {
            using var slice = new SliceStream(file, file.Position, size);
            using var inflater = new ZLibStream(slice, CompressionMode.Decompress);
            _inflater = inflater;
            _pos = 0;
            (int type, long inner, _) = ReadTag(long.MaxValue);
            if (type != MiMatrix) return; // MATLAB compresses only arrays; anything else carries nothing we read
            if (inner > (size + 64) * MaxInflateRatio)
                throw Corrupt($"a compressed element of {size} bytes claims to hold {inner} bytes, more than zlib can produce");
            ReadVariable(_pos + inner, filter, result);
        }

        private void ReadVariable(long end, Func<string, bool> filter, Dictionary<string, MatValue> result)
        {
            if (end == _pos) return; // an empty top-level element names nothing
            (MatClass cls, bool complex, int[] dims, string name) = ReadArrayHeader(end);
            if (name.Length == 0 || !filter(name) || result.ContainsKey(name)) return;
            result[name] = ReadArrayBody(cls, complex, dims, name, end, depth: 1);
        }

        /// <summary>One miMATRIX element whose tag has been read; <paramref name="end"/> is where its body ends.</summary>
        private MatValue ReadArray(long end, int depth)
        {
            if (depth > options.MaxDepth) throw Corrupt($"its cells and structs are nested more than {options.MaxDepth} deep");
            if (end == _pos) return new MatNumeric("", [0, 0], MatClass.Double, []); // MATLAB's empty []
            (MatClass cls, bool complex, int[] dims, string name) = ReadArrayHeader(end);
            return ReadArrayBody(cls, complex, dims, name, end, depth);
        }

        private (MatClass Class, bool Complex, int[] Dims, string Name) ReadArrayHeader(long end)
        {
            if (++_arrays > options.MaxArrays) throw Corrupt($"it holds more than {options.MaxArrays} arrays");
            (int ftype, long fsize, byte[] flags) = ReadElement(end);
            if (ftype != MiUInt32 || fsize != 8) throw Corrupt("an array has no valid array-flags element");
            uint word = ReadU32(flags, 0);
            var cls = (MatClass)(word & 0xFF);
            bool complex = (word & 0x800) != 0;
            if ((byte)cls is < 1 or > 17) throw Corrupt($"an array has the unknown class {(byte)cls}");

            (int dtype, long dsize, byte[] dbytes) = ReadElement(end);
            if (dtype != MiInt32 || dsize % 4 != 0 || dsize == 0) throw Corrupt("an array has no valid dimensions element");
            if (dsize / 4 > 32) throw Corrupt($"an array has {dsize / 4} dimensions");
            var dims = new int[dsize / 4];
            long count = 1;
            for (int i = 0; i < dims.Length; i++)
            {
                int d = (int)ReadU32(dbytes, i * 4);
                if (d < 0) throw Corrupt($"an array has the negative dimension {d}");
                dims[i] = d;
                count = d != 0 && count > (1L << 40) / d ? (1L << 41) : count * d;
            }
            if (count > 1L << 40) throw Corrupt($"an array claims {string.Join("×", dims)} elements");

            (int ntype, long nsize, byte[] nbytes) = ReadElement(end, maxKeep: 4096);
            if (ntype is not (MiInt8 or MiUInt8 or MiUtf8)) throw Corrupt("an array has no valid name element");
            if (nsize > 4096) throw Corrupt("an array name is longer than 4096 characters");
            return (cls, complex, dims, Encoding.UTF8.GetString(nbytes));
        }

        private MatValue ReadArrayBody(MatClass cls, bool complex, int[] dims, string name, long end, int depth)
        {
            long count = 1;
            foreach (int d in dims) count *= d;
            MatValue value;
            switch (cls)
            {
                case MatClass.Cell:
                {
                    if (count > (end - _pos) / 8 || count > options.MaxArrays - _arrays)
                        throw Corrupt($"the {Dims(dims)} cell '{name}' cannot fit in its {end - _pos} bytes");
                    var items = new MatValue[count];
                    for (long i = 0; i < count; i++) items[i] = ReadChild(end, depth);
                    value = new MatCell(name, dims, items);
                    break;
                }
                case MatClass.Struct:
                {
                    (int ltype, _, byte[] lbytes) = ReadElement(end);
                    if (ltype != MiInt32 || lbytes.Length != 4) throw Corrupt($"the struct '{name}' has no valid field-name length");
                    int fieldLength = (int)ReadU32(lbytes, 0);
                    if (fieldLength is < 1 or > 4096) throw Corrupt($"the struct '{name}' declares field names of {fieldLength} characters");
                    (int ftype, long fsize, byte[] fbytes) = ReadElement(end, maxKeep: 1 << 20);
                    if (ftype is not (MiInt8 or MiUInt8 or MiUtf8) || fsize % fieldLength != 0)
                        throw Corrupt($"the struct '{name}' has no valid field names");
                    if (fsize > 1 << 20) throw Corrupt($"the struct '{name}' has more than 1 MB of field names");
                    var fields = new string[fsize / fieldLength];
                    for (int f = 0; f < fields.Length; f++)
                    {
                        ReadOnlySpan<byte> raw = fbytes.AsSpan(f * fieldLength, fieldLength);
                        int nul = raw.IndexOf((byte)0);
                        fields[f] = Encoding.UTF8.GetString(nul < 0 ? raw : raw[..nul]);
                    }
                    if (count > options.MaxArrays) throw Corrupt($"the struct '{name}' has {count} elements");
                    if (fields.Length > 0 && (count > (end - _pos) / 8 / fields.Length || count * fields.Length > options.MaxArrays - _arrays))
                        throw Corrupt($"the {Dims(dims)} struct '{name}' cannot fit in its {end - _pos} bytes");
                    var elements = new MatValue[count][];
                    for (long e = 0; e < count; e++)
                    {
                        elements[e] = new MatValue[fields.Length];
                        for (int f = 0; f < fields.Length; f++) elements[e][f] = ReadChild(end, depth);
                    }
                    value = new MatStruct(name, dims, fields, elements);
                    break;
                }
                case MatClass.Char:
                {
                    (int ctype, long csize, byte[]? cbytes) = ReadElement(end, maxKeep: 1 << 22);
                    value = new MatChar(name, dims, cbytes is null ? "" : DecodeText(ctype, cbytes, name));
                    break;
                }
                case >= MatClass.Double and <= MatClass.UInt64:
                {
                    bool keep = count <= options.MaxArrayElements;
                    (int ntype, long nsize, byte[]? raw) = ReadElement(end, maxKeep: keep ? long.MaxValue : -1);
                    int width = TypeWidth(ntype);
                    if (width == 0) throw Corrupt($"the array '{name}' stores its data as the non-numeric type {ntype}");
                    if (nsize != count * width) throw Corrupt($"the {Dims(dims)} array '{name}' has {nsize} bytes of data, not {count * width}");
                    double[]? data = null;
                    if (keep)
                    {
                        _keptBytes += count * 8;
                        if (_keptBytes > options.MaxKeptBytes) throw Corrupt($"it holds more than {options.MaxKeptBytes >> 20} MB of arrays");
                        data = new double[count];
                        for (long i = 0; i < count; i++) data[i] = ReadNumber(raw!, ntype, (int)(i * width));
                    }
                    value = new MatNumeric(name, dims, cls, data);
                    break;
                }
                default: // objects, sparse matrices, function handles, opaque classes: skipped whole
                    value = new MatUnsupported(name, dims, cls);
                    break;
            }
            // Imaginary parts and anything else before the element's end are skipped.
            _ = complex;
            if (_pos > end) throw Corrupt($"the array '{name}' runs past the end of its element");
            SkipTo(end);
            return value;
        }

        private MatValue ReadChild(long end, int depth)
        {
            (int type, long size, _) = ReadTag(end);
            if (type != MiMatrix) throw Corrupt($"a cell or struct holds an element of type {type} instead of an array");
            if (size > end - _pos) throw Corrupt("an array runs past the end of its parent");
            long childEnd = _pos + size;
            MatValue v = ReadArray(childEnd, depth + 1);
            SkipTo(childEnd + Pad(size));
            return v;
        }

        private (int Type, long Size, bool Small) ReadTag(long end)
        {
            if (end - _pos < 8) throw Corrupt("an element tag runs past the end of its parent");
            Span<byte> tag = stackalloc byte[8];
            ReadExactly(tag);
            uint first = U32(tag);
            if ((first >> 16) != 0) // small data element: size and type in the first word, up to 4 data bytes in the second
            {
                tag[4..].CopyTo(_smallData);
                return ((int)(first & 0xFFFF), first >> 16, true);
            }
            return ((int)first, U32(tag[4..]), false);
        }

        private readonly byte[] _smallData = new byte[4];

        /// <summary>
        /// Reads a data element (tag and body, padding skipped). Bodies larger than <paramref name="maxKeep"/> bytes
        /// (negative: always) are skipped and come back null.
        /// </summary>
        private (int Type, long Size, byte[] Data) ReadElement(long end, long maxKeep = 1 << 16)
        {
            (int type, long size, bool small) = ReadTag(end);
            if (small)
            {
                if (size > 4) throw Corrupt($"a small data element declares {size} bytes");
                return (type, size, _smallData[..(int)size]);
            }
            if (size > end - _pos) throw Corrupt($"an element declares {size} bytes but its parent has only {end - _pos} left");
            if (maxKeep >= 0 && size <= maxKeep)
            {
                byte[] data = ReadGrowing(size);
                SkipBytes(Pad(size));
                return (type, size, data);
            }
            SkipBytes(size + Pad(size));
            return (type, size, null!);
        }

        /// <summary>Reads n bytes into an array that grows as data arrives, so a size the data does not back allocates little.</summary>
        private byte[] ReadGrowing(long n)
        {
            if (n > Array.MaxLength) throw Corrupt($"an element of {n} bytes is too large");
            var buffer = new byte[Math.Min(n, 1 << 20)];
            int filled = 0;
            while (filled < n)
            {
                if (filled == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(n, (long)buffer.Length * 2));
                int got = _in.Read(buffer, filled, buffer.Length - filled);
                if (got <= 0) throw new EndOfStreamException();
                filled += got;
                _pos += got;
            }
            return buffer;
        }

        private void ReadExactly(Span<byte> into)
        {
            _in.ReadExactly(into);
            _pos += into.Length;
        }

        private void SkipTo(long target)
        {
            if (target < _pos) throw Corrupt("an element overlaps the next one");
            SkipBytes(target - _pos);
        }

        private void SkipBytes(long n)
        {
            if (n <= 0) return;
            if (_in.CanSeek)
            {
                if (_in.Position + n > _in.Length) throw new EndOfStreamException();
                _in.Position += n;
                _pos += n;
                return;
            }
            while (n > 0)
            {
                int got = _in.Read(_scratch, 0, (int)Math.Min(n, _scratch.Length));
                if (got <= 0) throw new EndOfStreamException();
                n -= got;
                _pos += got;
            }
        }

        private string DecodeText(int type, byte[] raw, string name) => type switch
        {
            MiUInt8 or MiInt8 or MiUtf8 => Encoding.UTF8.GetString(raw),
            MiUInt16 or MiUtf16 or MiInt16 => (_big ? Encoding.BigEndianUnicode : Encoding.Unicode).GetString(raw, 0, raw.Length & ~1),
            MiUtf32 or MiUInt32 or MiInt32 => new UTF32Encoding(_big, false).GetString(raw, 0, raw.Length & ~3),
            _ => throw Corrupt($"the char array '{name}' stores its text as type {type}"),
        };

        private double ReadNumber(byte[] raw, int type, int at)
        {
            var s = raw.AsSpan(at);
            return type switch
            {
                MiInt8 => (sbyte)s[0],
                MiUInt8 => s[0],
                MiInt16 => _big ? BinaryPrimitives.ReadInt16BigEndian(s) : BinaryPrimitives.ReadInt16LittleEndian(s),
                MiUInt16 => _big ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s),
                MiInt32 => _big ? BinaryPrimitives.ReadInt32BigEndian(s) : BinaryPrimitives.ReadInt32LittleEndian(s),
                MiUInt32 => _big ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s),
                MiSingle => _big ? BinaryPrimitives.ReadSingleBigEndian(s) : BinaryPrimitives.ReadSingleLittleEndian(s),
                MiDouble => _big ? BinaryPrimitives.ReadDoubleBigEndian(s) : BinaryPrimitives.ReadDoubleLittleEndian(s),
                MiInt64 => _big ? BinaryPrimitives.ReadInt64BigEndian(s) : BinaryPrimitives.ReadInt64LittleEndian(s),
                MiUInt64 => _big ? BinaryPrimitives.ReadUInt64BigEndian(s) : BinaryPrimitives.ReadUInt64LittleEndian(s),
                _ => throw new InvalidOperationException(),
            };
        }

        private static int TypeWidth(int type) => type switch
        {
            MiInt8 or MiUInt8 => 1,
            MiInt16 or MiUInt16 => 2,
            MiInt32 or MiUInt32 or MiSingle => 4,
            MiDouble or MiInt64 or MiUInt64 => 8,
            _ => 0,
        };

        private uint U32(ReadOnlySpan<byte> s) => _big ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);

        private uint ReadU32(byte[] b, int at) => U32(b.AsSpan(at, 4));

        private static long Pad(long size) => (8 - size % 8) % 8;

        private static string Dims(int[] dims) => string.Join("×", dims);
    }

    private static WeightFormatException Corrupt(string why) => new($"The MAT-file is corrupt: {why}.");

    /// <summary>A read-only window [start, start+length) of a seekable stream, for the inflater.</summary>
    private sealed class SliceStream(Stream inner, long start, long length) : Stream
    {
        private long _offset;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _offset; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            long left = length - _offset;
            if (left <= 0) return 0;
            if (buffer.Length > left) buffer = buffer[..(int)left];
            inner.Position = start + _offset;
            int got = inner.Read(buffer);
            _offset += got;
            return got;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
