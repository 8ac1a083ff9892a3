using System.Diagnostics;
using BatchRecs.Lake.Output;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BatchRecs.Hangfire.Tests;

/// <summary>The scheduler against a real PostgreSQL: recurring jobs, exactly-once runs, retries, backfill.</summary>
[Collection("postgres")]
public sealed class SchedulerTests(PostgresFixture pg) : IDisposable
{
    private readonly TempDirectory _dir = new("batchrecs-sched");

    public void Dispose() => _dir.Dispose();

    private async Task<string> InputAsync(string endDate = "2026-04-30")
    {
        string input = _dir.Sub("input-" + endDate);
        if (Directory.Exists(input)) return input;
        var gen = await CliProcess.RunAsync("demo-data", "--out", input, "--users", "300", "--items", "120", "--interactions", "6000",
            "--days", "12", "--seed", "9", "--end-date", endDate);
        Assert.True(gen.ExitCode == 0, gen.StdErr);
        return input;
    }

    private string JobFile(string name, string input, string? schedule = "0 3 * * *", string extraSettings = "")
    {
        string jobs = _dir.Sub("jobs");
        Directory.CreateDirectory(jobs);
        string path = Path.Combine(jobs, name + ".json");
        string sched = schedule is null ? "" : $"\"schedule\": \"{schedule}\", ";
        // A job file may name a key once: a test's own lookback_days replaces the default one.
        string lookback = extraSettings.Contains("\"lookback_days\"") ? "" : "\"lookback_days\": 10, ";
        File.WriteAllText(path, $$"""
            { "name": "{{name}}", {{sched}}"timeZone": "Europe/Berlin", "input": "{{input}}", "lake": "{{_dir.Sub("lake")}}",
              "settings": { "iterations": 3, "refit_iterations": 1, "factors": 8, "top_n": 5, {{lookback}}"quality_gate": false {{extraSettings}} } }
            """);
        return path;
    }

    private (IHost Host, JobStorage Storage) StartServer(bool withJobs = true, int workers = 2)
    {
        var host = SchedulerHost.Build(new SchedulerOptions(pg.NewStorage(), withJobs ? _dir.Sub("jobs") : null, [NightlyJobs.Queue, "default"], workers,
            RetryDelay: TimeSpan.FromSeconds(1), Rescan: TimeSpan.FromMilliseconds(500)), TextWriter.Null);
        host.Start();
        return (host, host.Services.GetRequiredService<JobStorage>());
    }

