using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace NeuralStyle.Weights.Keras;

/// <summary>
/// A minimal, defensive HDF5 reader: just what h5py writes for Keras weight files. Superblock v0–v3 (8-byte offsets and
/// lengths), object headers v1 and v2 with continuations, groups as symbol tables (v1 B-tree + local heap) or compact
/// link messages, attributes (fixed-length or variable-length strings, numbers), datasets that are compact, contiguous
/// or chunked with a v1 B-tree index and the deflate/shuffle/fletcher32 filters, float16/32/64 in either byte order.
/// </summary>
/// <remarks>
/// Written instead of using PureHDF because PureHDF trusts sizes read from the file before it reads them: fuzzed
/// 20 KB files made it allocate up to 2 GB at once (attribute data, link names, B-tree nodes, fill values). Here every
/// size is checked against the file's length before anything is allocated, every structure that can refer to another
/// (B-trees, continuations) is walked with a visited set and a depth limit, and decompression never produces more than
/// the chunk's declared size. Any problem throws <see cref="WeightFormatException"/> with one sentence.
/// Not supported (a clear sentence says so): dense link or attribute storage (fractal heaps, libver "latest" groups of
/// more than 8 links), v2 chunk indexes, shared or committed datatypes, external or virtual storage.
/// </remarks>
internal sealed class Hdf5File
{
    internal const ulong Undefined = ulong.MaxValue;
    private const int MaxDepth = 64;
    private const int MaxContinuations = 10_000;
    private const int MaxMetadataBlock = 16 << 20;

    private readonly Stream _stream;
    private readonly long _length;
    private readonly ulong _base;
    private readonly Dictionary<ulong, Hdf5Object> _objects = new();

    public Hdf5File(Stream stream)
    {
        _stream = stream;
        _length = stream.Length;
        byte[] sb = ReadAt(0, (int)Math.Min(_length, 96));
        if (sb.Length < 8 || !KerasWeights.IsHdf5(sb)) throw new WeightFormatException("The file is not an HDF5 (Keras .h5) file: it does not start with the HDF5 signature.");
        if (sb.Length < 16) throw Truncated(); // both superblock layouts read up to byte 14 before their own checks
        int version = sb[8];
        ulong rootAddress;
        switch (version)
        {
            case 0 or 1:
            {
                if (sb[13] != 8 || sb[14] != 8) throw Unsupported($"{sb[13]}-byte offsets or {sb[14]}-byte lengths");
                int at = version == 0 ? 24 : 28;
                Need(sb, at + 56);
                _base = U64(sb, at);
                rootAddress = U64(sb, at + 32 + 8); // after base, free space, end of file, driver: the root entry's header address
                break;
            }
            case 2 or 3:
                if (sb[9] != 8 || sb[10] != 8) throw Unsupported($"{sb[9]}-byte offsets or {sb[10]}-byte lengths");
                Need(sb, 48);
                _base = U64(sb, 12);
                rootAddress = U64(sb, 36);
                break;
            default:
                throw Unsupported($"superblock version {version}");
        }
        if (_base != 0) throw Unsupported("a user block (base address not 0)");
        Root = Object(rootAddress);
    }

    public Hdf5Object Root { get; }

    // ---- errors ------------------------------------------------------------------------------------------------------

    internal static WeightFormatException Corrupt(string why) => new($"The HDF5 file is corrupt: {why}.");
    internal static WeightFormatException Truncated() => new("The HDF5 file is truncated or corrupt: a structure points past its end.");
    internal static WeightFormatException Unsupported(string what) => new($"The HDF5 file uses {what}, which this reader does not support.");

    private static void Need(byte[] b, int count)
    {
        if (b.Length < count) throw Truncated();
    }

