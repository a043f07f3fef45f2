using System.Buffers.Binary;
using NeuralStyle.Weights.Torch;

namespace NeuralStyle.Weights;

/// <summary>Loads a weights file of any supported format, detected from its content (never from its extension).</summary>
/// <remarks>
/// Supported: PyTorch zip (torch ≥ 1.6), PyTorch legacy pickle stream (torch 0.4–1.x, torchvision's VGG files),
/// safetensors. Every tensor comes back as contiguous float32; float64/float16/bfloat16 are converted, and integer
/// or bool buffers (e.g. <c>num_batches_tracked</c>) are converted to float as well so no key silently disappears.
/// Nested dicts (checkpoints such as <c>{"state_dict": {...}}</c>) are flattened with '.'-joined keys; non-tensor
/// values are ignored. Any problem, including an unsafe pickle, throws <see cref="WeightFormatException"/>.
/// </remarks>
public static class WeightFile
{
    public static IReadOnlyDictionary<string, WeightTensor> Load(string path) => Load(path, static _ => true);

    /// <summary>Loads only the tensors whose key <paramref name="keyFilter"/> accepts; the others' data is never read.</summary>
    public static IReadOnlyDictionary<string, WeightTensor> Load(string path, Func<string, bool> keyFilter)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(keyFilter);
        using (FileStream file = WeightFileStream.OpenRead(path))
        {
            try
            {
                return Detect(file) switch
                {
                    Format.Zip => TorchLoader.LoadZip(file, keyFilter),
                    Format.Legacy => TorchLoader.LoadLegacy(file, keyFilter),
                    Format.SafeTensors => SafeTensors.ReadCore(file, keyFilter),
                    _ => throw new InvalidOperationException(),
                };
            }
            catch (EndOfStreamException e)
            {
                throw new WeightFormatException($"The weights file '{path}' is truncated.", e);
            }
        }
    }

    internal enum Format { Zip, Legacy, SafeTensors }

    internal static Format Detect(FileStream file)
    {
        var head = new byte[16];
        int n = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        file.Position = 0;
        if (n == 0) throw new WeightFormatException("The weights file is empty.");
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5) && (head[3] == 4 || head[3] == 6))
            return Format.Zip;
        if (n >= 2 && head[0] == 0x80 && head[1] <= 5) return Format.Legacy;
        if (n >= 9)
        {
            ulong len = BinaryPrimitives.ReadUInt64LittleEndian(head);
            if (head[8] == '{' && len >= 2 && len <= (ulong)file.Length - 8) return Format.SafeTensors;
            if (head[8] == '{')
                throw new WeightFormatException($"The safetensors header declares {len} bytes but the file has only {file.Length} (the file is truncated or corrupt).");
        }
        if (n >= 4 && head[0] == 0x89 && head[1] == 'H' && head[2] == 'D' && head[3] == 'F')
            throw new WeightFormatException("The weights file is a Keras HDF5 (.h5) file; those are read as feature-network weights (--weights of a VGG or ResNet-50), not here.");
        if (file.Length > 512 && IsTar(file))
            throw new WeightFormatException("The weights file uses PyTorch's pre-0.4 tar format, which is not supported; re-save it with a newer torch.");
        throw new WeightFormatException(
            "The file is not a recognised weights file (expected a PyTorch .pth in zip or legacy format, .safetensors, a Keras .h5, a MatConvNet .mat or a Caffe .caffemodel).");
    }

    private static bool IsTar(FileStream file)
    {
        var block = new byte[512];
        file.Position = 0;
        file.ReadExactly(block);
        file.Position = 0;
        return block.AsSpan(257, 5).SequenceEqual("ustar"u8);
    }
}
