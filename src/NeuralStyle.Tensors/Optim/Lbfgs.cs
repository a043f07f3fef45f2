namespace NeuralStyle.Tensors.Optim;

/// <summary>Options of <see cref="Lbfgs"/>; defaults are torch.optim.LBFGS's.</summary>
public sealed record LbfgsOptions
{
    public double LearningRate { get; init; } = 1;
    public int MaxIterations { get; init; } = 20;
    /// <summary>Most function evaluations; null means MaxIterations · 5 / 4 as in PyTorch.</summary>
    public int? MaxEvaluations { get; init; }
    public double ToleranceGrad { get; init; } = 1e-7;
    public double ToleranceChange { get; init; } = 1e-9;
    public int HistorySize { get; init; } = 100;
    public bool StrongWolfe { get; init; }
    /// <summary>
    /// A symmetric positive definite M for the initial inverse Hessian H₀ = γM (γ = sᵀy/yᵀMy), applied as
    /// <c>Apply(v, result)</c>; null: M = I, torch's L-BFGS exactly. With it the first direction is −Mg, scaled by
    /// min(1, 1/‖Mg‖₁)·lr.
    /// </summary>
    public ILinearOperator? Preconditioner { get; init; }
}

/// <summary>A linear map of vectors (result = A·v); the two spans never overlap.</summary>
public interface ILinearOperator
{
    void Apply(ReadOnlySpan<float> v, Span<float> result);
}

/// <summary>
/// One finished L-BFGS iteration: its number (1-based, counted over every <see cref="Lbfgs.Minimize"/> call), the loss
/// at the accepted point and which evaluation (0-based, counted like <see cref="Lbfgs.Evaluations"/>) computed it;
/// −1 when the step was taken without evaluating its result (the last iteration without a line search).
/// </summary>
public readonly record struct LbfgsIteration(int Iteration, double Loss, int AcceptedEvaluation);

/// <summary>
/// The objective: writes ∂f/∂x into <c>grad</c> and returns f(x). <c>x</c> is the optimiser's current point.
/// </summary>
public delegate double Objective(float[] x, float[] grad);

/// <summary>
/// The curvature memory of an <see cref="Lbfgs"/>: its (s, y) pairs, oldest first (s = step taken, y = change of the
/// gradient over it), and the H₀ scaling γ = sᵀy/yᵀy of the newest accepted pair. Carried into another run (e.g. the
/// next scale of a coarse-to-fine schedule, after resampling) it lets that run's first step use the learned curvature.
/// </summary>
public sealed record LbfgsHistory(IReadOnlyList<float[]> Steps, IReadOnlyList<float[]> GradientChanges, double H0Scale)
{
    public int Count => Steps.Count;
}

/// <summary>
/// Limited-memory BFGS with the exact semantics of torch.optim.LBFGS (one <see cref="Minimize"/> call = one
/// <c>optimizer.step(closure)</c>): first step scaled by min(1, 1/‖g‖₁)·lr, two-loop recursion with H₀ = sᵀy/yᵀy,
/// a pair stored only when yᵀs &gt; 1e-10, optional strong-Wolfe line search.
/// </summary>
public sealed class Lbfgs
{
    private readonly LbfgsOptions _o;
    private readonly int _n;
    private readonly List<float[]> _dirs = [], _steps = [];
    private readonly List<double> _ro = [];
    private readonly float[] _d, _g, _prevG, _q, _y, _s, _xInit;
    private readonly float[]? _my; // M·y for γ when preconditioned
    private readonly double[] _al;
    private double _t, _hDiag = 1;
    private int _iter;
    private bool _seeded;

    public Lbfgs(int length, LbfgsOptions options)
    {
        if (options.HistorySize < 1) throw new ArgumentOutOfRangeException(nameof(options), "The L-BFGS history must be at least 1.");
        _o = options;
        _n = length;
        _d = new float[length]; _g = new float[length]; _prevG = new float[length];
        _q = new float[length]; _y = new float[length]; _s = new float[length]; _xInit = new float[length];
        _al = new double[options.HistorySize];
        if (options.Preconditioner is not null) _my = new float[length];
    }

