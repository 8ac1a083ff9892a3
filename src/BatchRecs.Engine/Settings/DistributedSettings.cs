namespace BatchRecs.Engine.Settings;

/// <summary>How a run on a distributed executor waits for its workers and its blocks.</summary>
/// <param name="WorkerWaitSeconds"><c>worker_wait_seconds</c>: how long a run waits while no live worker serves the blocks queue
/// before it fails for good.</param>
/// <param name="BlockTimeoutSeconds"><c>block_timeout_seconds</c>: a block task processing this long without output gets a fresh job.</param>
public sealed record DistributedSettings(int WorkerWaitSeconds, int BlockTimeoutSeconds)
{
    public TimeSpan WorkerWait => TimeSpan.FromSeconds(WorkerWaitSeconds);

    public TimeSpan BlockTimeout => TimeSpan.FromSeconds(BlockTimeoutSeconds);
}
