using System.Globalization;

namespace NeuralStyle.Cli;

/// <summary>A user mistake on the command line: one sentence, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

public enum Arity { Flag, One, Many }

/// <summary>
/// One command-line option, declared once (shared ones in <see cref="CommonOptions"/>); help text is generated from it.
/// </summary>
public sealed record OptionSpec(string Name, Arity Arity, string Help, string? Meta = null, string? Alias = null)
{
    /// <summary>
    /// The options-record properties this flag sets (what library errors name); by default the flag's own name in
    /// PascalCase (--style-weight: StyleWeight).
    /// </summary>
    public IReadOnlyList<string> Binds { get; init; } = [PascalCase(Name)];

    public static string PascalCase(string flag) => string.Concat(flag.TrimStart('-').Split('-', StringSplitOptions.RemoveEmptyEntries)
        .Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
}

/// <summary>
/// A small strict parser: every option is declared with its spelling and arity; unknown options, missing or
/// malformed values are usage errors with one clear sentence.
/// </summary>
public sealed class ParsedArgs
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly string _command;

    private ParsedArgs(string command) => _command = command;

    public List<string> Positionals { get; } = [];

    public static ParsedArgs Parse(string command, string[] args, IReadOnlyList<OptionSpec> specs)
    {
        var p = new ParsedArgs(command);
        var byName = new Dictionary<string, OptionSpec>(StringComparer.Ordinal);
        foreach (OptionSpec s in specs)
        {
            // Two declarations of one flag are a bug of the command, not the user's mistake.
            if (!byName.TryAdd(s.Name, s) || (s.Alias is not null && !byName.TryAdd(s.Alias, s)))
                throw new InvalidOperationException($"The option {s.Name} of '{command}' is declared twice.");
        }
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a.Length > 1 && a[0] == '-' && !IsNumber(a))
            {
                string name = a, inline = "";
                bool hasInline = false;
                int eq = a.IndexOf('=');
                if (a.StartsWith("--", StringComparison.Ordinal) && eq > 0)
                {
                    name = a[..eq];
                    inline = a[(eq + 1)..];
                    hasInline = true;
                }
                if (!byName.TryGetValue(name, out OptionSpec? spec))
                    throw new UsageException($"Unknown option '{name}' for '{command}'; run 'neuralstyle {command} --help' to see the options.");
                var list = p._values.TryGetValue(spec.Name, out var l) ? l : p._values[spec.Name] = [];
                switch (spec.Arity)
                {
                    case Arity.Flag:
                        if (hasInline) throw new UsageException($"Option {spec.Name} takes no value.");
                        list.Add("true");
                        break;
                    case Arity.One:
                        if (hasInline) { list.Add(inline); break; }
                        if (i + 1 >= args.Length || (args[i + 1].StartsWith('-') && !IsNumber(args[i + 1])))
                            throw new UsageException($"Option {spec.Name} needs a value ({spec.Meta ?? "VALUE"}).");
                        list.Add(args[++i]);
                        break;
                    default:
                        if (hasInline) list.Add(inline);
                        while (i + 1 < args.Length && !(args[i + 1].StartsWith('-') && args[i + 1].Length > 1 && !IsNumber(args[i + 1])))
                            list.Add(args[++i]);
                        if (list.Count == 0) throw new UsageException($"Option {spec.Name} needs at least one value ({spec.Meta ?? "VALUE"}).");
                        break;
                }
            }
            else
            {
                p.Positionals.Add(a);
            }
        }
        return p;
    }

    private static bool IsNumber(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    public bool Has(string name) => _values.ContainsKey(name);

    public bool Flag(string name) => _values.ContainsKey(name);

    public string? String(string name)
    {
        if (!_values.TryGetValue(name, out var v)) return null;
        if (v.Count > 1) throw new UsageException($"Option {name} was given {v.Count} times; give it once.");
        return v[0];
    }

    public IReadOnlyList<string>? Strings(string name) => _values.TryGetValue(name, out var v) ? v : null;

    public int? Int(string name, int min = int.MinValue, int max = int.MaxValue)
    {
        string? s = String(name);
        if (s is null) return null;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            throw new UsageException($"Option {name} expects a whole number, got '{s}'.");
        if (v < min || v > max)
            throw new UsageException(max == int.MaxValue ? $"Option {name} must be at least {min}, got {v}." : $"Option {name} must be between {min} and {max}, got {v}.");
        return v;
    }

    public double? Double(string name, double min = double.NegativeInfinity)
    {
        string? s = String(name);
        if (s is null) return null;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new UsageException($"Option {name} expects a number, got '{s}'.");
        if (v < min) throw new UsageException($"Option {name} must be at least {min.ToString(CultureInfo.InvariantCulture)}, got {s}.");
        return v;
    }

    /// <summary>A comma-separated list (also accepts several space-separated values).</summary>
    public string[]? List(string name)
    {
        var v = Strings(name);
        if (v is null) return null;
        string[] items = v.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        if (items.Length == 0) throw new UsageException($"Option {name} needs at least one item.");
        return items;
    }

    public double[]? Doubles(string name)
    {
        string[]? items = List(name);
        return items?.Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)
            ? d : throw new UsageException($"Option {name} expects numbers separated by commas, got '{s}'.")).ToArray();
    }

    public T? Choice<T>(string name, IReadOnlyDictionary<string, T> choices) where T : struct
    {
        string? s = String(name);
        if (s is null) return null;
        if (choices.TryGetValue(s.ToLowerInvariant(), out T v)) return v;
        throw new UsageException($"Option {name} must be one of {string.Join(", ", choices.Keys)}, got '{s}'.");
    }
}
