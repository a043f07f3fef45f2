using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Core;

/// <summary>Layer names and feature passes of the backbone, with the user's mistakes turned into <see cref="OptionException"/>s.</summary>
public static class Layers
{
    /// <summary>Resolves layer names given by the option <paramref name="option"/> (an unknown name lists the valid ones).</summary>
    public static LayerRef[] Resolve(IFeatureNetwork net, IEnumerable<string> names, string option)
    {
        var refs = new List<LayerRef>();
        foreach (string name in names)
        {
            try
            {
                refs.Add(net.Resolve(name));
            }
            catch (ArgumentException e)
            {
                throw new OptionException(option, e.Message, e);
            }
        }
        if (refs.Count == 0) throw new OptionException(option, $"{OptionException.Ref(option)} names no layer.");
        return [.. refs];
    }

    /// <summary>
    /// The backbone's features at <paramref name="refs"/>; an input too small for the deepest of them is the fault of
    /// <paramref name="sizeOption"/>.
    /// </summary>
    public static Dictionary<string, Value> Build(IFeatureNetwork net, Graph g, Value input, IEnumerable<LayerRef> refs, PoolingKind pooling,
        string sizeOption, ConvPadding padding = ConvPadding.Zero)
    {
        try
        {
            return net.Build(g, input, refs, pooling, padding);
        }
        catch (FeatureMapTooSmallException e)
        {
            throw new OptionException(sizeOption, e.Message, e);
        }
    }
}
