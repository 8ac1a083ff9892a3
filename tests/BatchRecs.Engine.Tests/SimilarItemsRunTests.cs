using BatchRecs.Lake.Import;
using BatchRecs.Lake.Output;

namespace BatchRecs.Engine.Tests;

/// <summary>A run publishes similar items (or, with <c>similar_items=false</c>, none), and <c>recommend --item</c> reads them.</summary>
public class SimilarItemsRunTests
{
    private const string Date = "2026-05-01";

    private static async Task<string> DemoInputAsync(TempDirectory dir)
    {
        string input = dir.Sub("input");
        var gen = await CliProcess.RunAsync("demo-data", "--out", input, "--users", "300", "--items", "120", "--interactions", "6000",
            "--days", "10", "--seed", "5", "--end-date", "2026-04-30");
        Assert.True(gen.ExitCode == 0, gen.StdErr);
        return input;
    }

    private static Task<CliProcess.Result> RunAsync(string input, string lake, params string[] extra) =>
        CliProcess.RunAsync(["run", "--input", input, "--lake", lake, "--run-date", Date, "--set", "iterations=3", "--set", "refit_iterations=1",
            "--set", "factors=8", "--set", "top_n=5", "--set", "quality_gate=false", "--set", "retention_days=36500", .. extra]);

    [Theory]
    [InlineData("exact")]
    [InlineData("ivf")]
    public async Task A_run_publishes_each_items_most_cosine_similar_items_and_similar_items_false_publishes_none(string index)
    {
        using var dir = new TempDirectory("batchrecs-similar");
        string input = await DemoInputAsync(dir), lake = dir.Sub("lake");
        var run = await RunAsync(input, lake, "--set", "similar_n=6", "--set", $"index={index}");
        Assert.True(run.ExitCode == 0, run.StdOut + run.StdErr);
        Assert.Contains("stage=similar", run.StdOut);

        string partition = Path.Combine(lake, LakePublisher.SimilarItemsDir, $"run_date={Date}");
        string db = Path.Combine(lake, DuckDbCatalog.FileName);
        var manifest = RunManifest.Read(Path.Combine(partition, RunManifest.FileName));
        Assert.True(File.Exists(Path.Combine(partition, RunManifest.SuccessMarker)));
        string src = $"read_parquet('{Path.Combine(partition, "*.parquet")}', hive_partitioning = false)";
        Assert.Equal(["item_id:BIGINT", "similar_item_id:BIGINT", "rank:INTEGER", "score:FLOAT", "run_id:VARCHAR"],
            DuckQuery.Rows($"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {src})").Select(r => $"{r[0]}:{r[1]}"));
        Assert.Equal(manifest.Rows, DuckQuery.Scalar($"SELECT count(*) FROM {src} WHERE run_id = '{manifest.RunId}'"));

        // Every item with factors has 6 neighbours, ranked 1..6 with non-increasing scores, never itself.
        long items = DuckQuery.Scalar("SELECT count(*) FROM item_factors", db);
        Assert.Equal(items * 6, manifest.Rows);
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM {src} WHERE item_id = similar_item_id"));
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM (SELECT item_id FROM {src} GROUP BY item_id HAVING min(rank) <> 1 OR max(rank) <> 6 OR count(DISTINCT similar_item_id) <> 6)"));
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM (SELECT score, lag(score) OVER (PARTITION BY item_id ORDER BY rank) AS prev FROM {src}) WHERE prev < score"));
        // The scores are the cosines of the published item factors, computed here by DuckDB (double precision).
        Assert.Equal(0, DuckQuery.Scalar($"""
            SELECT count(*) FROM {src} s
            JOIN item_factors a ON a.item_id = s.item_id JOIN item_factors b ON b.item_id = s.similar_item_id
            WHERE abs(list_cosine_similarity(a.factors::DOUBLE[], b.factors::DOUBLE[]) - s.score) > 1e-4
            """, db));
        if (index == "exact")
        {
            // The first neighbour is the most similar other item.
            Assert.Equal(0, DuckQuery.Scalar($"""
                SELECT count(*) FROM {src} s JOIN (
                    SELECT a.item_id, max(list_cosine_similarity(a.factors::DOUBLE[], b.factors::DOUBLE[])) AS best
                    FROM item_factors a JOIN item_factors b ON a.item_id <> b.item_id GROUP BY a.item_id) x USING (item_id)
                WHERE s.rank = 1 AND abs(s.score - x.best) > 1e-4
                """, db));
        }

        // The table holds the same rows, and the run its metric.
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM (SELECT item_id, similar_item_id, rank, run_id FROM similar_items EXCEPT SELECT item_id, similar_item_id, rank, run_id FROM {src})", db));
        Assert.Equal(manifest.Rows, DuckQuery.Scalar("SELECT count(*) FROM current_similar_items", db));
        Assert.Equal(items, DuckQuery.Scalar($"SELECT value FROM run_metrics WHERE metric = '{MetricNames.SimilarItems}' AND run_id = '{manifest.RunId}'", db));

        // A rerun of the date without similar items leaves none for it, in Parquet or DuckDB.
        var without = await RunAsync(input, lake, "--set", "similar_items=false", "--set", $"index={index}");
        Assert.True(without.ExitCode == 0, without.StdOut + without.StdErr);
        Assert.DoesNotContain("stage=similar", without.StdOut);
        Assert.False(Directory.Exists(partition));
        Assert.Equal(0, DuckQuery.Scalar("SELECT count(*) FROM similar_items", db));
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM run_metrics WHERE metric = '{MetricNames.SimilarItems}' AND run_id = (SELECT any_value(run_id) FROM current_recommendations)", db));
    }

