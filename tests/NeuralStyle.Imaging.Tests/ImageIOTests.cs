using NeuralStyle.Imaging.Png;

namespace NeuralStyle.Imaging.Tests;

public sealed class ImageIOTests : IDisposable
{
    private readonly string _dir = TestFiles.TempDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Temp(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Load_PngWithJpgExtension_DecodesBySignature()
    {
        string path = Temp("really-a-png.jpg");
        File.Copy(TestFiles.PathOf("codec/palette_color.png"), path);
        Image image = ImageIO.Load(path);
        Assert.Equal((10, 10, 3), (image.Width, image.Height, image.Channels));
    }

    [Fact]
    public void Load_TextFile_ThrowsNamingTheFile()
    {
        string path = Temp("notes.png");
        File.WriteAllText(path, "hello, not an image");
        var ex = Assert.Throws<ImageFormatException>(() => ImageIO.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("not a PNG or JPEG", ex.Message);
    }

    [Theory]
    [InlineData("GIF89a\x01\x00", "Gif")]
    [InlineData("BM6\x00\x00\x00", "Bmp")]
    [InlineData("RIFF\x10\x00\x00\x00WEBPVP8 ", "WebP")]
    public void Load_UnsupportedFormat_NamesTheFormat(string header, string format)
    {
        string path = Temp("picture.png");
        File.WriteAllBytes(path, header.Select(ch => (byte)ch).ToArray());
        var ex = Assert.Throws<ImageFormatException>(() => ImageIO.Load(path));
        Assert.Contains($"{format} images are not supported", ex.Message);
    }

    [Fact]
    public void Load_TruncatedJpeg_ThrowsImageFormatExceptionNamingTheFile()
    {
        string path = Temp("truncated.png"); // the extension lies; the signature says JPEG
        File.Copy(TestFiles.PathOf("codec/truncated.jpg"), path);
        Assert.Equal(ImageFileFormat.Jpeg, ImageIO.DetectFormat(File.ReadAllBytes(path)));
        var ex = Assert.Throws<ImageFormatException>(() => ImageIO.Load(path));
        Assert.StartsWith($"Cannot read '{path}': ", ex.Message);
    }

    [Fact]
    public void Load_EmptyFile_SaysEmpty()
    {
        string path = Temp("empty.png");
        File.WriteAllBytes(path, []);
        var ex = Assert.Throws<ImageFormatException>(() => ImageIO.Load(path));
        Assert.Contains("empty", ex.Message);
    }

    [Fact]
    public void Load_MissingFile_ThrowsFileNotFoundNamingIt()
    {
        string path = Temp("missing.png");
        var ex = Assert.Throws<FileNotFoundException>(() => ImageIO.Load(path));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void Load_CorruptPng_WrapsDecoderMessageWithFileName()
    {
        byte[] data = TestFiles.Read("codec/palette_color.png");
        data[40] ^= 0xFF;
        string path = Temp("corrupt.png");
        File.WriteAllBytes(path, data);
        var ex = Assert.Throws<ImageFormatException>(() => ImageIO.Load(path));
        Assert.StartsWith($"Cannot read '{path}': Invalid PNG", ex.Message);
        Assert.IsType<ImageFormatException>(ex.InnerException);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Save_Png_RoundTripsThroughLoad(int bitDepth)
    {
        Image image = Png.PngEncoderTests.Quantized(23, 11, 4, bitDepth, seed: 7);
        string path = Temp("out.PNG");
        ImageIO.Save(image, path, new SaveOptions { BitDepth = bitDepth });
        Image back = ImageIO.Load(path);
        Assert.Equal(image.Data, back.Data);
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Save_UnknownExtension_Throws()
    {
        var ex = Assert.Throws<ImageFormatException>(() => ImageIO.Save(new Image(2, 2, 3), Temp("out.bmp")));
        Assert.Contains("'.bmp'", ex.Message);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Save_SixteenBitJpeg_RefusedWithAdvice()
    {
        var ex = Assert.Throws<ImageFormatException>(() => ImageIO.Save(new Image(2, 2, 3), Temp("out.jpg"), new SaveOptions { BitDepth = 16 }));
        Assert.Contains(".png", ex.Message);
    }

    [Fact]
    public void Save_MissingFolder_ThrowsNamingIt()
    {
        string path = Path.Combine(_dir, "no-such-folder", "out.png");
        var ex = Assert.Throws<DirectoryNotFoundException>(() => ImageIO.Save(new Image(2, 2, 3), path));
        Assert.Contains("no-such-folder", ex.Message);
    }

    [Fact]
    public void AtomicFile_WriterFails_LeavesOldFileAndNoTemporary()
    {
        string path = Temp("result.png");
        File.WriteAllText(path, "previous result");
        Assert.Throws<InvalidOperationException>(() => NeuralStyle.IO.AtomicFile.Write(path, s =>
        {
            s.Write(new byte[1000]);
            throw new InvalidOperationException("crash mid-write");
        }));
        Assert.Equal("previous result", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Fact]
    public void AtomicFile_Success_ReplacesExistingFile()
    {
        string path = Temp("result.png");
        File.WriteAllText(path, "old");
        NeuralStyle.IO.AtomicFile.Write(path, s => s.Write("new"u8));
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void ToRgb_Rgba_CompositesOnWhiteByDefault()
    {
        var image = new Image(2, 1, 4, [1f, 0f, 0f, 0.25f, 0.2f, 0.4f, 0.6f, 1f]);
        Image rgb = ImageIO.ToRgb(image);
        float[] expected = [1f, 0.75f, 0.75f, 0.2f, 0.4f, 0.6f];
        for (int i = 0; i < 6; i++) Assert.Equal(expected[i], rgb.Data[i], 1e-6);
    }

    [Fact]
    public void ToRgb_GreyAlphaOnColouredBackground_UsesBackground()
    {
        var image = new Image(1, 1, 2, [0.5f, 0.5f]);
        Image rgb = ImageIO.ToRgb(image, (0f, 1f, 0.5f));
        Assert.Equal([0.25f, 0.75f, 0.5f], rgb.Data);
    }

    [Fact]
    public void ToRgb_Grey_Replicates()
    {
        Image rgb = ImageIO.ToRgb(new Image(2, 1, 1, [0.1f, 0.9f]));
        Assert.Equal([0.1f, 0.1f, 0.1f, 0.9f, 0.9f, 0.9f], rgb.Data);
    }

    [Fact]
    public void SplitAlphaThenApplyAlpha_RestoresAlphaChannel()
    {
        Image horse = PngDecoder.Decode(TestFiles.Read("codec/horse.png"));
        var (color, alpha) = ImageIO.SplitAlpha(horse);
        Assert.NotNull(alpha);
        Assert.Equal(3, color.Channels);
        Image back = ImageIO.ApplyAlpha(color, alpha);
        Assert.Equal(4, back.Channels);
        for (int i = 0; i < horse.Width * horse.Height; i++)
        {
            Assert.Equal(horse.Data[4 * i + 3], back.Data[4 * i + 3]);
            if (horse.Data[4 * i + 3] == 1f) Assert.Equal(horse.Data[4 * i], back.Data[4 * i]);
        }
    }

    [Fact]
    public void SplitAlpha_OpaqueImage_HasNoAlpha()
    {
        var (color, alpha) = ImageIO.SplitAlpha(new Image(2, 2, 3));
        Assert.Null(alpha);
        Assert.Equal(3, color.Channels);
    }

    [Fact]
    public void ApplyAlpha_DifferentSize_ResizesAlpha()
    {
        var alpha = new Image(4, 4, 1);
        Array.Fill(alpha.Data, 0.5f);
        Image result = ImageIO.ApplyAlpha(new Image(8, 6, 1), alpha);
        Assert.Equal((8, 6, 2), (result.Width, result.Height, result.Channels));
        Assert.Equal(0.5f, result[7, 5, 1], 1e-6);
    }
}