    internal static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b[at..]);
    internal static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);
    internal static ushort U16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);

    /// <summary>Reads <paramref name="count"/> bytes at file address <paramref name="address"/>, checking the bounds first.</summary>
    internal byte[] ReadAt(ulong address, long count)
    {
        if (address == Undefined || count < 0 || address > (ulong)_length || (ulong)count > (ulong)_length - address)
            throw Truncated();
        var buffer = new byte[count];
        _stream.Position = (long)address;
        _stream.ReadExactly(buffer);
        return buffer;
    }

    /// <summary>A metadata block: also bounded by a sanity limit, whatever the file's size.</summary>
    private byte[] ReadMetadata(ulong address, ulong count)
    {
        if (count > MaxMetadataBlock) throw Corrupt($"a metadata block claims {count} bytes");
        return ReadAt(address, (long)count);
    }

    // ---- object headers --------------------------------------------------------------------------------------------

    public Hdf5Object Object(ulong address)
    {
        if (_objects.TryGetValue(address, out Hdf5Object? cached)) return cached;
        var messages = new List<Hdf5Message>();
        byte[] head = ReadAt(address, Math.Min(16, _length - (long)Math.Min(address, (ulong)_length)));
        Need(head, 4);
        if (head.AsSpan(0, 4).SequenceEqual("OHDR"u8)) ReadHeaderV2(address, messages);
        else if (head[0] == 1) ReadHeaderV1(address, head, messages);
        else throw Corrupt($"no object header at address {address}");
        var obj = new Hdf5Object(this, address, messages);
        _objects[address] = obj;
        return obj;
    }

    private void ReadHeaderV1(ulong address, byte[] head, List<Hdf5Message> messages)
    {
        Need(head, 16);
        uint size = U32(head, 8);
        var pending = new Queue<(ulong Address, ulong Length)>();
        pending.Enqueue((address + 16, size));
        var seen = new HashSet<ulong>();
        while (pending.Count > 0)
        {
            var (at, length) = pending.Dequeue();
            if (!seen.Add(at) || seen.Count > MaxContinuations) throw Corrupt("an object header's continuations loop");
            byte[] block = ReadMetadata(at, length);
            int p = 0;
            while (p + 8 <= block.Length)
            {
                int type = U16(block, p), msgSize = U16(block, p + 2), flags = block[p + 4];
                if (p + 8 + msgSize > block.Length) throw Corrupt("an object header message overruns its block");
                var data = new ReadOnlyMemory<byte>(block, p + 8, msgSize);
                p += 8 + msgSize;
                if (type == 0x10) pending.Enqueue(Continuation(data));
                else if (type != 0) messages.Add(new Hdf5Message(type, flags, data));
            }
        }
    }

    private void ReadHeaderV2(ulong address, List<Hdf5Message> messages)
    {
        byte[] prefix = ReadAt(address, Math.Min(32, _length - (long)address));
        Need(prefix, 7);
        if (prefix[4] != 2) throw Unsupported($"object header version {prefix[4]}");
        int flags = prefix[5];
        int p = 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
        int sizeBytes = 1 << (flags & 3);
        Need(prefix, p + sizeBytes);
        ulong chunk0 = sizeBytes switch
        {
            1 => prefix[p],
            2 => U16(prefix, p),
            4 => U32(prefix, p),
            _ => U64(prefix, p),
        };
        bool creationOrder = (flags & 0x04) != 0;
        ulong start = address + (ulong)(p + sizeBytes);
        var pending = new Queue<(ulong Address, ulong Length, bool First)>();
        pending.Enqueue((start, chunk0, true));
        var seen = new HashSet<ulong>();
        while (pending.Count > 0)
        {
            var (at, length, first) = pending.Dequeue();
            if (!seen.Add(at) || seen.Count > MaxContinuations) throw Corrupt("an object header's continuations loop");
            byte[] block;
            int p2;
            if (first)
            {
                block = ReadMetadata(at, length);
                p2 = 0;
            }
            else
            {
                block = ReadMetadata(at, length >= 8 ? length - 4 : throw Corrupt("an object header continuation is too short"));
                if (!block.AsSpan(0, 4).SequenceEqual("OCHK"u8)) throw Corrupt("an object header continuation has no OCHK signature");
                p2 = 4;
            }
            int header = creationOrder ? 6 : 4;
            while (p2 + header <= block.Length)
            {
                int type = block[p2], msgSize = U16(block, p2 + 1), msgFlags = block[p2 + 3];
                if (p2 + header + msgSize > block.Length) throw Corrupt("an object header message overruns its block");
                var data = new ReadOnlyMemory<byte>(block, p2 + header, msgSize);
                p2 += header + msgSize;
                if (type == 0x10) pending.Enqueue((Continuation(data).Address, Continuation(data).Length, false));
                else if (type != 0) messages.Add(new Hdf5Message(type, msgFlags, data));
            }
        }
    }

    private static (ulong Address, ulong Length) Continuation(ReadOnlyMemory<byte> data)
    {
        if (data.Length < 16) throw Corrupt("a continuation message is too short");
        return (U64(data.Span, 0), U64(data.Span, 8));
    }

    // ---- groups ------------------------------------------------------------------------------------------------------

    /// <summary>The hard links of a group, name → object header address, in the file's order.</summary>
    internal List<(string Name, ulong Address)> Links(Hdf5Object group)
    {
        var links = new List<(string, ulong)>();
        if (group.Find(0x11) is { } symbolTable)
        {
            ReadOnlySpan<byte> s = symbolTable.Data.Span;
            if (s.Length < 16) throw Corrupt("a symbol table message is too short");
            byte[] heap = LocalHeap(U64(s, 8));
            WalkGroupBTree(U64(s, 0), heap, links, new HashSet<ulong>(), 0);
            return links;
        }
        if (group.Find(0x02) is { } linkInfo)
        {
            ReadOnlySpan<byte> li = linkInfo.Data.Span;
            int at = 2 + ((li.Length > 1 && (li[1] & 1) != 0) ? 8 : 0);
            if (li.Length >= at + 8 && U64(li, at) != Undefined) throw Unsupported("dense link storage (a group of more than 8 links in the newest format)");
        }
        foreach (Hdf5Message m in group.Messages)
        {
            if (m.Type != 0x06) continue;
            if (ParseLink(m.Data.Span) is { } link) links.Add(link);
            if (links.Count > KerasWeights.MaxNameCount) throw Corrupt("a group lists an absurd number of links");
        }
        return links;
    }

    private static (string, ulong)? ParseLink(ReadOnlySpan<byte> d)
    {
        if (d.Length < 2 || d[0] != 1) throw Corrupt("a link message has an unknown version");
        int flags = d[1], p = 2, linkType = 0;
        if ((flags & 0x08) != 0) linkType = d[p++];
        if ((flags & 0x04) != 0) p += 8;
        if ((flags & 0x10) != 0) p++;
        int lengthBytes = 1 << (flags & 3);
        if (d.Length < p + lengthBytes) throw Corrupt("a link message is too short");
        ulong nameLength = lengthBytes switch { 1 => d[p], 2 => U16(d, p), 4 => U32(d, p), _ => U64(d, p) };
        p += lengthBytes;
        if (nameLength == 0 || nameLength > (ulong)(d.Length - p)) throw Corrupt("a link name overruns its message");
        string name = Encoding.UTF8.GetString(d.Slice(p, (int)nameLength));
        p += (int)nameLength;
        if (linkType != 0) return null; // soft and external links are not followed
        if (d.Length < p + 8) throw Corrupt("a link message is too short");
        return (name, U64(d, p));
    }

    private byte[] LocalHeap(ulong address)
    {
        byte[] h = ReadAt(address, 32);
        if (!h.AsSpan(0, 4).SequenceEqual("HEAP"u8)) throw Corrupt("a group's local heap has no HEAP signature");
        return ReadMetadata(U64(h, 24), U64(h, 8));
    }

    private void WalkGroupBTree(ulong address, byte[] heap, List<(string, ulong)> links, HashSet<ulong> seen, int depth)
    {
        if (depth > MaxDepth || !seen.Add(address)) throw Corrupt("a group's B-tree loops");
        byte[] head = ReadAt(address, 24);
        if (!head.AsSpan(0, 4).SequenceEqual("TREE"u8) || head[4] != 0) throw Corrupt("a group's B-tree node has no TREE signature");
        int level = head[5], entries = U16(head, 6);
        byte[] body = ReadAt(address + 24, 8 + 16L * entries); // key0, then (child, key) pairs
        for (int i = 0; i < entries; i++)
        {
            ulong child = U64(body, 8 + 16 * i);
            if (level > 0) WalkGroupBTree(child, heap, links, seen, depth + 1);
            else ReadSymbolNode(child, heap, links, seen);
        }
    }

    private void ReadSymbolNode(ulong address, byte[] heap, List<(string, ulong)> links, HashSet<ulong> seen)
    {
        if (!seen.Add(address)) throw Corrupt("a group's symbol nodes repeat");
        byte[] head = ReadAt(address, 8);
        if (!head.AsSpan(0, 4).SequenceEqual("SNOD"u8)) throw Corrupt("a group's symbol node has no SNOD signature");
        int count = U16(head, 6);
        byte[] entries = ReadAt(address + 8, 40L * count);
        for (int i = 0; i < count; i++)
        {
            ulong nameOffset = U64(entries, 40 * i), objectAddress = U64(entries, 40 * i + 8);
            if (nameOffset >= (ulong)heap.Length) throw Corrupt("a link name lies outside the group's heap");
            int end = Array.IndexOf(heap, (byte)0, (int)nameOffset);
            if (end < 0) throw Corrupt("a link name is not terminated");
            links.Add((Encoding.UTF8.GetString(heap, (int)nameOffset, end - (int)nameOffset), objectAddress));
            if (links.Count > KerasWeights.MaxNameCount) throw Corrupt("a group lists an absurd number of links");
        }
    }

    // ---- global heap (variable-length strings) ---------------------------------------------------------------------

    private readonly Dictionary<ulong, Dictionary<int, ReadOnlyMemory<byte>>> _globalHeaps = new();

    internal ReadOnlyMemory<byte> GlobalHeapObject(ulong collection, int index)
    {
        if (!_globalHeaps.TryGetValue(collection, out var objects))
        {
            byte[] head = ReadAt(collection, 16);
            if (!head.AsSpan(0, 4).SequenceEqual("GCOL"u8)) throw Corrupt("a variable-length string points to no global heap");
            byte[] all = ReadMetadata(collection, U64(head, 8));
            objects = new Dictionary<int, ReadOnlyMemory<byte>>();
            int p = 16;
            while (p + 16 <= all.Length)
            {
                int id = U16(all, p);
                ulong size = U64(all, p + 8);
                if (id == 0) break; // free space
                if (size > (ulong)(all.Length - p - 16)) throw Corrupt("a global heap object overruns its collection");
                objects[id] = new ReadOnlyMemory<byte>(all, p + 16, (int)size);
                p += 16 + (int)((size + 7) & ~7UL);
            }
            _globalHeaps[collection] = objects;
        }
        return objects.TryGetValue(index, out var o) ? o : throw Corrupt("a variable-length string points to a missing heap object");
    }

    // ---- chunked storage ---------------------------------------------------------------------------------------------

    /// <summary>Every chunk of a v1 chunk B-tree: (offsets, stored size, filter mask, address).</summary>
    internal void ChunkIndex(ulong address, int dimensionality, List<(ulong[] Offsets, uint Size, uint Mask, ulong Address)> into, HashSet<ulong> seen, int depth)
    {
        if (depth > MaxDepth || !seen.Add(address)) throw Corrupt("a chunk B-tree loops");
        byte[] head = ReadAt(address, 24);
        if (!head.AsSpan(0, 4).SequenceEqual("TREE"u8) || head[4] != 1) throw Corrupt("a chunk B-tree node has no TREE signature");
        int level = head[5], entries = U16(head, 6);
        int keySize = 8 + 8 * dimensionality;
        byte[] body = ReadAt(address + 24, (long)(entries + 1) * keySize + 8L * entries);
        for (int i = 0; i < entries; i++)
        {
            int key = i * (keySize + 8);
            ulong child = U64(body, key + keySize);
            if (level > 0)
            {
                ChunkIndex(child, dimensionality, into, seen, depth + 1);
                continue;
            }
            var offsets = new ulong[dimensionality];
            for (int d = 0; d < dimensionality; d++) offsets[d] = U64(body, key + 8 + 8 * d);
            into.Add((offsets, U32(body, key), U32(body, key + 4), child));
            if (into.Count > 50_000_000) throw Corrupt("a dataset lists an absurd number of chunks");
        }
    }

    internal long Length => _length;

    /// <summary>Undoes a chunk's filters (in reverse order), producing exactly <paramref name="expected"/> bytes.</summary>
    internal static byte[] Unfilter(byte[] stored, IReadOnlyList<int> filters, uint mask, int expected, int elementSize)
    {
        byte[] data = stored;
        for (int i = filters.Count - 1; i >= 0; i--)
        {
            if ((mask & (1u << i)) != 0) continue;
            // Deflate is undone to the chunk's full size: the only other filters (shuffle, fletcher32) keep or trim it.
            data = filters[i] switch
            {
                1 => Inflate(data, expected),
                2 => Unshuffle(data, elementSize),
                3 => data.Length >= 4 ? data[..^4] : throw Corrupt("a chunk is too short for its checksum"),
                _ => throw Unsupported($"filter {filters[i]}"),
            };
        }
        if (data.Length != expected) throw Corrupt($"a chunk holds {data.Length} bytes, not {expected}");
        return data;
    }

    private static byte[] Inflate(byte[] compressed, int expected)
    {
        var output = new byte[expected];
        try
        {
            using var z = new ZLibStream(new MemoryStream(compressed), CompressionMode.Decompress);
            int n = z.ReadAtLeast(output, expected, throwOnEndOfStream: false);
            if (n != expected || z.ReadByte() >= 0) throw Corrupt("a compressed chunk does not inflate to its size");
        }
        catch (InvalidDataException)
        {
            throw Corrupt("a compressed chunk is not valid deflate data");
        }
        return output;
    }

    private static byte[] Unshuffle(byte[] data, int elementSize)
    {
        if (elementSize <= 1) return data;
        var output = new byte[data.Length];
        int count = data.Length / elementSize;
        for (int b = 0; b < elementSize; b++)
            for (int i = 0; i < count; i++)
                output[i * elementSize + b] = data[b * count + i];
        Array.Copy(data, count * elementSize, output, count * elementSize, data.Length - count * elementSize);
        return output;
    }
}

