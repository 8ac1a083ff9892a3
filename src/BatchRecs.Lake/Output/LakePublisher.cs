using System.Globalization;
using BatchRecs.Lake.Input;

namespace BatchRecs.Lake.Output;

/// <summary>What a publish produced.</summary>
public sealed record PublishResult(string PartitionDir, string DatabasePath, RunManifest Manifest);

/// <summary>
/// Publishes a run all or nothing: the Parquet partition <c>LAKE/recommendations/run_date=D/</c> (parts, then
/// <c>_SUCCESS</c>, then <c>manifest.json</c>) is staged beside its final name, the next DuckDB file is staged beside
/// the live one, and only then are both swapped in by rename. Until the swap, nothing readers see has changed.
/// </summary>
public static class LakePublisher
{
    public const string RecommendationsDir = "recommendations";

    public static string PartitionName(DateOnly runDate) => "run_date=" + runDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static async Task<PublishResult> PublishAsync(string lakeDir, PublishRequest req, CancellationToken ct = default)
    {
        string recRoot = Path.Combine(lakeDir, RecommendationsDir);
        Directory.CreateDirectory(recRoot);
        string target = Path.Combine(recRoot, PartitionName(req.Run.RunDate));
        string staged = Path.Combine(recRoot, $".staging-{PartitionName(req.Run.RunDate)}-{req.Run.RunId}");
        if (Directory.Exists(staged)) Directory.Delete(staged, recursive: true);

        var parts = await RecommendationWriter.WriteAsync(staged, req, ct);
        var manifest = new RunManifest(req.Run.RunId, req.Run.Job, req.Run.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            DateTime.UtcNow, parts.Sum(p => p.Rows), OutputSchema(req), parts, req.Run.Settings, req.Run.Metrics, req.InputFiles, req.SkippedInputs ?? []);
        AtomicRename.WriteFile(Path.Combine(staged, RunManifest.SuccessMarker), []);
        AtomicRename.WriteFile(Path.Combine(staged, RunManifest.FileName), manifest.ToUtf8());

        string stagedDb = DuckDbCatalog.Stage(lakeDir, req, parts.Select(p => Path.Combine(staged, p.Name)).ToList());
        ct.ThrowIfCancellationRequested();

        // The commit point: two renames, Parquet first (services), then DuckDB (analysts).
        string? old = AtomicRename.ReplaceDirectory(staged, target);
        DuckDbCatalog.Commit(lakeDir, stagedDb);
        if (old is not null) Directory.Delete(old, recursive: true);
        return new PublishResult(target, Path.Combine(lakeDir, DuckDbCatalog.FileName), manifest);
    }

    private static IReadOnlyList<ManifestColumn> OutputSchema(PublishRequest req)
    {
        string Id(Core.Data.IdMap m) => m.Kind == Core.Data.IdKind.Int64 ? "INT64" : "STRING";
        return [new("user_id", Id(req.Users)), new("item_id", Id(req.Items)), new("rank", "INT32"), new("score", "FLOAT"), new("source", "STRING"), new("run_id", "STRING")];
    }
}
