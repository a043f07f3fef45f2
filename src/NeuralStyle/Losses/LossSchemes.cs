namespace NeuralStyle.Losses;

/// <summary>How a content term is reduced (spec §2, §7).</summary>
public enum ContentScheme
{
    /// <summary>w · mean((F − Fc)²) (neural-style, pytorch-tutorial).</summary>
    Mean,
    /// <summary>w · sum((F − Fc)²) (keras).</summary>
    Sum,
    /// <summary>w · sum((F − Fc)²) / (4·h·w·C) (gatys-tf).</summary>
    GatysTf,
    /// <summary>w · mean((F − Fc)²) / mean(Fc²) (random-features).</summary>
    Normalized,
}

/// <summary>How a style term is formed from Gram matrices (spec §2, §7).</summary>
public enum StyleScheme
{
    /// <summary>Ĝ = G/(C·h·w); w · mean((Ĝ − Â)²) (neural-style).</summary>
    NeuralStyle,
    /// <summary>raw G; w · sum((G − A)²) / (4 · 3² · (H·W)²) with H·W the output image (keras).</summary>
    Keras,
    /// <summary>raw G; w · sum((G − A)²) / (4·C²·(h·w)²) (gatys-tf).</summary>
    GatysTf,
    /// <summary>raw G; w · mean((G − A)²) / (C·h·w) (pytorch-tutorial).</summary>
    Tutorial,
    /// <summary>Ĝ = G/(C·h·w); w · mean((Ĝ − Â)²) / mean(Â²) (random-features).</summary>
    Normalized,
}

public enum TvScheme
{
    /// <summary>w · (Σ|x[i+1,j] − x[i,j]| + Σ|x[i,j+1] − x[i,j]|) (neural-style).</summary>
    L1,
    /// <summary>w · Σ (a + b)^1.25 over i &lt; H−1, j &lt; W−1 with squared forward differences (keras).</summary>
    Keras,
}