internal sealed record Hdf5Message(int Type, int Flags, ReadOnlyMemory<byte> Data);

/// <summary>One object (group or dataset) and its header messages.</summary>
internal sealed class Hdf5Object(Hdf5File file, ulong address, List<Hdf5Message> messages)
{
    public ulong Address => address;
    public IReadOnlyList<Hdf5Message> Messages => messages;
    public Hdf5File File => file;

    public Hdf5Message? Find(int type)
    {
        foreach (Hdf5Message m in messages)
        {
            if (m.Type != type) continue;
            if ((m.Flags & 0x02) != 0) throw Hdf5File.Unsupported("shared header messages (committed datatypes)");
            return m;
        }
        return null;
    }

    public bool IsGroup => Find(0x11) is not null || Find(0x02) is not null || messages.Any(m => m.Type == 0x06);
    public bool IsDataset => Find(0x08) is not null;

    private List<(string Name, ulong Address)>? _links;

    public IReadOnlyList<(string Name, ulong Address)> Links => _links ??= file.Links(this);

    /// <summary>The object at a relative path ("a/b"), or null when a link on the way does not exist.</summary>
    public Hdf5Object? Get(string path)
    {
        Hdf5Object current = this;
        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Length > 64) return null;
        foreach (string part in parts)
        {
            if (!current.IsGroup) return null;
            ulong? next = null;
            foreach (var (name, at) in current.Links)
            {
                if (name == part)
                {
                    next = at;
                    break;
                }
            }
            if (next is null) return null;
            current = file.Object(next.Value);
        }
        return current;
    }

    // ---- attributes ----------------------------------------------------------------------------------------------

    public Hdf5Attribute? Attribute(string name)
    {
        foreach (Hdf5Message m in messages)
        {
            if (m.Type == 0x15)
            {
                ReadOnlySpan<byte> ai = m.Data.Span;
                int at = 2 + ((ai.Length > 1 && (ai[1] & 1) != 0) ? 2 : 0);
                if (ai.Length >= at + 8 && Hdf5File.U64(ai, at) != Hdf5File.Undefined)
                    throw Hdf5File.Unsupported("dense attribute storage");
            }
            if (m.Type != 0x0C) continue;
            Hdf5Attribute a = Hdf5Attribute.Parse(file, m.Data);
            if (a.Name == name) return a;
        }
        return null;
    }
}

