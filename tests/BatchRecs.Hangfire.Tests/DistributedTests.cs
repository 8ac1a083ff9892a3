using System.Diagnostics;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Hangfire.Distributed;
using BatchRecs.Lake.Input;

namespace BatchRecs.Hangfire.Tests;

/// <summary>ALS block tasks on real `batchrecs worker` processes sharing a real PostgreSQL and a lake folder.</summary>
[Collection("postgres")]
public sealed class DistributedTests(PostgresFixture pg)
{
    private static AlsProblem Problem(out AlsSettings settings, int seed = 3)
    {
        var log = SyntheticInteractions.Generate(new SyntheticSpec(1500, 400, 30_000, 10, (ulong)seed));
        var m = log.ToInteractionLog().ToUserItemMatrix();
        settings = new AlsSettings(Factors: 16, Regularization: 0.1f, Alpha: 2, Iterations: 3);
        return AlsProblem.Build(m, settings);
    }

    private static List<Process> StartWorkers(string cs, int count, IReadOnlyDictionary<string, string>? env = null)
    {
        var list = new List<Process>();
        for (int w = 0; w < count; w++)
            list.Add(CliProcess.Start(env, "worker", "--db", cs, "--queues", BlockTasks.Queue, "--threads", "1"));
        return list;
    }

    private static void StopAll(IEnumerable<Process> workers)
    {
        foreach (var w in workers)
        {
            try { if (!w.HasExited) w.Kill(entireProcessTree: true); w.WaitForExit(10_000); } catch (InvalidOperationException) { }
            w.Dispose();
        }
    }

    [Fact]
    public void Two_worker_processes_give_factors_bit_identical_to_the_local_executor()
    {
        var problem = Problem(out var s);
        var local = ImplicitAls.Fit(problem, s, new LocalExecutor(), new AlsFitOptions { UserBlocks = 4, ItemBlocks = 3 });
        string cs = pg.Server.CreateDatabase();
        using var lake = new TempDirectory("batchrecs-dist");
        using var engine = DistributedEngine.Connect(new StorageOptions(cs), lake.Path, TimeSpan.FromMinutes(2));
        var workers = StartWorkers(cs, 2);
        try
        {
            var distributed = ImplicitAls.Fit(problem, s, engine.Executor, new AlsFitOptions { UserBlocks = 4, ItemBlocks = 3 });
            Assert.Equal(local.UserFactors, distributed.UserFactors);
            Assert.Equal(local.ItemFactors, distributed.ItemFactors);
            Assert.Equal(6, engine.Executor.Stats.HalfSteps);
            Assert.True(engine.Executor.Stats.BytesRead > 0 && engine.Executor.Stats.BytesWritten > 0);

            // Without user_blocks/item_blocks the executor chooses: one block per worker thread serving the queue (two
            // single-threaded workers here, both seen: they just ran blocks), up to four per thread while each holds
            // BlockWork; the factors do not depend on it.
            static CsrMatrix Rows(int rows) => new(rows, 1, new int[rows + 1], [], []);
            Assert.Equal(2, engine.Executor.Blocks(problem.UserItemConf));
            Assert.Equal(2, engine.Executor.Blocks(Rows((int)(HangfireExecutor.BlockWork / 64))));
            Assert.Equal(3, engine.Executor.Blocks(Rows((int)(3 * HangfireExecutor.BlockWork / 64))));
            Assert.Equal(8, engine.Executor.Blocks(Rows((int)(100 * HangfireExecutor.BlockWork / 64))));
            var chosen = ImplicitAls.Fit(problem, s, engine.Executor);
            Assert.Equal(local.UserFactors, chosen.UserFactors);
            Assert.Equal(local.ItemFactors, chosen.ItemFactors);
            Assert.Equal(3 * (4 + 3) + 3 * (2 + 2), engine.Executor.Stats.Blocks);

            // Built through the executor, the item side is written for the workers as it is transposed and the coordinator
            // keeps its rows only (with Rel-MF, not its preferences either); the factors and losses are the local fit's.
            var theta = Enumerable.Range(0, problem.Items).Select(i => 0.1f + 0.9f * (i % 11) / 11f).ToArray();
            var relMfLocal = ImplicitAls.Fit(AlsProblem.BuildRelMf(problem.UserItemConf, s, theta), s, new LocalExecutor(), new AlsFitOptions { UserBlocks = 4, ItemBlocks = 3 });
            var relMfProblem = AlsProblem.BuildRelMf(problem.UserItemConf, s, theta, engine.Executor);
            Assert.False(relMfProblem.ItemUserConf.HasEntries);
            Assert.Null(relMfProblem.ItemUserPref);
            var relMf = ImplicitAls.Fit(relMfProblem, s, engine.Executor, new AlsFitOptions { UserBlocks = 4, ItemBlocks = 3 });
            Assert.Equal(relMfLocal.UserFactors, relMf.UserFactors);
            Assert.Equal(relMfLocal.ItemFactors, relMf.ItemFactors);
            Assert.Equal(relMfLocal.History.Select(h => h.Loss), relMf.History.Select(h => h.Loss));

            // Top-N of every user block on the workers (exact, and through the IVF index each worker builds) equals local,
            // with and without business rules (bans, per-user exclusions), and so does what the rules removed.
            var exclude = problem.UserItemConf;
            var blocks = BlockPartitioner.Partition(exclude, 5, s.Factors);
            var banned = Enumerable.Range(0, exclude.Cols).Where(i => i % 13 == 0).ToHashSet();
            int ruleRows = exclude.Rows;
            var rules = CsrMatrix.FromEntries(exclude.Rows, exclude.Cols, Enumerable.Range(0, ruleRows).ToArray(),
                Enumerable.Range(0, ruleRows).Select(u => (u * 7) % exclude.Cols).ToArray(), new float[ruleRows]);
            foreach (var (ivf, withRules) in new (IvfBuildOptions?, bool)[] { (null, false), (new IvfBuildOptions(Seed: 9), false), (null, true), (new IvfBuildOptions(Seed: 9), true) })
            {
                var step = new ScoringStep(local.UserFactors, local.ItemFactors, s.Factors, 10, exclude, blocks, ivf, Nprobe: 4,
                    withRules ? banned : null, withRules ? rules : null);
                var here = new LocalExecutor().Score(step);
                long written = engine.Executor.Stats.BytesWritten;
                var there = engine.Executor.Score(step);
                // The exclusions are the fit's user side, already on the workers: referenced, not written again.
                Assert.True(engine.Executor.Stats.BytesWritten - written < 4L * (step.UserFactors.Length + step.ItemFactors.Length + exclude.NonZeros),
                    $"{engine.Executor.Stats.BytesWritten - written} bytes written for a scoring step");
                Assert.Equal(here.Counts, there.Counts);
                Assert.Equal(here.Items, there.Items);
                Assert.Equal(here.Scores, there.Scores);
                Assert.Equal(here.RuleRemoved, there.RuleRemoved);
                Assert.Equal(withRules, here.RuleRemoved > 0);
            }
        }
        finally { StopAll(workers); }
    }
}

