using System.ComponentModel;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;
using BatchRecs.Lake.Scratch;
using Hangfire;

namespace BatchRecs.Hangfire.Distributed;

/// <summary>
/// The worker side of <see cref="HangfireExecutor"/>: one Hangfire job solves one block of one half-step with the
/// same <see cref="BlockSolver"/> the local executor uses, reading its inputs from the scratch area and writing its
/// rows by write-then-rename. What it read is kept in the worker's <see cref="BlockTaskCache"/> (one per worker
/// process, from the container), so the blocks of one half-step that land on a worker read that once.
/// Hangfire passes each task a cancellation token that fires when the worker shuts down (or the job is deleted); only the
/// test hooks wait on it, a solve is short.
/// </summary>
public sealed class BlockTasks(BlockTaskCache cache, BlockTaskHooks hooks)
{
    public const string Queue = "blocks";

    /// <summary>Scores one user block of a scoring step; the worker builds the (seeded, identical) IVF index once per step.</summary>
    [DisplayName("top-N block {1} of {0}")]
    [Queue(Queue)]
    public void Score(string stepDir, int block, int start, int end, CancellationToken cancellationToken)
    {
        if (ScratchArea.Exists(BlockTaskFiles.BlockOutput(stepDir, block))) return;
        hooks.BeforeBlock?.Invoke(stepDir, block, cancellationToken);
        var (step, index) = cache.ForScoring(stepDir, start, end);
        BlockTaskFiles.WriteLists(stepDir, block, step.ScoreBlock(new RowBlock(block, start, end), index));
    }

    /// <summary>
    /// Whether this worker sees an input file the coordinator listed: a local path must be shared by every worker. An object
    /// in object storage is seen by every worker with the credentials; one gone since the listing is the input's own error
    /// (skippable under skip_bad_files), reported when it is opened, and checking first would cost a request a file.
    /// </summary>
    private static bool Visible(string path) => Lake.Storage.LakeLocation.IsObjectStore(path) || File.Exists(path);

    /// <summary>
    /// Reads one read task's files of a distributed read (<see cref="ReadTaskFiles"/>): their events grouped by the task's
    /// own users, and its id maps. Bad input is the task's outcome, not its failure: the coordinator reports the first
    /// in read order, as a read in one process does.
    /// </summary>
    [DisplayName("read task {1} of {0}")]
    [Queue(Queue)]
    public void Read(string stepDir, int task, CancellationToken cancellationToken)
    {
        if (ScratchArea.Exists(BlockTaskFiles.BlockOutput(stepDir, task))) return;
        hooks.BeforeBlock?.Invoke(stepDir, task, cancellationToken);
        var plan = ReadTaskFiles.ReadPlan(stepDir);
        // A local input must be where every worker sees it; a file missing here is not the input's fault (nor one to skip).
        if (plan.Tasks[task].FirstOrDefault(f => f.Problem is null && !Visible(f.Path)) is { } unseen)
        {
            ReadTaskFiles.WriteFailure(stepDir, task, new Lake.Input.LakeInputException(
                $"{unseen.Path}: the worker on {Environment.MachineName} cannot see this input file, which the coordinator listed. Workers read the input: " +
                "give them the input at the same path (a shared file system), or put it in object storage (az://).", unseen.Path));
            return;
        }
        Lake.Input.ReadResult read;
        try { read = plan.ReadTaskAsync(task, 1, cancellationToken).GetAwaiter().GetResult(); }
        catch (Lake.Input.LakeInputException e)
        {
            ReadTaskFiles.WriteFailure(stepDir, task, e);
            return;
        }
        ReadTaskFiles.WritePart(stepDir, task, read);
        read = null!;
        ReleaseTaskMemory();
    }

    /// <summary>
    /// Hands a read or shard task's working memory (hundreds of megabytes of large arrays, garbage once its output is
    /// written) back to the system before the worker's next task: the GC let it pile up under the half-steps' CSR cache
    /// (a 100M-interaction night's workers reached 4.4–5.0 GB without this collection, 2.8–2.9 GB with it).
    /// </summary>
    private static void ReleaseTaskMemory() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    /// <summary>Combines one shard of users' events, read from every read task's file, into their pairs, and splits them (the hold-out is per user).</summary>
    [DisplayName("pairs shard {1} of {0}")]
    [Queue(Queue)]
    public void CombineShard(string stepDir, int shard, int lo, int hi, CancellationToken cancellationToken)
    {
        if (ScratchArea.Exists(BlockTaskFiles.BlockOutput(ReadTaskFiles.ShardDir(stepDir), shard))) return;
        hooks.BeforeBlock?.Invoke(stepDir, shard, cancellationToken);
        var (rule, split, items, userRemaps, itemRemaps) = ReadTaskFiles.ReadRemaps(stepDir);
        var sources = new List<PairSource>(userRemaps.Length);
        for (int t = 0; t < userRemaps.Length; t++)
        {
            var probe = new PairSource(EventLog.Empty, userRemaps[t], itemRemaps[t]);
            var (llo, lhi) = probe.LocalRange(lo, hi);
            if (llo < lhi) sources.Add(probe with { Events = ReadTaskFiles.ReadEvents(stepDir, t, llo, lhi) });
        }
        var start = PairAggregator.CountPerUser(sources, lo, hi);
        ReadTaskFiles.WriteShard(stepDir, shard, PairAggregator.CombineShard(sources, lo, hi, start, rule, split.FirstTimes, pairs => Core.Evaluation.TemporalSplit.Split(pairs, split)), items);
        sources.Clear();
        ReleaseTaskMemory();
    }

    [DisplayName("ALS block {2} of {0}")]
    [Queue(Queue)]
    public void Solve(string stepDir, string csrPath, int block, int start, int end, CancellationToken cancellationToken)
    {
        if (ScratchArea.Exists(BlockTaskFiles.BlockOutput(stepDir, block))) return; // already done by an earlier delivery
        if (hooks.DelayBeforeSolve > TimeSpan.Zero) Thread.Sleep(hooks.DelayBeforeSolve);
        hooks.BeforeBlock?.Invoke(stepDir, block, cancellationToken);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (conf, pref, input) = cache.ForSolve(csrPath, start, end, stepDir);
        var rows = new float[(end - start) * input.Settings.Factors];
        BlockTaskFiles.ReadWarmStart(stepDir, input, start, rows);
        var rowLoss = input.RowLoss ? new double[end - start] : [];
        BlockSolver.Solve(conf, pref, new RowBlock(block, 0, end - start), input.DstFactors, input.Gram, rows, input.Settings, rowLoss: rowLoss); // the block's rows only
        BlockTaskFiles.WriteBlock(stepDir, block, start, rows, rowLoss, BlockTaskFiles.BlockTime.Here(clock.Elapsed.TotalSeconds));
    }
}
