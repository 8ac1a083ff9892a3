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
        var (step, index) = cache.ForScoring(stepDir);
        BlockTaskFiles.WriteLists(stepDir, block, step.ScoreBlock(new RowBlock(block, start, end), index));
    }

    [DisplayName("ALS block {2} of {0}")]
    [Queue(Queue)]
    public void Solve(string stepDir, string csrPath, int block, int start, int end, CancellationToken cancellationToken)
    {
        if (ScratchArea.Exists(BlockTaskFiles.BlockOutput(stepDir, block))) return; // already done by an earlier delivery
        if (hooks.DelayBeforeSolve > TimeSpan.Zero) Thread.Sleep(hooks.DelayBeforeSolve);
        hooks.BeforeBlock?.Invoke(stepDir, block, cancellationToken);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (conf, pref, input) = cache.ForSolve(csrPath, stepDir);
        var rows = new float[(end - start) * input.Settings.Factors];
        BlockTaskFiles.ReadWarmStart(stepDir, input, start, rows);
        BlockSolver.Solve(conf, pref, new RowBlock(block, start, end), input.DstFactors, input.Gram, rows, input.Settings);
        BlockTaskFiles.WriteBlock(stepDir, block, start, rows, BlockTaskFiles.BlockTime.Here(clock.Elapsed.TotalSeconds));
    }
}
