namespace BatchRecs.Engine.Settings;

/// <summary>Publishing into the lake.</summary>
/// <param name="LockTimeoutSeconds"><c>lock_timeout_seconds</c>: how long a run waits for another publisher.</param>
/// <param name="RetentionDays"><c>retention_days</c>: days of published run dates kept.</param>
public sealed record PublishSettings(int LockTimeoutSeconds, int RetentionDays)
{
    public TimeSpan LockTimeout => TimeSpan.FromSeconds(LockTimeoutSeconds);
}