/// <summary>The small problem the worker-failure tests fit on workers, with its local fit (3 × 3 blocks) to compare with.</summary>
internal static class SmallFit
{
    public static (AlsProblem Problem, AlsSettings Settings, AlsModel Local) WithLocalResult()
    {
        var m = SyntheticInteractions.Generate(new SyntheticSpec(800, 300, 15_000, 10, 4)).ToInteractionLog().ToUserItemMatrix();
        var s = new AlsSettings(Factors: 8, Regularization: 0.1f, Alpha: 2, Iterations: 2);
        var problem = AlsProblem.Build(m, s);
        return (problem, s, ImplicitAls.Fit(problem, s, new LocalExecutor(), new AlsFitOptions { UserBlocks = 3, ItemBlocks = 3 }));
    }
}

[Collection("postgres")]
public sealed class WorkerFailureTests(PostgresFixture pg)
{
    [Fact]
    public async Task A_worker_killed_while_it_holds_a_block_does_not_stop_the_run_and_the_result_is_unchanged()
    {
        var (problem, s, local) = SmallFit.WithLocalResult();

        string cs = pg.Server.CreateDatabase();
        using var lake = new TempDirectory("batchrecs-kill");
        using var engine = DistributedEngine.Connect(new StorageOptions(cs), lake.Path, TimeSpan.FromMinutes(3));
        var slow = new Dictionary<string, string> { ["BATCHRECS_BLOCK_DELAY_MS"] = "1500" };
        string[] args = ["worker", "--db", cs, "--queues", BlockTasks.Queue, "--threads", "1", "--invisibility-timeout", "5"];
        var victim = CliProcess.Start(slow, args);
        var survivor = CliProcess.Start(slow, args);
        try
        {
            var sw = Stopwatch.StartNew();
            var fit = Task.Run(() => ImplicitAls.Fit(problem, s, engine.Executor, new AlsFitOptions { UserBlocks = 3, ItemBlocks = 3 }));
            // Kill the victim as soon as Hangfire shows it processing a block.
            var monitor = global::Hangfire.JobStorage.Current.GetMonitoringApi();
            bool killed = false;
            while (!killed && sw.Elapsed < TimeSpan.FromSeconds(60))
            {
                if (monitor.ProcessingJobs(0, 20).Any(j => j.Value.ServerId?.Contains($":{victim.Id}:") == true))
                {
                    victim.Kill(entireProcessTree: true);
                    killed = true;
                }
                else await Task.Delay(50);
            }
            Assert.True(killed, "the victim never picked up a block");
            var result = await fit.WaitAsync(TimeSpan.FromMinutes(3));
            Assert.Equal(local.UserFactors, result.UserFactors);
            Assert.Equal(local.ItemFactors, result.ItemFactors);
            Console.WriteLine($"finished {sw.Elapsed.TotalSeconds:F1} s after start despite the killed worker");
        }
        finally
        {
            foreach (var w in new[] { victim, survivor })
            {
                try { if (!w.HasExited) w.Kill(entireProcessTree: true); w.WaitForExit(10_000); } catch (InvalidOperationException) { }
                w.Dispose();
            }
        }
    }
}

