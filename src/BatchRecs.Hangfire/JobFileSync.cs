using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Hosting;

namespace BatchRecs.Hangfire;

/// <summary>
/// Keeps Hangfire's recurring jobs equal to the job files in a folder: one recurring job <c>job:NAME</c> per file
/// with a <c>schedule</c> (cron, in the file's <c>timeZone</c>) and one <c>tune:NAME</c> per file with a
/// <c>tune_schedule</c>, updated when a file is edited, removed when its file is. Each file is applied on its own: a
/// file that fails to load or whose schedule Hangfire refuses is reported by name and its previous registration
/// kept, and the other files are still applied. Each registration is logged with the absolute input and lake it
/// runs on (job files are trusted configuration: they may point anywhere the scheduler's user can write). Watches the
/// folder and rescans periodically (watchers miss events on some file systems).
/// </summary>
public sealed class JobFileSync(string jobsDir, JobStorage storage, IRecurringJobManager recurring, RunLog log, TimeSpan? rescan = null) : BackgroundService
{
    public const string Prefix = "job:", TunePrefix = "tune:";

    /// <summary>What each registered id was last logged with: a rescan logs only what changed.</summary>
    private readonly Dictionary<string, string> _announced = new(StringComparer.Ordinal);

    /// <summary>Applies the folder's current job files; returns the ids registered.</summary>
    public IReadOnlyList<string> SyncOnce()
    {
        var seen = new List<string>();
        var broken = new HashSet<string>();
        foreach (var file in Directory.GetFiles(jobsDir, "*.json").Where(f => !f.EndsWith(".schema.json", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            string? failure = null;
            string name = Path.GetFileNameWithoutExtension(file);
            try
            {
                var job = JobDefinition.Load(file);
                name = job.Name;
                failure = Register(Prefix + job.Name, "schedule", job.Schedule, file, job, j => j.RunScheduledAsync(file, null!, CancellationToken.None), seen)
                    ?? Register(TunePrefix + job.Name, "tune_schedule", job.TuneSchedule, file, job, j => j.TuneScheduledAsync(file, null!, CancellationToken.None), seen);
            }
            catch (SettingsException e) { failure = e.Message; }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Not the file's fault (storage, I/O): still this file only, and named.
                log.Event("scheduler.job_file_failed", ("file", file), ("reason", $"{e.GetType().Name}: {e.Message}"));
                broken.UnionWith([Prefix + name, TunePrefix + name]);
                continue;
            }
            if (failure is null) continue;
            log.Event("scheduler.job_file_invalid", ("file", file), ("reason", failure));
            broken.UnionWith([Prefix + name, TunePrefix + name]);
        }
        using var connection = storage.GetConnection();
        foreach (var existing in connection.GetRecurringJobs())
        {
            bool ours = existing.Id.StartsWith(Prefix, StringComparison.Ordinal) || existing.Id.StartsWith(TunePrefix, StringComparison.Ordinal);
            if (!ours || seen.Contains(existing.Id) || broken.Contains(existing.Id)) continue;
            recurring.RemoveIfExists(existing.Id);
            _announced.Remove(existing.Id);
            log.Event("scheduler.job_removed", ("id", existing.Id));
        }
        log.Event("scheduler.synced", ("jobs", string.Join(",", seen)));
        return seen;
    }

    /// <summary>Registers one recurring job if <paramref name="cron"/> is set; returns why Hangfire refused it, or null.</summary>
    private string? Register(string id, string key, string? cron, string file, JobDefinition job,
        System.Linq.Expressions.Expression<Func<NightlyJobs, Task>> call, List<string> seen)
    {
        if (cron is null) return null;
        try { recurring.AddOrUpdate(id, NightlyJobs.Queue, call, cron, new RecurringJobOptions { TimeZone = job.Zone }); }
        catch (ArgumentException e)
        {
            // Hangfire checks the cron (and its next occurrence in the zone) here; its message is generic, the inner one says what is wrong.
            return $"{key} '{cron}' (time zone {job.TimeZone}) was refused: {e.InnerException?.Message ?? e.Message}";
        }
        seen.Add(id);
        string input = job.Input ?? "(not set)", lake = job.Lake ?? "(not set)";
        string signature = string.Join('\n', file, cron, job.TimeZone, input, lake);
        if (_announced.GetValueOrDefault(id) != signature)
        {
            _announced[id] = signature;
            log.Event("scheduler.job_registered", ("id", id), ("file", file), ("cron", cron), ("zone", job.TimeZone), ("input", input), ("lake", lake));
        }
        return null;
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
