using System.Diagnostics;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BatchRecs.Hangfire.Tests;

/// <summary>The scheduler's job-file sync on a real PostgreSQL: each file is registered or refused on its own, and the log says which and where.</summary>
[Collection("postgres")]
public sealed class JobFileSyncTests(PostgresFixture pg) : IDisposable
{
    private readonly TempDirectory _dir = new("batchrecs-sync");
    private readonly StringWriter _log = new();

    public void Dispose() => _dir.Dispose();

    private string Jobs => _dir.Sub("jobs");

    private void JobFile(string file, string schedule, string input = "in", string lake = "lake", string zone = "UTC")
    {
        Directory.CreateDirectory(Jobs);
        File.WriteAllText(Path.Combine(Jobs, file), $$"""
            { "schedule": "{{schedule}}", "timeZone": "{{zone}}", "input": "{{input}}", "lake": "{{lake}}", "settings": { "factors": 8 } }
            """);
    }

    private IHost Start()
    {
        var host = SchedulerHost.Build(new SchedulerOptions(pg.NewStorage(), Jobs, [NightlyJobs.Queue], WorkerCount: 1,
            Rescan: TimeSpan.FromMilliseconds(300)), _log);
        host.Start();
        return host;
    }

    private string[] LogLines(string eventName)
    {
        lock (_log) return _log.ToString().Split('\n').Where(l => l.Contains(" " + eventName + " ", StringComparison.Ordinal)).ToArray();
    }

    private static async Task WaitUntil(Func<bool> condition, string what, int seconds = 30)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed.TotalSeconds > seconds) Assert.Fail($"timed out after {seconds} s waiting until {what}");
            await Task.Delay(200);
        }
    }

    private static bool Registered(IHost host, string id)
    {
        using var c = host.Services.GetRequiredService<JobStorage>().GetConnection();
        return c.GetRecurringJobs().Any(j => j.Id == id);
    }

    [Fact]
    public async Task A_file_with_an_invalid_cron_is_refused_by_name_and_the_other_files_are_still_scheduled()
    {
        JobFile("a-bad.json", "61 25 * * *"); // sorts first: it used to abort the whole pass
        JobFile("b-good.json", "0 3 * * *");
        using var host = Start();
        try
        {
            await WaitUntil(() => Registered(host, "job:b-good"), "the good file is registered beside the bad one");
            Assert.False(Registered(host, "job:a-bad"));
            var refused = LogLines("scheduler.job_file_invalid");
            Assert.Contains(refused, l => l.Contains(Path.Combine(Jobs, "a-bad.json"), StringComparison.Ordinal) && l.Contains("61 25 * * *", StringComparison.Ordinal));
            Assert.DoesNotContain(refused, l => l.Contains("b-good", StringComparison.Ordinal));
            Assert.Empty(LogLines("scheduler.sync_failed"));
        }
        finally { await host.StopAsync(); }
    }

    [Fact]
    public async Task A_registered_job_is_logged_with_its_resolved_input_and_lake()
    {
        // Relative paths resolve against the job file's folder; the log shows where the job will read and write.
        JobFile("paths.json", "0 3 * * *", input: "data/in", lake: "../lake-out");
        using var host = Start();
        try
        {
            await WaitUntil(() => LogLines("scheduler.job_registered").Length > 0, "the registration is logged");
            string line = Assert.Single(LogLines("scheduler.job_registered"));
            Assert.Contains("id=job:paths", line);
            Assert.Contains("input=" + Path.Combine(Jobs, "data", "in"), line);
            Assert.Contains("lake=" + _dir.Sub("lake-out"), line);
            Assert.Contains("file=" + Path.Combine(Jobs, "paths.json"), line);

            // Rescans of an unchanged file do not log it again; an edit does.
            await WaitUntil(() => LogLines("scheduler.synced").Length >= 3, "a few rescans");
            Assert.Single(LogLines("scheduler.job_registered"));
            JobFile("paths.json", "0 3 * * *", input: "data/in", lake: "/srv/other-lake");
            await WaitUntil(() => LogLines("scheduler.job_registered").Length == 2, "the edit is logged");
            Assert.Contains("lake=/srv/other-lake", LogLines("scheduler.job_registered")[1]);
        }
        finally { await host.StopAsync(); }
    }
}
