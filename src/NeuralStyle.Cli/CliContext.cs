namespace NeuralStyle.Cli;

/// <summary>Where a command writes: results to Out, progress and messages to Err.</summary>
public sealed class CliContext(TextWriter output, TextWriter error, bool interactive)
{
    public TextWriter Out { get; } = output;
    public TextWriter Err { get; } = error;

    /// <summary>True when stderr is a terminal (an updating progress line); false in logs and pipes.</summary>
    public bool Interactive { get; } = interactive;

    public void Info(string message) => Err.WriteLine(message);

    public void Error(string message) => Err.WriteLine("neuralstyle: " + message);

    public static CliContext FromConsole()
        => new(Console.Out, Console.Error, !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("CI") is null);
}
