using BatchRecs.Hangfire.Distributed;
using BatchRecs.Lake.Output;

namespace BatchRecs.Cli;

/// <summary>
/// The test-only environment variables the crash and worker-failure tests use to reach into a real <c>batchrecs</c>
/// child process. Read here, once, at the entry point, and turned into the instances the deeper code takes; nothing
/// below the commands reads the environment. Unset (production), every hook does nothing.
/// </summary>
/// <param name="Faults">handed to runs (<see cref="Engine.Pipeline.RunRequest.Faults"/>).</param>
/// <param name="BlockTasks">handed to this process's block tasks.</param>
internal sealed record TestHooks(IFaultInjector Faults, BlockTaskHooks BlockTasks)
{
    /// <summary>A <see cref="FaultPoint"/> name: a run dies there at once (<see cref="CrashAt"/>).</summary>
    public const string CrashAtVariable = "BATCHRECS_CRASH_AT";

    /// <summary>Milliseconds a worker sleeps before solving each block (so a test can kill it while it holds one).</summary>
    public const string BlockDelayVariable = "BATCHRECS_BLOCK_DELAY_MS";

    public static TestHooks FromEnvironment() => new(
        Environment.GetEnvironmentVariable(CrashAtVariable) is { Length: > 0 } point ? new CrashAt(point) : NoFaults.Instance,
        int.TryParse(Environment.GetEnvironmentVariable(BlockDelayVariable), out int ms) && ms > 0
            ? new BlockTaskHooks(TimeSpan.FromMilliseconds(ms))
            : BlockTaskHooks.None);
}
