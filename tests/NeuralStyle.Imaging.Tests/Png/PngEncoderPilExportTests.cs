using System.Text;
using NeuralStyle.Imaging.Png;

namespace NeuralStyle.Imaging.Tests.Png;

/// <summary>
/// Encodes real photographs in every layout the encoder writes and checks them with our decoder. When the
/// environment variable NEURALSTYLE_PNG_EXPORT names a folder, the files and their expected samples (PAM) are also
/// written there, and <c>tools/imaging/verify_encoder_with_pil.py</c> decodes them with PIL (our encoder → PIL).
/// </summary>
public class PngEncoderPilExportTests
{
    public static TheoryData<int, int> Layouts()
    {
        var data = new TheoryData<int, int>();
        foreach (int depth in new[] { 8, 16 })
            for (int channels = 1; channels <= 4; channels++) data.Add(channels, depth);
        return data;
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Encode_Photograph_DecodesToSameLevels(int channels, int bitDepth)
    {
        Image photo = PngDecoder.Decode(TestFiles.Read("resample/src_rgb_96x64.png"));
        // Build the layout: grey from the green channel, alpha from a smooth ramp, 16-bit with non-repeated low bytes.
        var image = new Image(photo.Width, photo.Height, channels);
        int max = (1 << bitDepth) - 1;
        for (int y = 0; y < photo.Height; y++)
            for (int x = 0; x < photo.Width; x++)
                for (int c = 0; c < channels; c++)
                {
                    bool alpha = channels is 2 or 4 && c == channels - 1;
                    float v = alpha ? (x + y) / (float)(photo.Width + photo.Height) : photo[x, y, channels < 3 ? 1 : c];
                    int level = (int)MathF.Round(v * max);
                    if (bitDepth == 16) level = Math.Min(max, level ^ ((x * 7 + y) & 0xFF));
                    image[x, y, c] = level / (float)max;
                }
        using var ms = new MemoryStream();
        PngEncoder.Encode(image, ms, bitDepth);
        Assert.Equal(image.Data, PngDecoder.Decode(ms.ToArray()).Data);

        string? export = Environment.GetEnvironmentVariable("NEURALSTYLE_PNG_EXPORT");
        if (!string.IsNullOrEmpty(export))
        {
            Directory.CreateDirectory(export);
            string name = Path.Combine(export, $"ours_c{channels}_d{bitDepth}");
            File.WriteAllBytes(name + ".png", ms.ToArray());
            WritePam(name + ".pam", image, max);
        }
    }

    private static void WritePam(string path, Image image, int max)
    {
        using var f = File.Create(path);
        f.Write(Encoding.ASCII.GetBytes($"P7\nWIDTH {image.Width}\nHEIGHT {image.Height}\nDEPTH {image.Channels}\nMAXVAL {max}\nENDHDR\n"));
        foreach (float v in image.Data)
        {
            int level = PngEncoder.Quantize(v, max);
            if (max > 255) f.WriteByte((byte)(level >> 8));
            f.WriteByte((byte)level);
        }
    }
}
