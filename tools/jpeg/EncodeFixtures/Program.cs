// Writes enc_*.jpg fixtures with our JPEG encoder; tools/jpeg/check_encoder.sh then decodes them with djpeg.
// Usage: dotnet run --project tools/jpeg/EncodeFixtures -- <fixtures dir>
using System.IO.Compression;
using NeuralStyle.Imaging;
using NeuralStyle.Imaging.Jpeg;

string dir = args.Length > 0 ? args[0] : "tests/NeuralStyle.Imaging.Tests/Jpeg/Fixtures";
foreach (var (name, source, options) in EncoderFixtureSet.All)
{
    Image image = EncoderFixtureSet.LoadPnmGz(Path.Combine(dir, source + ".pnm.gz"));
    File.WriteAllBytes(Path.Combine(dir, name + ".jpg"), JpegEncoder.EncodeToArray(image, options));
    Console.WriteLine($"{name}.jpg from {source}");
}

internal static class EncoderFixtureSet
{
    // Keep in step with JpegEncoderDjpegTests.Cases.
    public static readonly (string Name, string Source, JpegEncoderOptions Options)[] All =
    [
        ("enc_q95_444", "s444", new JpegEncoderOptions { Quality = 95 }),
        ("enc_q95_420", "s444", new JpegEncoderOptions { Quality = 95, Subsampling = JpegSubsampling.Yuv420 }),
        ("enc_q60_444_std", "s444", new JpegEncoderOptions { Quality = 60, OptimizeHuffman = false }),
        ("enc_q90_grey", "grey", new JpegEncoderOptions { Quality = 90 }),
        ("enc_q95_420_17x33", "size17x33_444", new JpegEncoderOptions { Quality = 95, Subsampling = JpegSubsampling.Yuv420 }),
    ];

    public static Image LoadPnmGz(string path)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        byte[] d = ms.ToArray();
        var tokens = new List<string>();
        int pos = 0;
        while (tokens.Count < 4)
        {
            while (char.IsWhiteSpace((char)d[pos])) pos++;
            int start = pos;
            while (!char.IsWhiteSpace((char)d[pos])) pos++;
            tokens.Add(System.Text.Encoding.ASCII.GetString(d, start, pos - start));
        }
        pos++;
        int ch = tokens[0] == "P5" ? 1 : 3, w = int.Parse(tokens[1]), h = int.Parse(tokens[2]);
        var image = new Image(w, h, ch);
        for (int i = 0; i < w * h * ch; i++) image.Data[i] = d[pos + i] / 255f;
        return image;
    }
}
