// Imaging benchmark (not a test): decode and encode a ~12-megapixel JPEG with our codec, beside libjpeg-turbo's
// djpeg/cjpeg and Python PIL on the same file in the same run. The input is made at run time in a temp folder by
// tiling a sample photograph (real photographic detail, not a smooth upscale); nothing large is committed.
//
// Usage: dotnet run -c Release --project bench/ImagingBench -- [source.jpg] [runs]
using System.Diagnostics;
using System.Reflection;
using NeuralStyle.Imaging;
using NeuralStyle.Imaging.Jpeg;

string source = args.Length > 0 ? args[0] : FindSample();
int runs = args.Length > 1 ? int.Parse(args[1]) : 5;
string tmp = Path.Combine(Path.GetTempPath(), "imagingbench-" + Environment.ProcessId);
Directory.CreateDirectory(tmp);
try
{
    Run(source, runs, tmp);
}
finally
{
    Directory.Delete(tmp, recursive: true);
}

static void Run(string source, int runs, string tmp)
{
    const int width = 4240, height = 2832; // 12.0 megapixels
    Image sample = JpegDecoder.Decode(File.ReadAllBytes(source));
    Image big = Tile(sample, width, height);
    string jpeg420 = Path.Combine(tmp, "big420.jpg");
    string jpeg444 = Path.Combine(tmp, "big444.jpg");
    string ppm = Path.Combine(tmp, "big.ppm");
    File.WriteAllBytes(jpeg420, JpegEncoder.EncodeToArray(big, new JpegEncoderOptions { Quality = 90, Subsampling = JpegSubsampling.Yuv420 }));
    File.WriteAllBytes(jpeg444, JpegEncoder.EncodeToArray(big, new JpegEncoderOptions { Quality = 90 }));
    WritePpm(big, ppm);
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average {LoadAverage()}");
    Console.WriteLine($"input: {width}x{height} ({width * (long)height / 1e6:F1} MP) tiled from {Path.GetFileName(source)}; median of {runs} runs, wall time");
    Console.WriteLine($"  4:2:0 q90 file {new FileInfo(jpeg420).Length / 1e6:F2} MB, 4:4:4 q90 file {new FileInfo(jpeg444).Length / 1e6:F2} MB");
    Console.WriteLine();
    Console.WriteLine($"{"operation",-40} {"ours (ms)",10} {"djpeg/cjpeg",12} {"PIL",10}");

    var decodeCases = new List<(string, string)> { ("decode 4:2:0 q90", jpeg420), ("decode 4:4:4 q90", jpeg444) };
    string progressive = Path.Combine(tmp, "big420p.jpg");
    if (TryRun("jpegtran", $"-progressive -outfile {progressive} {jpeg420}")) decodeCases.Add(("decode 4:2:0 progressive", progressive));
    else Console.WriteLine("  (jpegtran missing: no progressive case)");
    foreach (var (label, file) in decodeCases)
    {
        byte[] data = File.ReadAllBytes(file);
        double ours = Median(runs, () => JpegDecoder.Decode(data));
        double oursBytes = Median(runs, () => JpegDecoder.DecodeToBytes(data, out _, out _, out _));
        double ref_ = Tool(runs, "djpeg", $"-ppm -outfile /dev/null {file}");
        double pil = Pil(runs, $"from PIL import Image\nim=Image.open('{file}'); im.load()");
        Row(label + " → float Image", ours, ref_, pil);
        Row(label + " → 8-bit bytes", oursBytes, ref_, pil);
    }

    foreach (var (label, opts, cjpegArgs, pilArgs) in new[]
    {
        ("encode q95 4:4:4 (optimised Huffman)", new JpegEncoderOptions { Quality = 95 }, "-quality 95 -sample 1x1 -optimize", "quality=95, subsampling=0, optimize=True"),
        ("encode q95 4:4:4 (standard Huffman)", new JpegEncoderOptions { Quality = 95, OptimizeHuffman = false }, "-quality 95 -sample 1x1", "quality=95, subsampling=0"),
        ("encode q90 4:2:0 (optimised Huffman)", new JpegEncoderOptions { Quality = 90, Subsampling = JpegSubsampling.Yuv420 }, "-quality 90 -sample 2x2 -optimize", "quality=90, subsampling=2, optimize=True"),
    })
    {
        double ours = Median(runs, () => JpegEncoder.Encode(big, Stream.Null, opts));
        double ref_ = Tool(runs, "cjpeg", $"{cjpegArgs} -outfile /dev/null {ppm}");
        double pil = Pil(runs, $"from PIL import Image\nimport io\nim=Image.open('{ppm}'); im.load()\nt0=None", $"im.save(io.BytesIO(), 'JPEG', {pilArgs})");
        Row(label, ours, ref_, pil);
    }
    Console.WriteLine();
    Console.WriteLine("djpeg/cjpeg times are whole-process wall times (include process start, ~2-5 ms; decode writes PPM to /dev/null).");
    Console.WriteLine("PIL times are measured inside one Python process (decode: Image.open + load; encode: save to memory).");
    Console.WriteLine("Ours: decode returns the float Image (includes the byte→float conversion); encode starts from the float Image.");

    // PNG, through the ImageIO facade when this build has it.
    var imageIo = typeof(Image).Assembly.GetType("NeuralStyle.Imaging.ImageIO");
    if (imageIo is null) Console.WriteLine("PNG: skipped (NeuralStyle.Imaging.ImageIO is not in this build).");
    else BenchPng(imageIo, big, runs, tmp);
}

