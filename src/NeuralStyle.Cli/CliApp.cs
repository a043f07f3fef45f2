namespace NeuralStyle.Cli;

public static class CliApp
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("neuralstyle: not implemented yet.");
        return 2;
    }
}
