using System.Text.Json;
using BatchRecs.Core.Index;
using BatchRecs.Lake.Output;

namespace BatchRecs.Lake.Tests;

/// <summary>The <c>similar_items</c> partition and table: written with the recommendations, in the same commit.</summary>
public class SimilarItemsPublishTests
{
    private static readonly DateOnly Day1 = new(2026, 5, 1), Day2 = new(2026, 5, 2);

    /// <summary>50 items (ids <c>item-00</c>..), <paramref name="n"/> neighbours each; every fifth item has no list (banned).</summary>
    private static TopNResult Similar(int n, int shift)
    {
        var s = new TopNResult(50, n);
        for (int i = 0; i < 50; i++)
        {
            if (i % 5 == 4) continue;
            s.Counts[i] = n;
            for (int r = 0; r < n; r++) { s.Items[i * n + r] = (i + r + 1 + shift) % 50; s.Scores[i * n + r] = 1f - 0.1f * r; }
        }
        return s;
    }

    private static PublishRequest Request(string runId, DateOnly date, TopNResult? similar) =>
        LakePublisherTests.Request(runId, date, 6, 4) with { SimilarItems = similar };

    private static string SimilarPartition(string lake, DateOnly date) => Path.Combine(lake, LakePublisher.SimilarItemsDir, LakePublisher.PartitionName(date));

