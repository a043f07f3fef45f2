using NeuralStyle.Models;

namespace NeuralStyle.Core;

/// <summary>What every method's memory estimate shares: the fixed overhead, the feature network's weights and what the machine has free.</summary>
public static class MemoryBudget
{
    /// <summary>Fixed overhead of the runtime, code and small buffers.</summary>
    public const long BaseBytes = 120L << 20;

    /// <summary>The network's weights to <paramref name="deepest"/> and their forms for the convolution kernels (packed or Winograd-transformed).</summary>
    public static long WeightBytes(IFeatureNetwork net, int deepest) => net.WeightBytes(deepest);

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
