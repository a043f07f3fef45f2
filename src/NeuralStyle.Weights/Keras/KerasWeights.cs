using System.Globalization;

namespace NeuralStyle.Weights.Keras;

/// <summary>
/// Reads the weights of a Keras HDF5 file (<c>.h5</c>, <c>.weights.h5</c>) as layers in the order Keras loads them.
/// </summary>
/// <remarks>
/// Three layouts are recognised from the file's content:
/// <list type="bullet">
/// <item>Keras 2 / Keras 3 "legacy" HDF5 (<c>save_weights('x.h5')</c>, the keras-applications files such as
/// <c>vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5</c>): the attribute <c>layer_names</c> (or its chunks
/// <c>layer_names0</c>, <c>layer_names1</c>, …) on the root, one group per layer with the attribute <c>weight_names</c>,
/// datasets at <c>layer/weight_name</c>. Keras 2 names end in <c>:0</c> (removed here), Keras 3 names do not.</item>
/// <item>The same under the group <c>model_weights</c> (a full model saved with <c>model.save('x.h5')</c>).</item>
/// <item>Keras 3 <c>save_weights('x.weights.h5')</c>: <c>layers/&lt;class&gt;[_k]/vars/0, 1, …</c> (also
/// <c>_layer_checkpoint_dependencies/…</c> of Keras 2.13–2.15). These files name layers by class, not by layer name,
/// so the order is by class name and then by the counter <c>k</c> (model order within each class); weight names are
/// <c>&lt;path&gt;/&lt;i&gt;</c>.</item>
/// </list>
/// Shapes are as stored (convolution kernels H×W×In×Out). float16/32/64 datasets are converted to float32. Any problem
/// — a truncated or corrupt file, absurd sizes, a structure that loops — throws <see cref="WeightFormatException"/> with
/// one sentence. The HDF5 reader is this project's own (<see cref="Hdf5File"/>): every size is checked against the file
/// before anything is allocated and every linked structure is walked with a visited set, so a hostile file cannot make
/// it allocate or loop without limit.
/// </remarks>
public static class KerasWeights
{
    /// <summary>The 8-byte HDF5 signature (superblock at offset 0; HDF5 also allows 512, 1024, … which Keras never writes).</summary>
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Most layers and weights per layer a file may list (ResNet-152 has under 1000 layers).</summary>
    private const int MaxNames = 100_000;

    /// <summary>True when <paramref name="head"/> (the first bytes of a file) starts with the HDF5 signature.</summary>
    public static bool IsHdf5(ReadOnlySpan<byte> head) => head.StartsWith(Signature);

    /// <summary>True when the file at <paramref name="path"/> is an HDF5 file (by content, never by extension).</summary>
    public static bool IsHdf5(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            Span<byte> head = stackalloc byte[8];
            return f.ReadAtLeast(head, 8, throwOnEndOfStream: false) == 8 && IsHdf5(head);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Every layer of the file in Keras' load order, weightless layers (pools, inputs) included.</summary>
    public static IReadOnlyList<KerasLayer> Read(string path) => Read(path, static (_, _) => true);

    /// <summary>
    /// The layers <paramref name="include"/> accepts, given the layer's name and the stored shapes of its weights (read
    /// without reading the data), in Keras' load order; the data of the others is never read.
    /// </summary>
    public static IReadOnlyList<KerasLayer> Read(string path, Func<string, IReadOnlyList<int[]>, bool> include)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(include);
        using (FileStream file = WeightFileStream.OpenRead(path)) return Read(file, include);
    }

    /// <summary>Reads from a readable, seekable stream (left open).</summary>
    public static IReadOnlyList<KerasLayer> Read(Stream stream, Func<string, IReadOnlyList<int[]>, bool> include)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(include);
        if (!stream.CanRead || !stream.CanSeek) throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        return KerasHdf5Reader.Run(stream, include);
    }

    /// <summary>"conv2d_12" → ("conv2d", 12); "conv2d" → ("conv2d", 0); Keras 3's names for the k-th layer of a class.</summary>
    internal static (string Base, long Counter) SplitCounter(string name)
    {
        int us = name.LastIndexOf('_');
        if (us > 0 && us < name.Length - 1 && name.AsSpan(us + 1).IndexOfAnyExceptInRange('0', '9') < 0 && name.Length - us - 1 <= 9)
            return (name[..us], long.Parse(name.AsSpan(us + 1), CultureInfo.InvariantCulture));
        return (name, 0);
    }

    internal static int MaxNameCount => MaxNames;
}
