using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.InteropServices;
using NeuralStyle.Weights.Pickle;

namespace NeuralStyle.Weights.Torch;

/// <summary>Reads PyTorch <c>torch.save</c> files: the zip format (torch ≥ 1.6) and the legacy pickle-stream format.</summary>
internal static class TorchLoader
{
    private static readonly BigInteger LegacyMagic = BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);
    private const long LegacyProtocol = 1001;
    private const long MaxPickleBytes = 1L << 30;

    // ---------------------------------------------------------------- zip format

    public static Dictionary<string, WeightTensor> LoadZip(Stream file, Func<string, bool> keyFilter)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new WeightFormatException($"The weights file is a damaged zip archive ({e.Message}).", e);
        }
        using (zip)
        {
            try
            {
                return LoadZipCore(zip, keyFilter);
            }
            catch (InvalidDataException e)
            {
                throw new WeightFormatException($"The weights file's zip archive has a corrupt entry ({e.Message}).", e);
            }
        }
    }

    private static Dictionary<string, WeightTensor> LoadZipCore(ZipArchive zip, Func<string, bool> keyFilter)
    {
        ZipArchiveEntry? pkl = null;
        foreach (var e in zip.Entries)
        {
            if (e.FullName == "data.pkl" || e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal))
            {
                if (pkl is null || e.FullName.Length < pkl.FullName.Length) pkl = e;
            }
        }
        if (pkl is null)
        {
            bool hasPth = zip.Entries.Any(e => e.FullName.EndsWith(".pth", StringComparison.OrdinalIgnoreCase)
                                            || e.FullName.EndsWith(".model", StringComparison.OrdinalIgnoreCase));
            throw new WeightFormatException(hasPth
                ? "The file is a zip archive of weight files, not a PyTorch weights file: extract it and pass one of the files inside."
                : "The file is a zip archive without a data.pkl entry, so it is not a PyTorch weights file.");
        }
        string prefix = pkl.FullName[..^"data.pkl".Length];

        var byteorder = zip.GetEntry(prefix + "byteorder");
        if (byteorder is not null && byteorder.Length < 16)
        {
            using var r = new StreamReader(byteorder.Open());
            if (r.ReadToEnd().Trim() == "big")
                throw new WeightFormatException("The weights file stores big-endian data, which is not supported.");
        }

        if (pkl.Length > MaxPickleBytes) throw new WeightFormatException("The weights file's data.pkl is implausibly large.");
        var pklBytes = ReadEntry(pkl, pkl.Length, "data.pkl");

        var storages = new Dictionary<string, StorageRef>();
        object? PersistentLoad(object?[] pid)
        {
            if (pid.Length != 5 || pid[0] is not "storage")
                throw new WeightFormatException($"The weights file's data.pkl has an unexpected persistent id ({PidKind(pid)}).");
            var s = MakeStorage(pid[1], pid[2], pid[4]);
            if (storages.TryGetValue(s.Key, out var existing)) return existing;
            storages[s.Key] = s;
            return s;
        }

        object? root = new Unpickler(new MemoryStream(pklBytes, writable: false), PersistentLoad, "data.pkl").Load();
        var refs = Collect(root);

        void Read(StorageRef s, Span<byte> destination)
        {
            var entry = zip.GetEntry(prefix + "data/" + s.Key)
                ?? throw new WeightFormatException($"The weights file has no data for storage '{s.Key}' (entry {prefix}data/{s.Key} is missing).");
            long bytes = CheckedBytes(s);
            if (entry.Length < bytes)
                throw new WeightFormatException($"The weights file's storage '{s.Key}' holds {entry.Length} bytes but its tensors need {bytes} (the file is corrupt).");
            using var stream = entry.Open();
            ReadFully(stream, destination, $"storage '{s.Key}'");
        }

        return Materialise(refs, keyFilter, Read);
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry, long count, string what)
    {
        var buf = new byte[count];
        using var s = entry.Open();
        ReadFully(s, buf, what);
        return buf;
    }

    private static void ReadFully(Stream s, Span<byte> destination, string what)
    {
        while (destination.Length > 0)
        {
            int n = s.Read(destination);
            if (n == 0) throw new WeightFormatException($"The weights file's {what} is truncated.");
            destination = destination[n..];
        }
    }

    // ---------------------------------------------------------------- legacy format

    public static Dictionary<string, WeightTensor> LoadLegacy(Stream file, Func<string, bool> keyFilter)
    {
        object? NoPersistent(object?[] _) => throw new WeightFormatException("The weights file's header has an unexpected persistent id.");

        object? magic = new Unpickler(file, NoPersistent, "header").Load();
        if (!(magic is BigInteger m && m == LegacyMagic))
            throw new WeightFormatException("The file starts with a pickle but not with PyTorch's magic number, so it is not a PyTorch weights file.");
        object? protocol = new Unpickler(file, NoPersistent, "header").Load();
        if (protocol is not long p || p != LegacyProtocol)
            throw new WeightFormatException($"The weights file uses PyTorch legacy protocol {protocol}, only {LegacyProtocol} is supported.");
        object? sysInfo = new Unpickler(file, NoPersistent, "header").Load();
        if (sysInfo is PyDict info)
        {
            foreach (var kv in info.Items)
            {
                if (kv.Key is "little_endian" && kv.Value is false)
                    throw new WeightFormatException("The weights file was written on a big-endian machine, which is not supported.");
            }
        }

        var roots = new Dictionary<string, StorageRef>();
        var views = new Dictionary<string, StorageRef>();
        object? PersistentLoad(object?[] pid)
        {
            if (pid.Length > 0 && pid[0] is "module")
                throw new WeightFormatException("The weights file contains a whole pickled model rather than a state dict; re-save it with torch.save(model.state_dict(), path).");
            if (pid.Length != 6 || pid[0] is not "storage")
                throw new WeightFormatException($"The weights file has an unexpected persistent id ({PidKind(pid)}).");
            var root = MakeStorage(pid[1], pid[2], pid[4]);
            if (roots.TryGetValue(root.Key, out var existing))
            {
                if (existing.DType != root.DType) throw new WeightFormatException($"The weights file uses storage '{root.Key}' with two different element types.");
                root = existing;
            }
            else roots[root.Key] = root;
            if (pid[5] is null) return root;

            // Very old files (torch < 0.4): (view_key, offset, view_size) views into a root storage.
            if (pid[5] is not object?[] { Length: 3 } vm || vm[0] is not string viewKey)
                throw new WeightFormatException("The weights file has a malformed storage view.");
            if (views.TryGetValue(viewKey, out var view)) return view;
            long off = Unpickler.AsLong(vm[1], "view offset"), size = Unpickler.AsLong(vm[2], "view size");
            if (off < 0 || size < 0 || off + size > root.Numel)
                throw new WeightFormatException($"The weights file has a storage view outside its storage '{root.Key}'.");
            view = new StorageRef(root.Key, root.DType, size, off, root.Numel);
            views[viewKey] = view;
            return view;
        }

        object? obj = new Unpickler(file, PersistentLoad, "pickle").Load();
        object? keyList = new Unpickler(file, NoPersistent, "storage list").Load();
        if (keyList is not List<object?> keys)
            throw new WeightFormatException("The weights file's storage list is not a list.");
        var refs = Collect(obj);

        // Which root storages do the selected tensors need?
        var needed = new HashSet<string>();
        foreach (var (name, t) in refs)
        {
            if (keyFilter(name)) needed.Add(t.Storage.Key);
        }

        // Storages follow in list order, each as an 8-byte element count then raw data. Walk the list only as far as
        // the selected tensors need, noting where each storage's data starts; unneeded ones are skipped with a seek.
        var offsets = new Dictionary<string, long>();
        int found = 0;
        foreach (var k in keys)
        {
            if (found == needed.Count) break;
            if (k is not string key || !roots.TryGetValue(key, out var root))
                throw new WeightFormatException("The weights file's storage list names a storage that no tensor uses.");
            var countBytes = new byte[8];
            if (file.Length - file.Position < 8)
                throw new WeightFormatException($"The weights file is truncated (storage '{key}' is missing).");
            file.ReadExactly(countBytes);
            long count = BinaryPrimitives.ReadInt64LittleEndian(countBytes);
            if (count != root.Numel)
                throw new WeightFormatException($"The weights file's storage '{key}' has {count} elements but {root.Numel} were declared (the file is corrupt).");
            long bytes = CheckedBytes(root);
            long remaining = file.Length - file.Position;
            if (bytes > remaining)
                throw new WeightFormatException($"The weights file is truncated (storage '{key}' needs {bytes} bytes, {remaining} remain).");
            if (needed.Contains(key) && offsets.TryAdd(key, file.Position)) found++;
            file.Seek(bytes, SeekOrigin.Current);
        }
        foreach (var key in needed)
        {
            if (!offsets.ContainsKey(key))
                throw new WeightFormatException($"The weights file has no data for storage '{key}' (the storage list is incomplete).");
        }

        void Read(StorageRef s, Span<byte> destination)
        {
            file.Position = offsets[s.Key];
            file.ReadExactly(destination);
        }

        return Materialise(refs, keyFilter, Read);
    }

    // ---------------------------------------------------------------- shared

    private static StorageRef MakeStorage(object? type, object? key, object? numel)
    {
        if (type is not PyGlobal { Kind: GlobalKind.StorageType } g)
            throw new WeightFormatException($"The weights file names a storage type that is not a torch storage ({Unpickler.Describe(type)}).");
        if (key is not string k)
            throw new WeightFormatException("The weights file has a storage whose key is not a string.");
        long n = Unpickler.AsLong(numel, "storage size");
        if (n < 0) throw new WeightFormatException($"The weights file has a storage of negative size {n}.");
        return new StorageRef(k, g.StorageDType, n);
    }

    private static long CheckedBytes(StorageRef s)
    {
        long size = DTypes.Size(s.DType);
        if (s.Numel > Array.MaxLength / size)
            throw new WeightFormatException($"The weights file's storage '{s.Key}' ({s.Numel} elements) is too large to load.");
        return s.Numel * size;
    }

    private static string PidKind(object?[] pid) => pid.Length > 0 && pid[0] is string s ? $"'{s}' with {pid.Length} fields" : $"{pid.Length} fields";

    /// <summary>Flattens the unpickled object into named tensors: a (nested) dict of tensors; non-tensor leaves are ignored.</summary>
    private static List<(string Name, TensorRef Tensor)> Collect(object? root)
    {
        var result = new List<(string, TensorRef)>();
        if (root is TensorRef single)
        {
            result.Add(("", single));
            return result;
        }
        if (root is not PyDict dict)
            throw new WeightFormatException($"The weights file holds {Unpickler.Describe(root)} rather than a state dict of tensors.");
        Walk(dict, "", result, 0);
        return result;
    }

    private static void Walk(PyDict dict, string prefix, List<(string, TensorRef)> result, int depth)
    {
        if (depth > 8) throw new WeightFormatException("The weights file nests dicts implausibly deep.");
        foreach (var kv in dict.Items)
        {
            string key = kv.Key switch
            {
                string s => s,
                long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => throw new WeightFormatException($"The weights file has a state-dict key that is {Unpickler.Describe(kv.Key)}, not a string."),
            };
            string name = prefix + key;
            if (kv.Value is TensorRef t) result.Add((name, t));
            else if (kv.Value is PyDict inner) Walk(inner, name + ".", result, depth + 1);
        }
    }

    /// <summary>Reads a whole root storage's raw bytes into <c>destination</c> (exactly numel × element size bytes).</summary>
    private delegate void StorageReader(StorageRef storage, Span<byte> destination);

    private static Dictionary<string, WeightTensor> Materialise(
        List<(string Name, TensorRef Tensor)> refs, Func<string, bool> keyFilter, StorageReader read)
    {
        var selected = refs.Where(r => keyFilter(r.Name)).ToList();
        var uses = new Dictionary<string, int>();
        foreach (var (_, t) in selected) uses[t.Storage.Key] = uses.GetValueOrDefault(t.Storage.Key) + 1;

        var shared = new Dictionary<string, byte[]>();
        var result = new Dictionary<string, WeightTensor>();
        foreach (var (name, t) in selected)
        {
            long count = t.Size.Contains(0) ? 0 : 1, maxIndex = 0;
            foreach (int s in t.Size)
            {
                count *= s;
                if (count > Array.MaxLength) throw new WeightFormatException($"The tensor '{name}' has too many elements to load.");
            }
            if (count > 0)
            {
                for (int d = 0; d < t.Size.Length; d++)
                {
                    if (t.Stride[d] > long.MaxValue / Math.Max(1, t.Size[d])) throw Outside(name);
                    maxIndex += (t.Size[d] - 1) * t.Stride[d];
                    if (maxIndex < 0) throw Outside(name);
                }
                maxIndex += t.Offset;
                if (maxIndex < 0 || maxIndex >= t.Storage.Numel) throw Outside(name);
            }

            var root = t.Storage.Root;
            float[] data;
            if (count > 0 && count == root.Numel && t.Storage.DType == DType.Float32 && BitConverter.IsLittleEndian
                && uses[root.Key] == 1 && t.Offset + t.Storage.ViewOffset == 0 && IsContiguous(t.Size, t.Stride))
            {
                // The common case (a parameter owning its float32 storage): read straight into the result.
                data = new float[count];
                CheckedBytes(root);
                read(root, MemoryMarshal.AsBytes(data.AsSpan()));
            }
            else
            {
                if (!shared.TryGetValue(root.Key, out var raw))
                {
                    raw = new byte[CheckedBytes(root)];
                    read(root, raw);
                    if (uses[root.Key] > 1) shared[root.Key] = raw;
                }
                data = DTypes.CopyStrided(raw, t.Storage.DType, t.Offset + t.Storage.ViewOffset, t.Size, t.Stride);
            }
            result[name] = new WeightTensor(name, t.Size, data);
        }
        return result;
    }

    private static bool IsContiguous(int[] size, long[] stride)
    {
        long expect = 1;
        for (int d = size.Length - 1; d >= 0; d--)
        {
            if (size[d] != 1 && stride[d] != expect) return false;
            expect *= size[d];
        }
        return true;
    }

    private static WeightFormatException Outside(string name) =>
        new($"The tensor '{name}' reaches outside its storage (the file is corrupt).");
}
