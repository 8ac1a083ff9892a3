using System.Diagnostics;
using System.Text.RegularExpressions;
using BatchRecs.Core.Execution;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Hangfire.Distributed;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Xunit.Abstractions;

namespace BatchRecs.Hangfire.Tests;

/// <summary>
/// Whole distributed runs (`batchrecs run --executor hangfire`) against workers started exactly as the README says
/// (`batchrecs worker --db … --lake …`: every queue, one thread per core, 60 s sliding invisibility): a worker killed at
/// any moment, a block task that hangs, no worker at all, and SIGTERM to the run.
/// </summary>
[Collection("postgres")]
public sealed partial class WorkerRecoveryTests(PostgresFixture pg, ITestOutputHelper output)
{
    private static readonly string[] Settings = ["--run-date", "2026-05-01", "--set", "iterations=5", "--set", "refit_iterations=3", "--set", "factors=8",
        "--set", "top_n=10", "--set", "lookback_days=10", "--set", "quality_gate=false", "--set", "user_blocks=4", "--set", "item_blocks=3"];

    /// <summary>The invisibility timeout of a default worker plus the 60 s issue 23 allows for the lost work.</summary>
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(60 + 60);

    private static async Task<string> InputAsync(TempDirectory dir, int users = 2000, int interactions = 40_000)
    {
        string input = dir.Sub("input");
        var gen = await CliProcess.RunAsync("demo-data", "--out", input, "--users", users.ToString(), "--items", "600", "--interactions", interactions.ToString(),
            "--days", "10", "--seed", "23", "--end-date", "2026-04-30");
        Assert.True(gen.ExitCode == 0, gen.StdErr);
        return input;
    }

    private static string[] RunArgs(string input, string lake, string? cs, params string[] extra) =>
        ["run", "--input", input, "--lake", lake, .. Settings, .. extra, .. cs is null ? Array.Empty<string>() : ["--executor", "hangfire", "--db", cs]];

    private static Process StartWorker(string cs, string lake, IReadOnlyDictionary<string, string>? env = null) =>
        CliProcess.Start(env, "worker", "--db", cs, "--lake", lake);

