namespace BatchRecs.Lake.Output;

/// <summary>
/// Named points in the publish sequence where a crash can be injected for testing: when the environment
/// variable <c>BATCHRECS_CRASH_AT</c> names a point, the process dies there at once (no cleanup, no finally
/// blocks), as a power cut or a kill -9 would. Used by the crash-injection tests through a real child process.
/// </summary>
public static class FaultPoint
{
    public const string EnvironmentVariable = "BATCHRECS_CRASH_AT";

    /// <summary>The publish steps, in order.</summary>
    public static readonly string[] PublishSteps =
        ["parts-written", "success-written", "manifest-written", "database-staged", "journal-written", "partition-swapped", "database-committed", "retention-applied"];

    private static readonly string? Armed = Environment.GetEnvironmentVariable(EnvironmentVariable);

    public static void Reach(string name)
    {
        if (Armed is not null && string.Equals(Armed, name, StringComparison.Ordinal))
            Environment.FailFast($"crash injected at '{name}' ({EnvironmentVariable})");
    }
}
