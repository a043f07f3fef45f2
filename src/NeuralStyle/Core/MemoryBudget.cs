using NeuralStyle.Models.Vgg;

namespace NeuralStyle.Core;

/// <summary>What every method's memory estimate shares: the fixed overhead, the feature network's weights and what the machine has free.</summary>
public static class MemoryBudget
{
    /// <summary>Fixed overhead of the runtime, code and small buffers.</summary>
    public const long BaseBytes = 120L << 20;

    /// <summary>The network's weights to <paramref name="deepest"/> and their forms for the convolution kernels (packed or Winograd-transformed).</summary>
    public static long WeightBytes(VggNet net, int deepest)
    {
        long bytes = 4 * net.ParameterCount(deepest);
        for (int i = 0; i <= deepest; i++)
            if (net.Layers.Modules[i].Kind == LayerKind.Conv)
                bytes += NeuralStyle.Tensors.Kernels.Conv3x3Weights.FrozenBytes(net.ChannelsAt(i), i == 0 ? 3 : InChannels(net, i));
        return bytes;
    }

    private static int InChannels(VggNet net, int index)
    {
        for (int k = index - 1; k >= 0; k--)
            if (net.Layers.Modules[k].Kind == LayerKind.Conv) return net.ChannelsAt(k);
        return 3;
    }

    /// <summary>Memory the machine can give now (MemAvailable on Linux), or null when unknown.</summary>
    public static long? AvailableBytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        var info = GC.GetGCMemoryInfo();
        return info.TotalAvailableMemoryBytes > 0 ? info.TotalAvailableMemoryBytes : null;
    }
}
