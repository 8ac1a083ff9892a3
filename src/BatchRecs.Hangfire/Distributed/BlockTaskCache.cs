using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Lake.Scratch;

namespace BatchRecs.Hangfire.Distributed;

/// <summary>
/// What a worker process keeps between block tasks: the rows of the CSR blocks it solved or scored (read by range: a
/// block task reads its own rows of a side, never the side; a block's rows are solved again every iteration, so they are
/// kept), the last half-step input and the last scoring step with its index, so the blocks of one step that land on this
/// worker read the step once. One instance per worker process, registered as a singleton in the worker's container and
/// handed to every <see cref="BlockTasks"/> it activates; a test makes its own. Thread-safe: the worker's threads run
/// block tasks at once. A thread that waits for another's read says so after <see cref="WaitLogAfter"/> and gives up
/// (the task fails and is retried) after <see cref="WaitLimit"/>.
/// </summary>
/// <param name="log">where a long wait is reported (null: nowhere).</param>
/// <param name="csrBytes">bytes of CSR blocks kept at most (<see cref="CsrCacheBytes"/>; tests use small ones).</param>
public sealed class BlockTaskCache(Engine.Pipeline.RunLog? log = null, long csrBytes = BlockTaskCache.CsrCacheBytes)
{
    /// <summary>A wait for the cache longer than this is logged (another thread is reading a large step or CSR).</summary>
    public static readonly TimeSpan WaitLogAfter = TimeSpan.FromSeconds(10);

    /// <summary>No read of the scratch area takes this long on a healthy file system: give up rather than hang the thread.</summary>
    public static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Bytes of CSR blocks kept: the least recently used go first when a new block would pass it. A whole fit's two sides
    /// at 100M interactions take 1.3 GB, so a worker of a fit that size keeps every block it ever solves; a larger fit's
    /// worker keeps what fits and reads the rest again (its own rows only, by range).
    /// </summary>
    public const long CsrCacheBytes = 1536L << 20;

    private readonly Lock _lock = new();
    private readonly LinkedList<(string Path, int Start, int End, CsrMatrix Matrix, float[]? Pref)> _blocks = [];
    private long _blockBytes;
    private long _readSinceCollect;
    private (string Dir, BlockTaskFiles.StepInput Input)? _step;
    private (string Dir, ScoringStep Step, string? ExcludeCsr, IvfIndex? Index)? _scoring;

    /// <summary>Bytes of CSR blocks this worker holds now.</summary>
    public long CachedCsrBytes { get { lock (_lock) return _blockBytes; } }

    /// <summary>Rows [<paramref name="start"/>, <paramref name="end"/>) of the side at <paramref name="csrPath"/> (a confidence
    /// CSR file, or a side file of stored pairs: <see cref="BlockTaskFiles.ReadRows"/>; row j = row start + j) and the half-step input in <paramref name="stepDir"/>, read from the scratch area unless this worker already holds them.</summary>
    public (CsrMatrix Conf, float[]? Pref, BlockTaskFiles.StepInput Input) ForSolve(string csrPath, int start, int end, string stepDir)
    {
        using (Enter(stepDir))
        {
            var (conf, pref) = Rows(csrPath, start, end);
            if (_step is not { } s || s.Dir != stepDir)
            {
                ReleaseSteps();
                _step = (stepDir, BlockTaskFiles.ReadStep(stepDir));
            }
            return (conf, pref, _step.Value.Input);
        }
    }

    /// <summary>Rows [<paramref name="start"/>, <paramref name="end"/>) of the CSR or side file at <paramref name="csrPath"/> (row j = row start + j), from the cache or read into it.</summary>
    public (CsrMatrix Matrix, float[]? Pref) CsrRows(string csrPath, int start, int end)
    {
        using (Enter(csrPath)) return Rows(csrPath, start, end);
    }

