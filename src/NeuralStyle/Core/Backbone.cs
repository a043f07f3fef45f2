using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;

namespace NeuralStyle.Core;

/// <summary>A feature network with the input flavour its weights need.</summary>
public sealed record Backbone(IFeatureNetwork Net, InputFlavor Flavor, string Description)
{
    /// <summary>The mean pixel (R, G, B, 0–255) a MatConvNet file gives for <see cref="InputFlavor.Rgb255"/>; null: the flavour's default.</summary>
    public IReadOnlyList<double>? MeanPixel { get; init; }

    /// <summary>The pixel map every method feeds the network through (the flavour, with the file's mean where it has one).</summary>
    public FlavorTransform Transform => FlavorTransform.For(Flavor, MeanPixel);

    /// <summary>The seed of the embedded random VGG-19 (spec §7).</summary>
    public const ulong RandomSeed = 20170601;

    public static Backbone Random() => new(VggNet.Random(VggArchitecture.Vgg19, RandomSeed), InputFlavor.Torchvision,
        "embedded random VGG-19 (Kaiming-normal, seeded)");
}
