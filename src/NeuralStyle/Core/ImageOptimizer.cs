using System.Diagnostics;
using NeuralStyle.Tensors.Optim;

namespace NeuralStyle.Core;

/// <summary>How an image is optimised (one scale of a run).</summary>
public sealed record OptimizerSettings
{
    public OptimizerKind Kind { get; init; } = OptimizerKind.Lbfgs;
    public int Iterations { get; init; }
    public double LearningRate { get; init; } = 1;
    public int LbfgsHistory { get; init; } = 100;
    /// <summary>L-BFGS restarted this many times over the iterations (keras's scipy loop); 1 = one run.</summary>
    public int LbfgsRounds { get; init; } = 1;
    public bool StrongWolfe { get; init; }
    /// <summary>Stop when the largest gradient component falls to this (−1: never).</summary>
    public double ToleranceGrad { get; init; } = -1;
    /// <summary>Stop when the loss changes by less than this between iterations (−1: never).</summary>
    public double ToleranceChange { get; init; } = -1;
    /// <summary>L-BFGS starts from these curvature pairs (e.g. carried from a coarser scale); null: an empty history.</summary>
    public LbfgsHistory? SeedHistory { get; init; }
    /// <summary>L-BFGS's initial inverse Hessian is γ times this operator (null: γI, torch's L-BFGS).</summary>
    public ILinearOperator? Preconditioner { get; init; }
    /// <summary>Return the L-BFGS curvature pairs at the end (a copy: history × 2 image-sized vectors); only a run that
    /// hands them on to another asks for them.</summary>
    public bool ReturnHistory { get; init; }
    /// <summary>Stop once the loss fell by less than this fraction over the last <see cref="StopWindow"/> iterations (0: never).</summary>
    public double StopRelativeChange { get; init; }
    public int StopWindow { get; init; } = 10;
    /// <summary>Clamp X to [0,1] after every Adam step (pixel-space optimisation).</summary>
    public bool Clamp01 { get; init; }
    public int SaveEvery { get; init; }
    /// <summary>Exponential average of the iterates (bias-corrected); null: the last iterate is the result.</summary>
    public double? AverageDecay { get; init; }
    /// <summary>What to lower when the loss blows up: a phrase naming options in braces, as OptionException sentences do.</summary>
    public string BlowUpHint { get; init; } = "the loss weights";
}

/// <summary>What one optimisation ended with. <see cref="Result"/> is the image to keep (the average when enabled).</summary>
public sealed record OptimizeOutcome(float[] Result, int Iterations, double Seconds, bool Cancelled, string? Failure)
{
    /// <summary>The L-BFGS curvature memory at the end (null for Adam, and unless <see cref="OptimizerSettings.ReturnHistory"/>).</summary>
    public LbfgsHistory? History { get; init; }
}

/// <summary>
/// Runs L-BFGS or Adam on a <see cref="LossProblem"/>, reporting one <see cref="ProgressRecord"/> per iteration
/// (row k = the image after k steps; a line search's trial points are not rows), keeping the last finite image when the loss blows up, and
/// stopping cleanly on cancellation.
/// </summary>
public static class ImageOptimizer
{
    private sealed class NonFiniteLossException() : Exception("non-finite loss");

    /// <param name="snapshot">Called every SaveEvery iterations with the current X (or its running average).</param>
    /// <param name="rowOffset">Added to row numbers (coarse-to-fine runs number their rows continuously).</param>
    /// <param name="secondsBefore">Time already spent by earlier scales (rows report time since the run began).</param>
    public static OptimizeOutcome Run(LossProblem p, OptimizerSettings s, Action<ProgressRecord>? progress,
        Action<int, float[]>? snapshot, CancellationToken cancel, string stage = "", int rowOffset = 0, int totalRows = -1,
        double secondsBefore = 0)
    {
        int total = s.Iterations;
        int shownTotal = totalRows < 0 ? total : totalRows;
        var clock = Stopwatch.StartNew();
        float[] x = p.X.Data;
        float[] lastFinite = (float[])x.Clone();
        float[]? avg = s.AverageDecay is null ? null : new float[x.Length];
        int averaged = 0;
        int iterations = 0;      // steps taken so far: row k is the image after k steps
        int reportedRow = -1;    // the last row reported
        string? failure = null;
        LbfgsHistory? history = null;
        var losses = new List<double>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);

        void Report(int k, LossRow r)
        {
            reportedRow = k;
            losses.Add(r.Loss);
            // The stopping rule: too little progress over the window ends this run early (not a cancellation).
            int w = s.StopWindow;
            if (s.StopRelativeChange > 0 && losses.Count > w && losses[^(w + 1)] - r.Loss < s.StopRelativeChange * Math.Abs(r.Loss))
                stop.Cancel();
            progress?.Invoke(new ProgressRecord(rowOffset + k, shownTotal, secondsBefore + clock.Elapsed.TotalSeconds, r.Loss, r.Terms) { Stage = stage });
        }

        float[] Current() => avg is null ? x : Averaged(avg, averaged, s.AverageDecay!.Value);

        // After every step, with x the new iterate: the running average and the snapshots.
        void AfterStep()
        {
            iterations++;
            if (avg is not null)
            {
                averaged++;
                float d = (float)s.AverageDecay!.Value;
                for (int i = 0; i < x.Length; i++) avg[i] = d * avg[i] + (1 - d) * x[i];
            }
            if (s.SaveEvery > 0 && iterations % s.SaveEvery == 0 && iterations < total)
                snapshot?.Invoke(rowOffset + iterations, Current());
        }