/// <summary>A datatype: class, size, and for strings/vlen the details needed to decode them.</summary>
internal sealed record Hdf5Type(int Class, int Size, bool BigEndian, bool VariableLengthString)
{
    public const int FixedPoint = 0, FloatingPoint = 1, String = 3, VariableLength = 9;

    public static Hdf5Type Parse(ReadOnlySpan<byte> d)
    {
        if (d.Length < 8) throw Hdf5File.Corrupt("a datatype message is too short");
        int cls = d[0] & 0x0F;
        int bits = d[1];
        int size = (int)Math.Min(Hdf5File.U32(d, 4), int.MaxValue);
        bool vlenString = false;
        if (cls == VariableLength)
        {
            vlenString = (bits & 0x0F) == 1;
            if (!vlenString) return new Hdf5Type(cls, size, false, false);
        }
        return new Hdf5Type(cls, size, (bits & 1) != 0 && cls is FixedPoint or FloatingPoint, vlenString);
    }

    public string Describe() => Class switch
    {
        FixedPoint => $"{Size}-byte integers",
        FloatingPoint => $"{Size}-byte floats",
        String => "strings",
        VariableLength => VariableLengthString ? "strings" : "variable-length sequences",
        _ => $"values of HDF5 class {Class}",
    };
}

/// <summary>A dataspace: null (no data), scalar (rank 0) or simple.</summary>
internal sealed record Hdf5Space(bool IsNull, ulong[] Dims)
{
    public static Hdf5Space Parse(ReadOnlySpan<byte> d)
    {
        if (d.Length < 4) throw Hdf5File.Corrupt("a dataspace message is too short");
        int version = d[0], rank = d[1];
        int at;
        bool isNull = false;
        if (version == 1) at = 8;
        else if (version == 2)
        {
            at = 4;
            isNull = d[3] == 2;
        }
        else throw Hdf5File.Corrupt($"a dataspace message has version {version}");
        if (rank > 32 || d.Length < at + 8 * rank) throw Hdf5File.Corrupt("a dataspace message is too short for its rank");
        var dims = new ulong[rank];
        for (int i = 0; i < rank; i++) dims[i] = Hdf5File.U64(d, at + 8 * i);
        return new Hdf5Space(isNull, dims);
    }

