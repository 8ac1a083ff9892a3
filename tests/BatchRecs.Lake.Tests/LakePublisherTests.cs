using BatchRecs.Core.Data;
using BatchRecs.Core.Index;
using BatchRecs.Lake.Output;
using DuckDB.NET.Data;

namespace BatchRecs.Lake.Tests;

public class LakePublisherTests
{
    internal static PublishRequest Request(string runId, DateOnly date, int users, int n, IdMap? userIds = null)
    {
        var u = userIds ?? IdMap.FromInt64(Enumerable.Range(1, users).Select(i => (long)i * 10));
        var items = IdMap.FromStrings(Enumerable.Range(0, 50).Select(i => $"item-{i:D2}"));
        var recs = new TopNResult(users, n);
        for (int x = 0; x < users; x++)
        {
            recs.Counts[x] = x % 4 == 3 ? n - 1 : n; // some users have a shorter list
            for (int r = 0; r < recs.Counts[x]; r++) { recs.Items[x * n + r] = (x + r) % 50; recs.Scores[x * n + r] = 10 - r; }
        }
        var run = new RunRecord(runId, "test", date, RunStatus.Succeeded, DateTime.UtcNow, DateTime.UtcNow, null, 123, users, 50,
            new Dictionary<string, double> { ["model.recall@5"] = 0.25 }, new Dictionary<string, string> { ["factors"] = "2" });
        return new PublishRequest(run, u, items, recs, "als", 2, new float[users * 2], new float[50 * 2], []);
    }


    [Fact]
    public async Task Published_parquet_read_by_duckdb_matches_the_lists_and_the_tables()
    {
        using var lake = new TempDirectory();
        var req = Request("r1", new DateOnly(2026, 5, 1), 9, 5);
        var result = await LakePublisher.PublishAsync(lake.Path, req);
        Assert.True(File.Exists(Path.Combine(result.PartitionDir, "_SUCCESS")));
        var manifest = RunManifest.Read(Path.Combine(result.PartitionDir, "manifest.json"));
        Assert.Equal(req.Recommendations.TotalRows, manifest.Rows);
        Assert.All(manifest.Files, f => Assert.Equal(ListWriter.Sha256Async(Path.Combine(result.PartitionDir, f.Name)).Result, f.Sha256));

        var glob = Path.Combine(result.PartitionDir, "*.parquet");
        var schema = DuckQuery.Rows($"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{glob}', hive_partitioning = false))", result.DatabasePath);
        Assert.Equal(["user_id:BIGINT", "item_id:VARCHAR", "rank:INTEGER", "score:FLOAT", "source:VARCHAR", "propensity:FLOAT", "run_id:VARCHAR"],
            schema.Select(r => $"{r[0]}:{r[1]}").ToArray());
        var rows = DuckQuery.Rows($"SELECT user_id, item_id, rank, score FROM read_parquet('{glob}') ORDER BY user_id, rank", result.DatabasePath);
        Assert.Equal((int)req.Recommendations.TotalRows, rows.Count);
        int k = 0;
        for (int u = 0; u < 9; u++)
            for (int r = 0; r < req.Recommendations.Counts[u]; r++, k++)
            {
                Assert.Equal(req.Users.Int64At(u), (long)rows[k][0]);
                Assert.Equal(req.Items.StringAt(req.Recommendations.Items[u * 5 + r]), (string)rows[k][1]);
                Assert.Equal(r + 1, (int)rows[k][2]);
            }
        Assert.Equal(rows.Count, Convert.ToInt32(DuckQuery.Rows("SELECT count(*) FROM recommendations", result.DatabasePath)[0][0]));
        Assert.Equal(9, Convert.ToInt32(DuckQuery.Rows("SELECT count(*) FROM user_factors", result.DatabasePath)[0][0]));
        Assert.Equal(50, Convert.ToInt32(DuckQuery.Rows("SELECT count(*) FROM item_factors", result.DatabasePath)[0][0]));
        Assert.Equal("succeeded", DuckQuery.Rows("SELECT status FROM runs WHERE run_id = 'r1'", result.DatabasePath)[0][0]);
        Assert.Equal(0.25, (double)DuckQuery.Rows("SELECT value FROM run_metrics WHERE metric = 'model.recall@5'", result.DatabasePath)[0][0]);
    }

