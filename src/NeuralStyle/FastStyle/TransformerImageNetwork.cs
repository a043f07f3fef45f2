using NeuralStyle.Models.Johnson;

namespace NeuralStyle.FastStyle;

/// <summary>A fast-style network (spec §5) as an <see cref="IImageNetwork"/>.</summary>
public sealed class TransformerImageNetwork(TransformerNet net) : IImageNetwork
{
    public TransformerNet Net { get; } = net ?? throw new ArgumentNullException(nameof(net));

    public string Description => $"{Net.Architecture.Name} network";

    public float[] Stylize(float[] rgb255, ImageWindow window) => Net.Stylize(rgb255, window.Height, window.Width);
}
