using BatchRecs.Core.Als;

namespace BatchRecs.Core.Execution;

/// <summary>The embedded engine: runs block tasks on the threads of this process.</summary>
public sealed class LocalExecutor(int maxThreads = -1) : IExecutor
{
    public string Name => "local";

    public int MaxThreads { get; } = maxThreads <= 0 ? Environment.ProcessorCount : maxThreads;

    public void RunHalfStep(HalfStep step, CancellationToken cancellationToken = default)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = MaxThreads, CancellationToken = cancellationToken };
        Parallel.ForEach(step.Blocks, options, block => BlockSolver.Solve(step, block));
    }
}
