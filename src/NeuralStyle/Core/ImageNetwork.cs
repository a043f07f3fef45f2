namespace NeuralStyle.Core;

/// <summary>Where a crop sits in the whole image being stylised: a tile of a tiled run, or the whole image.</summary>
public readonly record struct ImageWindow(int X, int Y, int Width, int Height, int FullWidth, int FullHeight)
{
    public static ImageWindow Whole(int width, int height) => new(0, 0, width, height, width, height);

    public bool IsWhole => X == 0 && Y == 0 && Width == FullWidth && Height == FullHeight;
}

/// <summary>
/// A feed-forward network from image to image, RGB 0–255 in and out (H,W,3 interleaved), the output at the input's
/// size and not clamped: a fast-style TransformerNet, or a StyleBank in one of its modes. The applier
/// (folders, sizes, tiles, temporal stabilisation) runs any of them; the window tells a network whose output depends
/// on the position (region masks) which part of the whole image it is given.
/// </summary>
public interface IImageNetwork
{
    /// <summary>What it is, for the one line a command prints before it starts.</summary>
    string Description { get; }

    /// <summary>Stylises the crop <paramref name="window"/> of an image: <paramref name="rgb255"/> holds window.Width×window.Height pixels.</summary>
    float[] Stylize(float[] rgb255, ImageWindow window);
}