    /// <summary>Waits until Hangfire lists a server of this process (its schema installed, its heartbeat written).</summary>
    private static async Task WaitRegisteredAsync(string cs, Process worker)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(60) && !worker.HasExited)
        {
            try
            {
                await using var con = new NpgsqlConnection(cs);
                await con.OpenAsync();
                await using var cmd = new NpgsqlCommand("SELECT count(*) FROM hangfire.server WHERE id LIKE $1", con);
                cmd.Parameters.AddWithValue($"%:{worker.Id}:%");
                if ((long)(await cmd.ExecuteScalarAsync())! > 0) return;
            }
            catch (PostgresException) { } // the schema is not installed yet
            await Task.Delay(200);
        }
        Assert.Fail($"worker {worker.Id} did not register within 60 s");
    }

    private static void Stop(IEnumerable<Process> workers)
    {
        foreach (var w in workers)
        {
            try { if (!w.HasExited) w.Kill(entireProcessTree: true); w.WaitForExit(10_000); } catch (InvalidOperationException) { }
            w.Dispose();
        }
    }

    /// <summary>The published lists of two lakes are the same rows (user, item, rank, score).</summary>
    private static void AssertSameLists(string lakeA, string lakeB)
    {
        using var lakes = new TwoLakes(lakeA, lakeB);
        lakes.AssertSameRows("recommendations", "user_id, item_id, rank, score");
    }

    /// <summary>Hangfire jobs in a state.</summary>
    private static long JobsInState(string cs, string state) => Count(cs, "SELECT count(*) FROM hangfire.job WHERE statename = $1", state);

    /// <summary>Entries waiting in a Hangfire queue, not yet fetched (what the dashboard counts as enqueued).</summary>
    private static long Waiting(string cs, string queue) => Count(cs, "SELECT count(*) FROM hangfire.jobqueue WHERE queue = $1 AND fetchedat IS NULL", queue);

    private static long Count(string cs, string sql, string arg)
    {
        using var con = new NpgsqlConnection(cs);
        con.Open();
        using var cmd = new NpgsqlCommand(sql, con);
        cmd.Parameters.AddWithValue(arg);
        return (long)cmd.ExecuteScalar()!;
    }

    [GeneratedRegex(@"(\d+) block\(s\) re-enqueued")]
    private static partial Regex ReenqueuedCount();

    /// <summary>
    /// Issue 23: two default workers; before each run one of them is (re)started, and during the run one is killed with
    /// SIGKILL at a seeded moment: in the evaluated fit, between two half-steps, in the refit and in scoring, twice each.
    /// Every run finishes within the invisibility timeout + 60 s and publishes exactly the local run's lists. The first
    /// run, with no kill, is the two-default-workers-equal-local check of issue 15 and the baseline of the recovery times.
    /// </summary>
    [Fact]
    public async Task Runs_on_two_default_workers_survive_one_killed_at_seeded_moments_and_publish_the_local_lists()
    {
        using var dir = new TempDirectory("batchrecs-killsched");
        string input = await InputAsync(dir);
        var local = await CliProcess.RunAsync(RunArgs(input, dir.Sub("lake-local"), null));
        Assert.True(local.ExitCode == 0, local.StdErr);

        string cs = pg.Server.CreateDatabase();
        var workers = new[] { StartWorker(cs, dir.Path), StartWorker(cs, dir.Path) };
        try
        {
            foreach (var w in workers) await WaitRegisteredAsync(cs, w);
            var rng = new Random(20261202);
            (string Phase, Func<string, bool> At, int MaxDelayMs)[] phases =
            [
                ("fit_eval", l => l.EndsWith("run.stage_start stage=fit_eval", StringComparison.Ordinal), 2500),
                ("between half-steps", l => l.Contains("run.iteration stage=fit_eval iteration=2 ", StringComparison.Ordinal), 30),
                ("refit", l => l.EndsWith("run.stage_start stage=fit", StringComparison.Ordinal), 1200),
                ("scoring", l => l.EndsWith("run.stage_start stage=score", StringComparison.Ordinal), 400),
            ];
            var schedule = new List<(string Phase, Func<string, bool> At, int DelayMs, int Victim)> { ("none", _ => false, 0, -1) };
            for (int round = 0; round < 2; round++)
                foreach (var (phase, at, max) in phases)
                    schedule.Add((phase, at, rng.Next(max + 1), rng.Next(2)));
            schedule.Add(("none", _ => false, 0, -1)); // a warm run without a kill: the baseline of the recovery times

            var report = new List<(int Run, string Line, double Seconds, bool Killed)>();
            for (int i = 0; i < schedule.Count; i++)
            {
                var (phase, at, delayMs, victim) = schedule[i];
                string lake = dir.Sub($"lake-{i}");
                using var run = new StreamingCli(null, RunArgs(input, lake, cs));
                var sw = Stopwatch.StartNew();
                double killedAt = double.NaN;
                if (victim >= 0)
                {
                    Assert.True(await run.WaitForLineAsync(at, TimeSpan.FromSeconds(60)), $"run {i}: never reached {phase}\n{run.StdOut}\n{run.StdErr}");
                    await Task.Delay(delayMs);
                    workers[victim].Kill(entireProcessTree: true);
                    killedAt = sw.Elapsed.TotalSeconds;
                }
                int code = await run.ExitAsync(RunLimit + TimeSpan.FromSeconds(30));
                double seconds = sw.Elapsed.TotalSeconds;
                Assert.True(code == 0, $"run {i} ({phase}) exited {code}\n{run.StdOut}\n{run.StdErr}");
                Assert.True(seconds < RunLimit.TotalSeconds, $"run {i} ({phase}) took {seconds:F1} s");
                AssertSameLists(dir.Sub("lake-local"), lake);
                var requeued = run.StdOut.Split('\n').Where(l => l.Contains("executor.block_requeued")).Select(l => l[(l.IndexOf("message=", StringComparison.Ordinal) + 8)..]).ToList();
                var requeuedAt = run.FirstArrival(l => l.Contains("executor.block_requeued"));
                string line = $"kill {(victim < 0 ? "none" : $"worker {victim} {delayMs} ms after {phase} began, at {killedAt:F1} s")}: " +
                    (requeuedAt is { } at1 && victim >= 0 ? $"first re-queue {at1.TotalSeconds - killedAt:F1} s after the kill, " : "") +
                    $"{ReenqueuedCount().Match(run.StdOut).Groups[1].Value} block(s) re-enqueued" + (requeued.Count > 0 ? $": {string.Join("; ", requeued.Distinct())}" : "");
                report.Add((i, line, seconds, victim >= 0));
                if (victim >= 0)
                {
                    workers[victim].Dispose();
                    workers[victim] = StartWorker(cs, dir.Path);
                    await WaitRegisteredAsync(cs, workers[victim]);
                }
            }
            // Recovery: a run's time beyond the warm run without a kill (the first run also pays for JIT and schema).
            double baseline = report.Where(r => !r.Killed).Min(r => r.Seconds);
            var lines = report.Select(r => $"run {r.Run}: {r.Seconds:F1} s (recovery {(r.Killed ? $"{Math.Max(0, r.Seconds - baseline):F1} s" : "-")}), {r.Line}").ToList();
            foreach (var l in lines) output.WriteLine(l);
            File.WriteAllLines(Path.Combine(Path.GetTempPath(), "batchrecs-kill-schedule.txt"), lines);
        }
        finally { Stop(workers); }
    }

    /// <summary>Issue 23: a block task that hangs (a hook of the task's own type) has its block re-queued after
    /// block_timeout_seconds, and the fit ends equal to the local one.</summary>
    [Fact]
    public async Task A_hung_block_task_is_requeued_after_the_block_timeout()
    {
        var (problem, s, local) = SmallFit.WithLocalResult();
        string cs = pg.Server.CreateDatabase();
        using var lake = new TempDirectory("batchrecs-hang");
        int hung = 0;
        var hooks = BlockTaskHooks.None with
        {
            // The first delivery of block 1 hangs until the worker stops; every other delivery runs normally.
            BeforeBlock = (_, block, ct) =>
            {
                if (block == 1 && Interlocked.Exchange(ref hung, 1) == 0) ct.WaitHandle.WaitOne();
            },
        };
        using var host = SchedulerHost.Build(new SchedulerOptions(new StorageOptions(cs), null, [BlockTasks.Queue], WorkerCount: 2,
            ServerName: "hang-test", BlockTaskHooks: hooks), TextWriter.Null);
        await host.StartAsync();
        try
        {
            var log = new StringWriter();
            using var engine = DistributedEngine.Connect(new StorageOptions(cs), lake.Path, new HangfireExecutorOptions
            {
                BlockTimeout = TimeSpan.FromSeconds(3),
                StepTimeout = TimeSpan.FromMinutes(2),
                Log = new RunLog(TextWriter.Synchronized(log)),
            });
            var sw = Stopwatch.StartNew();
            var fit = await Task.Run(() => Core.Als.ImplicitAls.Fit(problem, s, engine.Executor, new Core.Als.AlsFitOptions { UserBlocks = 3, ItemBlocks = 3 }))
                .WaitAsync(TimeSpan.FromMinutes(2));
            Assert.Equal(local.UserFactors, fit.UserFactors);
            Assert.Equal(local.ItemFactors, fit.ItemFactors);
            Assert.Equal(1, hung);
            Assert.Equal(1, engine.Executor.Stats.BlocksReenqueued);
            Assert.Contains("block 1 re-queued: timed out: no output after 3 s processing on server hang-test", log.ToString());
            output.WriteLine($"fit finished {sw.Elapsed.TotalSeconds:F1} s after start with one hung block (block_timeout 3 s)");
        }
        finally { await host.StopAsync(); }
    }

    /// <summary>Issue 15: a run with no worker on the blocks queue says so at once, with a command that would start one
    /// (and no password), and fails with exit 1 after worker_wait_seconds, recorded in `runs`, leaving no queued job.</summary>
    [Fact]
    public async Task A_run_with_no_worker_says_how_to_start_one_and_fails_after_worker_wait_seconds()
    {
        using var dir = new TempDirectory("batchrecs-noworker");
        string input = await InputAsync(dir, users: 300, interactions: 5000);
        string cs = pg.Server.CreateDatabase() + ";Password=hunter2";
        string lake = dir.Sub("lake");
        var sw = Stopwatch.StartNew();
        var run = await CliProcess.RunAsync(RunArgs(input, lake, cs, "--set", "worker_wait_seconds=4"));
        Assert.Equal(1, run.ExitCode);
        Assert.InRange(sw.Elapsed.TotalSeconds, 4, 60);
        const string message = "no worker serves queue 'blocks'; start one with: batchrecs worker --db '";
        Assert.Contains(message, run.StdErr);
        Assert.Contains($"--lake '{Path.GetFullPath(lake)}'", run.StdErr);
        Assert.DoesNotContain("hunter2", run.StdOut + run.StdErr);
        // Said at once: the first no_worker line comes in the second the fit starts waiting.
        var lines = run.StdOut.Split('\n');
        string first = Assert.Single(lines, l => l.Contains("executor.no_worker") && l.Contains("waited_s=0 "));
        Assert.Contains(message, first);
        var (status, reason) = RunRow(lake);
        Assert.Equal("failed", status);
        Assert.Contains("no worker serves queue 'blocks'", reason);
        Assert.Contains("worker_wait_seconds", reason);
        Assert.Equal(0, JobsInState(cs, "Enqueued"));
        Assert.Equal(0, Waiting(cs, BlockTasks.Queue));
    }

    /// <summary>The executor repeats the no-worker line while it waits, fails with <see cref="NoWorkerException"/> (permanent,
    /// exit 1) after the wait, and deletes the step's jobs and its step folder.</summary>
    [Fact]
    public void Without_a_worker_the_executor_repeats_what_it_waits_for_then_fails_for_good_and_deletes_its_jobs()
    {
        var (problem, s, _) = SmallFit.WithLocalResult();
        string cs = pg.Server.CreateDatabase();
        using var lake = new TempDirectory("batchrecs-noworker-exec");
        var log = new StringWriter();
        using var engine = DistributedEngine.Connect(new StorageOptions(cs), lake.Path, new HangfireExecutorOptions
        {
            WorkerWait = TimeSpan.FromSeconds(3.5),
            NoWorkerRepeat = TimeSpan.FromSeconds(1),
            Log = new RunLog(TextWriter.Synchronized(log)),
            WorkerCommand = "batchrecs worker --db X --lake Y",
        });
        var e = Assert.Throws<NoWorkerException>(() => Core.Als.ImplicitAls.Fit(problem, s, engine.Executor, new Core.Als.AlsFitOptions { UserBlocks = 3, ItemBlocks = 3 }));
        Assert.True(Core.Errors.ErrorClass.IsPermanent(e));
        Assert.Equal(1, Core.Errors.ErrorClass.ExitCode(e));
        Assert.StartsWith("no worker serves queue 'blocks'; start one with: batchrecs worker --db X --lake Y", e.Message);
        var lines = log.ToString().Split('\n');
        Assert.InRange(lines.Count(l => l.Contains("executor.no_worker")), 3, 5);
        Assert.Contains(lines, l => l.Contains("executor.jobs_deleted") && l.Contains("deleted=3 of=3"));
        Assert.Equal(0, JobsInState(cs, "Enqueued"));
        Assert.Equal(0, Waiting(cs, BlockTasks.Queue));
        Assert.Empty(Directory.Exists(lake.Path) ? Directory.GetDirectories(lake.Path, "step-*", SearchOption.AllDirectories) : []);
    }

    private static (string Status, string Reason) RunRow(string lake)
    {
        var row = Assert.Single(DuckQuery.Rows("SELECT status, reason FROM runs", Path.Combine(lake, "batchrecs.duckdb")));
        return ((string)row[0], (string)row[1]);
    }

    /// <summary>Issue 15: SIGTERM to a local run in its fit ends the process within 5 s, the run recorded as failed ("cancelled").</summary>
    [Fact]
    public async Task SIGTERM_ends_a_local_run_within_5_s_recorded_as_cancelled()
    {
        using var dir = new TempDirectory("batchrecs-sigterm-local");
        string input = await InputAsync(dir, users: 2000, interactions: 40_000);
        string lake = dir.Sub("lake");
        // Enough iterations that the fit is still going when the signal comes.
        using var run = new StreamingCli(null, RunArgs(input, lake, null, "--set", "iterations=500", "--set", "factors=32"));
        Assert.True(await run.WaitForLineAsync(l => l.Contains("run.iteration stage=fit_eval iteration=2 ", StringComparison.Ordinal), TimeSpan.FromSeconds(60)), run.StdOut + run.StdErr);
        await TerminateWithin5sAsync(run);
        Assert.Equal(("failed", "cancelled"), RunRow(lake));
    }

    /// <summary>Sends SIGTERM and checks that the run ends within 5 s with exit code 1.</summary>
    private async Task TerminateWithin5sAsync(StreamingCli run)
    {
        var sw = Stopwatch.StartNew();
        run.Terminate();
        int code = await run.ExitAsync(TimeSpan.FromSeconds(30));
        double seconds = sw.Elapsed.TotalSeconds;
        output.WriteLine($"exited {code} {seconds:F2} s after SIGTERM");
        Assert.True(seconds <= 5, $"the run took {seconds:F2} s to end after SIGTERM\n{run.StdOut}\n{run.StdErr}");
        Assert.Equal(1, code);
    }

    /// <summary>Issue 15: SIGTERM to a distributed run ends the process within 5 s; its block jobs are deleted (none left
    /// queued), its scratch files are gone and the run is recorded as failed ("cancelled").</summary>
    [Fact]
    public async Task SIGTERM_ends_a_distributed_run_within_5_s_and_leaves_no_queued_blocks()
    {
        using var dir = new TempDirectory("batchrecs-sigterm");
        string input = await InputAsync(dir, users: 600, interactions: 10_000);
        string cs = pg.Server.CreateDatabase();
        string lake = dir.Sub("lake");
        // A slow worker (each block takes 1.5 s), so that when the signal comes some blocks run and others wait in the queue.
        var worker = StartWorker(cs, lake, new Dictionary<string, string> { ["BATCHRECS_BLOCK_DELAY_MS"] = "1500" });
        try
        {
            await WaitRegisteredAsync(cs, worker);
            using var run = new StreamingCli(null, RunArgs(input, lake, cs));
            Assert.True(await run.WaitForLineAsync(l => l.EndsWith("run.stage_start stage=fit_eval", StringComparison.Ordinal), TimeSpan.FromSeconds(60)), run.StdOut + run.StdErr);
            // Wait (with a deadline: a loaded machine takes a while to build and write the fit's inputs) until blocks are queued.
            var queued = Stopwatch.StartNew();
            while (JobsInState(cs, "Enqueued") == 0 && queued.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(100);
            Assert.True(JobsInState(cs, "Enqueued") > 0, "no block was queued within 60 s of fit_eval's start");
            await TerminateWithin5sAsync(run);
            Assert.Contains("run.failed", run.StdOut);
            Assert.Equal(0, JobsInState(cs, "Enqueued"));
            Assert.Equal(0, Waiting(cs, BlockTasks.Queue));
            Assert.Equal(("failed", "cancelled"), RunRow(lake));
            // The executor's scratch folder is gone (checkpoints, kept for a restart, live elsewhere under _scratch).
            Assert.Empty(Directory.Exists(Path.Combine(lake, "_scratch"))
                ? Directory.GetDirectories(Path.Combine(lake, "_scratch")).Where(d => Path.GetFileName(d) != "checkpoints")
                : []);
        }
        finally { Stop([worker]); }
    }
}
