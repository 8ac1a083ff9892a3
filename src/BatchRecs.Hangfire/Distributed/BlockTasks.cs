using System.ComponentModel;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Lake.Scratch;
using Hangfire;

namespace BatchRecs.Hangfire.Distributed;

/// <summary>
/// The worker side of <see cref="HangfireExecutor"/>: one Hangfire job solves one block of one half-step with the
/// same <see cref="BlockSolver"/> the local executor uses, reading its inputs from the scratch area and writing its
/// rows by write-then-rename. A worker keeps the last CSR and the last half-step input it read, so the blocks of one
/// half-step that land on the same worker read them once.
/// </summary>
public sealed class BlockTasks
{
    public const string Queue = "blocks";

    private static readonly Lock CacheLock = new();
    private static (string Path, CsrMatrix Matrix, float[]? Pref)? _csr;
    private static (string Dir, BlockTaskFiles.StepInput Input)? _step;

    /// <summary>Test hook: milliseconds to sleep before solving (to kill a worker mid-task). Read from BATCHRECS_BLOCK_DELAY_MS.</summary>
    private static readonly int DelayMs = int.TryParse(Environment.GetEnvironmentVariable("BATCHRECS_BLOCK_DELAY_MS"), out int d) ? d : 0;

    [DisplayName("ALS block {2} of {0}")]
    [Queue(Queue)]
    public void Solve(string stepDir, string csrPath, int block, int start, int end)
    {
        if (File.Exists(BlockTaskFiles.BlockOutput(stepDir, block))) return; // already done by an earlier delivery
        if (DelayMs > 0) Thread.Sleep(DelayMs);
        CsrMatrix conf; float[]? pref; BlockTaskFiles.StepInput input;
        lock (CacheLock)
        {
            if (_csr is not { } c || c.Path != csrPath) { var (m, p) = BinaryArrays.ReadCsr(csrPath); _csr = (csrPath, m, p); }
            if (_step is not { } s || s.Dir != stepDir) _step = (stepDir, BlockTaskFiles.ReadStep(stepDir));
            (conf, pref) = (_csr.Value.Matrix, _csr.Value.Pref);
            input = _step.Value.Input;
        }
        int k = input.Settings.Factors;
        var rows = input.SrcFactors.AsSpan(start * k, (end - start) * k).ToArray(); // warm start
        BlockSolver.Solve(conf, pref, new RowBlock(block, start, end), input.DstFactors, input.Gram, rows, input.Settings);
        BlockTaskFiles.WriteBlock(stepDir, block, start, rows);
    }
}