    private static async Task<string> WaitForStateAsync(JobStorage storage, string jobId, TimeSpan timeout, params string[] final)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            using var c = storage.GetConnection();
            var state = c.GetStateData(jobId)?.Name;
            if (state is not null && final.Contains(state)) return state;
            await Task.Delay(200);
        }
        using var conn = storage.GetConnection();
        return "timeout:" + conn.GetStateData(jobId)?.Name;
    }

    private string Db => Path.Combine(_dir.Sub("lake"), DuckDbCatalog.FileName);

    [Fact]
    public async Task Job_files_become_recurring_jobs_that_follow_edits_and_removals_and_fire_into_a_published_run()
    {
        // The recurring run's date is the day it fires (in the job's zone): data up to yesterday.
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(DateTime.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin")));
        string input = await InputAsync(today.AddDays(-1).ToString("yyyy-MM-dd"));
        string file = JobFile("daily", input);
        var (host, storage) = StartServer();
        try
        {
            await WaitUntil(() => Recurring(storage).Any(r => r.Id == "job:daily"), "the job file is registered");
            var r = Recurring(storage).Single(x => x.Id == "job:daily");
            Assert.Equal("0 3 * * *", r.Cron);
            Assert.Equal("Europe/Berlin", r.TimeZoneId);

            // Fire it now (as its cron would) and wait for the published run.
            new RecurringJobManager(storage).Trigger("job:daily");
            await WaitUntil(() => Recurring(storage).Single(x => x.Id == "job:daily").LastJobId is { } id
                && storage.GetConnection().GetStateData(id)?.Name == "Succeeded", "the triggered run succeeds", 90);
            Assert.True(File.Exists(Path.Combine(_dir.Sub("lake"), "recommendations", $"run_date={today:yyyy-MM-dd}", "_SUCCESS")));

            // Edit the schedule, add a second job, then remove the first.
            File.WriteAllText(file, File.ReadAllText(file).Replace("0 3 * * *", "15 4 * * 1").Replace("\"timeZone\"", "\"tune_schedule\": \"0 5 * * 0\", \"timeZone\""));
            JobFile("weekly", input, "0 5 * * 0");
            await WaitUntil(() => Recurring(storage).Any(x => x.Id == "job:daily" && x.Cron == "15 4 * * 1") && Recurring(storage).Any(x => x.Id == "job:weekly")
                && Recurring(storage).Any(x => x.Id == "tune:daily" && x.Cron == "0 5 * * 0"), "the edit (with a tune_schedule) and the new file are picked up");
            // The scheduled tuning runs and records its result in the lake.
            new RecurringJobManager(storage).Trigger("tune:daily");
            await WaitUntil(() => File.Exists(Path.Combine(_dir.Sub("lake"), "tuning", "daily", "latest.json")), "the triggered tuning is recorded", 120);
            File.Delete(file);
            await WaitUntil(() => Recurring(storage).All(x => x.Id != "job:daily" && x.Id != "tune:daily"), "the removed file's jobs are removed");
            Assert.Contains(Recurring(storage), x => x.Id == "job:weekly");
        }
        finally { await host.StopAsync(); host.Dispose(); }
    }

    [Fact]
    public async Task The_same_run_date_enqueued_twice_at_once_runs_the_work_exactly_once()
    {
        string file = JobFile("twice", await InputAsync(), schedule: null);
        var (host, storage) = StartServer(withJobs: false, workers: 2);
        try
        {
            var client = new BackgroundJobClient(storage);
            var a = client.Enqueue<NightlyJobs>(j => j.RunAsync(file, "2026-05-01", false, null!, CancellationToken.None));
            var b = client.Enqueue<NightlyJobs>(j => j.RunAsync(file, "2026-05-01", false, null!, CancellationToken.None));
            Assert.Equal("Succeeded", await WaitForStateAsync(storage, a, TimeSpan.FromSeconds(120), "Succeeded", "Failed"));
            Assert.Equal("Succeeded", await WaitForStateAsync(storage, b, TimeSpan.FromSeconds(120), "Succeeded", "Failed"));
            Assert.Equal(1, DuckScalar("SELECT count(*) FROM runs WHERE job = 'twice' AND run_date = DATE '2026-05-01'"));
            Assert.Equal(1, DuckScalar("SELECT count(DISTINCT run_id) FROM recommendations"));

            // Forced, it runs again and replaces the date.
            var c = client.Enqueue<NightlyJobs>(j => j.RunAsync(file, "2026-05-01", true, null!, CancellationToken.None));
            Assert.Equal("Succeeded", await WaitForStateAsync(storage, c, TimeSpan.FromSeconds(120), "Succeeded", "Failed"));
            Assert.Equal(2, DuckScalar("SELECT count(*) FROM runs WHERE job = 'twice' AND status = 'succeeded'"));
            Assert.Equal(1, DuckScalar("SELECT count(DISTINCT run_id) FROM recommendations"));
        }
        finally { await host.StopAsync(); host.Dispose(); }
    }

    [Fact]
    public async Task A_transient_failure_is_retried_until_it_succeeds_and_bad_input_fails_at_once()
    {
        string input = await InputAsync();
        string file = JobFile("flaky", input, schedule: null, extraSettings: ", \"lock_timeout_seconds\": 1");
        string bad = JobFile("broken", _dir.Sub("no-such-input"), schedule: null);
        var (host, storage) = StartServer(withJobs: false);
        try
        {
            var client = new BackgroundJobClient(storage);
            string flaky;
            // Another publisher holds the lake's lock: the first attempt times out (transient).
            using (await PublishLock.AcquireAsync(_dir.Sub("lake"), TimeSpan.FromSeconds(5)))
            {
                flaky = client.Enqueue<NightlyJobs>(j => j.RunAsync(file, "2026-05-01", false, null!, CancellationToken.None));
                await WaitUntil(() => storage.GetConnection().GetJobParameter(flaky, TransientRetryAttribute.RetryParameter) is not null, "a retry is scheduled", 60);
            }
            Assert.Equal("Succeeded", await WaitForStateAsync(storage, flaky, TimeSpan.FromSeconds(120), "Succeeded", "Failed"));
            Assert.True(int.Parse(storage.GetConnection().GetJobParameter(flaky, TransientRetryAttribute.RetryParameter)!.Trim('"')) >= 1);

            var broken = client.Enqueue<NightlyJobs>(j => j.RunAsync(bad, "2026-05-01", false, null!, CancellationToken.None));
            Assert.Equal("Failed", await WaitForStateAsync(storage, broken, TimeSpan.FromSeconds(60), "Succeeded", "Failed"));
            using var c = storage.GetConnection();
            var state = c.GetStateData(broken);
            Assert.Contains("Not retried", state.Reason);
            Assert.Contains("no-such-input", state.Data["ExceptionMessage"]);
            Assert.Null(c.GetJobParameter(broken, TransientRetryAttribute.RetryParameter));
            Assert.Equal("failed", DuckQueryScalarString("SELECT status FROM runs WHERE job = 'broken'"));
        }
        finally { await host.StopAsync(); host.Dispose(); }
    }

    [Fact]
    public async Task Backfill_runs_each_date_in_order_on_its_own_window()
    {
        string file = JobFile("back", await InputAsync(), schedule: null, extraSettings: ", \"lookback_days\": 3, \"retention_days\": 3650");
        var (host, storage) = StartServer(withJobs: false);
        try
        {
            var ids = Backfill.Enqueue(new BackgroundJobClient(storage), file, new DateOnly(2026, 4, 25), new DateOnly(2026, 4, 27));
            Assert.Equal(3, ids.Count);
            Assert.Equal("Succeeded", await WaitForStateAsync(storage, ids[^1], TimeSpan.FromSeconds(180), "Succeeded", "Failed"));
            foreach (var day in new[] { 25, 26, 27 })
            {
                var partition = Path.Combine(_dir.Sub("lake"), "recommendations", $"run_date=2026-04-{day}");
                var manifest = RunManifest.Read(Path.Combine(partition, RunManifest.FileName));
                var inputDays = manifest.Inputs.Select(i => Path.GetFileName(Path.GetDirectoryName(i.Path))).Order().ToArray();
                Assert.Equal(new[] { $"dt=2026-04-{day - 3}", $"dt=2026-04-{day - 2}", $"dt=2026-04-{day - 1}" }, inputDays);
            }
            var order = DuckQueryStrings("SELECT strftime(run_date, '%d') FROM runs WHERE job = 'back' ORDER BY started_at");
            Assert.Equal(["25", "26", "27"], order);
        }
        finally { await host.StopAsync(); host.Dispose(); }
    }

    private static List<RecurringJobDto> Recurring(JobStorage storage)
    {
        using var c = storage.GetConnection();
        return c.GetRecurringJobs();
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

    private long DuckScalar(string sql) => Convert.ToInt64(DuckQuery.Rows(sql, Db)[0][0]);
    private string DuckQueryScalarString(string sql) => (string)DuckQuery.Rows(sql, Db)[0][0];
    private string[] DuckQueryStrings(string sql) => DuckQuery.Rows(sql, Db).Select(r => (string)r[0]).ToArray();

}
