namespace BatchRecs.Lake.Output;

/// <summary>Run status as recorded in the <c>runs</c> table.</summary>
public static class RunStatus
{
    /// <summary><c>abandoned</c>: recorded as running, but its process stopped renewing its <see cref="RunLease"/> (killed,
    /// host lost) and never recorded an outcome.</summary>
    public const string Running = "running", Succeeded = "succeeded", Rejected = "rejected", Failed = "failed", Abandoned = "abandoned";
}

/// <summary>One run's metadata: the row of the <c>runs</c> table plus its metrics (the <c>run_metrics</c> rows).</summary>
public sealed record RunRecord(
    string RunId,
    string Job,
    DateOnly RunDate,
    string Status,
    DateTime StartedUtc,
    DateTime FinishedUtc,
    string? Reason,
    long InputRows,
    int Users,
    int Items,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Settings);