        LossRow Evaluate(float[] xs, float[] grad)
        {
            if (!ReferenceEquals(xs, x)) Array.Copy(xs, x, x.Length);
            LossRow r = p.Evaluate(withGradient: true);
            if (!double.IsFinite(r.Loss) || !double.IsFinite(r.Optimised)) throw new NonFiniteLossException();
            Array.Copy(x, lastFinite, x.Length);
            Array.Copy(p.X.Grad!, grad, grad.Length);
            return r;
        }

        try
        {
            if (total > 0)
            {
                if (s.Kind == OptimizerKind.Adam) RunAdam(x, s, Evaluate, () => iterations, Report, AfterStep, stop.Token);
                else history = RunLbfgs(x, s, Evaluate, () => iterations, () => reportedRow, Report, AfterStep, stop.Token);
            }
            // The final row: the image after the last step, unless an iteration already reported it.
            if ((!cancel.IsCancellationRequested || reportedRow < 0) && reportedRow < iterations)
            {
                LossRow r = p.Evaluate(withGradient: false);
                if (!double.IsFinite(r.Loss)) throw new NonFiniteLossException();
                Report(iterations, r);
            }
        }
        catch (NonFiniteLossException)
        {
            Array.Copy(lastFinite, x, x.Length);
            avg = null;
            failure = $"The loss became NaN or infinite at iteration {rowOffset + iterations}; the last finite image was kept. " +
                      $"Lower {s.BlowUpHint} and try again.";
        }
        return new OptimizeOutcome((float[])Current().Clone(), iterations, clock.Elapsed.TotalSeconds, cancel.IsCancellationRequested, failure)
        {
            History = history,
        };
    }

    private static float[] Averaged(float[] avg, int count, double decay)
    {
        if (count == 0) return avg;
        float k = (float)(1 / (1 - Math.Pow(decay, count)));
        var r = new float[avg.Length];
        System.Numerics.Tensors.TensorPrimitives.Multiply(avg, k, r);
        return r;
    }

    private delegate LossRow Evaluator(float[] x, float[] grad);

    private static void RunAdam(float[] x, OptimizerSettings s, Evaluator f, Func<int> iterations, Action<int, LossRow> report,
        Action afterStep, CancellationToken cancel)
    {
        var grad = new float[x.Length];
        var adam = new Adam(x.Length, s.LearningRate);
        for (int k = 0; k < s.Iterations && !cancel.IsCancellationRequested; k++)
        {
            report(iterations(), f(x, grad));
            adam.Step(x, grad);
            if (s.Clamp01)
            {
                System.Numerics.Tensors.TensorPrimitives.Max(x, 0f, x);
                System.Numerics.Tensors.TensorPrimitives.Min(x, 1f, x);
            }
            afterStep();
        }
    }

    /// <summary>
    /// L-BFGS in one or more rounds; one row per iteration (a line search evaluates several times per iteration: the
    /// row shows the accepted point). A step whose result was not evaluated (the last of a round without line search)
    /// is reported by the next round's first evaluation or by the final row.
    /// </summary>
    private static LbfgsHistory? RunLbfgs(float[] x, OptimizerSettings s, Evaluator f, Func<int> iterations, Func<int> reportedRow,
        Action<int, LossRow> report, Action afterStep, CancellationToken cancel)
    {
        int rounds = Math.Max(1, s.LbfgsRounds);
        int perRound = Math.Max(1, s.Iterations / rounds);
        int done = 0;
        Lbfgs? last = null;
        for (int r = 0; r < rounds && done < s.Iterations && !cancel.IsCancellationRequested; r++)
        {
            int n = r == rounds - 1 ? s.Iterations - done : perRound;
            var lbfgs = new Lbfgs(x.Length, new LbfgsOptions
            {
                LearningRate = s.LearningRate,
                // torch.optim.LBFGS(max_iter=n): n steps, the last one without a new evaluation (the final row
                // evaluates the result); its default evaluation budget (5n/4) never cuts a run without line search short.
                MaxIterations = n,
                HistorySize = s.LbfgsHistory,
                ToleranceGrad = s.ToleranceGrad,
                ToleranceChange = s.ToleranceChange,
                StrongWolfe = s.StrongWolfe,
                Preconditioner = s.Preconditioner,
            });
            if (r == 0 && s.SeedHistory is { } seed) lbfgs.SeedHistory(seed);
            last = lbfgs;
            // This round's evaluations, kept until the iteration that accepts one of them ends.
            var rows = new List<LossRow>();
            double Objective(float[] xs, float[] g)
            {
                LossRow row = f(xs, g);
                if (rows.Count == 0 && reportedRow() < iterations()) report(iterations(), row);
                rows.Add(row);
                return row.Optimised;
            }
            lbfgs.IterationDone = it =>
            {
                afterStep();
                if (it.AcceptedEvaluation >= 0) report(iterations(), rows[it.AcceptedEvaluation]);
            };
            lbfgs.Minimize(x, Objective, cancel);
            done += n;
        }
        return s.ReturnHistory ? last?.History : null;
    }
}
