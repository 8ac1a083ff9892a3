using BatchRecs.Core.Als;

namespace BatchRecs.Core.Execution;

/// <summary>The embedded engine: runs block tasks on the threads of this process.</summary>
public sealed class LocalExecutor(int maxThreads = -1) : IExecutor
{
    public string Name => "local";

    public int MaxThreads { get; } = maxThreads <= 0 ? Environment.ProcessorCount : maxThreads;

    /// <summary>A few blocks per core so stragglers even out, more for big sides (a block costs nothing to start here).</summary>
    public int Blocks(Data.CsrMatrix rows) => Data.BlockPartitioner.DefaultBlocks(rows, MaxThreads);

    public void RunHalfStep(HalfStep step, CancellationToken cancellationToken = default)
    {
        if (!step.Conf.HasEntries) throw new ArgumentException("the half-step's matrix has no entries here (another executor holds them).", nameof(step));
        var options = new ParallelOptions { MaxDegreeOfParallelism = MaxThreads, CancellationToken = cancellationToken };
        // The half-step's (G + λI)⁻¹ are computed once here and shared by its blocks; they go when the half-step ends.
        var inverses = new SparseRowInverses(step.Gram, step.Settings.Factors);
        Parallel.ForEach(step.Blocks, options, block => BlockSolver.Solve(step, block, inverses));
    }

    public Index.TopNResult Score(ScoringStep step, CancellationToken cancellationToken = default)
    {
        // In process, one index and one multi-threaded search over all users beat per-block tasks; the lists are the same
        // (a user's list depends only on its own factors, the item factors and the index).
        if (step.Ivf is null)
            return Index.ExactTopN.Search(step.UserFactors, step.ItemFactors, step.K, step.Query(MaxThreads));
        var index = Index.IvfIndex.Build(step.ItemFactors, step.K, step.Ivf with { MaxThreads = MaxThreads });
        return index.Search(step.UserFactors, step.IvfQuery(MaxThreads)).Result;
    }
}
