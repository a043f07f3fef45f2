using NeuralStyle.Core;
using NeuralStyle.Imaging;
using NeuralStyle.Weights;

namespace NeuralStyle.Cli;

/// <summary>Entry point: dispatches commands and turns every user mistake into one sentence and an exit code.</summary>
public static class CliApp
{
    public const int ExitOk = 0, ExitFailure = 1, ExitUsage = 2, ExitInterrupted = 130;

    public static int Run(string[] args) => Run(args, CliContext.FromConsole());

    public static int Run(string[] args, CliContext ctx) => Execute(ctx, () =>
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            ctx.Out.Write(Usage());
            return args.Length == 0 ? ExitUsage : ExitOk;
        }
        string[] rest = args[1..];
        return args[0] switch
        {
            "stylize" => StylizeCommand.Run(rest, ctx),
            "texture" => TextureCommand.Run(rest, ctx),
            "apply" => ApplyCommand.Run(rest, ctx),
            "train" => TrainCommand.Run(rest, ctx),
            "bank" => BankCommand.Run(rest, ctx),
            "weights" => WeightsCommand.Run(rest, ctx),
            "serve" => ServeCommand.Run(rest, ctx),
            "--version" => Version(ctx),
            _ => throw new UsageException($"Unknown command '{args[0]}'; run 'neuralstyle --help'."),
        };
    });

    /// <summary>
    /// Runs a command and maps whatever it throws to one sentence on stderr and an exit code: usage mistakes 2, a
    /// library-rejected option value (named by its flag) or a failure 1, anything else (an ArgumentException
    /// included: that is our bug, not the user's typo) an internal error, 1.
    /// </summary>
    public static int Execute(CliContext ctx, Func<int> command)
    {
        try
        {
            return command();
        }
        catch (UsageException e)
        {
            ctx.Error(e.Message);
            return ExitUsage;
        }
        catch (OptionException e)
        {
            // A value the library could only refuse once the images and the network were loaded.
            ctx.Error(e.Render(CommandSupport.FlagFor));
            if (Environment.GetEnvironmentVariable("NEURALSTYLE_DEBUG") == "1") ctx.Err.WriteLine(e);
            return ExitFailure;
        }
        catch (Exception e) when (e is ImageFormatException or WeightFormatException or WeightsUnavailableException or DownloadException
                                      or NeuralStyle.Models.ModelWeightsException
                                      or IOException or UnauthorizedAccessException or OutOfMemoryException
                                      or NeuralStyle.Models.Training.CheckpointException)
        {
            ctx.Error(e switch
            {
                OutOfMemoryException => "Ran out of memory; try a smaller --size.",
                FileNotFoundException f => $"File not found: {f.FileName ?? f.Message}",
                _ => CommandSupport.Render(e.Message),
            });
            if (Environment.GetEnvironmentVariable("NEURALSTYLE_DEBUG") == "1") ctx.Err.WriteLine(e);
            return ExitFailure;
        }
        catch (Exception e)
        {
            // Anything else, an ArgumentException included, is our bug: never presented as the user's typo.
            ctx.Error($"internal error ({e.GetType().Name}: {e.Message}); set NEURALSTYLE_DEBUG=1 for details and please report it.");
            if (Environment.GetEnvironmentVariable("NEURALSTYLE_DEBUG") == "1") ctx.Err.WriteLine(e);
            return ExitFailure;
        }
    }

    private static int Version(CliContext ctx)
    {
        ctx.Out.WriteLine($"neuralstyle {typeof(CliApp).Assembly.GetName().Version}");
        return ExitOk;
    }

    public static string Usage() =>
        """
        Usage: neuralstyle COMMAND [options]

        Commands:
          stylize   turn a photo into a painting in the style of other images (Gatys et al.)
          texture   synthesise a texture from one or more source images (multi-scale Gram matching)
          apply     stylise images with a trained fast-style network or a StyleBank (one forward pass each)
          train     train a fast style-transfer network for one style on a folder of photos
          bank      StyleBank: many styles in one network (train, add-style, list, remove, rename)
          weights   list or download pretrained feature networks
          serve     the web studio: every method in the browser, with a live preview

        Run 'neuralstyle COMMAND --help' for the options of a command.

        """;
}