    /// <summary>The element count, or null when it overflows.</summary>
    public ulong? Count
    {
        get
        {
            if (IsNull) return 0;
            ulong n = 1;
            foreach (ulong d in Dims)
            {
                if (d == 0) return 0;
                if (n > ulong.MaxValue / d) return null;
                n *= d;
            }
            return n;
        }
    }
}

internal sealed class Hdf5Attribute(Hdf5File file, string name, Hdf5Type type, Hdf5Space space, ReadOnlyMemory<byte> data)
{
    public string Name => name;
    public Hdf5Type Type => type;
    public Hdf5Space Space => space;

    public static Hdf5Attribute Parse(Hdf5File file, ReadOnlyMemory<byte> message)
    {
        ReadOnlySpan<byte> d = message.Span;
        if (d.Length < 8) throw Hdf5File.Corrupt("an attribute message is too short");
        int version = d[0];
        int nameSize = Hdf5File.U16(d, 2), typeSize = Hdf5File.U16(d, 4), spaceSize = Hdf5File.U16(d, 6);
        int p = version switch { 1 or 2 => 8, 3 => 9, _ => throw Hdf5File.Corrupt($"an attribute message has version {version}") };
        int Pad(int n) => version == 1 ? (n + 7) & ~7 : n;
        if ((long)p + Pad(nameSize) + Pad(typeSize) + Pad(spaceSize) > d.Length) throw Hdf5File.Corrupt("an attribute message is too short");
        string attrName = Encoding.UTF8.GetString(d.Slice(p, nameSize)).TrimEnd('\0');
        p += Pad(nameSize);
        Hdf5Type type = Hdf5Type.Parse(d.Slice(p, typeSize));
        p += Pad(typeSize);
        Hdf5Space space = Hdf5Space.Parse(d.Slice(p, spaceSize));
        p += Pad(spaceSize);
        return new Hdf5Attribute(file, attrName, type, space, message[p..]);
    }

