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
/// own. Thread-safe: the worker's threads run block tasks at once.
/// </summary>
public sealed class BlockTaskCache
{
    /// <summary>CSRs kept: the two sides of two fits (a run's evaluated fit and refit, or two jobs sharing the workers).</summary>
    public const int CsrCacheSize = 4;

    private readonly Lock _lock = new();
    private readonly List<(string Path, CsrMatrix Matrix, float[]? Pref)> _csrs = [];
    private (string Dir, BlockTaskFiles.StepInput Input)? _step;
    private (string Dir, ScoringStep Step, IvfIndex? Index)? _scoring;

    /// <summary>The confidence CSR at <paramref name="csrPath"/> and the half-step input in <paramref name="stepDir"/>,
    /// read from the scratch area unless this worker already holds them.</summary>
    public (CsrMatrix Conf, float[]? Pref, BlockTaskFiles.StepInput Input) ForSolve(string csrPath, string stepDir)
    {
        lock (_lock)
        {
            int hit = _csrs.FindIndex(c => c.Path == csrPath);
            if (hit < 0)
            {
                var (m, p) = BinaryArrays.ReadCsr(csrPath);
                if (_csrs.Count == CsrCacheSize) _csrs.RemoveAt(0);
                _csrs.Add((csrPath, m, p));
                hit = _csrs.Count - 1;
            }
            var (_, conf, pref) = _csrs[hit];
            if (_step is not { } s || s.Dir != stepDir) _step = (stepDir, BlockTaskFiles.ReadStep(stepDir));
            return (conf, pref, _step.Value.Input);
        }
    }

    /// <summary>The scoring step in <paramref name="stepDir"/> and its IVF index (null for exact search), built once per step.</summary>
    public (ScoringStep Step, IvfIndex? Index) ForScoring(string stepDir)
    {
        lock (_lock)
        {
            if (_scoring is not { } c || c.Dir != stepDir)
            {
                var s = BlockTaskFiles.ReadScoring(stepDir);
                _scoring = (stepDir, s, s.Ivf is null ? null : IvfIndex.Build(s.ItemFactors, s.K, s.Ivf));
            }
            return (_scoring.Value.Step, _scoring.Value.Index);
        }
    }
}
