using NeuralStyle.Cli;
using NeuralStyle.TestSupport;

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

    /// <summary>A two-photo training set (the Gatys fixtures' content and a style) in <paramref name="parent"/>/photos.</summary>
    public static string TwoPhotoDataset(string parent)
    {
        string dir = Path.Combine(parent, "photos");
        Directory.CreateDirectory(dir);
        File.Copy(Fixtures.Gatys("content.png"), Path.Combine(dir, "a.png"), overwrite: true);
        File.Copy(Fixtures.Gatys("style_b.png"), Path.Combine(dir, "b.png"), overwrite: true);
        return dir;
    }
}
