using NeuralStyle.Models;
using NeuralStyle.Models.Vgg;

namespace NeuralStyle.Texture;

/// <summary>Convolution and pyramid borders: valid (subjective-functions), same (zero / reflect), circular (tileable).</summary>
public enum TexturePadding { Valid, Same, Circular }

/// <summary>How several sources' target Grams are combined.</summary>
public enum JoinMode { Average, Max }

public enum TextureInit
{
    /// <summary>Dark Gaussian noise (subjective-functions: N(0,1) + 10 in caffe units above black).</summary>
    Random,
    /// <summary>Mirrored, heavily blurred noise around the mean colour.</summary>
    Symmetric,
}

/// <summary>Every setting of a texture synthesis (spec §4), each default held once here.</summary>
public sealed record TextureOptions
{
    public int Width { get; init; } = 512;
    /// <summary>Output height; null: equal to the width.</summary>
    public int? Height { get; init; }
    public int Octaves { get; init; } = 4;
    public IReadOnlyList<string> Layers { get; init; } = ["pool1", "relu3_2"];
    public int Iterations { get; init; } = 500;
    public double Tol { get; init; } = 1e-9;
    public TextureInit Init { get; init; } = TextureInit.Random;
    public ulong Seed { get; init; }
    public double? SourceScale { get; init; }
    public int? SourceWidth { get; init; }
    public TexturePadding Padding { get; init; } = TexturePadding.Valid;
    public JoinMode Join { get; init; } = JoinMode.Average;
    public double Mul { get; init; } = 1;
    /// <summary>Frames optimised together; with more than one, the inter-frame loss ties them into a loop.</summary>
    public int Count { get; init; } = 1;
    public double IfWeight { get; init; } = 1;
    public double IfShift { get; init; } = 5;
    public int IfOrder { get; init; } = 2;
    public int SaveEvery { get; init; } = 10;
    /// <summary>Progress line every N iterations when not on a terminal.</summary>
    public int PrintEvery { get; init; } = 50;
    public string Model { get; init; } = "vgg19";
    public string? Weights { get; init; }
    public InputFlavor? Flavor { get; init; }
    public PoolingKind Pooling { get; init; } = PoolingKind.Avg;
    /// <summary>L-BFGS history; 10 is scipy's L-BFGS-B default, which subjective-functions uses (and keeps 2048² outputs small).</summary>
    public int LbfgsHistory { get; init; } = 10;
    public bool StrongWolfe { get; init; }
    /// <summary>L-BFGS preconditioned over this many coarser levels of an image pyramid (0: plain L-BFGS).</summary>
    public int PreconditionLevels { get; init; }
    /// <summary>Divide each term by Σ Â² so every level and layer counts alike (used with the random network).</summary>
    public bool NormalizeTerms { get; init; }

    public int OutputHeight => Height ?? Width;
}