static void BenchPng(Type imageIo, Image big, int runs, string tmp)
{
    string png = Path.Combine(tmp, "big.png");
    MethodInfo? save = imageIo.GetMethods(BindingFlags.Public | BindingFlags.Static)
        .FirstOrDefault(m => m.Name.StartsWith("Save") && m.GetParameters() is var p && p.Length >= 2 && p[0].ParameterType == typeof(Image) && p[1].ParameterType == typeof(string));
    MethodInfo? load = imageIo.GetMethods(BindingFlags.Public | BindingFlags.Static)
        .FirstOrDefault(m => m.Name.StartsWith("Load") && m.GetParameters() is var p && p.Length >= 1 && p[0].ParameterType == typeof(string) && m.ReturnType == typeof(Image));
    if (save is null || load is null)
    {
        Console.WriteLine("PNG: skipped (ImageIO has no Save(Image, string, ...) / Load(string, ...) to call).");
        return;
    }
    object?[] Args(MethodInfo m, params object[] first) =>
        m.GetParameters().Select((p, i) => i < first.Length ? first[i] : p.HasDefaultValue ? p.DefaultValue : null).ToArray();
    double enc = Median(runs, () => save.Invoke(null, Args(save, big, png)));
    double dec = Median(runs, () => load.Invoke(null, Args(load, png)));
    double pilDec = Pil(runs, $"from PIL import Image\nim=Image.open('{png}'); im.load()");
    double pilEnc = Pil(runs, $"from PIL import Image\nimport io\nim=Image.open('{png}'); im.load()", "im.save(io.BytesIO(), 'PNG')");
    Row("PNG decode (ImageIO)", dec, double.NaN, pilDec);
    Row("PNG encode (ImageIO)", enc, double.NaN, pilEnc);
}

static void Row(string label, double ours, double reference, double pil)
{
    static string F(double v) => double.IsNaN(v) ? "missing" : v.ToString("F1");
    string ratio = double.IsNaN(reference) ? "" : $"  ({ours / reference:F2}x libjpeg-turbo)";
    Console.WriteLine($"{label,-40} {F(ours),10} {F(reference),12} {F(pil),10}{ratio}");
}

static bool TryRun(string tool, string arguments)
{
    try
    {
        using var p = Process.Start(new ProcessStartInfo(tool, arguments) { RedirectStandardError = true, UseShellExecute = false })!;
        p.WaitForExit();
        return p.ExitCode == 0;
    }
    catch (System.ComponentModel.Win32Exception)
    {
        return false;
    }
}

