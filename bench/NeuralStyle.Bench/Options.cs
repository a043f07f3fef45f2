namespace NeuralStyle.Bench;

/// <summary>The command line of the harness.</summary>
internal sealed record Options
{
    public string? Cases { get; init; }
    public int Runs { get; init; } = 5;
    public bool NoPeer { get; init; }
    public bool Quick { get; init; }
    public bool List { get; init; }
    public bool Profile { get; init; }
    public int StylizeIterations { get; init; } = 20;
    public string? Markdown { get; init; }
    /// <summary>Issue 5's schedule comparison: single-scale vs coarse-to-fine (writes this SVG), then exit.</summary>
    public string? ScheduleCompare { get; init; }
    /// <summary>Long edge of the schedule comparison (default 512).</summary>
    public int ScheduleSize { get; init; } = 512;
    /// <summary>Single-scale L-BFGS iterations of the schedule comparison (default 500).</summary>
    public int ScheduleSingle { get; init; } = 500;
    /// <summary>Schedules to compare, separated by ';' (see ScheduleCompare.Parse); null: issue 5's schedule.</summary>
    public string? ScheduleVariants { get; init; }
    /// <summary>A folder keeping the single-scale run (curve and image) for reuse by later comparisons; null: always run it.</summary>
    public string? ScheduleReference { get; init; }

    // child-process mode (one fresh process per memory case)
    public string? Child { get; init; }
    public int Width { get; init; }
    public int Height { get; init; }
    public int Iterations { get; init; }
    public string? Onnx { get; init; }
    public bool ProfileJohnson { get; init; }

    public const string Usage = """
        Usage: dotnet run -c Release --project bench/NeuralStyle.Bench -- [options]
          --cases PATTERN[,PATTERN…]  only the cases whose name matches (substring, or * and ? wildcards)
          --runs N                    timed runs per case after one warm-up (default 5, at least 1)
          --no-peer                   do not start the PyTorch peer
          --quick                     a smoke test of about a minute (smaller sizes, 3 runs)
          --stylize-iterations N      L-BFGS iterations of the whole-stylisation case (default 20)
          --markdown FILE             also write the table to FILE (markdown)
          --profile                   where the time of one Gatys iteration goes (ours only), then exit
          --list                      list the case names and exit
          --schedule-compare FILE.svg single-scale (500 L-BFGS) vs coarse-to-fine neural-style at 512 px, ours only;
                                      both loss curves go to FILE.svg (with --quick: 256 px, 100 iterations)
          --schedule-size N           long edge of the comparison (default 512)
          --schedule-single N         single-scale L-BFGS iterations it is measured against (default 500)
          --schedule-reference DIR    keep the single-scale run there and reuse it when it exists (same size and iterations)
          --schedule-variants "name:key=v,…;…"  schedules to run (keys: preset=fast, min, factor, iters=a/b/c,
                                      carry=0|1, tv=0|1, stop=F, first, later, init, history,
                                      pre=N pyramid preconditioner levels, tveps=F TV rounding); total loss vs wall time in FILE.svg
        """;

    public static Options Parse(IReadOnlyList<string> args)
    {
        var o = new Options();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            string Next()
            {
                if (i + 1 >= args.Count)
                {
                    throw new ArgumentException($"{a} needs a value.");
                }

                return args[++i];
            }

            int NextInt(int min)
            {
                string v = Next();
                if (!int.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n) || n < min)
                {
                    throw new ArgumentException($"{a} needs a whole number of at least {min}, got '{v}'.");
                }

                return n;
            }

            o = a switch
            {
                "--cases" => o with { Cases = Next() },
                "--runs" => o with { Runs = NextInt(1) },
                "--no-peer" => o with { NoPeer = true },
                "--quick" => o with { Quick = true },
                "--list" => o with { List = true },
                "--profile" => o with { Profile = true },
                "--stylize-iterations" => o with { StylizeIterations = NextInt(1) },
                "--markdown" => o with { Markdown = Next() },
                "--schedule-compare" => o with { ScheduleCompare = Next() },
                "--schedule-size" => o with { ScheduleSize = NextInt(16) },
                "--schedule-single" => o with { ScheduleSingle = NextInt(1) },
                "--schedule-variants" => o with { ScheduleVariants = Next() },
                "--schedule-reference" => o with { ScheduleReference = Next() },
                "--child" => o with { Child = Next() },
                "--width" => o with { Width = NextInt(1) },
                "--height" => o with { Height = NextInt(1) },
                "--iterations" => o with { Iterations = NextInt(0) },
                "--onnx" => o with { Onnx = Next() },
                "--profile-johnson" => o with { ProfileJohnson = true },
                _ => throw new ArgumentException($"Unknown option '{a}'. {Usage}"),
            };
        }

        return o;
    }
}
