using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Hosting;

namespace BatchRecs.Hangfire;

/// <summary>
/// Keeps Hangfire's recurring jobs equal to the job files in a folder: one recurring job <c>job:NAME</c> per file
/// with a <c>schedule</c> (cron, in the file's <c>timeZone</c>) and one <c>tune:NAME</c> per file with a
/// <c>tune_schedule</c>, updated when a file is edited, removed when its file is. A file that fails to load is reported and its previous registration kept. Watches the folder and rescans
/// periodically (watchers miss events on some file systems).
/// </summary>
public sealed class JobFileSync(string jobsDir, JobStorage storage, IRecurringJobManager recurring, RunLog log, TimeSpan? rescan = null) : BackgroundService
{
    public const string Prefix = "job:", TunePrefix = "tune:";

    /// <summary>Applies the folder's current job files; returns the ids registered.</summary>
    public IReadOnlyList<string> SyncOnce()
    {
        var seen = new List<string>();
        var broken = new HashSet<string>();
        foreach (var file in Directory.GetFiles(jobsDir, "*.json").Where(f => !f.EndsWith(".schema.json", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            JobDefinition job;
            try { job = JobDefinition.Load(file); }
            catch (SettingsException e)
            {
                log.Event("scheduler.job_file_invalid", ("file", file), ("reason", e.Message));
                broken.Add(Prefix + Path.GetFileNameWithoutExtension(file));
                broken.Add(TunePrefix + Path.GetFileNameWithoutExtension(file));
                continue;
            }
            if (job.Schedule is not null)
            {
                string id = Prefix + job.Name;
                recurring.AddOrUpdate<NightlyJobs>(id, NightlyJobs.Queue, j => j.RunScheduledAsync(file, null!, CancellationToken.None), job.Schedule,
                    new RecurringJobOptions { TimeZone = job.Zone });
                seen.Add(id);
            }
            if (job.TuneSchedule is not null)
            {
                string id = TunePrefix + job.Name;
                recurring.AddOrUpdate<NightlyJobs>(id, NightlyJobs.Queue, j => j.TuneScheduledAsync(file, null!, CancellationToken.None), job.TuneSchedule,
                    new RecurringJobOptions { TimeZone = job.Zone });
                seen.Add(id);
            }
        }
        using var connection = storage.GetConnection();
        foreach (var existing in connection.GetRecurringJobs())
        {
            bool ours = existing.Id.StartsWith(Prefix, StringComparison.Ordinal) || existing.Id.StartsWith(TunePrefix, StringComparison.Ordinal);
            if (!ours || seen.Contains(existing.Id) || broken.Contains(existing.Id)) continue;
            recurring.RemoveIfExists(existing.Id);
            log.Event("scheduler.job_removed", ("id", existing.Id));
        }
        log.Event("scheduler.synced", ("jobs", string.Join(",", seen)));
        return seen;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var changed = new SemaphoreSlim(0);
        using var watcher = new FileSystemWatcher(jobsDir, "*.json") { EnableRaisingEvents = true, IncludeSubdirectories = false };
        FileSystemEventHandler poke = (_, _) => changed.Release();
        watcher.Changed += poke; watcher.Created += poke; watcher.Deleted += poke;
        watcher.Renamed += (_, _) => changed.Release();
        while (!stoppingToken.IsCancellationRequested)
        {
            try { SyncOnce(); }
            catch (Exception e) when (e is not OperationCanceledException) { log.Event("scheduler.sync_failed", ("reason", e.Message)); }
            try
            {
                await changed.WaitAsync(rescan ?? TimeSpan.FromSeconds(30), stoppingToken);
                await Task.Delay(300, stoppingToken); // let an editor finish writing
                while (changed.CurrentCount > 0) changed.Wait(0);
            }
            catch (OperationCanceledException) { return; }
        }
    }
}