/// <summary>
/// A worker killed in the middle of a Hangfire state change leaves that job's state lock (a row in the lock table)
/// for the storage's DistributedLockTimeout (10 min): whoever fetches the job next waits on it that long. With the
/// defaults (2 threads, 60 s sliding invisibility) the fit must still finish, by giving the block a fresh job.
/// The dead worker's leftover is made directly: a lock on the first block's job id, as a worker killed between
/// fetching it and marking it Processing leaves it.
/// </summary>
[Collection("postgres")]
public sealed class LeakedStateLockTests(PostgresFixture pg)
{
    [Fact]
    public async Task A_block_whose_job_state_lock_was_left_by_a_dead_worker_is_given_a_fresh_job()
    {
        var (problem, s, local) = SmallFit.WithLocalResult();

        string cs = pg.Server.CreateDatabase();
        using var lake = new TempDirectory("batchrecs-lock");
        using var engine = DistributedEngine.Connect(new StorageOptions(cs), lake.Path, TimeSpan.FromMinutes(3));
        await using (var db = new Npgsql.NpgsqlConnection(cs))
        {
            await db.OpenAsync();
            await using var cmd = db.CreateCommand();
            cmd.CommandText = """
                INSERT INTO hangfire.lock (resource, acquired)
                SELECT 'hangfire:job:' || (last_value + CASE WHEN is_called THEN 1 ELSE 0 END) || ':state-lock', now() FROM hangfire.job_id_seq
                """;
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }
        var workers = Enumerable.Range(0, 2).Select(_ => CliProcess.Start(null, "worker", "--db", cs, "--queues", BlockTasks.Queue, "--threads", "2")).ToList();
        try
        {
            var sw = Stopwatch.StartNew();
            var fit = await Task.Run(() => ImplicitAls.Fit(problem, s, engine.Executor, new AlsFitOptions { UserBlocks = 3, ItemBlocks = 3 })).WaitAsync(TimeSpan.FromMinutes(2));
            Assert.Equal(local.UserFactors, fit.UserFactors);
            Assert.Equal(local.ItemFactors, fit.ItemFactors);
            Assert.Equal(1, engine.Executor.Stats.BlocksReenqueued);
            Console.WriteLine($"finished {sw.Elapsed.TotalSeconds:F1} s after start despite the leaked lock");
        }
        finally
        {
            foreach (var w in workers)
            {
                try { if (!w.HasExited) w.Kill(entireProcessTree: true); w.WaitForExit(10_000); } catch (InvalidOperationException) { }
                w.Dispose();
            }
        }
    }
}

/// <summary>
/// Issue 23: the state lock a dead worker leaves behind holds up whoever next changes that job's state (the surviving
/// worker that fetches it after the invisibility timeout) for the storage's DistributedLockTimeout. It is 1 min now
/// (was Hangfire.PostgreSql's 10): a lock row left 50 s ago is taken over about 10 s later.
/// </summary>
[Collection("postgres")]
public sealed class LockTimeoutTests(PostgresFixture pg)
{
    [Fact]
    public async Task A_state_lock_left_by_a_dead_worker_is_taken_over_after_one_minute_not_ten()
    {
        string cs = pg.Server.CreateDatabase();
        new StorageOptions(cs).Apply(global::Hangfire.GlobalConfiguration.Configuration);
        var storage = global::Hangfire.JobStorage.Current;
        await using (var db = new Npgsql.NpgsqlConnection(cs))
        {
            await db.OpenAsync();
            await using var cmd = db.CreateCommand();
            cmd.CommandText = "INSERT INTO hangfire.lock (resource, acquired) VALUES ('hangfire:job:42:state-lock', now() - interval '50 seconds')";
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }
        var sw = Stopwatch.StartNew();
        await Task.Run(() =>
        {
            using var connection = storage.GetConnection();
            // The storage prefixes the resource with its schema name, as Hangfire's state changer's lock is stored.
            using var held = connection.AcquireDistributedLock("job:42:state-lock", TimeSpan.FromMinutes(3));
        }).WaitAsync(TimeSpan.FromMinutes(4));
        // Not at once (the row is a real lock until it is a minute old), and long before ten minutes.
        Assert.InRange(sw.Elapsed.TotalSeconds, 4, 30);
        Console.WriteLine($"leaked state lock taken over after {sw.Elapsed.TotalSeconds:F1} s");
    }
}

/// <summary>Whole runs through `batchrecs run --executor hangfire`: coordinator restarts and concurrent jobs.</summary>
[Collection("postgres")]
public sealed class DistributedRunTests(PostgresFixture pg)
{
    private static readonly string[] Settings = ["--set", "iterations=4", "--set", "refit_iterations=2", "--set", "factors=8", "--set", "top_n=5",
        "--set", "lookback_days=10", "--set", "quality_gate=false", "--set", "user_blocks=3", "--set", "item_blocks=2"];

