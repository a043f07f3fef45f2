using NeuralStyle.Models;

namespace NeuralStyle.Gatys;

/// <summary>Predicts the memory a stylisation needs before anything large is allocated.</summary>
public static class MemoryEstimate
{
    /// <summary>
    /// Bytes for a stylisation of a w×h output with the given options on this network: the graphs' buffers as their
    /// memory plan gives them (shapes-only builds of the very graphs the run builds), the weights and their packing,
    /// and the optimiser's state.
    /// </summary>
    public static long Stylize(StylizeOptions o, IFeatureNetwork net, int w, int h)
    {
        var stylizer = new Stylizer(o, new Backbone(net, InputFlavor.Torchvision, "estimate"));
        int deepest = o.ContentLayers.Concat(o.StyleLayers).Max(l => net.Resolve(l).Index);
        return MemoryBudget.BaseBytes + MemoryBudget.WeightBytes(net, deepest) + stylizer.PlanGraphBytes(w, h, w, h) + OptimizerBytes(o, w, h);
    }

    /// <summary>The optimiser's state over a w×h RGB image.</summary>
    public static long OptimizerBytes(StylizeOptions o, int w, int h)
    {
        long pixels = (long)w * h * 3;
        long floats = o.Optimizer == OptimizerKind.Lbfgs ? pixels * (2L * o.LbfgsHistory + 8) : pixels * 4;
        if (o.Average is not null) floats += pixels;
        return 4 * floats;
    }

    /// <summary>The largest long edge (multiple of 16) whose estimate fits in <paramref name="bytes"/>.</summary>
    public static int LargestFittingLongEdge(StylizeOptions o, IFeatureNetwork net, int w, int h, long bytes)
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
