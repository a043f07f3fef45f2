using NeuralStyle.FastStyle;
using NeuralStyle.Imaging;
using NeuralStyle.Models.Johnson;
using Xunit.Abstractions;

namespace NeuralStyle.Tests.FastStyle;

/// <summary>Throughput of the full-width network on 256² images (random weights); run on demand:
/// NEURALSTYLE_BENCH=1 dotnet test tests/NeuralStyle.Tests -c Release --filter ApplyBenchmark.</summary>
public sealed class ApplyBenchmark(ITestOutputHelper log)
{
    [Fact]
    public void ImagesPerSecond_FullNetwork_256()
    {
        if (Environment.GetEnvironmentVariable("NEURALSTYLE_BENCH") != "1") return;
        string dir = Directory.CreateTempSubdirectory("ns-bench-").FullName;
        try
        {
            for (int i = 0; i < 8; i++) ImageIO.Save(FastStyleApplierTests.Smooth(256, 256, i), Path.Combine(dir, "in", $"{i}.png") is var p && Directory.CreateDirectory(Path.GetDirectoryName(p)!) is not null ? p : p);
            var o = new ApplyOptions();
            var applier = new FastStyleApplier(TransformerNet.Random(TransformerArchitecture.Johnson, 1), o);
            var jobs = FastStyleApplier.Plan([Path.Combine(dir, "in")], Path.Combine(dir, "out"), o);
            Directory.CreateDirectory(Path.Combine(dir, "out"));
            applier.Run(jobs.Take(1).ToList()); // warm-up
            foreach (var j in jobs) File.Delete(j.Output);
            ApplyResult r = applier.Run(jobs);
            log.WriteLine($"full TransformerNet, 256x256, {r.Done} images: {r.Seconds:F2} s, {r.ImagesPerSecond:F2} images/s, {Environment.ProcessorCount} cores");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