    [Fact]
    public async Task A_catalog_build_that_runs_out_of_duckdbs_memory_limit_is_made_again_with_the_next_and_publishes_everything()
    {
        using var lake = new TempDirectory();
        var req = Request("r1", new DateOnly(2026, 5, 1), 20_000, 10);
        var retries = new List<string>();
        var options = new PublishOptions(RetentionDays: 36500) { CatalogMemoryLimits = ["1MB", "256MB"], OnCatalogRetry = retries.Add };
        var result = await LakePublisher.PublishAsync(lake.Path, req, options);
        Assert.Equal(["DuckDB ran out of its 1MB memory limit building the catalog; building it again with 256MB."], retries);
        Assert.Equal(req.Recommendations.TotalRows, Convert.ToInt64(DuckQuery.Rows("SELECT count(*) FROM recommendations", result.DatabasePath)[0][0]));
        Assert.Equal(20_000, Convert.ToInt32(DuckQuery.Rows("SELECT count(*) FROM user_factors", result.DatabasePath)[0][0]));
        Assert.Empty(Directory.GetFiles(lake.Path, ".batchrecs.duckdb.*"));

        // With no larger limit left, the out-of-memory error is the publish's, and the live catalog is the one before.
        var tooSmall = new PublishOptions(RetentionDays: 36500) { CatalogMemoryLimits = ["1MB"] };
        await Assert.ThrowsAsync<DuckDBException>(() => LakePublisher.PublishAsync(lake.Path, Request("r2", new DateOnly(2026, 5, 2), 20_000, 10), tooSmall));
        Assert.Equal(["r1"], DuckQuery.Rows("SELECT DISTINCT run_id FROM recommendations", result.DatabasePath).Select(r => (string)r[0]));
    }

    /// <summary>Records the points it is told, in order (an in-process stand-in for the crash tests' <see cref="CrashAt"/>).</summary>
    private sealed class RecordingFaults : IFaultInjector
    {
        public List<string> Reached { get; } = [];
        public void Reach(string point) { lock (Reached) Reached.Add(point); }
    }

    [Fact]
    public async Task The_publish_tells_the_injector_of_its_options_every_step_in_order_and_no_other_publish_hears_it()
    {
        using var lake = new TempDirectory();
        var faults = new RecordingFaults();
        await LakePublisher.PublishAsync(lake.Path, Request("r1", new DateOnly(2026, 5, 1), 4, 3), new PublishOptions { Faults = faults });
        Assert.Equal(FaultPoint.PublishSteps, faults.Reached);
        // A publish without the injector (the production default) runs the same steps without telling anyone.
        await LakePublisher.PublishAsync(lake.Path, Request("r2", new DateOnly(2026, 5, 1), 4, 3));
        Assert.Equal(FaultPoint.PublishSteps.Length, faults.Reached.Count);
    }

    [Fact]
    public async Task Row_groups_and_part_files_are_sized_by_the_bytes_of_their_values()
    {
        // 30,000 users × 10 items drawn from 100,000 (high-cardinality ids, as real exports have), small targets.
        const int users = 30_000, n = 10;
        const long group = 64 << 10, file = 4 * group;
        var rng = new Random(3);
        var recs = new TopNResult(users, n);
        for (int x = 0; x < users; x++)
        {
            recs.Counts[x] = n;
            for (int r = 0; r < n; r++) { recs.Items[x * n + r] = rng.Next(100_000); recs.Scores[x * n + r] = (float)(1 - 0.01 * r - rng.NextDouble() * 0.001); }
        }
        var run = new RunRecord("sized", "test", new DateOnly(2026, 5, 1), RunStatus.Succeeded, DateTime.UtcNow, DateTime.UtcNow, null, 1, users, 100_000,
            new Dictionary<string, double>(), new Dictionary<string, string>());
        var req = new PublishRequest(run, IdMap.FromInt64(Enumerable.Range(0, users).Select(i => 7_000_000L + i)),
            IdMap.FromInt64(Enumerable.Range(0, 100_000).Select(i => (long)i * 3)), recs, "als", 1, new float[users], new float[100_000], []);
        using var dir = new TempDirectory();
        var parts = await ListWriter.WriteAsync(dir.Path, ListTable.Recommendations(req), default, group, file);

        // Two INT64 ids, rank, score, propensity, and the strings "als" and "sized" (4 + length each): 44 bytes of values a row.
        Assert.Equal(44, ListWriter.BytesPerRow(ListTable.Recommendations(req)));
        long rowsPerGroup = group / 44, rowsPerFile = file / 44;
        // DuckDB's own view of the files: rows and encoded (uncompressed) bytes per row group.
        var groups = DuckQuery.Rows($"SELECT file_name, row_group_id, any_value(row_group_num_rows), sum(total_uncompressed_size)"
            + $"::BIGINT FROM parquet_metadata('{Path.Combine(dir.Path, "*.parquet")}') GROUP BY ALL ORDER BY ALL")
            .Select(r => (File: (string)r[0], Group: Convert.ToInt32(r[1]), Rows: Convert.ToInt64(r[2]), Bytes: Convert.ToInt64(r[3]))).ToList();
        Assert.Equal((long)users * n, groups.Sum(g => g.Rows));
        Assert.Equal((int)Math.Ceiling((double)users * n / (rowsPerFile - rowsPerFile % n)), parts.Count);
        Assert.All(groups, g => Assert.Equal(0, g.Rows % n)); // a user's list never spans two groups
        var full = groups.Where(g => g.Group != groups.Where(h => h.File == g.File).Max(h => h.Group)).ToList();
        Assert.NotEmpty(full);
        Assert.All(full, g => Assert.InRange(g.Rows, rowsPerGroup - n + 1, rowsPerGroup));
        // The plan is what DuckDB reports as the groups' uncompressed size.
        Assert.All(full, g => Assert.InRange(g.Bytes, (long)(0.8 * group), (long)(1.2 * group)));
        Assert.All(parts.SkipLast(1), p => Assert.InRange(p.Rows, rowsPerFile - n + 1, rowsPerFile));
    }

