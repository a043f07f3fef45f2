using System.IO.Compression;
using System.Runtime.CompilerServices;

namespace NeuralStyle.Imaging.Tests.Jpeg;

/// <summary>Locates the committed fixtures (next to this source file) and reads the expected PNM pixels.</summary>
internal static class JpegFixtures
{
    public static string Directory { get; } = Locate();

    private static string Locate([CallerFilePath] string sourceFile = "")
    {
        string dir = Path.Combine(Path.GetDirectoryName(sourceFile)!, "Fixtures");
        if (!System.IO.Directory.Exists(dir)) throw new DirectoryNotFoundException($"JPEG fixtures not found at {dir}.");
        return dir;
    }

    public static byte[] Read(string name) => File.ReadAllBytes(Path.Combine(Directory, name));

    public static IEnumerable<string> JpegNamesWithExpected() =>
        System.IO.Directory.GetFiles(Directory, "*.pnm.gz")
            .Select(p => Path.GetFileName(p)[..^".pnm.gz".Length])
            .Where(n => File.Exists(Path.Combine(Directory, n + ".jpg")))
            .OrderBy(n => n, StringComparer.Ordinal);

    /// <summary>Reads a gzip-compressed binary PGM (P5) or PPM (P6) with maxval 255.</summary>
    public static (byte[] Pixels, int Width, int Height, int Channels) ReadPnmGz(string name)
    {
        using var gz = new GZipStream(File.OpenRead(Path.Combine(Directory, name)), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ParsePnm(ms.ToArray());
    }

    public static (byte[] Pixels, int Width, int Height, int Channels) ParsePnm(byte[] data)
    {
        int pos = 0;
        string magic = Token(data, ref pos);
        int channels = magic switch { "P5" => 1, "P6" => 3, _ => throw new InvalidDataException("not a binary PNM: " + magic) };
        int w = int.Parse(Token(data, ref pos));
        int h = int.Parse(Token(data, ref pos));
        int max = int.Parse(Token(data, ref pos));
        if (max != 255) throw new InvalidDataException("maxval must be 255");
        pos++; // single whitespace after maxval
        return (data.AsSpan(pos, w * h * channels).ToArray(), w, h, channels);
    }

    private static string Token(byte[] d, ref int pos)
    {
        while (char.IsWhiteSpace((char)d[pos]) || d[pos] == '#')
        {
            if (d[pos] == '#') while (d[pos] != '\n') pos++;
            pos++;
        }
        int start = pos;
        while (!char.IsWhiteSpace((char)d[pos])) pos++;
        return System.Text.Encoding.ASCII.GetString(d, start, pos - start);
    }
}
