using BatchRecs.Lake.Output;
using DuckDB.NET.Data;


namespace BatchRecs.Engine.Tests;

/// <summary>All-or-nothing publishing, checked with real processes: crashes at every step, and an analyst holding the database open.</summary>
public class PublishRobustnessTests
{
    /// <summary>The test-only variable the CLI's entry point turns into a <see cref="CrashAt"/> for the run.</summary>
    private const string CrashAtVariable = "BATCHRECS_CRASH_AT";

    private static async Task<string> DemoInputAsync(TempDirectory dir)
    {
        string input = dir.Sub("input");
        var gen = await CliProcess.RunAsync("demo-data", "--out", input, "--users", "300", "--items", "150", "--interactions", "6000",
            "--days", "10", "--seed", "3", "--end-date", "2026-04-30");
        Assert.True(gen.ExitCode == 0, gen.StdErr);
        return input;
    }

    private static Task<CliProcess.Result> RunAsync(string input, string lake, string date, IReadOnlyDictionary<string, string>? env = null, params string[] extra) =>
        CliProcess.RunWithEnvironmentAsync(env, ["run", "--input", input, "--lake", lake, "--run-date", date,
            "--set", "iterations=3", "--set", "refit_iterations=1", "--set", "factors=8", "--set", "top_n=5", .. extra]);

    /// <summary>The partition's files match its manifest (row counts and checksums): never a mix of two runs.</summary>
    private static RunManifest AssertPartitionConsistent(string partition)
    {
        var manifest = RunManifest.Read(Path.Combine(partition, RunManifest.FileName));
        Assert.True(File.Exists(Path.Combine(partition, RunManifest.SuccessMarker)));
        var parquet = Directory.GetFiles(partition, "*.parquet").Select(f => Path.GetFileName(f)!).Order().ToArray();
        Assert.Equal(manifest.Files.Select(f => f.Name).Order().ToArray(), parquet);
        foreach (var f in manifest.Files)
            Assert.Equal(f.Sha256, ListWriter.Sha256Async(Path.Combine(partition, f.Name)).Result);
        long rows = DuckQuery.Scalar($"SELECT count(*) FROM read_parquet('{Path.Combine(partition, "*.parquet")}', hive_partitioning = false)");
        Assert.Equal(manifest.Rows, rows);
        Assert.Equal(1, DuckQuery.Scalar($"SELECT count(DISTINCT run_id) FROM read_parquet('{Path.Combine(partition, "*.parquet")}', hive_partitioning = false) WHERE run_id = '{manifest.RunId}'"));
        return manifest;
    }

