using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NeuralStyle.Tensors.Training;
using NeuralStyle.Weights;

namespace NeuralStyle.Models.StyleBank;

/// <summary>What a bank file's metadata says besides its weights.</summary>
/// <param name="Styles">The styles in bank order (bank.{i} is Styles[i]).</param>
/// <param name="SharedSteps">Optimiser steps the shared encoder and decoder have had.</param>
/// <param name="Extra">The writer's free-form entries (e.g. "training" as JSON).</param>
public sealed record StyleBankFileInfo(IReadOnlyList<StyleBankStyle> Styles, long SharedSteps, IReadOnlyDictionary<string, string> Extra);

/// <summary>
/// A whole StyleBank in one <c>.safetensors</c> file: the encoder's and decoder's tensors and one dense run of filter
/// sets (<c>bank.0</c> … <c>bank.{n−1}</c>), with the format tag, the architecture, the ordered styles (name, source
/// image, steps) and the writer's entries in <c>__metadata__</c>. Written atomically; a tensor's bytes are its float
/// values, so saving after adding, removing or renaming a style leaves every other tensor's bytes as they were.
/// </summary>
public static class StyleBankFile
{
    public const string Format = "neuralstyle.stylebank/1";

    /// <summary>The architecture this code reads and writes (spec §6).</summary>
    public const string Architecture =
        "stylebank: encoder 9x9 s1 3-32, 3x3 s2 32-64, 3x3 s2 64-128 (reflect pad, instance norm, relu); " +
        "bank 3x3 128-128 with bias (reflect pad); decoder up2 3x3 128-64, up2 3x3 64-32 (instance norm, relu), 9x9 32-3; pixels rgb 0-255";

    private const string FormatKey = "format", ArchitectureKey = "architecture", StylesKey = "styles", SharedStepsKey = "shared_steps";
    private static readonly string[] ReservedKeys = [FormatKey, ArchitectureKey, StylesKey, SharedStepsKey];

