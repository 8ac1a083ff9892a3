

namespace BatchRecs.Engine.Tests;

/// <summary>demo-data → run, through the real command line, checked with DuckDB's own Parquet reader.</summary>
public class EndToEndTests
{
    [Fact]
    public async Task Demo_data_then_run_publishes_contracted_parquet_and_duckdb_tables_and_beats_popularity()
    {
        using var dir = new TempDirectory("batchrecs-e2e");
        string input = dir.Sub("input"), lake = dir.Sub("lake");
        var gen = await CliProcess.RunAsync("demo-data", "--out", input, "--users", "1500", "--items", "600",
            "--interactions", "60000", "--days", "20", "--seed", "7", "--end-date", "2026-04-30");
        Assert.True(gen.ExitCode == 0, gen.StdErr);
        var run = await CliProcess.RunAsync("run", "--input", input, "--lake", lake, "--run-date", "2026-05-01",
            "--set", "top_n=10", "--set", "iterations=10", "--set", "lookback_days=14");
        Assert.True(run.ExitCode == 0, run.StdOut + run.StdErr);

        string part = Path.Combine(lake, "recommendations", "run_date=2026-05-01");
        string files = Path.Combine(part, "*.parquet").Replace("'", "''");
        string src = $"read_parquet('{files}', hive_partitioning = false)";
        Assert.True(File.Exists(Path.Combine(part, "_SUCCESS")));
        Assert.True(File.Exists(Path.Combine(part, "manifest.json")));

        // Contracted schema.
        var schema = DuckQuery.Rows($"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {src})").Select(r => $"{r[0]}:{r[1]}");
        Assert.Equal(["user_id:BIGINT", "item_id:BIGINT", "rank:INTEGER", "score:FLOAT", "source:VARCHAR", "propensity:FLOAT", "run_id:VARCHAR"], schema);

        // One row per (user, rank); ranks 1..n without gaps; scores non-increasing.
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM (SELECT user_id, rank FROM {src} GROUP BY ALL HAVING count(*) > 1)"));
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM (SELECT user_id FROM {src} GROUP BY user_id HAVING min(rank) <> 1 OR max(rank) <> count(*) OR count(DISTINCT item_id) <> count(*))"));
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM (SELECT score, lag(score) OVER (PARTITION BY user_id ORDER BY rank) AS prev FROM {src}) WHERE prev < score"));

        // No user is recommended an item they interacted with in the window (computed from the input by DuckDB).
        string inputFiles = Path.Combine(input, "*", "*.parquet").Replace("'", "''");
        long seen = DuckQuery.Scalar($"""
            SELECT count(*) FROM {src} r
            JOIN (SELECT DISTINCT user_id, item_id FROM read_parquet('{inputFiles}', hive_partitioning = false)
                  WHERE event_time >= TIMESTAMPTZ '2026-04-17 00:00:00+00' AND event_time < TIMESTAMPTZ '2026-05-01 00:00:00+00') s
            USING (user_id, item_id)
            """);
        Assert.Equal(0, seen);
        long windowUsers = DuckQuery.Scalar($"""
            SELECT count(DISTINCT user_id) FROM read_parquet('{inputFiles}', hive_partitioning = false)
            WHERE event_time >= TIMESTAMPTZ '2026-04-17 00:00:00+00' AND event_time < TIMESTAMPTZ '2026-05-01 00:00:00+00'
            """);
        Assert.True(windowUsers > 1000, $"DuckDB sees {windowUsers} users in the window (statistics of event_time must agree with its values)");
        Assert.Equal(windowUsers, DuckQuery.Scalar($"SELECT count(DISTINCT user_id) FROM {src}"));

        // The DuckDB tables hold the same rows.
        string db = Path.Combine(lake, "batchrecs.duckdb");
        long parquetRows = DuckQuery.Scalar($"SELECT count(*) FROM {src}");
        Assert.Equal(parquetRows, DuckQuery.Scalar("SELECT count(*) FROM recommendations", db));
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM (SELECT user_id, item_id, rank FROM recommendations EXCEPT SELECT user_id, item_id, rank FROM {src})", db));
        Assert.Equal(windowUsers, DuckQuery.Scalar("SELECT count(*) FROM user_factors", db));
        Assert.True(DuckQuery.Scalar("SELECT count(*) FROM item_factors", db) > 0);
        Assert.Equal("succeeded", DuckQuery.Rows("SELECT status FROM runs", db).Single()[0]);

        // The model beats the popularity baseline on the held-out interactions.
        var metrics = DuckQuery.Rows("SELECT metric, value FROM run_metrics", db).ToDictionary(r => (string)r[0], r => (double)r[1]);
        Assert.True(metrics["model.recall@10"] > metrics["popular.recall@10"] * 1.2,
            $"model recall {metrics["model.recall@10"]:F4} vs popularity {metrics["popular.recall@10"]:F4}");
        Assert.True(metrics["model.ndcg@10"] > metrics["popular.ndcg@10"]);
    }

    [Fact]
    public async Task An_unknown_setting_fails_naming_the_key_and_publishes_nothing()
    {
        using var dir = new TempDirectory("batchrecs-e2e");
        var gen = await CliProcess.RunAsync("demo-data", "--out", dir.Sub("input"), "--users", "50", "--items", "30", "--interactions", "500", "--days", "3", "--end-date", "2026-04-30");
        Assert.Equal(0, gen.ExitCode);
        var run = await CliProcess.RunAsync("run", "--input", dir.Sub("input"), "--lake", dir.Sub("lake"), "--run-date", "2026-05-01", "--set", "factor=8");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("unknown setting 'factor'", run.StdErr);
        Assert.Contains("'factors'", run.StdErr);
        Assert.False(Directory.Exists(Path.Combine(dir.Sub("lake"), "recommendations")));
        Assert.Equal("failed", DuckQuery.Rows("SELECT status FROM runs", Path.Combine(dir.Sub("lake"), "batchrecs.duckdb")).Single()[0]);

        // A file without times needs --date (the day of every event), and exactly one of --time and --date.
        File.WriteAllText(dir.Sub("plays.tsv"), "user\titem\tplays\n1\t7\t3\n1\t8\t1\n2\t7\t5\n");
        var neither = await CliProcess.RunAsync("import", "csv", dir.Sub("plays.tsv"), "--out", dir.Sub("plays"), "--user", "user", "--item", "item", "--sep", "\\t");
        Assert.Equal(2, neither.ExitCode);
        Assert.Contains("--date", neither.StdErr);
        var dated = await CliProcess.RunAsync("import", "csv", dir.Sub("plays.tsv"), "--out", dir.Sub("plays"), "--user", "user", "--item", "item",
            "--value", "plays", "--sep", "\\t", "--date", "2011-05-01");
        Assert.True(dated.ExitCode == 0, dated.StdErr);
        Assert.True(Directory.Exists(Path.Combine(dir.Sub("plays"), "dt=2011-05-01")));

        // An analyst's mistyped query gets DuckDB's message and exit code 2, not a stack trace.
        var sql = await CliProcess.RunAsync("sql", "SELECT stauts FROM runs", "--lake", dir.Sub("lake"));
        Assert.Equal(2, sql.ExitCode);
        Assert.Contains("stauts", sql.StdErr);
        Assert.DoesNotContain("   at ", sql.StdErr);
    }
}
