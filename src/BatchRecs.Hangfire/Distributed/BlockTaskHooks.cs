namespace BatchRecs.Hangfire.Distributed;

/// <summary>
/// Test hooks of the worker's block tasks, registered in the worker's container. Production workers get
/// <see cref="None"/>; only an entry point builds anything else (the CLI, from a test-only environment variable, or a
/// test that hosts a worker in its own process).
/// </summary>
/// <param name="DelayBeforeSolve">sleep this long before solving a block, so a test can kill a worker while it holds one.</param>
public sealed record BlockTaskHooks(TimeSpan DelayBeforeSolve)
{
    /// <summary>No hooks: what a production worker runs with.</summary>
    public static BlockTaskHooks None { get; } = new(TimeSpan.Zero);

    /// <summary>
    /// Called with the step folder and the block index before a block is solved or scored, on the worker thread, with the
    /// job's cancellation token (it fires when the worker shuts down). A test makes a task hang here until the token fires.
    /// </summary>
    public Action<string, int, CancellationToken>? BeforeBlock { get; init; }
}
