using NeuralStyle.Core;
using NeuralStyle.Imaging;
using NeuralStyle.StyleBank;

namespace NeuralStyle.Tests.StyleBank;

/// <summary>Region masks from colour-coded images and grey-mask folders: sizes, unassigned colours, feathering, errors.</summary>
public sealed class RegionMaskTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-masks-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>An RGB image whose left <paramref name="split"/> columns are <paramref name="left"/> and the rest <paramref name="right"/>.</summary>
    internal static Image TwoColours(int w, int h, int split, (byte R, byte G, byte B) left, (byte R, byte G, byte B) right)
    {
        var img = new Image(w, h, 3);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                var c = x < split ? left : right;
                img[x, y, 0] = c.R / 255f;
                img[x, y, 1] = c.G / 255f;
                img[x, y, 2] = c.B / 255f;
            }
        return img;
    }

    private static readonly IReadOnlyList<ColorAssignment> RedBlue = RegionMaskSource.ParseAssignment("ff0000:a, #0000FF:b");

    [Fact]
    public void ParseAssignment_ReadsHexWithOrWithoutHash()
    {
        Assert.Equal([new ColorAssignment(255, 0, 0, "a"), new ColorAssignment(0, 0, 255, "b")], RedBlue);
        Assert.Equal("0000ff:b", RedBlue[1].ToString());
    }

    [Theory]
    [InlineData("zz0000:a", "'zz0000' is not a six-digit hex colour")]
    [InlineData("ff00:a", "'ff00' is not a six-digit hex colour")]
    [InlineData("ff0000", "'ff0000' has no ':'")]
    [InlineData("ff0000:", "names no style")]
    [InlineData("ff0000:a,FF0000:b", "assigns the colour ff0000 twice")]
    [InlineData(" , ", "got nothing")]
    public void ParseAssignment_Mistakes_OneSentenceNamingTheOption(string text, string expected)
    {
        var e = Assert.Throws<OptionException>(() => RegionMaskSource.ParseAssignment(text));
        Assert.Equal("RegionStyles", e.Option);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.EndsWith(".", e.Message);
        Assert.Single(e.Message.Split(". ", StringSplitOptions.None)); // one sentence
    }

    [Fact]
    public void ColourMask_SameSize_HardMasks_NoWarnings()
    {
        var src = RegionMaskSource.FromColorMask(TwoColours(10, 4, 6, (255, 0, 0), (0, 0, 255)), RedBlue);
        RegionMaskSet set = src.For(10, 4);
        Assert.Equal(["a", "b"], set.Styles);
        Assert.Empty(set.Warnings);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 10; x++)
            {
                Assert.Equal(x < 6 ? 1f : 0f, set.Masks[0][y * 10 + x]);
                Assert.Equal(x < 6 ? 0f : 1f, set.Masks[1][y * 10 + x]);
            }
        Assert.All(set.Remainder(), r => Assert.Equal(0f, r));
    }

    [Fact]
    public void ColourMask_NoisyColours_StillMatchTheNearestAssigned()
    {
        var src = RegionMaskSource.FromColorMask(TwoColours(6, 2, 3, (240, 12, 9), (5, 3, 250)), RedBlue);
        RegionMaskSet set = src.For(6, 2);
        Assert.Empty(set.Warnings);
        Assert.Equal([1f, 1f, 1f, 0f, 0f, 0f], set.Masks[0][..6]);
    }

    [Fact]
    public void ColourMask_OtherSize_IsResized_WithOneWarningSentence()
    {
        var src = RegionMaskSource.FromColorMask(TwoColours(8, 6, 4, (255, 0, 0), (0, 0, 255)), RedBlue, "m.png");
        RegionMaskSet set = src.For(32, 24);
        string warning = Assert.Single(set.Warnings);
        Assert.Equal("The mask m.png is 8×6 and the image 32×24: the mask was resized to fit.", warning);
        Assert.Equal((32, 24), (set.Width, set.Height));
        // Far from the edge the halves are pure; near it they blend, and the two always sum to 1.
        Assert.Equal(1f, set.Masks[0][5 * 32 + 2]);
        Assert.Equal(1f, set.Masks[1][5 * 32 + 30]);
        for (int i = 0; i < 32 * 24; i++) Assert.Equal(1f, set.Masks[0][i] + set.Masks[1][i], 1e-5f);
        Assert.Contains("stretched", src.For(10, 24).Warnings.Last());
        Assert.Same(set, src.For(32, 24)); // cached per size
    }

    [Fact]
    public void ColourMask_UnassignedColour_StaysTheReconstruction_AndIsReported()
    {
        var mask = TwoColours(10, 2, 5, (255, 0, 0), (0, 255, 0));
        var src = RegionMaskSource.FromColorMask(mask, RedBlue, "m.png");
        RegionMaskSet set = src.For(10, 2);
        Assert.Equal(2, set.Warnings.Count);
        Assert.Equal("50% of m.png (00ff00) has a colour no style is assigned to; it is left as the reconstruction.", set.Warnings[0]);
        Assert.Equal("The colour 0000ff (style b) does not occur in m.png.", set.Warnings[1]);
        float[] rest = set.Remainder();
        Assert.Equal(0f, rest[0]);
        Assert.Equal(1f, rest[9]);
        Assert.All(set.Masks[1], v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Feather_SoftensTheEdge_KeepsTheSumAtMostOne_AndThePureInteriors()
    {
        var src = RegionMaskSource.FromColorMask(TwoColours(40, 3, 20, (255, 0, 0), (0, 0, 255)), RedBlue, feather: 6);
        RegionMaskSet set = src.For(40, 3);
        float[] a = set.Masks[0], b = set.Masks[1];
        Assert.InRange(a[19], 0.3f, 0.7f);
        Assert.InRange(a[21], 0.1f, 0.5f);
        Assert.True(a[18] > a[19] && a[19] > a[20] && a[20] > a[21], "the edge ramps down");
        Assert.Equal(1f, a[2], 1e-6f);
        Assert.Equal(0f, a[38], 1e-6f);
        for (int i = 0; i < a.Length; i++) Assert.InRange(a[i] + b[i], 0.999f, 1.0000001f);
        Assert.Throws<OptionException>(() => RegionMaskSource.FromColorMask(TwoColours(4, 4, 2, (255, 0, 0), (0, 0, 255)), RedBlue, feather: -1));
    }

    [Fact]
    public void GreyFolder_StemsNameTheStyles_ValuesAreTheGreyLevels_OverlapsRenormalised()
    {
        string dir = Path.Combine(_dir, "masks");
        Directory.CreateDirectory(dir);
        var a = new Image(4, 2, 1);
        var b = new Image(4, 2, 1);
        for (int x = 0; x < 4; x++)
        {
            a[x, 0, 0] = a[x, 1, 0] = x < 2 ? 1f : 0f;
            b[x, 0, 0] = b[x, 1, 0] = x switch { 0 => 0f, 1 => 1f, 2 => 0.6f, _ => 0f };
        }
        ImageIO.Save(a, Path.Combine(dir, "starry.png"));
        ImageIO.Save(b, Path.Combine(dir, "waves.png"));
        RegionMaskSource src = RegionMaskSource.Load(dir, null);
        Assert.Equal(["starry", "waves"], src.Styles);
        RegionMaskSet set = src.For(4, 2);
        Assert.Equal([1f, 0.5f, 0f, 0f], set.Masks[0][..4]);
        Assert.Equal(0f, set.Masks[1][0]);
        Assert.Equal(0.5f, set.Masks[1][1]);
        Assert.Equal(0.6f, set.Masks[1][2], 1e-2f);
        Assert.Equal(0.4f, set.Remainder()[2], 1e-2f);
        Assert.Equal(1f, set.Remainder()[3]);
        Assert.Equal("The masks in masks add up to more than 1 on 25% of the image; there they were scaled to sum 1.", Assert.Single(set.Warnings));
    }

    [Fact]
    public void Load_FileAndFolderMistakes_OneSentence()
    {
        string file = Path.Combine(_dir, "m.png");
        ImageIO.Save(TwoColours(4, 4, 2, (255, 0, 0), (0, 0, 255)), file);
        Assert.Contains("--region-styles", Render(Assert.Throws<OptionException>(() => RegionMaskSource.Load(file, null))));
        Assert.Throws<FileNotFoundException>(() => RegionMaskSource.Load(Path.Combine(_dir, "none.png"), RedBlue));
        string empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        Assert.Contains("holds no .png or .jpg masks", Assert.Throws<OptionException>(() => RegionMaskSource.Load(empty, null)).Message);
        Assert.Equal("RegionStyles", Assert.Throws<OptionException>(() => RegionMaskSource.Load(empty, RedBlue)).Option);
        Assert.Equal(["a", "b"], RegionMaskSource.Load(file, RedBlue).Styles);
    }

    private static string Render(OptionException e) => e.Render(p => p == "RegionStyles" ? "--region-styles" : p);

    [Fact]
    public void Crop_TakesTheWindow()
    {
        var set = RegionMaskSource.FromColorMask(TwoColours(10, 4, 6, (255, 0, 0), (0, 0, 255)), RedBlue).For(10, 4);
        RegionMaskSet tile = set.Crop(4, 1, 4, 2);
        Assert.Equal([1f, 1f, 0f, 0f, 1f, 1f, 0f, 0f], tile.Masks[0]);
        Assert.Throws<ArgumentException>(() => set.Crop(8, 0, 4, 4));
    }
}
