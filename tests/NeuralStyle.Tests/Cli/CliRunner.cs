using NeuralStyle.Cli;

namespace NeuralStyle.Tests.Cli;

/// <summary>Runs the command line in this process, capturing what it prints (not an interactive terminal).</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args, new CliContext(o, e, interactive: false));
        return (code, o.ToString(), e.ToString());
    }
}
