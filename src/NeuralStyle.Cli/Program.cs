return NeuralStyle.Cli.CliApp.Run(args);
