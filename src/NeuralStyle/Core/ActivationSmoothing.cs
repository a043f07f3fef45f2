using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;

namespace NeuralStyle.Core;

/// <summary>How activations are softened before the Gram and content losses read them (SWAG, spec §1).</summary>
public enum SmoothingKind
{
    /// <summary>The raw activations.</summary>
    None,
    /// <summary>Softmax over the channels at every position of x / T (torch nn.Softmax2d(x / T)).</summary>
    Softmax,
    /// <summary>x · 0.001 (the SWAG paper reports results close to the softmax's).</summary>
    Scale,
}

/// <summary>
/// Activation smoothing resolved against a network: which layers are smoothed and how. Residual networks have peaky
/// activations whose Grams are dominated by a few channels; smoothing them is what makes ResNet usable for style.
/// </summary>
public sealed class ActivationSmoothing
{
    /// <summary>The factor of <see cref="SmoothingKind.Scale"/>.</summary>
    public const float ScaleFactor = 0.001f;

    private readonly HashSet<int> _layers;

    private ActivationSmoothing(SmoothingKind kind, float temperature, HashSet<int> layers)
    {
        Kind = kind;
        Temperature = temperature;
        _layers = layers;
    }

    public SmoothingKind Kind { get; }
    public float Temperature { get; }

    /// <summary>The layer indices smoothed (any name of the layer selects it).</summary>
    public IReadOnlySet<int> Layers => _layers;

    /// <summary>
    /// Resolves the options: <paramref name="kind"/> null means the network's default (softmax on its
    /// <see cref="IFeatureNetwork.DefaultSmoothedLayers"/>, none for VGG); <paramref name="layers"/> null means the
    /// network's default layers, or every loss layer when the network has none. The last three arguments name the
    /// options for error messages.
    /// </summary>
    public static ActivationSmoothing Resolve(IFeatureNetwork net, SmoothingKind? kind, double temperature, IReadOnlyList<string>? layers,
        IEnumerable<LayerRef> lossLayers, string kindOption, string temperatureOption, string layersOption)
    {
        ArgumentNullException.ThrowIfNull(net);
        IReadOnlyList<string> names = layers ?? net.DefaultSmoothedLayers;
        SmoothingKind k = kind ?? (names.Count > 0 ? SmoothingKind.Softmax : SmoothingKind.None);
        if (k == SmoothingKind.None) return Off;
        if (!(temperature > 0) || !double.IsFinite(temperature))
            throw new OptionException(temperatureOption, $"{OptionException.Ref(temperatureOption)} must be a positive number (got {temperature}).");
        HashSet<int> set = names.Count > 0
            ? [.. NeuralStyle.Core.Layers.Resolve(net, names, layersOption).Select(r => r.Index)]
            : [.. lossLayers.Select(r => r.Index)];
        return new ActivationSmoothing(k, (float)temperature, set);
    }

    /// <summary>No smoothing anywhere.</summary>
    public static ActivationSmoothing Off { get; } = new(SmoothingKind.None, 1f, []);

    /// <summary>The features with every smoothed layer among <paramref name="refs"/> replaced by its smoothed value (the rest untouched).</summary>
    public Dictionary<string, Value> Apply(Graph g, Dictionary<string, Value> features, IEnumerable<LayerRef> refs)
    {
        if (Kind == SmoothingKind.None) return features;
        foreach (LayerRef r in refs.DistinctBy(r => r.Name))
        {
            if (!_layers.Contains(r.Index)) continue;
            Value f = features[r.Name];
            features[r.Name] = Kind == SmoothingKind.Softmax
                ? g.SoftmaxChannels(f, Temperature, $"smooth:{r.Name}")
                : g.Scale(f, ScaleFactor, $"smooth:{r.Name}");
        }
        return features;
    }

    public override string ToString() => Kind switch
    {
        SmoothingKind.None => "none",
        SmoothingKind.Softmax => Temperature == 1f ? "softmax" : $"softmax (T = {Temperature})",
        _ => "scale ×0.001",
    };
}
