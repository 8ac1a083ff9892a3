using System.Text.Json;
using System.Text.Json.Serialization;

namespace BatchRecs.Lake.Output;

/// <summary>
/// The commit record of one publish, <c>LAKE/.publish.journal</c>: written (durably) once the partition and the next
/// database are fully staged, deleted once both are live. Its existence is the commit point: a publish that died before
/// writing it is rolled back (its staged files are leftovers), one that died after is rolled forward by the next
/// publisher or reader (<see cref="LakePublisher.Recover"/>), so Parquet and DuckDB are both old or both new.
/// </summary>
/// <param name="RunId">the run being published (also in the staged partition's manifest).</param>
/// <param name="StagedPartition">the staged partition directory; after the exchange it holds the previous partition.</param>
/// <param name="TargetPartition">the live partition directory it replaces.</param>
/// <param name="StagedDatabase">the staged next <c>batchrecs.duckdb</c>; gone once it is renamed into place.</param>
/// <param name="StagedSimilar">the staged <c>similar_items</c> partition, exchanged like <paramref name="StagedPartition"/>;
/// null when the run publishes no similar items.</param>
/// <param name="TargetSimilar">the live <c>similar_items</c> partition of the run date: replaced by
/// <paramref name="StagedSimilar"/>, or removed when that is null. Null in journals written before similar items existed
/// (their roll-forward leaves <c>similar_items</c> alone).</param>
public sealed record PublishJournal(
    [property: JsonPropertyName("run_id")] string RunId,
    [property: JsonPropertyName("staged_partition")] string StagedPartition,
    [property: JsonPropertyName("target_partition")] string TargetPartition,
    [property: JsonPropertyName("staged_database")] string StagedDatabase,
    [property: JsonPropertyName("staged_similar_partition")] string? StagedSimilar = null,
    [property: JsonPropertyName("target_similar_partition")] string? TargetSimilar = null)
{
    public const string FileName = ".publish.journal";

    public static string PathIn(string lakeDir) => Path.Combine(lakeDir, FileName);

    /// <summary>Writes the journal durably (temp file, fsync, rename, fsync of the directory): the commit point.</summary>
    public void Write(string lakeDir)
    {
        AtomicRename.WriteFile(PathIn(lakeDir), JsonSerializer.SerializeToUtf8Bytes(this));
        AtomicRename.FsyncDirectory(lakeDir);
    }

    /// <summary>The journal of an unfinished publish, or null. A torn journal cannot exist (it is renamed into place).</summary>
    public static PublishJournal? TryRead(string lakeDir)
    {
        string path = PathIn(lakeDir);
        return File.Exists(path) ? JsonSerializer.Deserialize<PublishJournal>(File.ReadAllBytes(path)) : null;
    }

    public static void Delete(string lakeDir)
    {
        File.Delete(PathIn(lakeDir));
        AtomicRename.FsyncDirectory(lakeDir);
    }
}
