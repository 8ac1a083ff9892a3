using BatchRecs.Engine.Pipeline;

namespace BatchRecs.Hangfire.Distributed;

/// <summary>
/// How a <see cref="HangfireExecutor"/> waits: for a worker on its queue, for each block, for the whole step; where it
/// says what it waits for; and what ends the wait early. One record per run (the CLI builds it from the run's
/// <c>worker_wait_seconds</c> and <c>block_timeout_seconds</c>).
/// </summary>
public sealed record HangfireExecutorOptions
{
    /// <summary>How long a run waits while no live server serves <see cref="BlockTasks.Queue"/> before it fails for good
    /// (<c>worker_wait_seconds</c>).</summary>
    public TimeSpan WorkerWait { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>A block whose job has been Processing this long without output gets a fresh job (<c>block_timeout_seconds</c>).</summary>
    public TimeSpan BlockTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>How often the "no worker serves queue" line is repeated while the run waits for one.</summary>
    public TimeSpan NoWorkerRepeat { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A step that has waited this long logs its blocks done, running and queued, and again this often.</summary>
    public TimeSpan ProgressEvery { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A hard limit on one step's wait, whatever its blocks do (tests and benchmarks; null: none beyond the others).</summary>
    public TimeSpan? StepTimeout { get; init; }

    /// <summary>Where the executor's events go (<c>executor.*</c>): the run's log, so progress bars and plain logs see them.</summary>
    public RunLog Log { get; init; } = RunLog.Null;

    /// <summary>The command a user should run to start a worker for this run (no password), quoted in the "no worker" line.</summary>
    public string WorkerCommand { get; init; } = "batchrecs worker --db … --lake …";

    /// <summary>Removes deleted jobs' entries from their queue (<see cref="StorageOptions.RemoveFromQueue"/>; null: left to the
    /// next worker, which discards them).</summary>
    public Func<IReadOnlyCollection<string>, int>? RemoveFromQueue { get; init; }

    /// <summary>Ends every wait of the executor (the run's cancellation: SIGTERM, Ctrl+C), besides the token of each call.</summary>
    public CancellationToken Cancellation { get; init; }
}
