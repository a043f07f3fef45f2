namespace NeuralStyle.Bench;

/// <summary>
/// Peak resident memory of this process from the kernel: VmHWM in /proc/self/status, which writing "5" to
/// /proc/self/clear_refs resets to the current resident size, so one process can measure one case at a time.
/// </summary>
internal static class Memory
{
    /// <summary>Collects garbage and resets the peak mark; false when the kernel does not allow it.</summary>
    public static bool ResetPeak()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Peak resident set in KiB (VmHWM), or the .NET view (PeakWorkingSet64) where /proc is missing.</summary>
    public static long PeakKb()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return ParseKb(line);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        using var p = System.Diagnostics.Process.GetCurrentProcess();
        return p.PeakWorkingSet64 / 1024;
    }

    /// <summary>"VmHWM:\t  123456 kB" -> 123456.</summary>
    internal static long ParseKb(string statusLine)
    {
        int colon = statusLine.IndexOf(':', StringComparison.Ordinal);
        string rest = statusLine[(colon + 1)..].Trim();
        int space = rest.IndexOf(' ', StringComparison.Ordinal);
        return long.Parse(space < 0 ? rest : rest[..space], System.Globalization.CultureInfo.InvariantCulture);
    }
}