    /// <summary>The values as strings (fixed-length, null-padded or variable-length); throws for other types.</summary>
    public List<string> ReadStrings(int maxCount)
    {
        ulong count = space.Count ?? ulong.MaxValue;
        if (count > (ulong)maxCount) throw new WeightFormatException($"The Keras attribute '{name}' lists an absurd number of names.");
        var result = new List<string>((int)count);
        ReadOnlySpan<byte> d = data.Span;
        if (type.Class == Hdf5Type.String)
        {
            if ((ulong)type.Size * count > (ulong)d.Length) throw Hdf5File.Corrupt($"the attribute '{name}' overruns its message");
            for (int i = 0; i < (int)count; i++)
            {
                ReadOnlySpan<byte> s = d.Slice(i * type.Size, type.Size);
                int end = s.IndexOf((byte)0);
                result.Add(Encoding.UTF8.GetString(end >= 0 ? s[..end] : s).TrimEnd(' '));
            }
            return result;
        }
        if (type.Class == Hdf5Type.VariableLength && type.VariableLengthString)
        {
            if (16UL * count > (ulong)d.Length) throw Hdf5File.Corrupt($"the attribute '{name}' overruns its message");
            for (int i = 0; i < (int)count; i++)
            {
                uint length = Hdf5File.U32(d, 16 * i);
                ReadOnlyMemory<byte> o = file.GlobalHeapObject(Hdf5File.U64(d, 16 * i + 4), (int)Hdf5File.U32(d, 16 * i + 12));
                if (length > o.Length) throw Hdf5File.Corrupt($"a string of the attribute '{name}' overruns its heap object");
                result.Add(Encoding.UTF8.GetString(o.Span[..(int)length]).TrimEnd('\0'));
            }
            return result;
        }
        throw new WeightFormatException($"The Keras attribute '{name}' holds {type.Describe()}, not names.");
    }
}

/// <summary>Reads a dataset's shape and its floating-point data, every size checked before allocation.</summary>
internal static class Hdf5Dataset
{
    /// <summary>Deflate cannot expand data more than about 1032:1.</summary>
    private const long MaxExpansion = 1100;

    public static (Hdf5Space Space, Hdf5Type Type) Describe(Hdf5Object ds, string what)
    {
        Hdf5Message space = ds.Find(0x01) ?? throw new WeightFormatException($"The Keras weight '{what}' has no dataspace.");
        Hdf5Message type = ds.Find(0x03) ?? throw new WeightFormatException($"The Keras weight '{what}' has no datatype.");
        return (Hdf5Space.Parse(space.Data.Span), Hdf5Type.Parse(type.Data.Span));
    }

