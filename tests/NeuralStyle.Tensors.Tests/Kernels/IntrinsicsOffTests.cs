using System.Diagnostics;

namespace NeuralStyle.Tensors.Tests.Kernels;

/// <summary>
/// Re-runs the kernel comparisons in a child process (tests/NeuralStyle.KernelCheck) with AVX-512, then all hardware
/// intrinsics, switched off, so the Vector256 and scalar fallbacks are tested on this machine too.
/// </summary>
public class IntrinsicsOffTests
{
    [Theory]
    // .NET 10 reads DOTNET_EnableAVX512; older runtimes read DOTNET_EnableAVX512F: set both.
    [InlineData("DOTNET_EnableAVX512F=0;DOTNET_EnableAVX512=0", "Vector512")]
    [InlineData("DOTNET_EnableHWIntrinsic=0", "Vector256")]
    public async Task KernelCheck_IntrinsicsSwitchedOff_FallbacksMatchReferences(string environment, string forbiddenIsa)
    {
        string dll = FindKernelCheck();
        var start = new ProcessStartInfo(DotnetHost(), $"\"{dll}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string pair in environment.Split(';'))
        {
            string[] kv = pair.Split('=');
            start.Environment[kv[0]] = kv[1];
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        string output = await stdout + await stderr;

        Assert.True(process.ExitCode == 0, $"KernelCheck failed with {environment}:\n{output}");
        Assert.Contains("ok:", output);
        string isaLine = output.Split('\n').First(l => l.StartsWith("isa:", StringComparison.Ordinal));
        Assert.DoesNotContain(forbiddenIsa, isaLine);
        Assert.DoesNotContain("Vector512", isaLine);
    }

    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return self;
        }

        return "dotnet";
    }

    /// <summary>Finds tests/NeuralStyle.KernelCheck/bin/&lt;same configuration&gt;/…/NeuralStyle.KernelCheck.dll.</summary>
    private static string FindKernelCheck()
    {
        string baseDir = AppContext.BaseDirectory;
        string configuration = baseDir.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        for (var dir = new DirectoryInfo(baseDir); dir is not null; dir = dir.Parent)
        {
            string project = Path.Combine(dir.FullName, "NeuralStyle.KernelCheck");
            if (File.Exists(Path.Combine(project, "NeuralStyle.KernelCheck.csproj")))
            {
                string bin = Path.Combine(project, "bin");
                var candidates = Directory.Exists(bin)
                    ? Directory.GetFiles(bin, "NeuralStyle.KernelCheck.dll", SearchOption.AllDirectories)
                        .Where(f => File.Exists(Path.ChangeExtension(f, ".runtimeconfig.json")))
                        .OrderByDescending(f => f.Contains($"{Path.DirectorySeparatorChar}{configuration}{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                        .ThenByDescending(File.GetLastWriteTimeUtc)
                        .ToArray()
                    : [];
                Assert.True(candidates.Length > 0, $"NeuralStyle.KernelCheck is not built under {bin}.");
                return candidates[0];
            }
        }

        Assert.Fail($"tests/NeuralStyle.KernelCheck not found above {baseDir}.");
        return string.Empty;
    }
}
