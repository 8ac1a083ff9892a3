using BatchRecs.Lake.Output;
using DuckDB.NET.Data;

namespace BatchRecs.Engine.Tests;

/// <summary>
/// What a careless analyst or operator can do to the lake, tried with real processes: a read-write session on the
/// catalog during a publish, a lake given as a file, ids of another kind, a broken job file, an unknown user.
/// </summary>
public class CatalogSafetyTests
{
    private static async Task<string> DemoInputAsync(TempDirectory dir, string endDate = "2026-04-30")
    {
        string input = dir.Sub("input");
        var gen = await CliProcess.RunAsync("demo-data", "--out", input, "--users", "300", "--items", "150", "--interactions", "6000",
            "--days", "10", "--seed", "3", "--end-date", endDate);
        Assert.True(gen.ExitCode == 0, gen.StdErr);
        return input;
    }

    private static Task<CliProcess.Result> RunAsync(string input, string lake, string date, params string[] extra) =>
        CliProcess.RunAsync(["run", "--input", input, "--lake", lake, "--run-date", date,
            "--set", "iterations=3", "--set", "refit_iterations=1", "--set", "factors=8", "--set", "top_n=5", .. extra]);

    private static long Count(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    private static int Execute(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteNonQuery();
    }

    /// <summary>The rows another process (the CLI, read-only) sees in the catalog for a date.</summary>
    private static async Task<long> CatalogRowsAsync(string lake, string date)
    {
        var r = await CliProcess.RunAsync("sql", "--lake", lake, $"SELECT count(*) AS n FROM recommendations WHERE run_date = DATE '{date}'");
        Assert.True(r.ExitCode == 0, r.StdErr);
        return long.Parse(r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)[2].Trim());
    }

    [Fact]
    public async Task A_read_write_analyst_session_never_attaches_its_write_ahead_log_to_a_published_catalog()
    {
        using var dir = new TempDirectory("batchrecs-wal");
        string input = await DemoInputAsync(dir), lake = dir.Sub("lake");
        string db = Path.Combine(lake, DuckDbCatalog.FileName);
        Assert.Equal(0, (await RunAsync(input, lake, "2026-05-01")).ExitCode);

        // The DuckDB CLI's default: a read-write session that commits a change and stays open.
        var analyst = new DuckDBConnection($"Data Source={db}");
        analyst.Open();
        Assert.True(Execute(analyst, "DELETE FROM recommendations WHERE user_id < 100") > 0);
        Assert.True(File.Exists(db + ".wal"), "the analyst's commit should sit in a write-ahead log");

        var publish = await RunAsync(input, lake, "2026-05-01");
        Assert.True(publish.ExitCode == 0, publish.StdErr);
        var manifest = RunManifest.Read(Path.Combine(lake, "recommendations", "run_date=2026-05-01", RunManifest.FileName));
        Assert.False(File.Exists(db + ".wal"));
        Assert.Equal(manifest.Rows, await CatalogRowsAsync(lake, "2026-05-01"));
        Assert.Single(Directory.GetFiles(Path.Combine(lake, DuckDbCatalog.QuarantineDir)));

        // The session checkpoints and writes again after the publish: DuckDB starts a new log beside the new catalog.
        // The next reader sets it aside, so the catalog again matches the Parquet.
        Execute(analyst, "CHECKPOINT");
        Assert.True(Execute(analyst, "DELETE FROM recommendations WHERE user_id < 200") > 0);
        Assert.True(File.Exists(db + ".wal"));
        var runs = await CliProcess.RunAsync("runs", "--lake", lake);
        Assert.Contains("written by a read-write session", runs.StdErr);
        Assert.Equal(manifest.Rows, await CatalogRowsAsync(lake, "2026-05-01"));
        var rec = await CliProcess.RunAsync("recommend", "--user", "42", "--lake", lake);
        Assert.True(rec.ExitCode == 0, rec.StdErr);
        analyst.Dispose();
        Assert.Equal(manifest.Rows, await CatalogRowsAsync(lake, "2026-05-01"));
    }

    [Fact]
    public async Task A_lake_that_is_a_file_and_ids_of_another_kind_than_the_catalog_fail_at_once_as_bad_input()
    {
        using var dir = new TempDirectory("batchrecs-badlake");
        string input = await DemoInputAsync(dir), lake = dir.Sub("lake");
        string file = Path.Combine(dir.Path, "not-a-dir");
        File.WriteAllText(file, "x");
        var asFile = await RunAsync(input, file, "2026-05-01");
        Assert.Equal(2, asFile.ExitCode);
        Assert.Contains("is a file", asFile.StdErr);
        Assert.DoesNotContain("   at ", asFile.StdErr);

        Assert.Equal(0, (await RunAsync(input, lake, "2026-05-01")).ExitCode);
        // The same events with string user ids, imported through the CSV importer.
        string csv = Path.Combine(dir.Path, "events.csv");
        File.WriteAllLines(csv, ["user,item,ts", .. Enumerable.Range(0, 200).Select(i => $"u{i % 40},{i % 25},{1777500000 + i * 60}")]);
        string stringInput = dir.Sub("string-input");
        var import = await CliProcess.RunAsync("import", "csv", csv, "--out", stringInput, "--user", "user", "--item", "item", "--time", "ts");
        Assert.True(import.ExitCode == 0, import.StdErr);
        var mixed = await CliProcess.RunAsync("run", "--input", stringInput, "--lake", lake, "--run-date", "2026-05-01", "--set", "lookback_days=30",
            "--set", "quality_gate=false");
        Assert.Equal(2, mixed.ExitCode);
        Assert.Contains("'user_id' is STRING", mixed.StdErr);
        Assert.Contains("holds INT64 user_ids", mixed.StdErr);
        Assert.DoesNotContain("stage_start stage=read", mixed.StdOut); // refused before reading
    }

    [Fact]
    public async Task A_broken_job_file_is_recorded_in_runs_and_an_unknown_user_is_an_error()
    {
        using var dir = new TempDirectory("batchrecs-jobfile");
        string input = await DemoInputAsync(dir), lake = dir.Sub("lake");
        Assert.Equal(0, (await RunAsync(input, lake, "2026-05-01")).ExitCode);
        string job = Path.Combine(dir.Path, "broken.json");
        File.WriteAllText(job, """{ "name": "broken", "settings": { "factorz": 8 } }""");
        var r = await CliProcess.RunAsync("run", "--input", input, "--lake", lake, "--job", job, "--run-date", "2026-05-01");
        Assert.Equal(2, r.ExitCode);
        var row = DuckQuery.Rows("SELECT job, status, reason FROM runs WHERE job = 'broken'", Path.Combine(lake, DuckDbCatalog.FileName)).Single();
        Assert.Equal("failed", row[1]);
        Assert.Contains("factorz", (string)row[2]);
        Assert.Contains("broken.json", (string)row[2]);

        var unknown = await CliProcess.RunAsync("recommend", "--user", "no-such-user", "--lake", lake);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown user 'no-such-user'", unknown.StdErr);
    }
}
