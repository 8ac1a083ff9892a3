namespace BatchRecs.Engine.Tests;

/// <summary>explore_slots through a whole run: the published rows' source and propensity, in Parquet and in DuckDB.</summary>
public class ExplorationRunTests
{
    [Fact]
    public async Task Explored_slots_are_published_with_exact_propensities_and_change_from_night_to_night()
    {
        using var dir = new TempDirectory("batchrecs-explore");
        string input = dir.Sub("input"), lake = dir.Sub("lake");
        Assert.Equal(0, (await CliProcess.RunAsync("demo-data", "--out", input, "--users", "500", "--items", "300", "--interactions", "15000",
            "--days", "10", "--seed", "8", "--end-date", "2026-04-30")).ExitCode);
        string[] common = ["run", "--input", input, "--lake", lake, "--set", "top_n=10", "--set", "lookback_days=12", "--set", "retention_days=36500",
            "--set", "explore_slots=3", "--set", "explore_uniform=0.25"];
        var first = await CliProcess.RunAsync([.. common, "--run-date", "2026-05-01"]);
        Assert.True(first.ExitCode == 0, first.StdErr);

        string parts = $"read_parquet('{lake}/recommendations/run_date=2026-05-01/*.parquet')";
        string events = $"read_parquet('{input}/dt=*/*.parquet')";
        // Every model list has 3 explored rows, each with 0 < propensity < 1; the model's rows have propensity 1.
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM (SELECT user_id, count(*) FILTER (WHERE source = 'explore') AS e FROM {parts} WHERE source <> 'popular' GROUP BY user_id) WHERE e <> 3"));
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM {parts} WHERE source = 'explore' AND NOT (propensity > 0 AND propensity < 1)"));
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM {parts} WHERE source <> 'explore' AND propensity <> 1"));
        Assert.True(DuckQuery.Scalar($"SELECT count(*) FROM {parts} WHERE source = 'explore'") >= 3 * 450);
        // Explored items are never the user's own, and ranks stay 1 … 10.
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM {parts} r JOIN {events} e USING (user_id, item_id) WHERE r.source = 'explore'"));
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM (SELECT user_id, max(rank) AS m, count(*) AS n FROM {parts} GROUP BY user_id) WHERE m <> n OR n <> 10"));
        // The analysts' table carries the same propensities, and the run reports its exploration.
        string db = Path.Combine(lake, "batchrecs.duckdb");
        Assert.Equal(DuckQuery.Scalar($"SELECT count(*) FROM {parts} WHERE source = 'explore'"),
            DuckQuery.Scalar("SELECT count(*) FROM recommendations WHERE source = 'explore' AND propensity < 1", db));
        Assert.Equal(DuckQuery.Scalar($"SELECT count(*) FROM {parts} WHERE source = 'explore'"),
            DuckQuery.Scalar("SELECT CAST(value AS BIGINT) FROM run_metrics WHERE metric = 'lists.explored'", db));

        // The same night again: the same lists (the policy is seeded by the job's seed and the run date) ...
        string Hash(string date) => DuckQuery.Rows($"SELECT sum(hash(user_id, item_id, rank, propensity)) FROM read_parquet('{lake}/recommendations/run_date={date}/*.parquet')")[0][0].ToString()!;
        string once = Hash("2026-05-01");
        Assert.Equal(0, (await CliProcess.RunAsync([.. common, "--run-date", "2026-05-01"])).ExitCode);
        Assert.Equal(once, Hash("2026-05-01"));
        // ... and the next night explores other items.
        Assert.Equal(0, (await CliProcess.RunAsync([.. common, "--run-date", "2026-05-02"])).ExitCode);
        long same = DuckQuery.Scalar($"""
            SELECT count(*) FROM read_parquet('{lake}/recommendations/run_date=2026-05-01/*.parquet') a
            JOIN read_parquet('{lake}/recommendations/run_date=2026-05-02/*.parquet') b USING (user_id, item_id) WHERE a.source = 'explore' AND b.source = 'explore'
            """);
        Assert.True(same < 0.3 * DuckQuery.Scalar($"SELECT count(*) FROM {parts} WHERE source = 'explore'"), $"{same} explored pairs repeated");

        // More slots than positions is refused, naming the setting.
        var refused = await CliProcess.RunAsync([.. common, "--run-date", "2026-05-03", "--set", "explore_slots=11"]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("explore_slots=11 is more than top_n=10", refused.StdErr);
    }
}
