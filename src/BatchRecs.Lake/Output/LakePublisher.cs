using System.Globalization;
using BatchRecs.Lake.Input;

namespace BatchRecs.Lake.Output;

/// <summary>What a publish produced.</summary>
public sealed record PublishResult(string PartitionDir, string DatabasePath, RunManifest Manifest);

/// <summary>How long published data is kept, and how long to wait for another publisher.</summary>
public sealed record PublishOptions(int RetentionDays = 30, double LockTimeoutSeconds = 600);

/// <summary>
/// Publishes a run all or nothing: the Parquet partition <c>LAKE/recommendations/run_date=D/</c> (parts, then
/// <c>_SUCCESS</c>, then <c>manifest.json</c>) is staged beside its final name, the next DuckDB file is staged beside
/// the live one, and only then are both swapped in by rename. Until the swap, nothing readers see has changed;
/// a crash at any point leaves the previous partition and database intact, and the next publish clears the leftovers.
/// </summary>
public static class LakePublisher
{
    public const string RecommendationsDir = "recommendations";
    private const string StagingPrefix = ".staging-";

    public static string PartitionName(DateOnly runDate) => "run_date=" + runDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static async Task<PublishResult> PublishAsync(string lakeDir, PublishRequest req, PublishOptions? options = null, CancellationToken ct = default)
    {
        options ??= new PublishOptions();
        using var publishLock = await PublishLock.AcquireAsync(lakeDir, TimeSpan.FromSeconds(options.LockTimeoutSeconds), ct);
        string recRoot = Path.Combine(lakeDir, RecommendationsDir);
        Directory.CreateDirectory(recRoot);
        RemoveLeftovers(lakeDir);
        string target = Path.Combine(recRoot, PartitionName(req.Run.RunDate));
        string staged = Path.Combine(recRoot, $"{StagingPrefix}{PartitionName(req.Run.RunDate)}-{req.Run.RunId}");

        var parts = await RecommendationWriter.WriteAsync(staged, req, ct);
        FaultPoint.Reach("parts-written");
        var manifest = new RunManifest(req.Run.RunId, req.Run.Job, req.Run.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            DateTime.UtcNow, parts.Sum(p => p.Rows), OutputSchema(req), parts, req.Run.Settings, req.Run.Metrics, req.InputFiles, req.SkippedInputs ?? []);
        AtomicRename.WriteFile(Path.Combine(staged, RunManifest.SuccessMarker), []);
        FaultPoint.Reach("success-written");
        AtomicRename.WriteFile(Path.Combine(staged, RunManifest.FileName), manifest.ToUtf8());
        FaultPoint.Reach("manifest-written");

        string stagedDb = DuckDbCatalog.Stage(lakeDir, req, parts.Select(p => Path.Combine(staged, p.Name)).ToList(), options.RetentionDays);
        FaultPoint.Reach("database-staged");
        ct.ThrowIfCancellationRequested();

        // The commit point: two renames, Parquet first (services), then DuckDB (analysts).
        string? old = AtomicRename.ReplaceDirectory(staged, target);
        FaultPoint.Reach("partition-swapped");
        DuckDbCatalog.Commit(lakeDir, stagedDb);
        FaultPoint.Reach("database-committed");
        if (old is not null) Directory.Delete(old, recursive: true);
        ApplyRetention(recRoot, req.Run.RunDate, options.RetentionDays);
        FaultPoint.Reach("retention-applied");
        return new PublishResult(target, Path.Combine(lakeDir, DuckDbCatalog.FileName), manifest);
    }

    /// <summary>Records a run's status without publishing (running at start; failed or rejected at the end).</summary>
    public static async Task RecordRunAsync(string lakeDir, RunRecord run, PublishOptions? options = null, CancellationToken ct = default)
    {
        options ??= new PublishOptions();
        using var publishLock = await PublishLock.AcquireAsync(lakeDir, TimeSpan.FromSeconds(options.LockTimeoutSeconds), ct);
        RemoveLeftovers(lakeDir);
        DuckDbCatalog.RecordRun(lakeDir, run);
    }

    /// <summary>Staged partitions and database copies of publishers that died (safe: we hold the publish lock).</summary>
    private static void RemoveLeftovers(string lakeDir)
    {
        string recRoot = Path.Combine(lakeDir, RecommendationsDir);
        if (Directory.Exists(recRoot))
            foreach (var d in Directory.GetDirectories(recRoot, StagingPrefix + "*").Concat(Directory.GetDirectories(recRoot, "run_date=*.old-*")))
                Directory.Delete(d, recursive: true);
        foreach (var f in Directory.GetFiles(lakeDir, $".{DuckDbCatalog.FileName}.*.tmp*"))
            File.Delete(f);
    }

    /// <summary>Deletes Parquet partitions older than the retention window before <paramref name="runDate"/>.</summary>
    private static void ApplyRetention(string recRoot, DateOnly runDate, int retentionDays)
    {
        var oldest = runDate.AddDays(-retentionDays);
        foreach (var d in Directory.GetDirectories(recRoot, "run_date=*"))
        {
            var name = Path.GetFileName(d)["run_date=".Length..];
            if (DateOnly.TryParseExact(name, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) && day < oldest)
                Directory.Delete(d, recursive: true);
        }
    }

    private static IReadOnlyList<ManifestColumn> OutputSchema(PublishRequest req)
    {
        static string Id(Core.Data.IdMap m) => m.Kind == Core.Data.IdKind.Int64 ? "INT64" : "STRING";
        return [new("user_id", Id(req.Users)), new("item_id", Id(req.Items)), new("rank", "INT32"), new("score", "FLOAT"), new("source", "STRING"), new("run_id", "STRING")];
    }
}
