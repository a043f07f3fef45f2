using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using NeuralStyle.IO;

namespace NeuralStyle.Weights.Torch;

/// <summary>
/// Writes a state dict as PyTorch's zip format (what <c>torch.save(model.state_dict(), path)</c> writes since 1.6), so
/// that <c>torch.load</c> + <c>load_state_dict</c> accept it unchanged: <c>archive/data.pkl</c> is a protocol-2 pickle of
/// an <c>OrderedDict</c> of <c>torch._utils._rebuild_tensor_v2</c> calls over <c>torch.FloatStorage</c> persistent ids,
/// <c>archive/data/N</c> the raw little-endian float32 storages, <c>archive/version</c> "3". Entries are stored
/// (uncompressed), as torch writes them.
/// </summary>
public static class TorchWriter
{
    private const string Archive = "archive";

    /// <summary>Writes <paramref name="tensors"/> (float32, contiguous) to <paramref name="path"/> atomically, in the given order.</summary>
    public static void Write(string path, IEnumerable<WeightTensor> tensors)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (WeightTensor t in list)
        {
            if (string.IsNullOrEmpty(t.Name)) throw new ArgumentException("A tensor to write has an empty name.", nameof(tensors));
            if (!names.Add(t.Name)) throw new ArgumentException($"The tensor name '{t.Name}' appears twice.", nameof(tensors));
            if (t.Shape.Any(d => d < 0) || t.ElementCount != t.Data.Length)
                throw new ArgumentException($"The tensor '{t.Name}' has {t.Data.Length} values but its shape [{string.Join(", ", t.Shape)}] needs {t.ElementCount}.", nameof(tensors));
        }
        byte[] pickle = Pickle(list);
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            Entry(zip, "data.pkl", pickle);
            for (int i = 0; i < list.Count; i++)
            {
                float[] data = list[i].Data;
                var bytes = new byte[4L * data.Length];
                for (int k = 0; k < data.Length; k++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * k), data[k]);
                Entry(zip, $"data/{i}", bytes);
            }
            Entry(zip, "version", "3\n"u8.ToArray());
        });
    }

    private static void Entry(ZipArchive zip, string name, byte[] content)
    {
        ZipArchiveEntry e = zip.CreateEntry($"{Archive}/{name}", CompressionLevel.NoCompression);
        e.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero); // reproducible files
        using Stream s = e.Open();
        s.Write(content);
    }

    /// <summary>The protocol-2 pickle of the state dict (storage keys are the tensors' indices).</summary>
    internal static byte[] Pickle(IReadOnlyList<WeightTensor> tensors)
    {
        var p = new PickleBuilder();
        p.Proto(2);
        p.Global("collections", "OrderedDict");
        p.EmptyTuple();
        p.Reduce();
        if (tensors.Count > 0)
        {
            p.Mark();
            for (int i = 0; i < tensors.Count; i++)
            {
                WeightTensor t = tensors[i];
                p.Unicode(t.Name);
                p.Global("torch._utils", "_rebuild_tensor_v2");
                p.Mark();
                {
                    // persistent id: ('storage', torch.FloatStorage, key, location, numel)
                    p.Mark();
                    p.Unicode("storage");
                    p.Global("torch", "FloatStorage");
                    p.Unicode(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    p.Unicode("cpu");
                    p.Int(t.Data.Length);
                    p.Tuple();
                    p.BinPersId();
                    p.Int(0); // storage offset
                    p.IntTuple(t.Shape);
                    p.IntTuple(ContiguousStrides(t.Shape));
                    p.False(); // requires_grad
                    p.Global("collections", "OrderedDict"); // backward hooks: an empty OrderedDict
                    p.EmptyTuple();
                    p.Reduce();
                }
                p.Tuple();
                p.Reduce();
            }
            p.SetItems();
        }
        p.Stop();
        return p.ToArray();
    }

    private static int[] ContiguousStrides(int[] shape)
    {
        var strides = new int[shape.Length];
        int s = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = s;
            s *= Math.Max(shape[d], 1);
        }
        return strides;
    }

    /// <summary>The few pickle opcodes a state dict needs (no memo: torch's unpickler does not require one).</summary>
    private sealed class PickleBuilder
    {
        private readonly MemoryStream _s = new();

        public void Proto(byte version) { _s.WriteByte(0x80); _s.WriteByte(version); }
        public void Global(string module, string name) => Raw($"c{module}\n{name}\n");
        public void EmptyTuple() => _s.WriteByte((byte)')');
        public void Reduce() => _s.WriteByte((byte)'R');
        public void Mark() => _s.WriteByte((byte)'(');
        public void Tuple() => _s.WriteByte((byte)'t');
        public void SetItems() => _s.WriteByte((byte)'u');
        public void BinPersId() => _s.WriteByte((byte)'Q');
        public void False() => _s.WriteByte(0x89);
        public void Stop() => _s.WriteByte((byte)'.');

        public void Unicode(string text)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(text);
            _s.WriteByte((byte)'X');
            Span<byte> len = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)utf8.Length);
            _s.Write(len);
            _s.Write(utf8);
        }

        public void Int(int value)
        {
            if (value is >= 0 and < 256)
            {
                _s.WriteByte((byte)'K');
                _s.WriteByte((byte)value);
            }
            else
            {
                _s.WriteByte((byte)'J');
                Span<byte> b = stackalloc byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(b, value);
                _s.Write(b);
            }
        }

        public void IntTuple(int[] values)
        {
            if (values.Length == 0)
            {
                EmptyTuple();
                return;
            }
            Mark();
            foreach (int v in values) Int(v);
            Tuple();
        }

        private void Raw(string ascii) => _s.Write(Encoding.ASCII.GetBytes(ascii));

        public byte[] ToArray() => _s.ToArray();
    }
}
