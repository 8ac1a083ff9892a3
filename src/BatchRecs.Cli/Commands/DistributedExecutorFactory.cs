using BatchRecs.Core.Errors;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using BatchRecs.Hangfire;
using BatchRecs.Hangfire.Distributed;

namespace BatchRecs.Cli.Commands;

/// <summary>
/// Connects a run's (or a tuning's) Hangfire executor with the waits of the job's settings, the run's log and its
/// cancellation, and a worker command to quote when no worker serves the blocks queue.
/// </summary>
internal static class DistributedExecutorFactory
{
    /// <param name="storage">the storage the workers share.</param>
    /// <param name="lakeDir">the lake (scratch area, and the <c>--lake</c> of the suggested worker command).</param>
    /// <param name="job">the job whose settings give <c>worker_wait_seconds</c> and <c>block_timeout_seconds</c>.</param>
    /// <param name="overrides"><c>--set</c> overrides, as the run applies them.</param>
    /// <param name="log">the run's log.</param>
    /// <param name="ct">the command's cancellation (SIGTERM, Ctrl+C).</param>
    public static DistributedEngine Connect(StorageOptions storage, string lakeDir, JobDefinition job, IReadOnlyList<string> overrides, RunLog log, CancellationToken ct)
    {
        // The run resolves the same settings again and records their errors; here a bad setting only means the defaults.
        DistributedSettings waits;
        try { waits = job.ResolveSettings(overrides, lakeDir).Distributed; }
        catch (SettingsException) { waits = JobSettings.Defaults().Distributed; }
        return DistributedEngine.Connect(storage, lakeDir, new HangfireExecutorOptions
        {
            WorkerWait = waits.WorkerWait,
            BlockTimeout = waits.BlockTimeout,
            Log = log,
            WorkerCommand = DistributedEngine.WorkerCommand(storage, lakeDir),
            Cancellation = ct,
        });
    }
}
