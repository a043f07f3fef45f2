namespace NeuralStyle.Bench;

/// <summary>Small statistics and formatting helpers.</summary>
internal static class Stats
{
    /// <summary>The median (mean of the two middle values for an even count); NaN for no values.</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        double[] s = [.. values];
        Array.Sort(s);
        int m = s.Length / 2;
        return s.Length % 2 == 1 ? s[m] : 0.5 * (s[m - 1] + s[m]);
    }

    /// <summary>A duration in seconds as "12.3 ms" / "1.234 s".</summary>
    public static string Time(double seconds)
    {
        if (double.IsNaN(seconds))
        {
            return "—";
        }

        return seconds < 1 ? $"{seconds * 1e3:F1} ms" : $"{seconds:F3} s";
    }

    public static string Mb(long? kb) => kb is long k && k > 0 ? $"{k / 1024.0:F0} MB" : "—";

    /// <summary>True when <paramref name="name"/> matches one of the comma-separated patterns (* and ? wildcards;
    /// a pattern without a wildcard matches as a substring), case-insensitively.</summary>
    public static bool Matches(string name, string? patterns)
    {
        if (string.IsNullOrWhiteSpace(patterns))
        {
            return true;
        }

        foreach (string raw in patterns.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string regex = raw.Contains('*') || raw.Contains('?')
                ? "^" + System.Text.RegularExpressions.Regex.Escape(raw).Replace("\\*", ".*").Replace("\\?", ".") + "$"
                : System.Text.RegularExpressions.Regex.Escape(raw);
            if (System.Text.RegularExpressions.Regex.IsMatch(name, regex, System.Text.RegularExpressions.RegexOptions.IgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The first three fields of /proc/loadavg, or "unknown".</summary>
    public static string LoadAverage()
    {
        try
        {
            string[] f = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"{f[0]} {f[1]} {f[2]}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return "unknown";
        }
    }
}
