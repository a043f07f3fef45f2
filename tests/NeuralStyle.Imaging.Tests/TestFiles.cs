using System.IO.Compression;
using System.Text;

namespace NeuralStyle.Imaging.Tests;

/// <summary>Access to the committed fixtures in TestData (see TestData/README.md) and their small formats.</summary>
internal static class TestFiles
{
    public static string PathOf(string relative) => Path.Combine(AppContext.BaseDirectory, "TestData", relative);

    /// <summary>Reads a fixture; falls back to "name.gz" (the generator gzips files over 16 KiB).</summary>
    public static byte[] Read(string relative)
    {
        string path = PathOf(relative);
        if (File.Exists(path)) return File.ReadAllBytes(path);
        using var gz = new GZipStream(File.OpenRead(path + ".gz"), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    public static IEnumerable<string> List(string folder, string pattern) =>
        Directory.EnumerateFiles(PathOf(folder), pattern).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    /// <summary>Reads little-endian float32 samples.</summary>
    public static float[] ReadF32(string relative)
    {
        byte[] bytes = Read(relative);
        var result = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, result, 0, result.Length * 4);
        return result;
    }

    /// <summary>A PAM (P7) file: integer samples and their MAXVAL.</summary>
    public sealed record Pam(int Width, int Height, int Depth, int MaxVal, int[] Samples)
    {
        /// <summary>The float samples a decoder must produce: value / MAXVAL, computed in float.</summary>
        public float[] ToFloats() => Samples.Select(v => v / (float)MaxVal).ToArray();
    }

    public static Pam ReadPam(string relative)
    {
        byte[] bytes = Read(relative);
        int pos = 0;
        var fields = new Dictionary<string, int>();
        while (true)
        {
            int end = Array.IndexOf(bytes, (byte)'\n', pos);
            string line = Encoding.ASCII.GetString(bytes, pos, end - pos);
            pos = end + 1;
            if (line == "ENDHDR") break;
            string[] parts = line.Split(' ');
            if (parts.Length == 2) fields[parts[0]] = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        int w = fields["WIDTH"], h = fields["HEIGHT"], d = fields["DEPTH"], max = fields["MAXVAL"];
        var samples = new int[w * h * d];
        for (int i = 0; i < samples.Length; i++)
            samples[i] = max > 255 ? (bytes[pos + 2 * i] << 8) | bytes[pos + 2 * i + 1] : bytes[pos + i];
        return new Pam(w, h, d, max, samples);
    }

    public static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "neuralstyle-imaging-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
