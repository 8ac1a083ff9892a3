using BatchRecs.Lake.Output;
using DuckDB.NET.Data;


namespace BatchRecs.Engine.Tests;

/// <summary>All-or-nothing publishing, checked with real processes: crashes at every step, and an analyst holding the database open.</summary>
public class PublishRobustnessTests
{
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
            Assert.Equal(f.Sha256, RecommendationWriter.Sha256Async(Path.Combine(partition, f.Name)).Result);
        long rows = DuckQuery.Scalar($"SELECT count(*) FROM read_parquet('{Path.Combine(partition, "*.parquet")}', hive_partitioning = false)");
        Assert.Equal(manifest.Rows, rows);
        Assert.Equal(1, DuckQuery.Scalar($"SELECT count(DISTINCT run_id) FROM read_parquet('{Path.Combine(partition, "*.parquet")}', hive_partitioning = false) WHERE run_id = '{manifest.RunId}'"));
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
            var crashed = await RunAsync(input, lake, "2026-05-01", new Dictionary<string, string> { [FaultPoint.EnvironmentVariable] = step });
            Assert.True(crashed.ExitCode != 0, $"the run should have died at {step}");
            Assert.Contains(step, crashed.StdErr);

            var manifest = AssertPartitionConsistent(partition);
            bool swapped = Array.IndexOf(FaultPoint.PublishSteps, step) >= Array.IndexOf(FaultPoint.PublishSteps, "partition-swapped");
            if (!swapped) Assert.Equal(firstRun, manifest.RunId);
            // The database is readable and holds exactly one run's rows for the date.
            var dbRun = DuckQuery.Rows("SELECT any_value(run_id), count(DISTINCT run_id), count(*) FROM recommendations WHERE run_date = DATE '2026-05-01'", db).Single();
            Assert.Equal(1L, Convert.ToInt64(dbRun[1]));
            bool committed = Array.IndexOf(FaultPoint.PublishSteps, step) >= Array.IndexOf(FaultPoint.PublishSteps, "database-committed");
            if (!committed) Assert.Equal(firstRun, dbRun[0]);
            else Assert.Equal(manifest.RunId, dbRun[0]);
            Assert.Equal(manifest.RunId == (string)dbRun[0] ? manifest.Rows : Convert.ToInt64(dbRun[2]), Convert.ToInt64(dbRun[2]));
        }

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
    public async Task An_analyst_holding_the_database_open_neither_blocks_the_publish_nor_sees_half_a_run()
    {
        using var dir = new TempDirectory("batchrecs-analyst");
        string input = await DemoInputAsync(dir), lake = dir.Sub("lake");
        string db = Path.Combine(lake, DuckDbCatalog.FileName);
        Assert.Equal(0, (await RunAsync(input, lake, "2026-04-29")).ExitCode);

        // The analyst's notebook: a connection open on the live file while the nightly process publishes.
        var analyst = new DuckDBConnection($"Data Source={db}");
        analyst.Open();
        long Count(DuckDBConnection c, string sql) { using var cmd = c.CreateCommand(); cmd.CommandText = sql; return Convert.ToInt64(cmd.ExecuteScalar()); }
        long before = Count(analyst, "SELECT count(DISTINCT run_date) FROM recommendations");
        Assert.Equal(1, before);

        var publish = await RunAsync(input, lake, "2026-05-01");
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
    public async Task Runs_older_than_the_retention_window_are_deleted_from_the_lake_and_the_database()
    {
        using var dir = new TempDirectory("batchrecs-retention");
        string input = await DemoInputAsync(dir), lake = dir.Sub("lake");
        Assert.Equal(0, (await RunAsync(input, lake, "2026-04-28", null, "--set", "lookback_days=10")).ExitCode);
        Assert.Equal(0, (await RunAsync(input, lake, "2026-04-30", null, "--set", "lookback_days=10")).ExitCode);
        Assert.Equal(0, (await RunAsync(input, lake, "2026-05-01", null, "--set", "lookback_days=10", "--set", "retention_days=2")).ExitCode);
        var parts = Directory.GetDirectories(Path.Combine(lake, "recommendations")).Select(d => Path.GetFileName(d)!).Order().ToArray();
        Assert.Equal(["run_date=2026-04-30", "run_date=2026-05-01"], parts);
        var dates = DuckQuery.Rows("SELECT DISTINCT strftime(run_date, '%Y-%m-%d') FROM recommendations ORDER BY 1", Path.Combine(lake, DuckDbCatalog.FileName));
        Assert.Equal(["2026-04-30", "2026-05-01"], dates.Select(r => (string)r[0]).ToArray());
        Assert.Equal(3, DuckQuery.Scalar("SELECT count(*) FROM runs WHERE status = 'succeeded'", Path.Combine(lake, DuckDbCatalog.FileName)));
    }
}