    public static float[] ReadFloats(Hdf5Object ds, Hdf5Space space, Hdf5Type type, string what)
    {
        if (type.Class != Hdf5Type.FloatingPoint || type.Size is not (2 or 4 or 8))
            throw new WeightFormatException($"The Keras weight '{what}' holds {type.Describe()}, not 2-, 4- or 8-byte floats.");
        if (space.IsNull) throw new WeightFormatException($"The Keras weight '{what}' has no data (a null dataspace).");
        ulong count = space.Count ?? ulong.MaxValue;
        if (count > (ulong)Array.MaxLength)
            throw new WeightFormatException($"The Keras weight '{what}' claims {string.Join("×", space.Dims)} elements, more than any layer weight.");
        long bytes = (long)count * type.Size;
        Hdf5File file = ds.File;
        byte[] raw = RawBytes(ds, space, type, bytes, what, file);
        var result = new float[count];
        for (long i = 0; i < (long)count; i++)
        {
            Span<byte> e = raw.AsSpan((int)(i * type.Size), type.Size);
            if (type.BigEndian) e.Reverse();
            result[i] = type.Size switch
            {
                4 => BinaryPrimitives.ReadSingleLittleEndian(e),
                8 => (float)BinaryPrimitives.ReadDoubleLittleEndian(e),
                _ => (float)BinaryPrimitives.ReadHalfLittleEndian(e),
            };
        }
        return result;
    }

    private static byte[] RawBytes(Hdf5Object ds, Hdf5Space space, Hdf5Type type, long bytes, string what, Hdf5File file)
    {
        Hdf5Message layoutMessage = ds.Find(0x08) ?? throw new WeightFormatException($"The Keras weight '{what}' has no data layout.");
        ReadOnlySpan<byte> l = layoutMessage.Data.Span;
        if (l.Length < 2) throw Hdf5File.Corrupt("a data layout message is too short");
        if (l[0] is not (3 or 4)) throw Hdf5File.Unsupported($"data layout version {l[0]}");
        switch (l[1])
        {
            case 0: // compact: the data is in the message
            {
                if (l.Length < 4) throw Hdf5File.Corrupt("a compact layout message is too short");
                int size = Hdf5File.U16(l, 2);
                if (size < bytes || l.Length < 4 + bytes) throw Hdf5File.Corrupt($"the weight '{what}' holds fewer bytes than its shape needs");
                return l.Slice(4, (int)bytes).ToArray();
            }
            case 1: // contiguous
            {
                if (l.Length < 18) throw Hdf5File.Corrupt("a contiguous layout message is too short");
                ulong address = Hdf5File.U64(l, 2), size = Hdf5File.U64(l, 10);
                if (address == Hdf5File.Undefined)
                {
                    if (bytes > file.Length) throw Claims(what, bytes, file.Length);
                    throw new WeightFormatException($"The Keras weight '{what}' has no data stored.");
                }
                if ((ulong)bytes > size || bytes > file.Length) throw Claims(what, bytes, file.Length);
                return file.ReadAt(address, bytes);
            }
            case 2 when l[0] == 3:
                return Chunked(ds, space, type, bytes, what, file, l);
            case 2:
                throw Hdf5File.Unsupported("a chunk index of the newest format");
            default:
                throw Hdf5File.Unsupported($"data layout class {l[1]}");
        }
    }

    private static WeightFormatException Claims(string what, long bytes, long fileLength) =>
        new($"The Keras weight '{what}' claims {bytes} bytes, more than the {fileLength}-byte file can hold.");