    /// <summary>Rows [start, end) of the CSR or side file at <paramref name="csrPath"/>, from the cache or read into it (the caller holds the lock).</summary>
    private (CsrMatrix Matrix, float[]? Pref) Rows(string csrPath, int start, int end)
    {
        for (var node = _blocks.First; node is not null; node = node.Next)
        {
            var b = node.Value;
            if (b.Path != csrPath || b.Start != start || b.End != end) continue;
            _blocks.Remove(node);
            _blocks.AddLast(node);
            return (b.Matrix, b.Pref);
        }
        var (m, p) = BlockTaskFiles.ReadRows(csrPath, start, end);
        long incoming = Bytes(m, p);
        while (_blocks.First is { } oldest && _blockBytes + incoming > csrBytes)
        {
            _blockBytes -= Bytes(oldest.Value.Matrix, oldest.Value.Pref);
            _blocks.RemoveFirst();
        }
        // What a read leaves behind (its parts, merged and laid side by side) and the blocks it pushed out are large
        // objects, which only a full collection frees: a refit's first reads beside an evaluation's cached blocks took a
        // 100M-interaction night's workers to 3.8–3.9 GB (3.0 with this collection). Collected every CollectAfterBytes read.
        _readSinceCollect += incoming;
        if (_readSinceCollect > CsrMatrix.CollectAfterBytes)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
            _readSinceCollect = 0;
        }
        _blocks.AddLast((csrPath, start, end, m, p));
        _blockBytes += incoming;
        return (m, p);
    }

    private static long Bytes(CsrMatrix m, float[]? pref) => m.Bytes + 4L * (pref?.Length ?? 0);

    /// <summary>
    /// The scoring step in <paramref name="stepDir"/> for the users [<paramref name="start"/>, <paramref name="end"/>) of a
    /// block, and its IVF index (null for exact search), built once per step. Its exclusions are usually the fit's user
    /// side, whose rows of this block this worker then often holds from the fit's last half-step.
    /// </summary>
    public (ScoringStep Step, IvfIndex? Index) ForScoring(string stepDir, int start, int end)
    {
        using (Enter(stepDir))
        {
            if (_scoring is not { } c || c.Dir != stepDir)
            {
                ReleaseSteps();
                var (s, excludeCsr) = BlockTaskFiles.ReadScoring(stepDir);
                _scoring = (stepDir, s, excludeCsr, s.Ivf is null ? null : IvfIndex.Build(s.ItemFactors, s.K, s.Ivf));
            }
            var (_, step, csr, index) = _scoring.Value;
            return (csr is null ? step : step with { Exclude = Rows(csr, start, end).Matrix.PlacedAt(start, step.Users) }, index);
        }
    }

    /// <summary>
    /// Lets the half-step input and the scoring step held go before another step is read (the caller holds the lock). Their
    /// factors are large objects, garbage once the next step arrives; the GC would let several pile up (a 100M-interaction
    /// night's worker reached 4.6 GB), and a scoring step kept through the next fit's half-steps (an evaluation's, through
    /// the refit) held its user factors beside theirs. Freed first, their space takes the next. (Two runs whose steps
    /// interleave on one worker read their steps again, and a scoring step's index is built again: time, not results.)
    /// </summary>
    private void ReleaseSteps()
    {
        long held = (_step?.Input.Bytes ?? 0) + (_scoring is { } c ? 4L * (c.Step.UserFactors.Length + c.Step.ItemFactors.Length) : 0);
        (_step, _scoring) = (null, null);
        if (held > (64L << 20)) GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
    }

    /// <summary>Takes the cache's lock within <see cref="WaitLimit"/>, logging what it waits for after <see cref="WaitLogAfter"/>.</summary>
    private Held Enter(string what)
    {
        if (_lock.TryEnter(WaitLogAfter)) return new Held(_lock);
        log?.Event("worker.cache_wait", ("waiting_for", "another block task reading the scratch area"), ("step", what),
            ("gives_up_after_s", WaitLimit.TotalSeconds));
        if (_lock.TryEnter(WaitLimit - WaitLogAfter)) return new Held(_lock);
        throw new TimeoutException($"block task for {what}: waited {WaitLimit.TotalMinutes:F0} min for another task's read of the scratch area; is the lake's file system hanging?");
    }

    private readonly struct Held(Lock held) : IDisposable
    {
        public void Dispose() => held.Exit();
    }
}
