using BatchRecs.Hangfire.Distributed;

namespace BatchRecs.Cli;

/// <summary>
/// The test-only environment variables the crash and worker-failure tests use to reach into a real <c>batchrecs</c>
/// child process. Read here, once, at the entry point, and turned into the instances the deeper code takes; nothing
/// below the commands reads the environment.
/// </summary>
internal sealed record TestHooks(BlockTaskHooks BlockTasks)
{
    /// <summary>Milliseconds a worker sleeps before solving each block (so a test can kill it while it holds one).</summary>
    public const string BlockDelayVariable = "BATCHRECS_BLOCK_DELAY_MS";

    public static TestHooks FromEnvironment() => new(
        int.TryParse(Environment.GetEnvironmentVariable(BlockDelayVariable), out int ms) && ms > 0
            ? new BlockTaskHooks(TimeSpan.FromMilliseconds(ms))
            : BlockTaskHooks.None);
}
