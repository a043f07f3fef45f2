using NeuralStyle.Models;
using NeuralStyle.Models.StyleBank;
using NeuralStyle.Weights;

namespace NeuralStyle.Studio;

/// <summary>A model file in DATA/models as the API lists it: a StyleBank (with its styles) or a fast-style network.</summary>
/// <param name="Name">The file name, which a job's <c>model</c> option names.</param>
/// <param name="Kind"><c>stylebank</c> or <c>fast-style</c> (what the file claims to be; it is loaded only when a job runs).</param>
/// <param name="Styles">A bank's styles in bank order (index = position); null for a fast-style network.</param>
/// <param name="Error">Why a bank's header cannot be read, or null.</param>
public sealed record ModelFileInfo(string Name, string Kind, long Bytes, IReadOnlyList<string>? Styles, string? Error);

/// <summary>
/// DATA/models: the fast-style networks and StyleBanks that jobs may name by their bare file name. Names come from a
/// request only after <see cref="IsModelFileName"/> has accepted them, so no request ever names a path.
/// </summary>
public static class ModelFolder
{
    public static string Path(string dataDirectory) => System.IO.Path.Combine(dataDirectory, "models");

    /// <summary>A bare file name (letters, digits, '.', '_', '-'; no folder, not hidden) with a model extension.</summary>
    public static bool IsModelFileName(string s)
        => s.Length is > 0 and <= 100 && s[0] != '.' && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')
           && System.IO.Path.GetExtension(s).ToLowerInvariant() is ".onnx" or ".pth" or ".safetensors";

    /// <summary>The full path of the model <paramref name="name"/> when it is a valid name of an existing file, else null.</summary>
    public static string? Find(string dataDirectory, string name)
    {
        if (!IsModelFileName(name)) return null;
        string path = System.IO.Path.Combine(Path(dataDirectory), name);
        return File.Exists(path) ? path : null;
    }

    /// <summary>Every model file of the folder, by name; a bank's styles are read from its header only.</summary>
    public static List<ModelFileInfo> List(string dataDirectory)
    {
        string dir = Path(dataDirectory);
        if (!Directory.Exists(dir)) return [];
        var list = new List<ModelFileInfo>();
        foreach (string path in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
        {
            string name = System.IO.Path.GetFileName(path);
            if (!IsModelFileName(name)) continue;
            long bytes = new FileInfo(path).Length;
            if (!StyleBankFile.IsStyleBank(path))
            {
                list.Add(new ModelFileInfo(name, "fast-style", bytes, null, null));
                continue;
            }
            try
            {
                list.Add(new ModelFileInfo(name, "stylebank", bytes, StyleBankFile.ReadInfo(path).Styles.Select(s => s.Name).ToList(), null));
            }
            catch (Exception e) when (e is ModelWeightsException or WeightFormatException or IOException)
            {
                list.Add(new ModelFileInfo(name, "stylebank", bytes, null, e.Message));
            }
        }
        return list;
    }
}