    private static async Task<string> InputAsync(TempDirectory dir, int seed)
    {
        string input = dir.Sub($"input-{seed}");
        var gen = await CliProcess.RunAsync("demo-data", "--out", input, "--users", "500", "--items", "200", "--interactions", "10000",
            "--days", "10", "--seed", seed.ToString(), "--end-date", "2026-04-30");
        Assert.True(gen.ExitCode == 0, gen.StdErr);
        return input;
    }

    private static Task<CliProcess.Result> RunAsync(string input, string lake, string? cs, IReadOnlyDictionary<string, string>? env = null, string job = "default") =>
        CliProcess.RunWithEnvironmentAsync(env, ["run", "--input", input, "--lake", lake, "--run-date", "2026-05-01", .. Settings,
            .. job == "default" ? Array.Empty<string>() : ["--set", $"seed={job.Length}"],
            .. cs is null ? Array.Empty<string>() : ["--executor", "hangfire", "--db", cs]]);

    /// <summary>
    /// Factors of two lakes' latest runs are bit-identical (DuckDB compares the FLOAT[] lists exactly), and so are the
    /// published lists (scored in user blocks on the workers).
    /// </summary>
    private static void AssertSameFactors(string lakeA, string lakeB)
    {
        using var lakes = new TwoLakes(lakeA, lakeB);
        lakes.AssertSameRows("user_factors", "user_id, factors");
        lakes.AssertSameRows("item_factors", "item_id, factors");
        lakes.AssertSameRows("recommendations", "user_id, item_id, rank, score");
    }

    private static List<Process> Workers(string cs, int n) =>
        Enumerable.Range(0, n).Select(_ => CliProcess.Start(null, "worker", "--db", cs, "--queues", BlockTasks.Queue, "--threads", "1")).ToList();

    private static void Stop(List<Process> workers)
    {
        foreach (var w in workers)
        {
            try { if (!w.HasExited) w.Kill(entireProcessTree: true); w.WaitForExit(10_000); } catch (InvalidOperationException) { }
            w.Dispose();
        }
    }

    [Fact]
    public async Task With_the_lake_on_object_storage_workers_that_share_no_disk_give_the_local_run()
    {
        using var azurite = new AzuriteServer();
        using var dir = new TempDirectory("batchrecs-az-dist");
        Dictionary<string, string> Env(string host) => new(azurite.Environment) { ["BATCHRECS_LAKE_CACHE"] = dir.Sub(host) };
        var gen = await CliProcess.RunWithEnvironmentAsync(azurite.Environment, "demo-data", "--out", "az://input/events", "--users", "500", "--items", "200",
            "--interactions", "10000", "--days", "10", "--seed", "23", "--end-date", "2026-04-30");
        Assert.True(gen.ExitCode == 0, gen.StdErr);
        string cs = pg.Server.CreateDatabase();
        var local = await RunAsync("az://input/events", dir.Sub("lake-local"), null, Env("local"));
        Assert.True(local.ExitCode == 0, local.StdErr);
        // Two workers as the README starts them for a lake in a container: only the database, no --lake, each in its own
        // working directory with its own cache: their block data goes through the container's _scratch.
        var workers = new[] { "worker-a", "worker-b" }.Select(w => CliProcess.StartIn(dir.Sub(w), Env(w), "worker", "--db", cs, "--threads", "1")).ToList();
        try
        {
            var distributed = await RunAsync("az://input/events", "az://lake/dist", cs, Env("coordinator"));
            Assert.True(distributed.ExitCode == 0, distributed.StdOut + distributed.StdErr);
            AssertSameFactors(dir.Sub("lake-local"), Path.Combine(dir.Sub("coordinator"), "lake", "dist"));
            // The executor removed its scratch from the container; the workers wrote nothing into their own directories.
            var store = new BatchRecs.Lake.Storage.AzureBlobStore(new Azure.Storage.Blobs.BlobContainerClient(azurite.ConnectionString, "lake"));
            Assert.Empty(await store.ListAllAsync("dist/_scratch/"));
            Assert.All(new[] { "worker-a", "worker-b" }, w => Assert.Empty(Directory.GetFileSystemEntries(dir.Sub(w))));
        }
        finally
        {
            Stop(workers);
        }
    }

    [Fact]
    public async Task A_coordinator_killed_mid_fit_resumes_from_its_checkpoint_and_ends_equal_to_the_local_run()
    {
        using var dir = new TempDirectory("batchrecs-restart");
        string input = await InputAsync(dir, 21);
        string cs = pg.Server.CreateDatabase();
        var local = await RunAsync(input, dir.Sub("lake-local"), null);
        Assert.True(local.ExitCode == 0, local.StdErr);
        var workers = Workers(cs, 2);
        try
        {
            var crashed = await RunAsync(input, dir.Sub("lake-dist"), cs, new Dictionary<string, string> { ["BATCHRECS_CRASH_AT"] = "fit_eval-iteration-2" });
            Assert.NotEqual(0, crashed.ExitCode);
            Assert.Contains("fit_eval-iteration-2", crashed.StdErr);
            var resumed = await RunAsync(input, dir.Sub("lake-dist"), cs);
            Assert.True(resumed.ExitCode == 0, resumed.StdOut + resumed.StdErr);
            Assert.Contains("run.checkpoint_found stage=fit_eval", resumed.StdOut);
            // Only iterations 3 and 4 of the evaluated fit ran again.
            Assert.Equal(2, resumed.StdOut.Split('\n').Count(l => l.Contains("run.iteration stage=fit_eval")));
            AssertSameFactors(dir.Sub("lake-local"), dir.Sub("lake-dist"));
            Assert.False(Directory.Exists(Path.Combine(dir.Sub("lake-dist"), "_scratch", "checkpoints", "default-20260501")));
        }
        finally { Stop(workers); }
    }