    /// <summary>Total function evaluations so far.</summary>
    public int Evaluations { get; private set; }

    /// <summary>Total iterations so far (a line search may evaluate several times per iteration).</summary>
    public int Iterations => _iter;

    /// <summary>A copy of the curvature pairs (oldest first) and the H₀ scaling the next direction would use.</summary>
    public LbfgsHistory History => new(_steps.Select(a => (float[])a.Clone()).ToList(), _dirs.Select(a => (float[])a.Clone()).ToList(), _hDiag);

    /// <summary>
    /// Starts from a carried history instead of an empty one: the first iteration then takes the two-loop direction
    /// with these pairs and step length LearningRate (not steepest descent scaled by 1/‖g‖₁). Pairs whose yᵀs ≤ 1e-10
    /// are skipped as <see cref="Minimize"/> would; only the newest HistorySize are kept. Call before the first
    /// <see cref="Minimize"/>.
    /// </summary>
    public void SeedHistory(LbfgsHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (_iter != 0) throw new InvalidOperationException("SeedHistory must be called before the first iteration.");
        if (history.Steps.Count != history.GradientChanges.Count)
            throw new ArgumentException("The history needs as many gradient changes as steps.", nameof(history));
        if (history.Steps.Any(a => a.Length != _n) || history.GradientChanges.Any(a => a.Length != _n))
            throw new ArgumentException($"Every vector of the history must have the optimiser's length ({_n}).", nameof(history));
        if (!(history.H0Scale > 0) || !double.IsFinite(history.H0Scale))
            throw new ArgumentException("The history's H0 scaling must be a positive finite number.", nameof(history));
        _dirs.Clear(); _steps.Clear(); _ro.Clear();
        for (int i = Math.Max(0, history.Count - _o.HistorySize); i < history.Count; i++)
        {
            double ys = Dot(history.GradientChanges[i], history.Steps[i]);
            if (!(ys > 1e-10)) continue;
            _dirs.Add((float[])history.GradientChanges[i].Clone());
            _steps.Add((float[])history.Steps[i].Clone());
            _ro.Add(1.0 / ys);
        }
        // The carried γ is sᵀy/yᵀy; with H₀ = γM it must be sᵀy/yᵀMy, taken from the newest pair as an iteration would.
        _hDiag = _o.Preconditioner is not null && _dirs.Count > 0 ? H0Scale(_dirs[^1], 1.0 / _ro[^1]) : history.H0Scale;
        _seeded = true;
    }

    /// <summary>Called after every iteration, with x at the accepted point.</summary>
    public Action<LbfgsIteration>? IterationDone { get; set; }

    /// <summary>Runs one torch-style step (up to MaxIterations iterations). Returns the last loss evaluated.</summary>
    public double Minimize(float[] x, Objective f, CancellationToken cancel = default)
    {
        if (x.Length != _n) throw new ArgumentException("Length mismatch.");
        int maxEval = _o.MaxEvaluations ?? _o.MaxIterations * 5 / 4;
        double loss = f(x, _g);
        int currentEvals = 1;
        int lastAccepted = Evaluations++;
        if (MaxAbs(_g) <= _o.ToleranceGrad) return loss;

        int nIter = 0;
        while (nIter < _o.MaxIterations)
        {
            nIter++;
            _iter++;
            if (_iter == 1 && _seeded)
            {
                TwoLoop();
            }
            else if (_iter == 1)
            {
                if (_o.Preconditioner is { } m)
                {
                    m.Apply(_g, _d);
                    System.Numerics.Tensors.TensorPrimitives.Negate(_d, _d);
                }
                else
                {
                    for (int i = 0; i < _n; i++) _d[i] = -_g[i];
                }
                _dirs.Clear(); _steps.Clear(); _ro.Clear();
                _hDiag = 1;
            }
            else
            {
                UpdateDirection();
            }

            Array.Copy(_g, _prevG, _n);
            double prevLoss = loss;
            _t = _iter == 1 && !_seeded ? Math.Min(1.0, 1.0 / SumAbs(_o.Preconditioner is null ? _g : _d)) * _o.LearningRate : _o.LearningRate;
            double gtd = Dot(_g, _d);
            if (gtd > -_o.ToleranceChange) break;

            int lsEvals = 0, accepted = -1;
            if (_o.StrongWolfe)
            {
                Array.Copy(x, _xInit, _n);
                (loss, _t, lsEvals, accepted) = StrongWolfe(x, f, loss, gtd, lastAccepted);
                for (int i = 0; i < _n; i++) x[i] = _xInit[i] + (float)_t * _d[i];
            }
            else
            {
                float tf = (float)_t;
                for (int i = 0; i < _n; i++) x[i] += tf * _d[i];
                if (nIter != _o.MaxIterations && !cancel.IsCancellationRequested)
                {
                    loss = f(x, _g);
                    lsEvals = 1;
                    accepted = Evaluations;
                }
            }
            currentEvals += lsEvals;
            Evaluations += lsEvals;
            lastAccepted = accepted;
            IterationDone?.Invoke(new LbfgsIteration(_iter, accepted >= 0 ? loss : double.NaN, accepted));

            if (nIter == _o.MaxIterations || cancel.IsCancellationRequested) break;
            if (currentEvals >= maxEval) break;
            if (MaxAbs(_g) <= _o.ToleranceGrad) break;
            if (MaxAbs(_d) * Math.Abs(_t) <= _o.ToleranceChange) break;
            if (Math.Abs(loss - prevLoss) < _o.ToleranceChange) break;
        }
        return loss;
    }

