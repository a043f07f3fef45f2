using System.Text.RegularExpressions;

namespace NeuralStyle.Core;

/// <summary>
/// An option value the library cannot work with: a user's mistake, not a bug. <see cref="Option"/> is the options
/// record's PROPERTY name (e.g. <c>"StyleWeight"</c>, written with nameof); the sentence names options the same way,
/// in braces (<c>"{StyleWeight} must be positive."</c>), and every front end renders them in its own words: the
/// command line as flags (<c>--style-weight</c>), the web studio as field labels. <see cref="Exception.Message"/> is
/// the sentence with the bare property names.
/// </summary>
public sealed partial class OptionException : Exception
{
    public OptionException(string option, string sentence, Exception? inner = null)
        : base(Render(sentence, n => n), inner)
    {
        ArgumentException.ThrowIfNullOrEmpty(option);
        ArgumentException.ThrowIfNullOrEmpty(sentence);
        Option = option;
        Sentence = sentence;
    }

    /// <summary>The property name of the option at fault.</summary>
    public string Option { get; }

    /// <summary>The sentence with option references in braces.</summary>
    public string Sentence { get; }

    /// <summary>The sentence with every {Property} replaced by <paramref name="optionName"/>(Property).</summary>
    public string Render(Func<string, string> optionName) => Render(Sentence, optionName);

    /// <summary>Replaces every {Property} of a sentence (e.g. a run's failure hint) by <paramref name="optionName"/>(Property).</summary>
    public static string Render(string sentence, Func<string, string> optionName)
        => Reference().Replace(sentence, m => optionName(m.Groups[1].Value));

    /// <summary>"{Name}" as written into a sentence for <paramref name="property"/>.</summary>
    public static string Ref(string property) => "{" + property + "}";

    [GeneratedRegex(@"\{([A-Z][A-Za-z0-9]*)\}")]
    private static partial Regex Reference();
}