    [Fact]
    public async Task Two_jobs_running_at_once_on_the_same_workers_do_not_mix_their_blocks()
    {
        using var dir = new TempDirectory("batchrecs-twojobs");
        string inputA = await InputAsync(dir, 31), inputB = await InputAsync(dir, 32);
        string cs = pg.Server.CreateDatabase();
        var workers = Workers(cs, 2);
        try
        {
            var a = RunAsync(inputA, dir.Sub("lake-a"), cs, job: "alpha");
            var b = RunAsync(inputB, dir.Sub("lake-b"), cs, job: "beta-job");
            var ra = await a; var rb = await b;
            Assert.True(ra.ExitCode == 0, ra.StdErr);
            Assert.True(rb.ExitCode == 0, rb.StdErr);
        }
        finally { Stop(workers); }
        Assert.Equal(0, (await RunAsync(inputA, dir.Sub("lake-a-local"), null, job: "alpha")).ExitCode);
        Assert.Equal(0, (await RunAsync(inputB, dir.Sub("lake-b-local"), null, job: "beta-job")).ExitCode);
        AssertSameFactors(dir.Sub("lake-a"), dir.Sub("lake-a-local"));
        AssertSameFactors(dir.Sub("lake-b"), dir.Sub("lake-b-local"));
    }
}

/// <summary>
/// The read and pairs stages on real worker processes: read tasks read their files on the workers, shard tasks combine
/// their users' events from every read task's scratch file, and the coordinator only merges id maps and lays the shards
/// out. Compared with the same input read and combined in one process, for several cuts of the files.
/// </summary>
[Collection("postgres")]
public sealed class DistributedReadTests(PostgresFixture pg)
{
    private static readonly EventRules Rules = new(new Dictionary<string, float> { ["view"] = 1, ["purchase"] = 5 }, HalfLifeDays: 3);

    /// <summary>
    /// The fit's sides weighed where the shards store the pairs (the coordinator holds rows only and writes two small side
    /// files a fit) give the local fit's factors and losses bit for bit: the evaluation's training part and the refit's
    /// union, plain and Rel-MF; and scoring that excludes the union's pairs, read from the shards, gives the local lists.
    /// </summary>
    private static void FitsOnTheStoredPairsAreTheLocalFits(HangfireExecutor executor, SplitPairs split)
    {
        var s = new AlsSettings(Factors: 8, Regularization: 0.1f, Alpha: 2, Iterations: 2);
        var theta = Enumerable.Range(0, split.Train.Cols).Select(i => 0.1f + 0.9f * (i % 11) / 11f).ToArray();
        var all = split.Train.Union(split.HeldOut!);
        Assert.Equal(split.Train.HasEntries, all.HasEntries);
        Assert.NotNull(all.Store);
        var options = new AlsFitOptions { UserBlocks = 3, ItemBlocks = 2 };
        AlsModel? last = null;
        foreach (var m in new[] { split.Train, all })
            foreach (bool relMf in new[] { false, true })
            {
                AlsProblem Problem(CsrMatrix strengths, IExecutor? on) => relMf ? AlsProblem.BuildRelMf(strengths, s, theta, on) : AlsProblem.Build(strengths, s, on);
                var local = ImplicitAls.Fit(Problem(m.WithEntries(), null), s, new LocalExecutor(), options);
                long written = executor.Stats.BytesWritten;
                var problem = Problem(m, executor);
                Assert.False(problem.UserItemConf.HasEntries || problem.ItemUserConf.HasEntries);
                Assert.NotNull(problem.Stored);
                Assert.True(executor.Stats.BytesWritten - written < 4L * (m.Rows + m.Cols + theta.Length) + 4096, "a stored problem writes its row pointers only");
                var there = ImplicitAls.Fit(problem, s, executor, options);
                Assert.Equal(local.UserFactors, there.UserFactors);
                Assert.Equal(local.ItemFactors, there.ItemFactors);
                Assert.Equal(local.History.Select(h => h.Loss), there.History.Select(h => h.Loss));
                last = local;
            }
        var step = new ScoringStep(last!.UserFactors, last.ItemFactors, s.Factors, 10, all, BlockPartitioner.Partition(all, 3, s.Factors));
        var here = new LocalExecutor().Score(step with { Exclude = all.WithEntries() });
        var lists = executor.Score(step);
        Assert.Equal(here.Items, lists.Items);
        Assert.Equal(here.Scores, lists.Scores);
        Assert.Equal(here.Counts, lists.Counts);
    }

