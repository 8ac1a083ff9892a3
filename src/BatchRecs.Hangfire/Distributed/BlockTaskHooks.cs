namespace BatchRecs.Hangfire.Distributed;

/// <summary>
/// Test hooks of the worker's block tasks, registered in the worker's container. Production workers get
/// <see cref="None"/>; only an entry point builds anything else (the CLI, from a test-only environment variable).
/// </summary>
/// <param name="DelayBeforeSolve">sleep this long before solving a block, so a test can kill a worker while it holds one.</param>
public sealed record BlockTaskHooks(TimeSpan DelayBeforeSolve)
{
    /// <summary>No hooks: what a production worker runs with.</summary>
    public static BlockTaskHooks None { get; } = new(TimeSpan.Zero);
}