    [Fact]
    public async Task Recommend_item_prints_the_similar_items_with_titles_and_names_what_is_wrong()
    {
        using var dir = new TempDirectory("batchrecs-similar-cli");
        string input = await DemoInputAsync(dir), lake = dir.Sub("lake");
        // Item metadata beside the input (the conventional path), so the run loads the items table.
        var ids = DuckQuery.Rows($"SELECT DISTINCT item_id FROM read_parquet('{Path.Combine(input, "*", "*.parquet")}', hive_partitioning = false) ORDER BY 1")
            .Select(r => Convert.ToInt64(r[0])).ToArray();
        await ItemMetadata.WriteAsync(Path.Combine(input, ItemMetadata.DefaultRelativePath), ids, ids.Select(i => $"Title {i}").ToArray(),
            ids.Select(i => $"cat{i % 3}").ToArray());
        var run = await RunAsync(input, lake, "--set", "similar_n=4", "--set", "index=exact");
        Assert.True(run.ExitCode == 0, run.StdOut + run.StdErr);

        string db = Path.Combine(lake, DuckDbCatalog.FileName);
        var expected = DuckQuery.Rows("SELECT similar_item_id FROM current_similar_items WHERE item_id = (SELECT min(item_id) FROM similar_items) ORDER BY rank", db)
            .Select(r => Convert.ToInt64(r[0])).ToArray();
        long item = DuckQuery.Scalar("SELECT min(item_id) FROM similar_items", db);
        var shown = await CliProcess.RunAsync("recommend", "--item", item.ToString(System.Globalization.CultureInfo.InvariantCulture), "--lake", lake);
        Assert.True(shown.ExitCode == 0, shown.StdErr);
        Assert.Equal(4, expected.Length);
        foreach (long similar in expected) Assert.Contains($"Title {similar}", shown.StdOut);
        Assert.Contains("similar_item_id", shown.StdOut);
        Assert.Contains("category", shown.StdOut);

        var unknown = await CliProcess.RunAsync("recommend", "--item", "999999", "--lake", lake);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown item '999999'", unknown.StdErr);
        Assert.Contains("similar_items=true", unknown.StdErr);

        var both = await CliProcess.RunAsync("recommend", "--item", "1", "--user", "1", "--lake", lake);
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("exactly one of --user", both.StdErr);
        var neither = await CliProcess.RunAsync("recommend", "--lake", lake);
        Assert.Equal(2, neither.ExitCode);
        Assert.Contains("exactly one of --user", neither.StdErr);

        // --user still prints a user's list.
        string user = Convert.ToString(DuckQuery.Rows("SELECT min(user_id) FROM current_recommendations", db)[0][0], System.Globalization.CultureInfo.InvariantCulture)!;
        var rec = await CliProcess.RunAsync("recommend", "--user", user, "--lake", lake);
        Assert.True(rec.ExitCode == 0, rec.StdErr);
        Assert.Contains("Title ", rec.StdOut);
    }
}
