using BatchRecs.Core.Errors;
using Hangfire.Common;
using Hangfire.States;

namespace BatchRecs.Hangfire;

/// <summary>
/// The retry policy of every BatchRecs job: a failure is retried (up to <see cref="Attempts"/> times, with a growing
/// delay) only when it may be transient — an I/O hiccup, a lock timeout, a lost connection. Bad input, bad settings
/// and quality-gate rejections fail at once: running them again would fail again, and they need a person. The class
/// is the exception's own (<see cref="ErrorClass"/>), the same the CLI's exit code reads.
/// Replaces Hangfire's global <c>AutomaticRetry</c>.
/// </summary>
public sealed class TransientRetryAttribute : JobFilterAttribute, IElectStateFilter
{
    public const string RetryParameter = "RetryCount";

    public int Attempts { get; init; } = 3;

    /// <summary>Delay before retry n is n × this.</summary>
    public TimeSpan Delay { get; init; } = TimeSpan.FromSeconds(30);

    public void OnStateElection(ElectStateContext context)
    {
        if (context.CandidateState is not FailedState failed) return;
        if (ErrorClass.IsPermanent(failed.Exception))
        {
            failed.Reason = "Not retried (bad input, settings or quality): " + ErrorClass.Describe(failed.Exception);
            return;
        }
        int retry = context.GetJobParameter<int>(RetryParameter) + 1;
        if (retry > Attempts)
        {
            failed.Reason = $"Failed after {Attempts} retries: {ErrorClass.Describe(failed.Exception)}";
            return;
        }
        context.SetJobParameter(RetryParameter, retry);
        context.CandidateState = new ScheduledState(Delay * retry) { Reason = $"Retry {retry} of {Attempts}: {ErrorClass.Describe(failed.Exception)}" };
    }
}
