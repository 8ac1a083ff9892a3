namespace BatchRecs.Analyses.Tests;

/// <summary>
/// <c>batchrecs sql</c> only reads the lake: statements that would write a file, change the catalog, reach the network,
/// load code or read outside the lake are refused with exit code 2 and a message, and the lake is byte-identical
/// afterwards (every file hashed before and after, on a private copy of the demo lake).
/// </summary>
[Collection(DemoLakeCollection.Name)]
public sealed class ReadOnlySqlTests(DemoLakeFixture demo)
{
    /// <summary>
    /// A statement (LAKE stands for the lake copy's path), whether it runs on the catalog or on <c>--db :memory:</c>,
    /// and a fragment the error must contain: "refused" for the statements <c>sql</c> rejects itself, DuckDB's own
    /// words for what its lock-down rejects.
    /// </summary>
    public static TheoryData<string, bool, string> Writes() => new()
    {
        { $"COPY (SELECT 1 AS x) TO 'LAKE/recommendations/run_date={DemoLakeFixture.Today}/part-00000.parquet' (FORMAT parquet)", false, "refused" },
        { "COPY (SELECT 1 AS x) TO 'LAKE/batchrecs.duckdb'", false, "refused" },
        { $"COPY (SELECT 1 AS x) TO 'LAKE/recommendations/run_date={DemoLakeFixture.Today}/part-00000.parquet' (FORMAT parquet)", true, "refused" },
        { "ATTACH 'LAKE/batchrecs.duckdb' AS lake; DELETE FROM lake.runs", true, "refused" },
        { "ATTACH 'LAKE/batchrecs.duckdb' AS lake; DROP TABLE lake.run_metrics", true, "refused" },
        { "DELETE FROM runs", false, "refused" },
        { "DROP TABLE run_metrics", false, "refused" },
        { "INSTALL httpfs", false, "refused" },
        { "LOAD httpfs", true, "refused" },
        { "SELECT count(*) FROM read_parquet('https://example.com/x.parquet')", false, "disabled by configuration" },
        { "SELECT count(*) FROM read_parquet('https://example.com/x.parquet')", true, "disabled by configuration" },
        { "SELECT * FROM read_csv('/etc/passwd')", false, "disabled by configuration" },
        { "SELECT * FROM read_csv('/etc/passwd')", true, "disabled by configuration" },
        { "SET enable_external_access = true", false, "locked" },
        { "SET VARIABLE x = 1; COPY (SELECT getvariable('x') AS x) TO 'LAKE/x.csv'", false, "refused" },
        { "EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO 'LAKE/x.csv'", false, "refused" },
        { "ATTACH 'LAKE/batchrecs.duckdb' AS lake (READ_ONLY); SELECT count(*) FROM lake.runs", true, "refused" },
        { "SELECT $1 AS x", false, "--set-var" },
    };

    [Theory]
    [MemberData(nameof(Writes))]
    public async Task A_statement_that_would_write_or_reach_out_is_refused_and_the_lake_is_untouched(string statement, bool inMemory, string expected)
    {
        using var lake = demo.CopyLake();
        var before = LakeFingerprint.Of(lake.Path);
        string sql = statement.Replace("LAKE", lake.Path);

        var r = inMemory
            ? await CliProcess.RunAsync("sql", sql, "--db", ":memory:", "--lake", lake.Path)
            : await CliProcess.RunAsync("sql", sql, "--lake", lake.Path);

        string diff = LakeFingerprint.Diff(before, LakeFingerprint.Of(lake.Path));
        Assert.True(diff.Length == 0, $"the lake changed:\n{diff}\n--- stdout ---\n{r.StdOut}\n--- stderr ---\n{r.StdErr}");
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}, expected 2\n--- stdout ---\n{r.StdOut}\n--- stderr ---\n{r.StdErr}");
        Assert.Contains(expected, r.StdErr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", r.StdErr); // a refusal is a message, not a stack trace
    }

    [Fact]
    public async Task The_catalog_is_read()
    {
        var r = await CliProcess.RunAsync("sql", "SELECT count(*) AS runs, count(*) FILTER (WHERE status = 'failed') AS failed FROM runs", "--lake", demo.Lake);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Matches(@"(?m)^3\s+\|\s+1\s*$", r.StdOut);
    }

    [Fact]
    public async Task In_memory_queries_read_the_lakes_parquet()
    {
        long expected = DuckQuery.Scalar("SELECT count(*) FROM recommendations", demo.Catalog);
        var r = await CliProcess.RunAsync("sql", $"SELECT count(*) AS n FROM read_parquet('{demo.Lake}/recommendations/*/*.parquet')", "--db", ":memory:", "--lake", demo.Lake);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Matches($@"(?m)^{expected}\s*$", r.StdOut);
    }

    [Fact]
    public async Task The_runs_and_recommend_commands_still_read_the_catalog()
    {
        var runs = await CliProcess.RunAsync("runs", "--lake", demo.Lake);
        Assert.True(runs.ExitCode == 0, runs.StdErr);
        Assert.Contains("(3 rows)", runs.StdOut);

        string user = Convert.ToString(DuckQuery.Rows("SELECT min(user_id) FROM current_recommendations", demo.Catalog)[0][0], System.Globalization.CultureInfo.InvariantCulture)!;
        var rec = await CliProcess.RunAsync("recommend", "--user", user, "--lake", demo.Lake);
        Assert.True(rec.ExitCode == 0, rec.StdErr);
        Assert.Contains("(20 rows)", rec.StdOut);
    }
}
