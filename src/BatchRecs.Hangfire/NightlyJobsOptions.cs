using BatchRecs.Engine.Pipeline;
using BatchRecs.Lake.Output;

namespace BatchRecs.Hangfire;

/// <summary>How a server's <see cref="NightlyJobs"/> run: registered once in its container, read by every job it activates.</summary>
public sealed record NightlyJobsOptions
{
    /// <summary>How long a second run of the same key (or a second tuning of a job) waits for the first before giving up
    /// (then retried).</summary>
    public TimeSpan KeyLockTimeout { get; init; } = TimeSpan.FromHours(3);

    /// <summary>Writes each run's report (the host passes the HTML report); null: no report.</summary>
    public IRunReporter? Reporter { get; init; }

    /// <summary>Handed to every run (tests only; default: nothing happens). See <see cref="Engine.Pipeline.RunRequest.Faults"/>.</summary>
    public IFaultInjector Faults { get; init; } = NoFaults.Instance;
}