    [Fact]
    public async Task Similar_items_are_published_as_a_parquet_partition_with_its_manifest_and_a_duckdb_table()
    {
        using var lake = new TempDirectory();
        var similar = Similar(3, 0);
        var req = Request("r1", Day1, similar);
        var result = await LakePublisher.PublishAsync(lake.Path, req);
        Assert.Equal(SimilarPartition(lake.Path, Day1), result.SimilarItemsDir);
        string dir = result.SimilarItemsDir!;
        Assert.True(File.Exists(Path.Combine(dir, RunManifest.SuccessMarker)));
        var manifest = RunManifest.Read(Path.Combine(dir, RunManifest.FileName));
        Assert.Equal("r1", manifest.RunId);
        Assert.Equal(40 * 3, manifest.Rows);
        Assert.Equal(["item_id:STRING", "similar_item_id:STRING", "rank:INT32", "score:FLOAT", "run_id:STRING"], manifest.Schema.Select(c => $"{c.Name}:{c.Type}"));
        Assert.All(manifest.Files, f => Assert.Equal(ListWriter.Sha256Async(Path.Combine(dir, f.Name)).Result, f.Sha256));

        var glob = Path.Combine(dir, "*.parquet");
        var schema = DuckQuery.Rows($"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{glob}', hive_partitioning = false))");
        Assert.Equal(["item_id:VARCHAR", "similar_item_id:VARCHAR", "rank:INTEGER", "score:FLOAT", "run_id:VARCHAR"], schema.Select(r => $"{r[0]}:{r[1]}"));
        // The file order is the contract's order (item, then rank): read without ORDER BY.
        var rows = DuckQuery.Rows($"SELECT item_id, similar_item_id, rank, score, run_id FROM read_parquet('{glob}', hive_partitioning = false)");
        var expected = new List<string>();
        for (int i = 0; i < 50; i++)
            for (int r = 0; r < similar.Counts[i]; r++)
                expected.Add($"{req.Items.StringAt(i)} {req.Items.StringAt(similar.Items[i * 3 + r])} {r + 1} {similar.Scores[i * 3 + r]} r1");
        Assert.Equal(expected, rows.Select(Row));

        var table = DuckQuery.Rows("SELECT item_id, similar_item_id, rank, score, run_id FROM similar_items ORDER BY item_id, rank", result.DatabasePath);
        Assert.Equal(expected, table.Select(Row));
        Assert.Equal(["VARCHAR", "VARCHAR"], DuckQuery.Rows(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'similar_items' AND column_name LIKE '%item_id' ORDER BY column_name", result.DatabasePath)
            .Select(r => (string)r[0]));
        Assert.Equal(120, DuckQuery.Scalar("SELECT count(*) FROM current_similar_items WHERE run_date = DATE '2026-05-01'", result.DatabasePath));
    }

    private static string Row(object[] r) => $"{r[0]} {r[1]} {r[2]} {r[3]} {r[4]}";

    [Fact]
    public async Task A_rerun_of_a_date_replaces_its_similar_items_and_one_without_them_removes_them_in_the_same_commit()
    {
        using var lake = new TempDirectory();
        await LakePublisher.PublishAsync(lake.Path, Request("a", Day1, Similar(3, 0)));
        await LakePublisher.PublishAsync(lake.Path, Request("b", Day2, Similar(2, 0)));
        var rerun = await LakePublisher.PublishAsync(lake.Path, Request("c", Day1, Similar(4, 7)));
        Assert.Equal("c", RunManifest.Read(Path.Combine(rerun.SimilarItemsDir!, RunManifest.FileName)).RunId);
        var perDate = DuckQuery.Rows("SELECT strftime(run_date, '%Y-%m-%d') || ' ' || any_value(run_id) || ' ' || count(*) FROM similar_items GROUP BY run_date ORDER BY run_date", rerun.DatabasePath);
        Assert.Equal(["2026-05-01 c 160", "2026-05-02 b 80"], perDate.Select(r => (string)r[0]));

        var without = await LakePublisher.PublishAsync(lake.Path, Request("d", Day1, null));
        Assert.Null(without.SimilarItemsDir);
        Assert.False(Directory.Exists(SimilarPartition(lake.Path, Day1)));
        Assert.True(Directory.Exists(SimilarPartition(lake.Path, Day2)));
        Assert.Equal(["run_date=2026-05-02"], Directory.GetDirectories(Path.Combine(lake.Path, LakePublisher.SimilarItemsDir)).Select(Path.GetFileName));
        Assert.Equal(0, DuckQuery.Scalar("SELECT count(*) FROM similar_items WHERE run_date = DATE '2026-05-01'", without.DatabasePath));
        Assert.Equal(80, DuckQuery.Scalar("SELECT count(*) FROM similar_items", without.DatabasePath));
    }

    [Fact]
    public async Task A_lake_that_never_had_similar_items_gets_no_folder_but_an_empty_table()
    {
        using var lake = new TempDirectory();
        var result = await LakePublisher.PublishAsync(lake.Path, Request("a", Day1, null));
        Assert.False(Directory.Exists(Path.Combine(lake.Path, LakePublisher.SimilarItemsDir)));
        Assert.Equal(0, DuckQuery.Scalar("SELECT count(*) FROM current_similar_items", result.DatabasePath));
    }

    [Fact]
    public async Task Retention_removes_old_similar_items_partitions_and_rows_with_the_recommendations()
    {
        using var lake = new TempDirectory();
        var keepAll = new PublishOptions(RetentionDays: 36500);
        await LakePublisher.PublishAsync(lake.Path, Request("a", Day1, Similar(2, 0)), keepAll);
        var result = await LakePublisher.PublishAsync(lake.Path, Request("b", Day2, Similar(2, 0)), new PublishOptions(RetentionDays: 0, Today: Day2));
        Assert.False(Directory.Exists(SimilarPartition(lake.Path, Day1)));
        Assert.False(Directory.Exists(Path.Combine(lake.Path, LakePublisher.RecommendationsDir, LakePublisher.PartitionName(Day1))));
        Assert.Equal(["b"], DuckQuery.Rows("SELECT DISTINCT run_id FROM similar_items", result.DatabasePath).Select(r => (string)r[0]));
    }

    /// <summary>Dies at one publish step the way an in-process test can: by throwing out of the publish (no clean-up runs).</summary>
    private sealed class ThrowAt(string point) : IFaultInjector
    {
        public void Reach(string reached)
        {
            if (reached == point) throw new SimulatedCrash(point);
        }
    }

    private sealed class SimulatedCrash(string point) : Exception($"simulated crash at '{point}'");

    public static TheoryData<string, bool> StepsWithAndWithoutSimilarItems()
    {
        var data = new TheoryData<string, bool>();
        foreach (var step in FaultPoint.PublishSteps) { data.Add(step, true); data.Add(step, false); }
        return data;
    }

    [Theory]
    [MemberData(nameof(StepsWithAndWithoutSimilarItems))]
    public async Task A_crash_at_any_publish_step_leaves_both_partitions_and_both_tables_old_or_all_new(string step, bool newHasSimilar)
    {
        using var lake = new TempDirectory();
        await LakePublisher.PublishAsync(lake.Path, Request("old", Day1, Similar(3, 0)));
        await Assert.ThrowsAsync<SimulatedCrash>(() =>
            LakePublisher.PublishAsync(lake.Path, Request("new", Day1, newHasSimilar ? Similar(2, 5) : null), new PublishOptions { Faults = new ThrowAt(step) }));
        // What the next reader does: roll a committed publish forward, clear an uncommitted one's leftovers.
        LakePublisher.Recover(lake.Path);
        Assert.False(File.Exists(PublishJournal.PathIn(lake.Path)));

        bool committed = Array.IndexOf(FaultPoint.PublishSteps, step) >= Array.IndexOf(FaultPoint.PublishSteps, "journal-written");
        string expected = committed ? "new" : "old";
        string db = Path.Combine(lake.Path, DuckDbCatalog.FileName);
        string recs = Path.Combine(lake.Path, LakePublisher.RecommendationsDir, LakePublisher.PartitionName(Day1));
        Assert.Equal(expected, RunManifest.Read(Path.Combine(recs, RunManifest.FileName)).RunId);
        Assert.Equal([expected], DuckQuery.Rows("SELECT DISTINCT run_id FROM recommendations", db).Select(r => (string)r[0]));
        string similar = SimilarPartition(lake.Path, Day1);
        if (committed && !newHasSimilar)
        {
            Assert.False(Directory.Exists(similar));
            Assert.Equal(0, DuckQuery.Scalar("SELECT count(*) FROM similar_items", db));
        }
        else
        {
            var manifest = RunManifest.Read(Path.Combine(similar, RunManifest.FileName));
            Assert.Equal(expected, manifest.RunId);
            Assert.Equal(manifest.Rows, DuckQuery.Scalar($"SELECT count(*) FROM read_parquet('{Path.Combine(similar, "*.parquet")}') WHERE run_id = '{expected}'"));
            Assert.Equal([expected], DuckQuery.Rows("SELECT DISTINCT run_id FROM similar_items", db).Select(r => (string)r[0]));
            Assert.Equal(manifest.Rows, DuckQuery.Scalar("SELECT count(*) FROM similar_items", db));
        }
        // Nothing staged or set aside is left in either folder.
        foreach (var root in new[] { LakePublisher.RecommendationsDir, LakePublisher.SimilarItemsDir }.Select(d => Path.Combine(lake.Path, d)).Where(Directory.Exists))
            Assert.All(Directory.GetDirectories(root), d => Assert.Matches(@"^run_date=\d{4}-\d{2}-\d{2}$", Path.GetFileName(d)));
    }

    [Fact]
    public async Task Similar_items_not_one_row_per_item_are_refused_before_anything_is_written()
    {
        using var lake = new TempDirectory();
        var e = await Assert.ThrowsAsync<ArgumentException>(() => LakePublisher.PublishAsync(lake.Path, Request("a", Day1, new TopNResult(49, 3))));
        Assert.Contains("49 rows, but the run has 50 items", e.Message);
        Assert.False(Directory.Exists(Path.Combine(lake.Path, LakePublisher.RecommendationsDir, LakePublisher.PartitionName(Day1))));
    }

    [Fact]
    public void A_journal_written_before_similar_items_existed_still_reads()
    {
        using var lake = new TempDirectory();
        File.WriteAllText(PublishJournal.PathIn(lake.Path), JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["run_id"] = "r0", ["staged_partition"] = "/s", ["target_partition"] = "/t", ["staged_database"] = "/d",
        }));
        var journal = PublishJournal.TryRead(lake.Path)!;
        Assert.Equal(("r0", "/s", "/t", "/d"), (journal.RunId, journal.StagedPartition, journal.TargetPartition, journal.StagedDatabase));
        Assert.Null(journal.StagedSimilar);
        Assert.Null(journal.TargetSimilar);
    }
}
