using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;

namespace NeuralStyle.Gatys;

/// <summary>Predicts the memory a stylisation needs before anything large is allocated.</summary>
public static class MemoryEstimate
{
    /// <summary>Fixed overhead of the runtime, code and small buffers.</summary>
    public const long BaseBytes = 120L << 20;

    /// <summary>
    /// Bytes for a stylisation of a w×h output with the given options on this network: the graphs' buffers as their
    /// memory plan gives them (shapes-only builds of the very graphs the run builds), the weights and their packing,
    /// and the optimiser's state.
    /// </summary>
    public static long Stylize(StylizeOptions o, VggNet net, int w, int h)
    {
        var stylizer = new Stylizer(o, new Backbone(net, InputFlavor.Torchvision, "estimate"));
        int deepest = o.ContentLayers.Concat(o.StyleLayers).Max(l => net.Layers.Resolve(l).Index);
        return BaseBytes + WeightBytes(net, deepest) + stylizer.PlanGraphBytes(w, h, w, h) + OptimizerBytes(o, w, h);
    }

    /// <summary>The network's weights to <paramref name="deepest"/> and their packings for the convolution kernels.</summary>
    public static long WeightBytes(VggNet net, int deepest)
    {
        long bytes = 4 * net.ParameterCount(deepest);
        for (int i = 0; i <= deepest; i++)
            if (net.Layers.Modules[i].Kind == LayerKind.Conv)
                bytes += NeuralStyle.Tensors.Kernels.Conv3x3Weights.PackedBytes(net.ChannelsAt(i), i == 0 ? 3 : InChannels(net, i));
        return bytes;
    }

    private static int InChannels(VggNet net, int index)
    {
        for (int k = index - 1; k >= 0; k--)
            if (net.Layers.Modules[k].Kind == LayerKind.Conv) return net.ChannelsAt(k);
        return 3;
    }

    /// <summary>The optimiser's state over a w×h RGB image.</summary>
    public static long OptimizerBytes(StylizeOptions o, int w, int h)
    {
        long pixels = (long)w * h * 3;
        long floats = o.Optimizer == OptimizerKind.Lbfgs ? pixels * (2L * o.LbfgsHistory + 8) : pixels * 4;
        if (o.Average is not null) floats += pixels;
        return 4 * floats;
    }

    /// <summary>Bytes for a texture synthesis: its graphs as planned, the weights and packing, and L-BFGS's state.</summary>
    public static long Texture(NeuralStyle.Texture.TextureOptions o, VggNet net, IReadOnlyList<(int Width, int Height)>? sourceSizes = null)
    {
        var synth = new NeuralStyle.Texture.TextureSynthesizer(o, new Backbone(net, InputFlavor.Torchvision, "estimate"));
        int deepest = o.Layers.Max(l => net.Layers.Resolve(l).Index);
        long pixels = (long)o.Width * o.OutputHeight * 3 * o.Count;
        return BaseBytes + WeightBytes(net, deepest) + synth.PlanGraphBytes(sourceSizes) + 4 * pixels * (2L * o.LbfgsHistory + 8);
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

    /// <summary>The largest long edge (multiple of 16) whose estimate fits in <paramref name="bytes"/>.</summary>
    public static int LargestFittingLongEdge(StylizeOptions o, VggNet net, int w, int h, long bytes)
    {
        int longEdge = Math.Max(w, h);
        int lo = 16, hi = longEdge;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            (int mw, int mh) = w >= h ? (mid, Math.Max(1, (int)((long)h * mid / w))) : (Math.Max(1, (int)((long)w * mid / h)), mid);
            if (Stylize(o, net, mw, mh) <= bytes) lo = mid; else hi = mid - 1;
        }
        return Math.Max(16, lo / 16 * 16);
    }
}