    [Fact]
    public async Task Read_and_shard_tasks_on_two_workers_give_the_pairs_of_one_process_for_any_cut_of_the_files()
    {
        using var dir = new TempDirectory("batchrecs-dread");
        string input = dir.Sub("input");
        var gen = await CliProcess.RunAsync("demo-data", "--out", input, "--users", "1500", "--items", "300", "--interactions", "30000",
            "--days", "10", "--seed", "31", "--end-date", "2026-04-30");
        Assert.True(gen.ExitCode == 0, gen.StdErr);
        var window = new ReadWindow(new DateOnly(2026, 5, 1), 8);
        var ct = CancellationToken.None;
        var one = await LocalRead.Instance.ReadAsync(await ReadPlan.CreateAsync(input, window, Rules, 1), ct);
        var expected = one.Combine(CombineRule.Sum, firstTimes: true, ct);
        Assert.True(expected.Count > 10_000);

        string cs = pg.Server.CreateDatabase();
        using var engine = DistributedEngine.Connect(new StorageOptions(cs), dir.Sub("lake"), TimeSpan.FromMinutes(2));
        var workers = Enumerable.Range(0, 2).Select(_ => CliProcess.Start(null, "worker", "--db", cs, "--threads", "1")).ToList();
        try
        {
            foreach (int tasks in new[] { 1, 3, 8 })
            {
                var plan = await ReadPlan.CreateAsync(input, window, Rules, tasks);
                Assert.Equal(tasks, plan.Tasks.Count);
                var read = await engine.Executor.ReadAsync(plan, ct);
                Assert.Equal(one.Stats.RowsRead, read.Stats.RowsRead);
                Assert.Equal(one.Stats.RowsInWindow, read.Stats.RowsInWindow);
                Assert.Equal(one.Stats.PrunedFiles, read.Stats.PrunedFiles);
                Assert.Equal(one.Stats.Files.Select(f => (f.Path, f.Rows)), read.Stats.Files.Select(f => (f.Path, f.Rows)));
                PairAssert.Same(expected, read.Combine(CombineRule.Sum, firstTimes: true, ct));
            }
            // Split where they are combined, on the workers: the split of the whole log, with every kept time and cut.
            var spec = new PairSplit(0.25, LastTimes: true, FirstTimes: true, Cuts: true);
            var split = (await engine.Executor.ReadAsync(await ReadPlan.CreateAsync(input, window, Rules, 3), ct)).CombineSplit(CombineRule.Sum, spec, ct);
            PairAssert.SameSplit(expected, spec, split);
            Assert.True(split.Train.HasEntries, "with every pair's time kept, the coordinator lays the split out");
            // Without pairs' times the coordinator keeps the split's row pointers only; the entries stay in the shards.
            var rowsSpec = new PairSplit(0.25, Cuts: true);
            var rowsOnly = (await engine.Executor.ReadAsync(await ReadPlan.CreateAsync(input, window, Rules, 3), ct)).CombineSplit(CombineRule.Sum, rowsSpec, ct);
            Assert.False(rowsOnly.Train.HasEntries || rowsOnly.HeldOut!.HasEntries);
            PairAssert.SameSplit(expected, rowsSpec, rowsOnly);
            FitsOnTheStoredPairsAreTheLocalFits(engine.Executor, split);
            FitsOnTheStoredPairsAreTheLocalFits(engine.Executor, rowsOnly);
            // Each read's folder (the tasks' events) is gone once its pairs are laid out; its shards' rows stay, for the
            // fits' block tasks, until the executor is disposed.
            var scratch = Directory.GetDirectories(Path.Combine(dir.Sub("lake"), "_scratch")).Single();
            Assert.Equal(5, Directory.GetDirectories(scratch).Length);
            Assert.All(Directory.GetDirectories(scratch), d => Assert.EndsWith("-pairs", d));

            // Bad input on a worker is reported as a read in one process reports it: the first bad file in read order,
            // named, as bad input (not a failed job retried).
            var files = Directory.GetFiles(input, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
            string early = files.First(f => f.Contains("dt=2026-04-25")), late = files.First(f => f.Contains("dt=2026-04-29"));
            await File.WriteAllTextAsync(early, "not parquet");
            await File.WriteAllTextAsync(late, "not parquet either");
            var e = await Assert.ThrowsAsync<LakeInputException>(async () => await engine.Executor.ReadAsync(await ReadPlan.CreateAsync(input, window, Rules, 8), ct));
            Assert.Contains(early, e.Message);
            Assert.Contains("not a readable Parquet file", e.Message);
        }
        finally
        {
            foreach (var w in workers)
            {
                try { if (!w.HasExited) w.Kill(entireProcessTree: true); w.WaitForExit(10_000); } catch (InvalidOperationException) { }
                w.Dispose();
            }
        }
    }
}

/// <summary>The read and shard tasks' bodies and scratch files, without Hangfire: strings ids, several files a day.</summary>
public sealed class ReadTaskFilesTests
{
    [Fact]
    public async Task Parts_written_by_read_tasks_and_combined_by_shard_tasks_give_the_pairs_of_one_process()
    {
        using var dir = new TempDirectory("batchrecs-readfiles");
        string input = dir.Sub("input");
        var rng = new Random(5);
        for (int day = 20; day <= 29; day++)
            for (int f = 0; f < 2; f++)
            {
                int n = 300 + rng.Next(300);
                var userIds = Enumerable.Range(0, n).Select(_ => $"user-{rng.Next(200)}").ToArray();
                var itemIds = Enumerable.Range(0, n).Select(_ => $"item-{rng.Next(50)}").ToArray();
                var times = Enumerable.Range(0, n).Select(_ => new DateTimeOffset(2026, 4, day, rng.Next(3), 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000).ToArray();
                string path = Path.Combine(input, $"dt=2026-04-{day}", $"part-{f}.parquet");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await InteractionWriter.WriteFileAsync(path, new InteractionColumns(null, userIds, null, itemIds, times), Enumerable.Range(0, n).ToArray());
            }
        var window = new ReadWindow(new DateOnly(2026, 5, 1), 9);
        var rules = new EventRules(HalfLifeDays: 2);
        var ct = CancellationToken.None;
        var expected = (await LocalRead.Instance.ReadAsync(await ReadPlan.CreateAsync(input, window, rules, 1), ct)).Combine(CombineRule.Last, true, ct);
        Assert.True(expected.Count > 2_000);

        var plan = await ReadPlan.CreateAsync(input, window, rules, 5);
        string step = dir.Sub("step");
        ReadTaskFiles.WritePlan(step, plan);
        var tasks = new BlockTasks(new BlockTaskCache(), new BlockTaskHooks(TimeSpan.Zero));
        for (int t = 0; t < plan.Tasks.Count; t++) tasks.Read(step, t, ct);
        var parts = Enumerable.Range(0, plan.Tasks.Count).Select(t => ReadTaskFiles.ReadSummary(step, t)).ToList();
        Assert.All(parts, p => Assert.Null(p.Failure));
        var (_, users, items, userRemaps, itemRemaps) = InputRead.Merge(parts.Select(p => p.Stats).ToList(), parts.Select(p => p.Users).ToList(),
            parts.Select(p => p.Items).ToList(), plan.PrunedFiles);
        var layout = parts.Select(p => new ReadTaskFiles.PartLayout(p.Offsets, p.Users.Count, p.Items.Count)).ToList();
        // Three shards of users; each reads only its users' events from every part, and splits them.
        int[] cuts = [0, 37, 120, users.Count];
        foreach (var spec in new[] { PairSplit.Whole(firstTimes: true), new PairSplit(0.3, LastTimes: true, FirstTimes: true, Cuts: true), new PairSplit(0.2) })
        {
            ReadTaskFiles.WriteRemaps(step, userRemaps, itemRemaps, layout, CombineRule.Last, spec, items.Count);
            if (Directory.Exists(ReadTaskFiles.ShardDir(step))) Directory.Delete(ReadTaskFiles.ShardDir(step), recursive: true);
            for (int s = 0; s < 3; s++) tasks.CombineShard(step, s, cuts[s], cuts[s + 1], ct);
            var counts = Enumerable.Range(0, 3).Select(s => ReadTaskFiles.ReadShardHeader(step, s)).ToList();
            var pairs = SplitPairs.Layout(users, items, spec, counts.Sum(c => c.Train), counts.Sum(c => Math.Max(0, c.HeldOut)),
                Enumerable.Range(0, 3).Select(s => ReadTaskFiles.ReadShard(step, s, cuts[s])));
            PairAssert.SameSplit(expected, spec, pairs);
            if (spec.HoldoutFraction == 0) PairAssert.Same(expected, pairs.ToLog());
            // The shards' entry hashes add up to the laid-out matrices' own, however the users were cut.
            ulong Sum(Func<ReadTaskFiles.ShardHeader, ulong> of) => counts.Aggregate(0UL, (h, c) => h + of(c));
            var store = new ShardStore(ReadTaskFiles.ShardDir(step), cuts, true, false, Sum(c => c.TrainHash), Sum(c => c.HeldHash));
            Assert.Equal(pairs.Train.EntryHash(), store.ContentHash);
            Assert.Equal(pairs.HeldOut?.EntryHash() ?? 0, (store with { Train = false, HeldOut = true }).ContentHash);
            StoredSidesAreTheProblemsRows(dir.Path, store, pairs);
        }
    }

    /// <summary>
    /// Rows read from the shards by a block task (<see cref="ShardSides"/>: a user block from the shards its users are in,
    /// an item block from every shard's transposed rows side by side) and weighed there are, bit for bit, the rows of the
    /// problem built and transposed in one process: training, held-out and their union (the refit's), plain and Rel-MF,
    /// for blocks inside one shard, across shards, empty and whole; and so are the item side's row pointers.
    /// </summary>
    private static void StoredSidesAreTheProblemsRows(string dir, ShardStore trainStore, SplitPairs pairs)
    {
        var s = new AlsSettings(Factors: 4, Alpha: 3, Confidence: ConfidenceKind.Log);
        var stored = new List<(CsrMatrix Strengths, ShardStore Store)> { (pairs.Train, trainStore) };
        if (pairs.HeldOut is { } held)
        {
            var heldStore = trainStore with { Train = false, HeldOut = true };
            stored.Add((held, heldStore));
            stored.Add((pairs.Train.Union(held), (ShardStore)trainStore.Union(heldStore)!));
            Assert.Null(trainStore.Union(trainStore));
        }
        var theta = Enumerable.Range(0, pairs.Train.Cols).Select(i => 0.05f + 0.95f * (i * 7 % 13) / 13f).ToArray();
        foreach (var (m, store) in stored)
        {
            // What the coordinator reads of a stored matrix it holds the rows of: all of it, a sample's rows, column counts.
            var rowsOnly = CsrMatrix.RowsOnly(m.Rows, m.Cols, m.RowPtr).StoredIn(store);
            var read = rowsOnly.WithEntries();
            Assert.Equal(m.RowPtr, read.RowPtr);
            Assert.Equal(m.ColIdx, read.ColIdx);
            Assert.Equal(m.Values, read.Values);
            int[] sample = [0, 1, 2, 36, 37, 38, 119, 120, m.Rows - 1];
            var some = rowsOnly.RowsOf(sample);
            for (int u = 0; u < m.Rows; u++) Assert.Equal(sample.Contains(u) ? m.RowCols(u).ToArray() : [], some.RowCols(u).ToArray());
            Assert.Equal(PopularityRanker.Counts(m), PopularityRanker.Counts(rowsOnly));
            foreach (var weights in new[] { new EntryWeights(s), new EntryWeights(s, theta) })
            {
                var whole = weights.HasPreferences ? AlsProblem.BuildRelMf(m, s, theta) : AlsProblem.Build(m, s);
                Assert.Equal(whole.ItemUserConf.RowPtr, ShardSides.ItemRowPointers(store, m.Cols));
                foreach (var (side, matrix, pref) in new[] { (Side.Users, whole.UserItemConf, whole.UserItemPref), (Side.Items, whole.ItemUserConf, whole.ItemUserPref) })
                {
                    string path = Path.Combine(dir, $"{ShardSides.FilePrefix}{side}.bin");
                    ShardSides.Write(path, store, side, weights, CsrMatrix.RowsOnly(matrix.Rows, matrix.Cols, matrix.RowPtr));
                    Assert.Equal(matrix.RowPtr, BlockTaskFiles.ReadRowsOnly(path).RowPtr);
                    int n = matrix.Rows;
                    foreach (var (a, b) in new[] { (0, n), (0, 1), (1, Math.Min(n, 40)), (Math.Min(n, 30), Math.Min(n, 130)), (n - 3, n), (5, 5) })
                    {
                        var (rows, rowPref) = BlockTaskFiles.ReadRows(path, a, b);
                        int first = matrix.RowPtr[a], count = matrix.RowPtr[b] - first;
                        Assert.Equal(matrix.RowPtr[a..(b + 1)].Select(p => p - first), rows.RowPtr);
                        Assert.Equal(matrix.ColIdx.AsSpan(first, count).ToArray(), rows.ColIdx);
                        Assert.Equal(matrix.Values.AsSpan(first, count).ToArray(), rows.Values);
                        Assert.Equal(pref?.AsSpan(first, count).ToArray(), rowPref);
                    }
                }
            }
        }
    }

    [Fact]
    public async Task A_read_task_on_a_worker_that_cannot_see_a_listed_input_file_says_so_and_names_it()
    {
        using var dir = new TempDirectory("batchrecs-readfiles-unseen");
        string input = dir.Sub("input");
        foreach (int day in new[] { 27, 28 })
        {
            string path = Path.Combine(input, $"dt=2026-04-{day}", "part-0.parquet");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            long t = new DateTimeOffset(2026, 4, day, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;
            await InteractionWriter.WriteFileAsync(path, new InteractionColumns([1, 2], null, [3, 4], null, [t, t]), new[] { 0, 1 });
        }
        var plan = await ReadPlan.CreateAsync(input, new ReadWindow(new DateOnly(2026, 5, 1), 9), new EventRules(SkipBadFiles: true), 1);
        string step = dir.Sub("step");
        ReadTaskFiles.WritePlan(step, plan);
        string missing = plan.Tasks[0][1].Path;
        File.Delete(missing); // listed by the coordinator, not there on this "worker"
        new BlockTasks(new BlockTaskCache(), new BlockTaskHooks(TimeSpan.Zero)).Read(step, 0, CancellationToken.None);
        var failure = ReadTaskFiles.ReadSummary(step, 0).Failure;
        Assert.NotNull(failure);
        Assert.Contains(missing, failure.Message);
        Assert.Contains("cannot see this input file", failure.Message);
    }
}