static double Median(int runs, Action action)
{
    for (int i = 0; i < 2; i++) action(); // warm-up (JIT, tiering)
    var times = new List<double>();
    for (int i = 0; i < runs; i++)
    {
        var sw = Stopwatch.StartNew();
        action();
        times.Add(sw.Elapsed.TotalMilliseconds);
    }
    times.Sort();
    return times[times.Count / 2];
}

static double Tool(int runs, string tool, string arguments)
{
    string? path = Environment.GetEnvironmentVariable("PATH")?.Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
    if (path is null)
    {
        Console.WriteLine($"  ({tool} not found on PATH: column shows 'missing')");
        return double.NaN;
    }
    return Median(runs, () =>
    {
        using var p = Process.Start(new ProcessStartInfo(path, arguments) { RedirectStandardError = true, UseShellExecute = false })!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{tool} failed: {p.StandardError.ReadToEnd()}");
    });
}

/// <summary>Times <paramref name="op"/> (default: the whole setup) inside one python process; NaN when PIL is missing.</summary>
static double Pil(int runs, string setup, string? op = null)
{
    const string python = "/usr/bin/python3";
    if (!File.Exists(python)) return double.NaN;
    string script = op is null
        ? $"import time\nts=[]\nfor i in range({runs + 1}):\n    t=time.perf_counter()\n" + Indent(setup) + "\n    ts.append((time.perf_counter()-t)*1000)\nts=sorted(ts[1:])\nprint(ts[len(ts)//2])"
        : setup + $"\nimport time\nts=[]\nfor i in range({runs + 1}):\n    t=time.perf_counter()\n    {op}\n    ts.append((time.perf_counter()-t)*1000)\nts=sorted(ts[1:])\nprint(ts[len(ts)//2])";
    var psi = new ProcessStartInfo(python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    psi.ArgumentList.Add("-");
    using var p = Process.Start(psi)!;
    p.StandardInput.Write(script);
    p.StandardInput.Close();
    string output = p.StandardOutput.ReadToEnd();
    p.WaitForExit();
    return p.ExitCode == 0 && double.TryParse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture, out double v) ? v : double.NaN;

    static string Indent(string s) => string.Join("\n", s.Split('\n').Select(l => "    " + l));
}

static Image Tile(Image src, int width, int height)
{
    // Mirror-tiles the sample so the picture has no seams and keeps photographic detail.
    var dst = new Image(width, height, src.Channels);
    int ch = src.Channels;
    for (int y = 0; y < height; y++)
    {
        int ty = y / src.Height, sy = y % src.Height;
        if ((ty & 1) == 1) sy = src.Height - 1 - sy;
        for (int x = 0; x < width; x++)
        {
            int tx = x / src.Width, sx = x % src.Width;
            if ((tx & 1) == 1) sx = src.Width - 1 - sx;
            Array.Copy(src.Data, (sy * src.Width + sx) * ch, dst.Data, (y * width + x) * ch, ch);
        }
    }
    return dst;
}

static void WritePpm(Image image, string path)
{
    using var f = File.Create(path);
    var header = System.Text.Encoding.ASCII.GetBytes($"P6\n{image.Width} {image.Height}\n255\n");
    f.Write(header);
    var bytes = new byte[image.Data.Length];
    for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)Math.Clamp((int)(image.Data[i] * 255f + 0.5f), 0, 255);
    f.Write(bytes);
}

static string LoadAverage()
{
    try
    {
        return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
    }
    catch (IOException)
    {
        return "unknown";
    }
}

static string FindSample()
{
    for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
    {
        string candidate = Path.Combine(dir, "tests", "NeuralStyle.Imaging.Tests", "Jpeg", "Fixtures", "rocket.jpg");
        if (File.Exists(candidate)) return candidate;
    }
    throw new FileNotFoundException("Pass a source JPEG: dotnet run --project bench/ImagingBench -- photo.jpg");
}