    private void UpdateDirection()
    {
        float tf = (float)_t;
        for (int i = 0; i < _n; i++)
        {
            _y[i] = _g[i] - _prevG[i];
            _s[i] = _d[i] * tf;
        }
        double ys = Dot(_y, _s);
        if (ys > 1e-10)
        {
            float[] yNew, sNew;
            if (_dirs.Count == _o.HistorySize)
            {
                yNew = _dirs[0]; sNew = _steps[0];
                _dirs.RemoveAt(0); _steps.RemoveAt(0); _ro.RemoveAt(0);
            }
            else
            {
                yNew = new float[_n]; sNew = new float[_n];
            }
            Array.Copy(_y, yNew, _n);
            Array.Copy(_s, sNew, _n);
            _dirs.Add(yNew); _steps.Add(sNew); _ro.Add(1.0 / ys);
            _hDiag = H0Scale(_y, ys);
        }
        TwoLoop();
    }

    /// <summary>
    /// d = −H·g by the two-loop recursion over the stored pairs, H₀ = γM (γI without a preconditioner). Each pair's update of q (or d) is fused with
    /// the next pair's dot product (<see cref="PreciseSums.AxpyThenDot"/>: one pass, long vectors shared over the kernel
    /// threads): the same arithmetic as <see cref="TwoLoopReference"/>, bit for bit.
    /// </summary>
    private void TwoLoop()
    {
        int m = _dirs.Count;
        System.Numerics.Tensors.TensorPrimitives.Negate(_g, _q);
        if (m > 0)
        {
            _al[m - 1] = Dot(_steps[m - 1], _q) * _ro[m - 1];
            for (int i = m - 1; i > 0; i--)
                _al[i - 1] = PreciseSums.AxpyThenDot(-(float)_al[i], _dirs[i], _q, _steps[i - 1]) * _ro[i - 1];
            Axpy(-(float)_al[0], _dirs[0], _q);
        }
        ApplyH0(_q, _d);
        if (m > 0)
        {
            double be = Dot(_dirs[0], _d) * _ro[0];
            for (int i = 0; i < m - 1; i++)
                be = PreciseSums.AxpyThenDot((float)(_al[i] - be), _steps[i], _d, _dirs[i + 1]) * _ro[i + 1];
            Axpy((float)(_al[m - 1] - be), _steps[m - 1], _d);
        }
    }

    /// <summary>γ of H₀ = γM from a pair (s, y) with sᵀy = <paramref name="ys"/>: sᵀy/yᵀMy (torch's sᵀy/yᵀy when M = I).</summary>
    private double H0Scale(float[] y, double ys)
    {
        if (_o.Preconditioner is not { } m) return ys / Dot(y, y);
        m.Apply(y, _my);
        return ys / Dot(y, _my!);
    }

