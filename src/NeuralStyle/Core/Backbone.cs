using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;

namespace NeuralStyle.Core;

/// <summary>A feature network with the input flavour its weights need.</summary>
public sealed record Backbone(IFeatureNetwork Net, InputFlavor Flavor, string Description)
{
    /// <summary>The seed of the embedded random VGG-19 (spec §7).</summary>
    public const ulong RandomSeed = 20170601;

    public static Backbone Random() => new(VggNet.Random(VggArchitecture.Vgg19, RandomSeed), InputFlavor.Torchvision,
        "embedded random VGG-19 (Kaiming-normal, seeded; spec §7)");
}
