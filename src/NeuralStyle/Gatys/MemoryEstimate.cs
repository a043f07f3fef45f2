using NeuralStyle.Models.Vgg;

namespace NeuralStyle.Gatys;

/// <summary>Predicts the memory a stylisation needs before anything large is allocated.</summary>
public static class MemoryEstimate
{
    /// <summary>Fixed overhead of the runtime, code and small buffers.</summary>
    public const long BaseBytes = 120L << 20;

    /// <summary>Bytes for a stylisation of a w×h output with the given options on this network.</summary>
    public static long Stylize(StylizeOptions o, VggNet net, int w, int h)
    {
        var refs = o.ContentLayers.Concat(o.StyleLayers).Select(net.Layers.Resolve).ToList();
        int deepest = refs.Max(r => r.Index);
        var preRelu = refs.Where(r => net.Layers.Modules[r.Index].Kind == LayerKind.Conv).Select(r => r.Index).ToHashSet();
        long pixels = (long)w * h;
        long graphFloats = 0, maxNode = pixels * 3;
        long hh = h, ww = w;
        foreach (VggModule m in net.Layers.Modules)
        {
            if (m.Index > deepest) break;
            if (m.Kind == LayerKind.Pool) { hh /= 2; ww /= 2; }
            bool fusedRelu = m.Kind == LayerKind.Relu && !preRelu.Contains(m.Index - 1);
            if (fusedRelu) continue;
            long n = hh * ww * net.ChannelsAt(m.Index);
            graphFloats += 2 * n; // data + gradient
            maxNode = Math.Max(maxNode, n);
        }
        // the weights, and per style layer its Gram, target, difference and square (C×C, most with gradients)
        graphFloats += net.ParameterCount(deepest);
        foreach (string layer in o.StyleLayers)
        {
            long c = net.ChannelsAt(net.Layers.Resolve(layer).Index);
            graphFloats += 7 * c * c;
        }
        // content terms: target, difference, square (data + gradient each)
        foreach (string layer in o.ContentLayers)
        {
            LayerRef r = net.Layers.Resolve(layer);
            graphFloats += 5 * FeatureSize(net, r.Index, w, h);
        }
        graphFloats += pixels * 3 * (2 + (o.TvWeight != 0 ? 16 : 0) + (o.PixelSpace ? 2 : 0));
        graphFloats += maxNode; // the shared gradient scratch
        long optimizerFloats = o.Optimizer == OptimizerKind.Lbfgs
            ? pixels * 3 * (2L * o.LbfgsHistory + 8)
            : pixels * 3 * 4;
        // the style target pass (forward only) at the style size, released before optimising, overlaps little
        if (o.StyleLoss == StyleLossKind.Pyramid) graphFloats += graphFloats / 3; // the coarser levels add ≤ 1/3
        if (o.Average is not null) optimizerFloats += pixels * 3;
        return BaseBytes + 4 * (graphFloats + optimizerFloats);
    }

    /// <summary>Bytes for a texture synthesis: every pyramid level through the network, with gradients, for every frame.</summary>
    public static long Texture(NeuralStyle.Texture.TextureOptions o, VggNet net)
    {
        var refs = o.Layers.Select(net.Layers.Resolve).ToList();
        int deepest = refs.Max(r => r.Index);
        long floats = 0;
        long w = o.Width, h = o.OutputHeight;
        for (int l = 0; l < o.Octaves; l++)
        {
            long hh = h, ww = w;
            foreach (VggModule m in net.Layers.Modules)
            {
                if (m.Index > deepest) break;
                if (m.Kind == LayerKind.Pool) { hh /= 2; ww /= 2; }
                if (m.Kind == LayerKind.Relu) continue; // fused into the convolution
                floats += 2 * hh * ww * net.ChannelsAt(m.Index);
            }
            floats += 4 * hh * ww * 3; // the level itself and the reduce buffers
            w = (w + 1) / 2;
            h = (h + 1) / 2;
        }
        long pixels = (long)o.Width * o.OutputHeight * 3 * o.Count;
        floats = floats * o.Count + pixels * (2L * o.LbfgsHistory + 8);
        if (o.Count > 1) floats += pixels * 4 * o.IfOrder;
        return BaseBytes + 4 * floats;
    }

    private static long FeatureSize(VggNet net, int index, int w, int h)
    {
        long hh = h, ww = w;
        foreach (VggModule m in net.Layers.Modules)
        {
            if (m.Kind == LayerKind.Pool) { hh /= 2; ww /= 2; }
            if (m.Index == index) break;
        }
        return hh * ww * net.ChannelsAt(index);
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