    /// <summary>d = H₀·q = γ·M·q (γ·q without a preconditioner).</summary>
    private void ApplyH0(float[] q, float[] d)
    {
        if (_o.Preconditioner is { } m)
        {
            m.Apply(q, d);
            System.Numerics.Tensors.TensorPrimitives.Multiply(d, (float)_hDiag, d);
        }
        else
        {
            System.Numerics.Tensors.TensorPrimitives.Multiply(q, (float)_hDiag, d);
        }
    }

    /// <summary>The search direction −H·g for <paramref name="gradient"/> from the current pairs, by the two-loop
    /// recursion or its reference (for the kernel comparisons).</summary>
    internal float[] DirectionFor(ReadOnlySpan<float> gradient, bool reference)
    {
        gradient.CopyTo(_g);
        if (reference) TwoLoopReference(); else TwoLoop();
        return (float[])_d.Clone();
    }

    /// <summary>The two-loop recursion written plainly: the slow reference <see cref="TwoLoop"/> is tested against.</summary>
    internal void TwoLoopReference()
    {
        int m = _dirs.Count;
        for (int i = 0; i < _n; i++) _q[i] = -_g[i];
        for (int i = m - 1; i >= 0; i--)
        {
            _al[i] = Dot(_steps[i], _q) * _ro[i];
            Axpy(-(float)_al[i], _dirs[i], _q);
        }
        if (_o.Preconditioner is { } pre)
        {
            pre.Apply(_q, _d);
            float hp = (float)_hDiag;
            for (int i = 0; i < _n; i++) _d[i] *= hp;
        }
        else
        {
            float h = (float)_hDiag;
            for (int i = 0; i < _n; i++) _d[i] = _q[i] * h;
        }
        for (int i = 0; i < m; i++)
        {
            double be = Dot(_dirs[i], _d) * _ro[i];
            Axpy((float)(_al[i] - be), _steps[i], _d);
        }
    }

    // ---- strong-Wolfe line search (torch.optim.lbfgs._strong_wolfe) ----------------------------------------------

    /// <summary>Returns the accepted loss and step, the evaluations made and the index of the accepted one (<paramref name="startId"/>: x itself).</summary>
    private (double F, double T, int Evals, int Accepted) StrongWolfe(float[] x, Objective f, double f0, double gtd0, int startId)
    {
        const double c1 = 1e-4, c2 = 0.9;
        const int maxLs = 25;
        double tolChange = _o.ToleranceChange;
        double dNorm = MaxAbs(_d);
        double t = _t;
        float[] g0 = (float[])_g.Clone();
        float[] gNew = new float[_n];
        double fNew = Eval(x, f, t, gNew);
        int evals = 1;
        int idNew = Evaluations, idPrev = startId; // which evaluation each point came from
        double gtdNew = Dot(gNew, _d);
        double tPrev = 0, fPrev = f0, gtdPrev = gtd0;
        float[] gPrev = g0;
        bool done = false;
        int lsIter = 0;
        double[] br = [], brF = [], brGtd = [];
        int[] brId = [];
        float[][] brG = [];
        while (lsIter < maxLs)
        {
            if (fNew > f0 + c1 * t * gtd0 || (lsIter > 1 && fNew >= fPrev))
            {
                br = [tPrev, t]; brF = [fPrev, fNew]; brG = [gPrev, (float[])gNew.Clone()]; brGtd = [gtdPrev, gtdNew]; brId = [idPrev, idNew];
                break;
            }
            if (Math.Abs(gtdNew) <= -c2 * gtd0)
            {
                br = [t]; brF = [fNew]; brG = [(float[])gNew.Clone()]; brGtd = [gtdNew]; brId = [idNew];
                done = true;
                break;
            }
            if (gtdNew >= 0)
            {
                br = [tPrev, t]; brF = [fPrev, fNew]; brG = [gPrev, (float[])gNew.Clone()]; brGtd = [gtdPrev, gtdNew]; brId = [idPrev, idNew];
                break;
            }
            double minStep = t + 0.01 * (t - tPrev), maxStep = t * 10;
            double tmp = t;
            t = CubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, minStep, maxStep);
            tPrev = tmp; fPrev = fNew; gPrev = (float[])gNew.Clone(); gtdPrev = gtdNew; idPrev = idNew;
            fNew = Eval(x, f, t, gNew);
            idNew = Evaluations + evals;
            evals++;
            gtdNew = Dot(gNew, _d);
            lsIter++;
        }
        if (lsIter == maxLs)
        {
            br = [0, t]; brF = [f0, fNew]; brG = [g0, (float[])gNew.Clone()]; brGtd = [gtd0, gtdNew]; brId = [startId, idNew];
        }

