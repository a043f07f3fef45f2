namespace NeuralStyle.Weights;

/// <summary>
/// The folder that holds downloaded weights: <c>$NEURALSTYLE_HOME</c> if set, else <c>$XDG_CACHE_HOME/neuralstyle</c>,
/// else <c>~/.cache/neuralstyle</c> (on Windows, <c>%LOCALAPPDATA%\neuralstyle</c>). The folder is created on first write.
/// </summary>
public sealed class WeightCache
{
    public WeightCache(string? root = null)
    {
        Root = Path.GetFullPath(root ?? ResolveRoot(Environment.GetEnvironmentVariable, DefaultHome(), OperatingSystem.IsWindows()));
    }

    public string Root { get; }

    /// <summary>Where the entry's file lives (whether or not it is there yet).</summary>
    public string PathFor(ModelEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        string name = entry.FileName;
        if (string.IsNullOrWhiteSpace(name) || name != Path.GetFileName(name) || name is "." or "..")
            throw new ArgumentException($"The model entry '{entry.Name}' has an invalid file name '{name}'.", nameof(entry));
        return Path.Combine(Root, name);
    }

    /// <summary>
    /// Where a file derived from the entry is kept, e.g. <c>DerivedPathFor(vgg19, "features.safetensors")</c> gives
    /// <c>&lt;root&gt;/vgg19-d01eb7cb.features.safetensors</c> for a converted copy of just the VGG features.
    /// </summary>
    public string DerivedPathFor(ModelEntry entry, string suffix)
    {
        ArgumentNullException.ThrowIfNull(suffix);
        if (suffix.Length == 0 || suffix.IndexOfAny(['/', '\\']) >= 0 || suffix.Contains(".."))
            throw new ArgumentException($"Invalid derived-file suffix '{suffix}'.", nameof(suffix));
        string path = PathFor(entry);
        return Path.Combine(Root, Path.GetFileNameWithoutExtension(path) + "." + suffix);
    }

    /// <summary>True when the entry's file is in the cache (a finished download: partial files are never at this path).</summary>
    public bool IsCached(ModelEntry entry)
    {
        var info = new FileInfo(PathFor(entry));
        return info.Exists && info.Length > 0;
    }

    /// <summary>The resolution rule, separated from the process environment so it can be tested.</summary>
    internal static string ResolveRoot(Func<string, string?> env, string home, bool windows)
    {
        string? own = env("NEURALSTYLE_HOME");
        if (!string.IsNullOrWhiteSpace(own)) return own;
        if (windows)
        {
            string? local = env("LOCALAPPDATA");
            if (!string.IsNullOrWhiteSpace(local)) return Path.Combine(local, "neuralstyle");
        }
        string? xdg = env("XDG_CACHE_HOME");
        // The XDG spec says relative paths are invalid and must be ignored.
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "neuralstyle");
        return Path.Combine(home, ".cache", "neuralstyle");
    }

    private static string DefaultHome()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(home)) home = Environment.GetEnvironmentVariable("HOME") ?? Path.GetTempPath();
        return home;
    }
}
