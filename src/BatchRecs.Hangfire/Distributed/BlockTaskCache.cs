using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Lake.Scratch;

namespace BatchRecs.Hangfire.Distributed;

/// <summary>
/// What a worker process keeps between block tasks: the CSRs it read (both sides of the last few fits: they are read
/// once per fit, not per half-step), the last half-step input and the last scoring step with its index, so the blocks
/// of one step that land on this worker read the step once. One instance per worker process, registered as a
/// singleton in the worker's container and handed to every <see cref="BlockTasks"/> it activates; a test makes its
/// own. Thread-safe: the worker's threads run block tasks at once. A thread that waits for another's read says so after
/// <see cref="WaitLogAfter"/> and gives up (the task fails and is retried) after <see cref="WaitLimit"/>.
/// </summary>
/// <param name="log">where a long wait is reported (null: nowhere).</param>
public sealed class BlockTaskCache(Engine.Pipeline.RunLog? log = null)
{
    /// <summary>A wait for the cache longer than this is logged (another thread is reading a large step or CSR).</summary>
    public static readonly TimeSpan WaitLogAfter = TimeSpan.FromSeconds(10);

    /// <summary>No read of the scratch area takes this long on a healthy file system: give up rather than hang the thread.</summary>
    public static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(10);

    /// <summary>CSRs kept: the two sides of two fits (a run's evaluated fit and refit, or two jobs sharing the workers)…</summary>
    public const int CsrCacheSize = 4;

    /// <summary>
    /// … within this many bytes: the oldest go first when a new one would pass it, but the newest two (a fit's two
    /// sides) always stay. A 100M-interaction night's evaluated fit and refit together take 2.3 GB, which took a worker
    /// to 5.2 GB resident; a whole fit's two sides (1.3 GB) fit.
    /// </summary>
    public const long CsrCacheBytes = 1536L << 20;

    private readonly Lock _lock = new();
    private readonly List<(string Path, CsrMatrix Matrix, float[]? Pref)> _csrs = [];
    private (string Dir, BlockTaskFiles.StepInput Input)? _step;
    private (string Dir, ScoringStep Step, IvfIndex? Index)? _scoring;

    /// <summary>The confidence CSR at <paramref name="csrPath"/> and the half-step input in <paramref name="stepDir"/>,
    /// read from the scratch area unless this worker already holds them.</summary>
    public (CsrMatrix Conf, float[]? Pref, BlockTaskFiles.StepInput Input) ForSolve(string csrPath, string stepDir)
    {
        using (Enter(stepDir))
        {
            var (conf, pref) = Csr(csrPath);
            if (_step is not { } s || s.Dir != stepDir)
            {
                // A half-step's factors are large objects, garbage once the next half-step arrives; the GC would let several
                // pile up (a 100M-interaction night's worker reached 4.6 GB). Freed first, their space takes the next.
                bool large = _step is { } old && old.Input.Bytes > (64L << 20);
                _step = null;
                if (large) GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
                _step = (stepDir, BlockTaskFiles.ReadStep(stepDir));
            }
            return (conf, pref, _step.Value.Input);
        }
    }

    /// <summary>The CSR file at <paramref name="csrPath"/>, from the cache or read into it (the caller holds the lock).</summary>
    private (CsrMatrix Matrix, float[]? Pref) Csr(string csrPath)
    {
        int hit = _csrs.FindIndex(c => c.Path == csrPath);
        if (hit < 0)
        {
            var (m, p) = BinaryArrays.ReadCsr(csrPath);
            long Bytes((string, CsrMatrix Matrix, float[]? Pref) c) => c.Matrix.Bytes + 4L * (c.Pref?.Length ?? 0);
            long incoming = Bytes((csrPath, m, p));
            while (_csrs.Count >= 2 && (_csrs.Count == CsrCacheSize || _csrs.Sum(Bytes) + incoming > CsrCacheBytes)) _csrs.RemoveAt(0);
            _csrs.Add((csrPath, m, p));
            hit = _csrs.Count - 1;
        }
        return (_csrs[hit].Matrix, _csrs[hit].Pref);
    }

    /// <summary>
    /// The scoring step in <paramref name="stepDir"/> and its IVF index (null for exact search), built once per step. Its
    /// exclusions are usually the fit's user side, which this worker then already holds from the fit's last half-step.
    /// </summary>
    public (ScoringStep Step, IvfIndex? Index) ForScoring(string stepDir)
    {
        using (Enter(stepDir))
        {
            if (_scoring is not { } c || c.Dir != stepDir)
            {
                var s = BlockTaskFiles.ReadScoring(stepDir, path => Csr(path).Matrix);
                _scoring = (stepDir, s, s.Ivf is null ? null : IvfIndex.Build(s.ItemFactors, s.K, s.Ivf));
            }
            return (_scoring.Value.Step, _scoring.Value.Index);
        }
    }

    /// <summary>Takes the cache's lock within <see cref="WaitLimit"/>, logging what it waits for after <see cref="WaitLogAfter"/>.</summary>
    private Held Enter(string stepDir)
    {
        if (_lock.TryEnter(WaitLogAfter)) return new Held(_lock);
        log?.Event("worker.cache_wait", ("waiting_for", "another block task reading the scratch area"), ("step", stepDir),
            ("gives_up_after_s", WaitLimit.TotalSeconds));
        if (_lock.TryEnter(WaitLimit - WaitLogAfter)) return new Held(_lock);
        throw new TimeoutException($"block task for {stepDir}: waited {WaitLimit.TotalMinutes:F0} min for another task's read of the scratch area; is the lake's file system hanging?");
    }

    private readonly struct Held(Lock held) : IDisposable
    {
        public void Dispose() => held.Exit();
    }
}