        bool insufProgress = false;
        int lo = 0, hi = 1;
        if (br.Length == 2) (lo, hi) = brF[0] <= brF[1] ? (0, 1) : (1, 0);
        while (!done && lsIter < maxLs)
        {
            if (Math.Abs(br[1] - br[0]) * dNorm < tolChange) break;
            t = CubicInterpolate(br[0], brF[0], brGtd[0], br[1], brF[1], brGtd[1], Math.Min(br[0], br[1]), Math.Max(br[0], br[1]));
            double bMax = Math.Max(br[0], br[1]), bMin = Math.Min(br[0], br[1]);
            double eps = 0.1 * (bMax - bMin);
            if (Math.Min(bMax - t, t - bMin) < eps)
            {
                if (insufProgress || t >= bMax || t <= bMin)
                {
                    t = Math.Abs(t - bMax) < Math.Abs(t - bMin) ? bMax - eps : bMin + eps;
                    insufProgress = false;
                }
                else
                {
                    insufProgress = true;
                }
            }
            else
            {
                insufProgress = false;
            }
            fNew = Eval(x, f, t, gNew);
            idNew = Evaluations + evals;
            evals++;
            gtdNew = Dot(gNew, _d);
            lsIter++;
            if (fNew > f0 + c1 * t * gtd0 || fNew >= brF[lo])
            {
                br[hi] = t; brF[hi] = fNew; brG[hi] = (float[])gNew.Clone(); brGtd[hi] = gtdNew; brId[hi] = idNew;
                (lo, hi) = brF[0] <= brF[1] ? (0, 1) : (1, 0);
            }
            else
            {
                if (Math.Abs(gtdNew) <= -c2 * gtd0) done = true;
                else if (gtdNew * (br[hi] - br[lo]) >= 0)
                {
                    br[hi] = br[lo]; brF[hi] = brF[lo]; brG[hi] = brG[lo]; brGtd[hi] = brGtd[lo]; brId[hi] = brId[lo];
                }
                br[lo] = t; brF[lo] = fNew; brG[lo] = (float[])gNew.Clone(); brGtd[lo] = gtdNew; brId[lo] = idNew;
            }
        }
        Array.Copy(brG[lo], _g, _n);
        return (brF[lo], br[lo], evals, brId[lo]);
    }

    private double Eval(float[] x, Objective f, double t, float[] g)
    {
        float tf = (float)t;
        for (int i = 0; i < _n; i++) x[i] = _xInit[i] + tf * _d[i];
        double v = f(x, g);
        Array.Copy(_xInit, x, _n);
        return v;
    }

    private static double CubicInterpolate(double x1, double f1, double g1, double x2, double f2, double g2, double xmin, double xmax)
    {
        double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
        double d2Square = d1 * d1 - g1 * g2;
        if (d2Square >= 0)
        {
            double d2 = Math.Sqrt(d2Square);
            double minPos = x1 <= x2
                ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
            return Math.Min(Math.Max(minPos, xmin), xmax);
        }
        return (xmin + xmax) / 2;
    }

    // ---- vector helpers (double accumulation) --------------------------------------------------------------------

    private static double Dot(float[] a, float[] b) => PreciseSums.Dot(a, b);

    private static double SumAbs(float[] a) => PreciseSums.SumOfMagnitudes(a);

    private static double MaxAbs(float[] a) => a.Length == 0 ? 0 : System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(a) is var m ? Math.Abs(m) : 0;

    private static void Axpy(float alpha, float[] x, float[] y)
        => System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(x, alpha, y, y);
}