    /// <summary>
    /// Parquet and DuckDB hold the same run for the partition's date, and the database exactly that run's rows: for the
    /// recommendations and for the similar items (on by default) beside them.
    /// </summary>
    private static RunManifest AssertOneRunInBoth(string partition, string db)
    {
        var manifest = AssertPartitionConsistent(partition);
        string similar = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(partition))!, LakePublisher.SimilarItemsDir, Path.GetFileName(partition));
        var similarManifest = AssertPartitionConsistent(similar);
        Assert.Equal(manifest.RunId, similarManifest.RunId);
        foreach (var (table, rows) in new[] { ("recommendations", manifest.Rows), ("similar_items", similarManifest.Rows) })
        {
            var dbRun = DuckQuery.Rows($"SELECT any_value(run_id), count(DISTINCT run_id), count(*) FROM {table} WHERE run_date = DATE '{manifest.RunDate}'", db).Single();
            Assert.Equal(1L, Convert.ToInt64(dbRun[1]));
            Assert.Equal(manifest.RunId, dbRun[0]);
            Assert.Equal(rows, Convert.ToInt64(dbRun[2]));
        }
        return manifest;
    }

    [Fact]
    public async Task A_crash_at_any_publish_step_leaves_the_previous_output_intact_and_the_next_run_succeeds()
    {
        using var dir = new TempDirectory("batchrecs-crash");
        string input = await DemoInputAsync(dir), lake = dir.Sub("lake");
        string partition = Path.Combine(lake, "recommendations", "run_date=2026-05-01");
        string db = Path.Combine(lake, DuckDbCatalog.FileName);
        var first = await RunAsync(input, lake, "2026-05-01");
        Assert.True(first.ExitCode == 0, first.StdErr);
        string firstRun = AssertPartitionConsistent(partition).RunId;

        foreach (var step in FaultPoint.PublishSteps)
        {
            var crashed = await RunAsync(input, lake, "2026-05-01", new Dictionary<string, string> { [CrashAtVariable] = step });
            Assert.True(crashed.ExitCode != 0, $"the run should have died at {step}");
            Assert.Contains(step, crashed.StdErr);

            // Any reader completes a publish that died after its commit point (the journal) or leaves the old one.
            var reader = await CliProcess.RunAsync("runs", "--lake", lake);
            Assert.True(reader.ExitCode == 0, reader.StdErr);
            Assert.False(File.Exists(Path.Combine(lake, PublishJournal.FileName)), $"journal left after {step}");

            var manifest = AssertOneRunInBoth(partition, db);
            bool committed = Array.IndexOf(FaultPoint.PublishSteps, step) >= Array.IndexOf(FaultPoint.PublishSteps, "journal-written");
            if (!committed) Assert.Equal(firstRun, manifest.RunId);
            else Assert.NotEqual(firstRun, manifest.RunId);
        }

        // Runs killed before their commit point hold leases that stop being renewed; once expired (time is simulated
        // by ageing the lease files), the next reader records them as abandoned, with the time: no run stays
        // 'running' forever. (Runs killed after it were completed, and are recorded as succeeded.)
        int beforeCommit = Array.IndexOf(FaultPoint.PublishSteps, "journal-written");
        // (On a slow machine the loop outlasts a lease, and a later run already recorded some as abandoned.)
        Assert.Equal(beforeCommit, DuckQuery.Scalar("SELECT count(*) FROM runs WHERE status IN ('running', 'abandoned')", db));
        foreach (var lease in Directory.GetFiles(Path.Combine(lake, RunLease.Dir)))
            File.SetLastWriteTimeUtc(lease, DateTime.UtcNow - RunLease.Expiry - TimeSpan.FromSeconds(5));
        Assert.Equal(0, (await CliProcess.RunAsync("runs", "--lake", lake)).ExitCode);
        Assert.Equal(0, DuckQuery.Scalar("SELECT count(*) FROM runs WHERE status = 'running'", db));
        Assert.Equal(beforeCommit, DuckQuery.Scalar(
            "SELECT count(*) FROM runs WHERE status = 'abandoned' AND finished_at IS NOT NULL AND reason LIKE 'abandoned: %lease%'", db));
        Assert.Empty(Directory.GetFiles(Path.Combine(lake, RunLease.Dir)));

        var next = await RunAsync(input, lake, "2026-05-01");
        Assert.True(next.ExitCode == 0, next.StdErr);
        var final = AssertPartitionConsistent(partition);
        Assert.Equal(final.RunId, DuckQuery.Rows("SELECT any_value(run_id) FROM recommendations", db).Single()[0]);
        // Leftovers of the crashed publishes are gone.
        Assert.Empty(Directory.GetDirectories(Path.Combine(lake, "recommendations"), ".*"));
        Assert.Empty(Directory.GetFiles(lake, ".batchrecs*"));
        Assert.Equal(["run_date=2026-05-01"], Directory.GetDirectories(Path.Combine(lake, "recommendations")).Select(d => Path.GetFileName(d)!).ToArray());
    }

    [Fact]
    public async Task Kill_9_at_seeded_random_moments_leaves_parquet_and_duckdb_on_one_run_and_no_run_running_for_ever()
    {
        using var dir = new TempDirectory("batchrecs-kill");
        string input = await DemoInputAsync(dir), lake = dir.Sub("lake");
        string partition = Path.Combine(lake, "recommendations", "run_date=2026-05-01");
        string db = Path.Combine(lake, DuckDbCatalog.FileName);
        Assert.Equal(0, (await RunAsync(input, lake, "2026-05-01")).ExitCode);
        var random = new Random(20261202);
        for (int kill = 0; kill < 6; kill++)
        {
            // A run takes about 2-4 s here; kill it anywhere in it, the publish included.
            using var p = CliProcess.Start(null, "run", "--input", input, "--lake", lake, "--run-date", "2026-05-01",
                "--set", "iterations=3", "--set", "refit_iterations=1", "--set", "factors=8", "--set", "top_n=5");
            await Task.Delay(random.Next(300, 4000));
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            Assert.Equal(0, (await CliProcess.RunAsync("runs", "--lake", lake)).ExitCode);
            AssertOneRunInBoth(partition, db);
        }
        foreach (var lease in Directory.GetFiles(Path.Combine(lake, RunLease.Dir)))
            File.SetLastWriteTimeUtc(lease, DateTime.UtcNow - RunLease.Expiry - TimeSpan.FromSeconds(5));
        Assert.Equal(0, (await CliProcess.RunAsync("runs", "--lake", lake)).ExitCode);
        Assert.Equal(0, DuckQuery.Scalar("SELECT count(*) FROM runs WHERE status = 'running'", db));
    }

    [Fact]
    public async Task An_analyst_holding_the_database_open_neither_blocks_the_publish_nor_sees_half_a_run()
    {
        using var dir = new TempDirectory("batchrecs-analyst");
        string input = await DemoInputAsync(dir), lake = dir.Sub("lake");
        string db = Path.Combine(lake, DuckDbCatalog.FileName);
        Assert.Equal(0, (await RunAsync(input, lake, "2026-04-29", null, "--set", "retention_days=3650")).ExitCode);

        // The analyst's notebook: a connection open on the live file while the nightly process publishes.
        var analyst = new DuckDBConnection($"Data Source={db}");
        analyst.Open();
        long Count(DuckDBConnection c, string sql) { using var cmd = c.CreateCommand(); cmd.CommandText = sql; return Convert.ToInt64(cmd.ExecuteScalar()); }
        long before = Count(analyst, "SELECT count(DISTINCT run_date) FROM recommendations");
        Assert.Equal(1, before);

        var publish = await RunAsync(input, lake, "2026-05-01", null, "--set", "retention_days=3650");
        Assert.True(publish.ExitCode == 0, publish.StdOut + publish.StdErr);

        // The open connection still sees a whole run (the old one); reconnecting shows the new run.
        // (DuckDB shares one database instance among a process's connections to a path, so the notebook
        // reconnects by closing its connection first.)
        Assert.Equal(1, Count(analyst, "SELECT count(DISTINCT run_date) FROM recommendations"));
        analyst.Dispose();
        using var reopened = new DuckDBConnection($"Data Source={db};ACCESS_MODE=READ_ONLY");
        reopened.Open();
        Assert.Equal(2, Count(reopened, "SELECT count(DISTINCT run_date) FROM recommendations"));
        Assert.Equal(1, Count(reopened, "SELECT count(*) FROM current_run WHERE run_date = DATE '2026-05-01' AND status = 'succeeded'"));
        Assert.Equal(Count(reopened, "SELECT count(*) FROM recommendations WHERE run_date = DATE '2026-05-01'"),
            Count(reopened, "SELECT count(*) FROM current_recommendations"));
    }

    [Fact]
    public async Task Retention_counts_from_the_wall_clock_and_a_mistyped_future_run_date_deletes_nothing()
    {
        using var dir = new TempDirectory("batchrecs-retention");
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        string Day(int offset) => today.AddDays(offset).ToString("yyyy-MM-dd");
        string input = dir.Sub("input");
        var gen = await CliProcess.RunAsync("demo-data", "--out", input, "--users", "300", "--items", "150", "--interactions", "6000",
            "--days", "10", "--seed", "3", "--end-date", Day(0));
        Assert.True(gen.ExitCode == 0, gen.StdErr);
        string lake = dir.Sub("lake"), db = Path.Combine(lake, DuckDbCatalog.FileName);
        foreach (int offset in new[] { -3, -2, -1 })
            Assert.Equal(0, (await RunAsync(input, lake, Day(offset), null, "--set", "lookback_days=10", "--set", "retention_days=2")).ExitCode);
        // Two days back from the clock: the run of three days ago is gone, the others stay.
        string[] Published() => Directory.GetDirectories(Path.Combine(lake, "recommendations")).Select(d => Path.GetFileName(d)!).Order().ToArray();
        Assert.Equal([$"run_date={Day(-2)}", $"run_date={Day(-1)}"], Published());

        // A year-off run date needs --allow-future-date; with it (and a look-back that reaches the data) it publishes,
        // and retention, counted from the clock, deletes none of the dates before it.
        var refused = await RunAsync(input, lake, Day(365), null, "--set", "lookback_days=400");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--allow-future-date", refused.StdErr);
        var future = await RunAsync(input, lake, Day(365), null, "--set", "lookback_days=400", "--allow-future-date");
        Assert.True(future.ExitCode == 0, future.StdErr);
        Assert.Equal([$"run_date={Day(-2)}", $"run_date={Day(-1)}", $"run_date={Day(365)}"], Published());
        var dates = DuckQuery.Rows("SELECT DISTINCT strftime(run_date, '%Y-%m-%d') FROM recommendations ORDER BY 1", db);
        Assert.Equal([Day(-2), Day(-1), Day(365)], dates.Select(r => (string)r[0]).ToArray());

        // A backfill of an old date deletes nothing newer than itself.
        Assert.Equal(0, (await RunAsync(input, lake, Day(-3), null, "--set", "lookback_days=10", "--set", "retention_days=2")).ExitCode);
        Assert.Equal([$"run_date={Day(-3)}", $"run_date={Day(-2)}", $"run_date={Day(-1)}", $"run_date={Day(365)}"], Published());

        var ancient = await RunAsync(input, lake, "0001-01-01");
        Assert.Equal(2, ancient.ExitCode);
        Assert.Contains("run date 0001-01-01 is before 1970-01-02", ancient.StdErr);
        Assert.DoesNotContain("   at ", ancient.StdErr);
    }
}
