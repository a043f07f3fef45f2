using NeuralStyle.Imaging;
using NeuralStyle.Losses;
using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;
using NeuralStyle.Tensors;

namespace NeuralStyle.Core;

/// <summary>
/// The frozen loss network of a feed-forward style trainer: the resolved content and style layers, the style images'
/// target Grams, and the features of a generated batch and of its input inside a training graph. Pixels enter as
/// interleaved RGB 0–255 and are mapped to the backbone's flavour here.
/// </summary>
public sealed class LossNetwork
{
    private readonly Backbone _backbone;
    private readonly FlavorTransform _tf;
    private readonly float[] _inputScale;

    /// <param name="contentOption">The option property that names <paramref name="contentLayer"/> (blamed for an unknown layer); likewise <paramref name="styleOption"/>.</param>
    public LossNetwork(Backbone backbone, string contentLayer, IReadOnlyList<string> styleLayers, PoolingKind pooling,
        string contentOption = nameof(TrainingSettings.ContentLayer), string styleOption = nameof(TrainingSettings.StyleLayers))
    {
        ArgumentNullException.ThrowIfNull(backbone);
        _backbone = backbone;
        _tf = backbone.Transform;
        _inputScale = [.. _tf.Scale.Select(s => s / 255f)];
        Pooling = pooling;
        Content = Layers.Resolve(backbone.Net, [contentLayer], contentOption)[0];
        Style = Layers.Resolve(backbone.Net, styleLayers, styleOption);
    }

    public LayerRef Content { get; }
    public IReadOnlyList<LayerRef> Style { get; }
    public PoolingKind Pooling { get; }

    /// <summary>
    /// The target Grams Â = G/(C·h·w) of a style image (RGB in [0,1], resized to <paramref name="styleSize"/>² when
    /// given) at every style layer; a style too small for the deepest layer is the fault of <paramref name="sizeOption"/>.
    /// </summary>
    public Dictionary<string, float[]> StyleGrams(Image style, int? styleSize, string sizeOption = nameof(TrainingSettings.StyleSize))
    {
        Image s = ImageIO.ToRgb(style);
        if (styleSize is { } size) s = Resampler.Resize(s, size, size, ResampleFilter.Lanczos3);
        var g = new Graph(GraphMode.Inference);
        Value x = g.Input([1, s.Height, s.Width, 3], name: "style");
        Dictionary<string, Value> f = Layers.Build(_backbone.Net, g, Input(g, x, "style_input"), Style, Pooling, sizeOption);
        var grams = new Dictionary<string, Value>();
        foreach (LayerRef r in Style)
        {
            Value v = f[r.Name];
            grams[r.Name] = g.Keep(g.Gram(v, StyleLoss.GramAlpha(StyleScheme.NeuralStyle, v.Shape[3], v.Shape[1], v.Shape[2]), $"style_gram:{r.Name}"));
        }
        for (int i = 0; i < s.Data.Length; i++) x.Data[i] = s.Data[i] * 255f;
        g.Forward();
        return grams.ToDictionary(e => e.Key, e => (float[])e.Value.Data.Clone());
    }

    /// <summary>Maps interleaved RGB 0–255 pixels to the backbone's input flavour.</summary>
    public Value Input(Graph g, Value rgb255, string name) => g.ChannelAffine(rgb255, _tf.Permutation, _inputScale, _tf.Shift, name);

    /// <summary>The features of the network's output <paramref name="y"/> at every style layer and the content layer.</summary>
    public Dictionary<string, Value> OutputFeatures(Graph g, Value y, string sizeOption = nameof(TrainingSettings.ImageSize))
    {
        LayerRef[] all = [.. Style.Append(Content).DistinctBy(r => r.Index)];
        return Layers.Build(_backbone.Net, g, Input(g, y, "output_input"), all, Pooling, sizeOption);
    }

    /// <summary>The features of the input batch <paramref name="x"/> at the content layer (the content target).</summary>
    public Value InputContentFeatures(Graph g, Value x, string sizeOption = nameof(TrainingSettings.ImageSize))
        => Layers.Build(_backbone.Net, g, Input(g, x, "batch_input"), [Content], Pooling, sizeOption)[Content.Name];

    /// <summary>The content term: weight · mean((F(y) − F(x))²) at the content layer (divided by mean(F(x)²) when <paramref name="normalized"/>).</summary>
    public Value ContentTerm(Graph g, Dictionary<string, Value> outputFeatures, Value inputContent, double weight, bool normalized = false)
        => new ContentLoss(Content.Name, weight, normalized ? ContentScheme.Normalized : ContentScheme.Mean, [])
            .Build(g, outputFeatures[Content.Name], inputContent);
}