    [Fact]
    public async Task A_list_longer_than_a_row_group_is_sized_for_still_goes_whole_into_one_group()
    {
        // 50 users × 10 items at 44 bytes a row, groups sized for 3 rows: each group holds exactly one whole list.
        const int users = 50, n = 10;
        var recs = new TopNResult(users, n);
        for (int x = 0; x < users; x++)
        {
            recs.Counts[x] = n;
            for (int r = 0; r < n; r++) { recs.Items[x * n + r] = (x + r) % 40; recs.Scores[x * n + r] = 1f - r / 10f; }
        }
        var run = new RunRecord("sized", "test", new DateOnly(2026, 5, 1), RunStatus.Succeeded, DateTime.UtcNow, DateTime.UtcNow, null, 1, users, 40,
            new Dictionary<string, double>(), new Dictionary<string, string>());
        var req = new PublishRequest(run, IdMap.FromInt64(Enumerable.Range(0, users).Select(i => (long)i)),
            IdMap.FromInt64(Enumerable.Range(0, 40).Select(i => (long)i)), recs, "als", 1, new float[users], new float[40], []);
        using var dir = new TempDirectory();
        await ListWriter.WriteAsync(dir.Path, ListTable.Recommendations(req), default, rowGroupBytes: 3 * 44, fileBytes: 12 * 44);
        var groups = DuckQuery.Rows($"SELECT any_value(row_group_num_rows) FROM parquet_metadata('{Path.Combine(dir.Path, "*.parquet")}') GROUP BY file_name, row_group_id")
            .Select(r => Convert.ToInt64(r[0])).ToList();
        Assert.Equal(users, groups.Count);
        Assert.All(groups, rows => Assert.Equal(n, rows));
        Assert.Equal((long)users * n, DuckQuery.Scalar($"SELECT count(*) FROM read_parquet('{Path.Combine(dir.Path, "*.parquet")}') WHERE rank BETWEEN 1 AND {n}"));
    }

    [Fact]
    public async Task Rerunning_a_date_replaces_its_partition_and_rows_and_keeps_other_dates()
    {
        using var lake = new TempDirectory();
        await LakePublisher.PublishAsync(lake.Path, Request("a", new DateOnly(2026, 5, 1), 8, 4));
        await LakePublisher.PublishAsync(lake.Path, Request("b", new DateOnly(2026, 5, 2), 8, 4));
        var again = await LakePublisher.PublishAsync(lake.Path, Request("c", new DateOnly(2026, 5, 1), 3, 2));
        var db = again.DatabasePath;
        var perDate = DuckQuery.Rows("SELECT strftime(run_date, '%Y-%m-%d'), any_value(run_id), count(*) FROM recommendations GROUP BY 1 ORDER BY 1", db);
        Assert.Equal(2, perDate.Count);
        Assert.Equal(("2026-05-01", "c"), ((string)perDate[0][0], (string)perDate[0][1]));
        Assert.Equal(("2026-05-02", "b"), ((string)perDate[1][0], (string)perDate[1][1]));
        var files = Directory.GetFiles(again.PartitionDir).Select(f => Path.GetFileName(f)!).Order().ToArray();
        Assert.Equal(["_SUCCESS", "manifest.json", "part-00000.parquet"], files);
        Assert.Equal("c", RunManifest.Read(Path.Combine(again.PartitionDir, "manifest.json")).RunId);
        // Nothing staged is left behind.
        Assert.Empty(Directory.GetDirectories(Path.Combine(lake.Path, "recommendations"), ".*"));
        Assert.Empty(Directory.GetFiles(lake.Path, ".batchrecs*"));
        Assert.Equal(3, Convert.ToInt32(DuckQuery.Rows("SELECT count(*) FROM runs", db)[0][0]));
    }
}