    private static byte[] Chunked(Hdf5Object ds, Hdf5Space space, Hdf5Type type, long bytes, string what, Hdf5File file, ReadOnlySpan<byte> l)
    {
        int dimensionality = l.Length > 2 ? l[2] : 0;
        int rank = space.Dims.Length;
        if (dimensionality != rank + 1 || l.Length < 11 + 4 * dimensionality) throw Hdf5File.Corrupt($"the chunk layout of '{what}' does not match its rank");
        ulong btree = Hdf5File.U64(l, 3);
        var chunkDims = new long[rank];
        long chunkElements = 1;
        for (int d = 0; d < rank; d++)
        {
            chunkDims[d] = Hdf5File.U32(l, 11 + 4 * d);
            if (chunkDims[d] == 0) throw Hdf5File.Corrupt($"the weight '{what}' has a zero chunk size");
            chunkElements = chunkElements <= int.MaxValue / chunkDims[d] ? chunkElements * chunkDims[d] : int.MaxValue;
        }
        if (Hdf5File.U32(l, 11 + 4 * rank) != type.Size) throw Hdf5File.Corrupt($"the chunk element size of '{what}' differs from its type");
        long chunkBytes = chunkElements * type.Size;
        if (chunkBytes > int.MaxValue) throw Hdf5File.Corrupt($"the weight '{what}' claims absurd chunks");

        var filters = new List<int>();
        if (ds.Find(0x0B) is { } pipeline) filters = FilterIds(pipeline.Data.Span);

        if (btree == Hdf5File.Undefined)
        {
            if (bytes > file.Length * MaxExpansion) throw Claims(what, bytes, file.Length);
            throw new WeightFormatException($"The Keras weight '{what}' has no data stored.");
        }
        var chunks = new List<(ulong[] Offsets, uint Size, uint Mask, ulong Address)>();
        file.ChunkIndex(btree, dimensionality, chunks, new HashSet<ulong>(), 0);
        // What the stored chunks can hold: a compressed chunk at most MaxExpansion times its stored size.
        long storable = 0;
        foreach (var c in chunks)
            storable += Math.Min(chunkBytes, filters.Count > 0 ? c.Size * MaxExpansion + 1024 : c.Size);
        if (bytes > storable) throw Claims(what, bytes, file.Length);

        var output = new byte[bytes];
        var covered = 0L;
        foreach (var c in chunks)
        {
            for (int d = 0; d < rank; d++)
            {
                if (c.Offsets[d] >= space.Dims[d] || c.Offsets[d] % (ulong)chunkDims[d] != 0)
                    throw Hdf5File.Corrupt($"a chunk of '{what}' lies outside the dataset");
            }
            if (filters.Count > 0 && chunkBytes > c.Size * MaxExpansion + 1024) throw Hdf5File.Corrupt($"a chunk of '{what}' claims an absurd expansion");
            byte[] stored = file.ReadAt(c.Address, c.Size);
            byte[] data = filters.Count > 0 ? Hdf5File.Unfilter(stored, filters, c.Mask, (int)chunkBytes, type.Size) : stored;
            if (data.Length != chunkBytes) throw Hdf5File.Corrupt($"a chunk of '{what}' holds {data.Length} bytes, not {chunkBytes}");
            covered += CopyChunk(data, output, c.Offsets, chunkDims, space.Dims, type.Size);
        }
        if (covered < (long)(space.Count ?? 0)) throw Hdf5File.Corrupt($"the weight '{what}' has missing chunks");
        return output;
    }

    /// <summary>Copies the part of a chunk that lies inside the dataset; returns the number of elements copied.</summary>
    private static long CopyChunk(byte[] chunk, byte[] output, ulong[] offsets, long[] chunkDims, ulong[] dims, int size)
    {
        int rank = dims.Length;
        if (rank == 0)
        {
            chunk.AsSpan(0, size).CopyTo(output);
            return 1;
        }
        var extent = new long[rank];
        for (int d = 0; d < rank; d++) extent[d] = Math.Min(chunkDims[d], (long)dims[d] - (long)offsets[d]);
        long rows = 1;
        for (int d = 0; d < rank - 1; d++) rows *= extent[d];
        var index = new long[rank];
        long copied = 0;
        for (long r = 0; r < rows; r++)
        {
            long src = 0, dst = 0;
            for (int d = 0; d < rank; d++)
            {
                src = src * chunkDims[d] + index[d];
                dst = dst * (long)dims[d] + (long)offsets[d] + index[d];
            }
            long run = extent[rank - 1];
            Array.Copy(chunk, src * size, output, dst * size, run * size);
            copied += run;
            for (int d = rank - 2; d >= 0; d--)
            {
                if (++index[d] < extent[d]) break;
                index[d] = 0;
            }
        }
        return copied;
    }

    private static List<int> FilterIds(ReadOnlySpan<byte> d)
    {
        if (d.Length < 2) throw Hdf5File.Corrupt("a filter pipeline message is too short");
        int version = d[0], count = d[1];
        int p = version == 1 ? 8 : 2;
        var ids = new List<int>();
        for (int i = 0; i < count; i++)
        {
            if (d.Length < p + 2) throw Hdf5File.Corrupt("a filter pipeline message is too short");
            int id = Hdf5File.U16(d, p);
            p += 2;
            int nameLength = 0;
            if (version == 1 || id >= 256)
            {
                if (d.Length < p + 2) throw Hdf5File.Corrupt("a filter pipeline message is too short");
                nameLength = Hdf5File.U16(d, p);
                p += 2;
            }
            if (d.Length < p + 4) throw Hdf5File.Corrupt("a filter pipeline message is too short");
            int values = Hdf5File.U16(d, p + 2);
            p += 4;
            p += version == 1 ? (nameLength + 7) & ~7 : nameLength;
            p += 4 * values + (version == 1 && values % 2 == 1 ? 4 : 0);
            if (p > d.Length) throw Hdf5File.Corrupt("a filter pipeline message is too short");
            ids.Add(id);
        }
        return ids;
    }
}
