using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Models;

/// <summary>
/// A feature network the optimisation methods read activations from (VGG-16/19, ResNet-50): it resolves layer
/// names, builds the features of the layers a loss wants, and tells what those layers cost.
/// A <see cref="LayerRef.Index"/> orders the network's layers: a higher index is never computed before a lower one.
/// </summary>
public interface IFeatureNetwork
{
    /// <summary>The network's name for messages, e.g. "VGG-19" or "ResNet-50 (Keras V1)".</summary>
    string DisplayName { get; }

    /// <summary>Resolves any accepted name of a layer; an unknown name throws an ArgumentException listing the valid ones.</summary>
    LayerRef Resolve(string name);

    /// <summary>Output channels of the layer with index <paramref name="index"/>.</summary>
    int ChannelsAt(int index);

    /// <summary>
    /// Adds the network to <paramref name="graph"/> from <paramref name="input"/> (N,H,W,3 in input space) up to the
    /// deepest wanted layer and returns the wanted outputs by their canonical names (<see cref="LayerRef.Name"/>).
    /// </summary>
    Dictionary<string, Value> Build(Graph graph, Value input, IEnumerable<LayerRef> wanted, PoolingKind pooling,
        ConvPadding padding = ConvPadding.Zero);

    /// <summary>True when an h×w input still has usable features at the layer with index <paramref name="deepest"/>.</summary>
    bool CanReach(int h, int w, int deepest);

    /// <summary>Bytes of the weights up to layer <paramref name="deepest"/>, with the packings the kernels make of them.</summary>
    long WeightBytes(int deepest);

    /// <summary>The layers whose activations are smoothed by default before the losses read them (SWAG; empty for VGG).</summary>
    IReadOnlyList<string> DefaultSmoothedLayers { get; }
}
