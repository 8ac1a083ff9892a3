using System.ComponentModel;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Lake.Scratch;
using Hangfire;

namespace BatchRecs.Hangfire.Distributed;

/// <summary>
/// The worker side of <see cref="HangfireExecutor"/>: one Hangfire job solves one block of one half-step with the
/// same <see cref="BlockSolver"/> the local executor uses, reading its inputs from the scratch area and writing its
/// rows by write-then-rename. A worker keeps the CSRs it read (both sides of the last fits: they are read once per fit,
/// not per half-step) and the last half-step input, so the blocks of one half-step that land on it read that once.
/// </summary>
public sealed class BlockTasks
{
    public const string Queue = "blocks";

    private static readonly Lock CacheLock = new();
    private const int CsrCacheSize = 4;
    private static readonly List<(string Path, CsrMatrix Matrix, float[]? Pref)> Csrs = [];
    private static (string Dir, BlockTaskFiles.StepInput Input)? _step;

    /// <summary>Test hook: milliseconds to sleep before solving (to kill a worker mid-task). Read from BATCHRECS_BLOCK_DELAY_MS.</summary>
    private static readonly int DelayMs = int.TryParse(Environment.GetEnvironmentVariable("BATCHRECS_BLOCK_DELAY_MS"), out int d) ? d : 0;

    private static (string Dir, ScoringStep Step, IvfIndex? Index)? _scoring;

    /// <summary>Scores one user block of a scoring step; the worker builds the (seeded, identical) IVF index once per step.</summary>
    [DisplayName("top-N block {1} of {0}")]
    [Queue(Queue)]
    public void Score(string stepDir, int block, int start, int end)
    {
        if (File.Exists(BlockTaskFiles.BlockOutput(stepDir, block))) return;
        ScoringStep step; IvfIndex? index;
        lock (CacheLock)
        {
            if (_scoring is not { } c || c.Dir != stepDir)
            {
                var s = BlockTaskFiles.ReadScoring(stepDir);
                _scoring = (stepDir, s, s.Ivf is null ? null : IvfIndex.Build(s.ItemFactors, s.K, s.Ivf));
            }
            (_, step, index) = _scoring.Value;
        }
        BlockTaskFiles.WriteLists(stepDir, block, step.ScoreBlock(new RowBlock(block, start, end), index));
    }

    [DisplayName("ALS block {2} of {0}")]
    [Queue(Queue)]
    public void Solve(string stepDir, string csrPath, int block, int start, int end)
    {
        if (File.Exists(BlockTaskFiles.BlockOutput(stepDir, block))) return; // already done by an earlier delivery
        if (DelayMs > 0) Thread.Sleep(DelayMs);
        CsrMatrix conf; float[]? pref; BlockTaskFiles.StepInput input;
        lock (CacheLock)
        {
            int hit = Csrs.FindIndex(c => c.Path == csrPath);
            if (hit < 0)
            {
                var (m, p) = BinaryArrays.ReadCsr(csrPath);
                if (Csrs.Count == CsrCacheSize) Csrs.RemoveAt(0);
                Csrs.Add((csrPath, m, p));
                hit = Csrs.Count - 1;
            }
            (_, conf, pref) = Csrs[hit];
            if (_step is not { } s || s.Dir != stepDir) _step = (stepDir, BlockTaskFiles.ReadStep(stepDir));
            input = _step.Value.Input;
        }
        int k = input.Settings.Factors;
        var rows = input.SrcFactors.AsSpan(start * k, (end - start) * k).ToArray(); // warm start
        BlockSolver.Solve(conf, pref, new RowBlock(block, start, end), input.DstFactors, input.Gram, rows, input.Settings);
        BlockTaskFiles.WriteBlock(stepDir, block, start, rows);
    }
}