    /// <summary>
    /// Writes <paramref name="net"/> to <paramref name="path"/> (replacing it atomically) with its styles' information
    /// and the caller's <paramref name="extra"/> metadata entries (keys other than format, architecture, styles, shared_steps).
    /// </summary>
    public static void Save(string path, StyleBankNet net, IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(net);
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            if (ReservedKeys.Contains(key)) throw new ArgumentException($"The metadata key '{key}' is reserved for the bank file itself.", nameof(extra));
            meta[key] = value;
        }
        meta[FormatKey] = Format;
        meta[ArchitectureKey] = Architecture;
        meta[StylesKey] = new JsonArray([.. net.StyleInfo.Select(s => (JsonNode)new JsonObject
        {
            ["name"] = s.Name, ["source"] = s.Source, ["steps"] = s.Steps,
        })]).ToJsonString();
        meta[SharedStepsKey] = net.SharedSteps.ToString(CultureInfo.InvariantCulture);
        // Shared layers first, then the bank in order: the parameter set's own order, which Load rebuilds.
        var tensors = StyleBankNet.ExpectedLayout(net.Styles.Count)
            .Select(e => new WeightTensor(e.Name, e.Shape, net.Parameters[e.Name].Data)).ToList();
        SafeTensors.Write(path, tensors, meta);
    }

    /// <summary>True when <paramref name="path"/> is a safetensors file carrying the bank format tag (reads only the header).</summary>
    public static bool IsStyleBank(string path)
    {
        if (!File.Exists(path)) return false;
        try
        {
            return SafeTensors.ReadMetadata(path).TryGetValue(FormatKey, out string? f) && f == Format;
        }
        catch (WeightFormatException)
        {
            return false;
        }
    }

    /// <summary>The metadata of the bank at <paramref name="path"/> without its weights.</summary>
    public static StyleBankFileInfo ReadInfo(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return ParseInfo(path, ReadMeta(path));
    }

    /// <summary>
    /// Loads the bank at <paramref name="path"/>. A file that is not a bank (a fast-style network, another format), of
    /// another architecture, with missing, extra or mis-shaped tensors, or unreadable throws
    /// <see cref="ModelWeightsException"/> with one sentence.
    /// </summary>
    public static StyleBankNet Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string file = Path.GetFileName(path);
        IReadOnlyDictionary<string, string> meta = ReadMeta(path);
        StyleBankFileInfo info = ParseInfo(path, meta);
        IReadOnlyDictionary<string, WeightTensor> tensors;
        try
        {
            tensors = SafeTensors.Read(path);
        }
        catch (WeightFormatException e)
        {
            throw new ModelWeightsException($"The bank '{file}' cannot be read: {e.Message}");
        }
        var layout = StyleBankNet.ExpectedLayout(info.Styles.Count);
        var set = new ParameterSet();
        foreach ((string name, int[] shape) in layout)
        {
            if (!tensors.TryGetValue(name, out WeightTensor? t))
                throw new ModelWeightsException($"The bank '{file}' lists {info.Styles.Count} styles but has no tensor '{name}'.");
            if (!t.Shape.SequenceEqual(shape))
                throw new ModelWeightsException($"The bank '{file}' stores '{name}' with shape [{string.Join(",", t.Shape)}], not [{string.Join(",", shape)}].");
            set.Add(name, shape, t.Data);
        }
        string? extraTensor = tensors.Keys.Where(k => !set.Contains(k)).Order(StringComparer.Ordinal).FirstOrDefault();
        if (extraTensor is not null)
            throw new ModelWeightsException($"The bank '{file}' has the tensor '{extraTensor}', which a bank of {info.Styles.Count} styles does not.");
        StyleBankNet net;
        try
        {
            net = StyleBankNet.FromParameters(set, info.Styles.Select(s => s.Name));
        }
        catch (ArgumentException e)
        {
            throw new ModelWeightsException($"The bank '{file}' is inconsistent: {e.Message}");
        }
        for (int i = 0; i < info.Styles.Count; i++) net.SetStyleInfo(i, info.Styles[i].Source, info.Styles[i].Steps);
        net.SharedSteps = info.SharedSteps;
        return net;
    }

    private static IReadOnlyDictionary<string, string> ReadMeta(string path)
    {
        string file = Path.GetFileName(path);
        if (!File.Exists(path)) throw new ModelWeightsException($"The bank '{path}' does not exist.");
        IReadOnlyDictionary<string, string> meta;
        try
        {
            meta = SafeTensors.ReadMetadata(path);
        }
        catch (WeightFormatException e)
        {
            throw new ModelWeightsException($"'{file}' is not a StyleBank file (it cannot be read as safetensors: {e.Message.TrimEnd('.')}).");
        }
        if (!meta.TryGetValue(FormatKey, out string? format) || format != Format)
        {
            string what = meta.TryGetValue("method", out string? m) && m == "fast-style" ? "a fast-style network (use it as an ordinary {Model})"
                : format is null ? "a file without the bank format tag" : $"a file of the format '{format}'";
            throw new ModelWeightsException($"'{file}' is not a StyleBank file ({what}; expected the format '{Format}').");
        }
        if (!meta.TryGetValue(ArchitectureKey, out string? arch) || arch != Architecture)
            throw new ModelWeightsException($"The bank '{file}' is of another architecture ('{arch ?? "unspecified"}') than this version reads.");
        return meta;
    }

    private static StyleBankFileInfo ParseInfo(string path, IReadOnlyDictionary<string, string> meta)
    {
        string file = Path.GetFileName(path);
        try
        {
            var styles = new List<StyleBankStyle>();
            JsonArray list = JsonNode.Parse(meta[StylesKey])!.AsArray();
            foreach (JsonNode? n in list)
            {
                JsonObject o = n!.AsObject();
                styles.Add(new StyleBankStyle(o["name"]!.GetValue<string>())
                {
                    Source = o["source"]?.GetValue<string>(), Steps = o["steps"]?.GetValue<long>() ?? 0,
                });
            }
            if (styles.Count == 0) throw new ModelWeightsException($"The bank '{file}' holds no styles.");
            long shared = meta.TryGetValue(SharedStepsKey, out string? s) ? long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture) : 0;
            var extra = meta.Where(e => !ReservedKeys.Contains(e.Key)).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
            return new StyleBankFileInfo(styles, shared, extra);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException
            or OverflowException or NullReferenceException)
        {
            throw new ModelWeightsException($"The bank '{file}' has an unreadable style list in its metadata.");
        }
    }
}
