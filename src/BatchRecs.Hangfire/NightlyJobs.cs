using System.ComponentModel;
using System.Globalization;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using BatchRecs.Lake.Output;
using Hangfire;
using Hangfire.Server;

namespace BatchRecs.Hangfire;

/// <summary>
/// The Hangfire jobs of BatchRecs. A run is keyed by (job, run date): runs of one key never overlap (a
/// <see cref="RunKeyLock"/>: a PostgreSQL session advisory lock held for the whole run), and a key that already
/// succeeded is a no-op unless forced, so Hangfire's at-least-once delivery has an exactly-once effect.
/// </summary>
public sealed class NightlyJobs(RunLog log, NightlyJobsOptions options, StorageOptions storage)
{
    public const string Queue = "runs";

    /// <summary>The recurring entry point: the run date is the day the occurrence was created, in the job's time zone.</summary>
    [DisplayName("{0}: scheduled run")]
    [Queue(Queue)]
    public async Task RunScheduledAsync(string jobFile, PerformContext context, CancellationToken ct)
    {
        var created = DateTime.SpecifyKind(context.BackgroundJob.CreatedAt, DateTimeKind.Utc);
        var job = await JobFileFailure.LoadOrRecordAsync(jobFile, null, DateOnly.FromDateTime(created), ct);
        var date = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(created, job.Zone));
        await RunAsync(jobFile, date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), false, context, ct);
    }

    /// <summary>
    /// The job's scheduled re-tuning (its <c>tune_schedule</c>): a tuning on the data up to today, adopted by later runs
    /// only if it beats the current settings on the validation split. One at a time per job (a distributed lock).
    /// </summary>
    [DisplayName("{0}: scheduled tuning")]
    [Queue(Queue)]
    public async Task TuneScheduledAsync(string jobFile, PerformContext context, CancellationToken ct)
    {
        var job = JobDefinition.Load(jobFile);
        if (job.Input is null || job.Lake is null)
            throw new SettingsException("input", $"job file '{jobFile}' must name 'input' and 'lake' directories to tune under the scheduler.");
        var date = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(context.BackgroundJob.CreatedAt, DateTimeKind.Utc), job.Zone));
        await using (await RunKeyLock.AcquireAsync(storage, context.Connection, $"batchrecs:tune:{job.Name}", options.KeyLockTimeout, log, ct))
            await new Engine.Tuning.TuningRun(log).ExecuteAsync(new Engine.Tuning.TuneRequest(job.Input, job.Lake, date, job, []), ct);
    }

    /// <summary>One run of a job file for a run date (YYYY-MM-DD).</summary>
    [DisplayName("{0}: run for {1}")]
    [Queue(Queue)]
    public async Task RunAsync(string jobFile, string runDate, bool force, PerformContext context, CancellationToken ct)
    {
        var date = DateOnly.ParseExact(runDate, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var job = await JobFileFailure.LoadOrRecordAsync(jobFile, null, date, ct);
        if (job.Input is null || job.Lake is null)
            throw new SettingsException("input", $"job file '{jobFile}' must name 'input' and 'lake' directories to run under the scheduler.");
        string key = $"batchrecs:run:{job.Name}:{runDate}";
        await using (await RunKeyLock.AcquireAsync(storage, context.Connection, key, options.KeyLockTimeout, log, ct))
        {
            if (!force && DuckDbCatalog.SucceededRun(job.Lake, job.Name, date) is { } done)
            {
                log.Event("run.skipped", ("job", job.Name), ("run_date", runDate), ("reason", $"already succeeded as {done}"), ("hangfire_job", context.BackgroundJob.Id));
                return;
            }
            log.Event("run.scheduled", ("job", job.Name), ("run_date", runDate), ("hangfire_job", context.BackgroundJob.Id),
                ("attempt", context.GetJobParameter<int>(TransientRetryAttribute.RetryParameter) + 1));
            await new NightlyRun(log, options.Reporter).ExecuteAsync(new RunRequest(job.Input, job.Lake, date, job, []) { Faults = options.Faults }, ct);
        }
    }
}
