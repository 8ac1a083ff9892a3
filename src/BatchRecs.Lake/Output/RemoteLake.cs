using System.Globalization;
using System.Text;
using BatchRecs.Core.Errors;
using BatchRecs.Lake.Storage;

namespace BatchRecs.Lake.Output;

/// <summary>
/// A lake on object storage (<c>--lake az://CONTAINER/PREFIX</c>), published from a local working copy.
/// </summary>
/// <remarks>
/// <para>Blob storage has no atomic rename of a folder, so a run is committed by one conditional write instead:</para>
/// <list type="number">
/// <item>the partition's parts, <c>_SUCCESS</c> and <c>manifest.json</c> (every part with its rows, size and SHA-256) are
/// uploaded under <c>recommendations/run_date=D/RUN_ID/</c>, a folder no reader looks at yet;</item>
/// <item>the commit: <c>recommendations/run_date=D/_LATEST</c> is written to name RUN_ID, on the condition that it is still
/// what the run read before (If-Match on its ETag, or If-None-Match for the first run of the date); a publisher that lost
/// the race fails, transiently, and its retry commits on top;</item>
/// <item>then the local commit (catalog and working copy, as for a local lake), the catalog's read-only snapshot
/// <c>batchrecs.duckdb</c> uploaded next to the exports, and retention: run folders of a date other than the one its
/// <c>_LATEST</c> names (superseded, or orphaned by a publisher that died before its commit) and dates past the retention
/// cutoff are deleted.</item>
/// </list>
/// <para>A reader that follows <c>_LATEST</c> (or a manifest it names) sees a whole run or the previous one, never part of
/// one. The catalog is a local DuckDB file on the publishing host (DuckDB cannot write to blob storage): a host that has
/// no copy, or whose copy is older than the uploaded snapshot (another host published since), downloads the snapshot
/// before the run.</para>
/// </remarks>
public sealed class RemoteLake
{
    public const string LatestMarker = "_LATEST";
    public const string CacheVariable = "BATCHRECS_LAKE_CACHE";
    private const string SyncedMarker = ".remote-catalog-etag";

    private RemoteLake(string location, IObjectStore store, string prefix, string localDir) =>
        (Location, Store, Prefix, LocalDir) = (location, store, prefix, localDir);

    /// <summary>The lake as given: <c>az://CONTAINER/PREFIX</c>.</summary>
    public string Location { get; }
    public IObjectStore Store { get; }

    /// <summary>The lake's folder in the container ("" or ending in '/').</summary>
    public string Prefix { get; }

    /// <summary>
    /// The local working copy: catalog, leases, publish lock, staging, reports (<c>BATCHRECS_LAKE_CACHE/CONTAINER/PREFIX</c>,
    /// by default under <c>~/.cache/batchrecs/lakes</c>).
    /// </summary>
    public string LocalDir { get; }

    public static RemoteLake Open(string location)
    {
        var (container, prefix) = LakeLocation.ParseAzure(location);
        string cache = Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } c ? c
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "batchrecs", "lakes");
        string local = Path.Combine([cache, container, .. prefix.Split('/', StringSplitOptions.RemoveEmptyEntries)]);
        Directory.CreateDirectory(local);
        return new RemoteLake(location, LakeLocation.Open(location).Store, prefix, local);
    }

    /// <summary>
    /// The local directory a reader of <paramref name="lake"/> opens (<c>sql</c>, <c>runs</c>, <c>report</c>,
    /// <c>recommend</c>): the lake itself, or for <c>az://</c> its working copy with the catalog refreshed from the snapshot.
    /// </summary>
    public static string ForReading(string lake)
    {
        if (!LakeLocation.IsObjectStore(lake)) return lake;
        var remote = Open(lake);
        remote.PullCatalogAsync().GetAwaiter().GetResult();
        return remote.LocalDir;
    }

    /// <summary>The run folder of a partition: <c>DIR/run_date=D/RUN_ID/</c>.</summary>
    public string RunFolder(string dir, DateOnly runDate, string runId) => $"{DateFolder(dir, runDate)}{runId}/";

    private string DateFolder(string dir, DateOnly runDate) => $"{Prefix}{dir}/run_date={runDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}/";

    /// <summary>Downloads the catalog snapshot when this host has no copy, or an older one than the lake holds.</summary>
    public async Task<bool> PullCatalogAsync(CancellationToken ct = default)
    {
        await Store.EnsureExistsAsync(ct); // a new lake's container is made on its first run
        string name = Prefix + DuckDbCatalog.FileName;
        var remote = await Store.FindAsync(name, ct);
        if (remote is null) return false;
        string local = Path.Combine(LocalDir, DuckDbCatalog.FileName), marker = Path.Combine(LocalDir, SyncedMarker);
        if (File.Exists(local) && File.Exists(marker) && File.ReadAllText(marker) == remote.ETag) return false;
        await Store.DownloadAsync(name, local, ct);
        // Tuned settings travel with the catalog (a tuning pushes both): a run here must see what a tuning elsewhere adopted.
        foreach (var o in await Store.ListAllAsync(Prefix + TuningDir + "/", ct))
            await Store.DownloadAsync(o.Name, Path.Combine([LocalDir, .. o.Name[Prefix.Length..].Split('/')]), ct);
        await File.WriteAllTextAsync(marker, remote.ETag, ct);
        return true;
    }

    private const string TuningDir = "tuning";

    /// <summary>Uploads the working copy's tuned settings (<c>tuning/JOB/*.json</c>); then the caller pushes the catalog.</summary>
    public async Task PushTuningAsync(CancellationToken ct = default)
    {
        string dir = Path.Combine(LocalDir, TuningDir);
        if (!Directory.Exists(dir)) return;
        foreach (var file in Directory.EnumerateFiles(dir, "*.json", SearchOption.AllDirectories))
        {
            await using var content = File.OpenRead(file);
            await Store.WriteAsync(Prefix + Path.GetRelativePath(LocalDir, file).Replace(Path.DirectorySeparatorChar, '/'), content, ct);
        }
    }

    /// <summary>The run id a partition's <c>_LATEST</c> names and its ETag, or nulls when the date has none.</summary>
    public async Task<(string? RunId, string? ETag)> LatestAsync(string dir, DateOnly runDate, CancellationToken ct = default)
    {
        string name = DateFolder(dir, runDate) + LatestMarker;
        var found = await Store.FindAsync(name, ct);
        if (found is null) return (null, null);
        await using var s = await Store.OpenReadAsync(name, ct);
        return ((await new StreamReader(s).ReadToEndAsync(ct)).Trim(), found.ETag);
    }

    /// <summary>Uploads a staged partition (parts first, then <c>_SUCCESS</c>, then <c>manifest.json</c>) into its run folder.</summary>
    public async Task UploadRunAsync(string dir, string stagedDir, DateOnly runDate, string runId, CancellationToken ct = default)
    {
        string folder = RunFolder(dir, runDate, runId);
        var files = Directory.GetFiles(stagedDir).Select(Path.GetFileName).OfType<string>().ToList();
        int Order(string f) => f == RunManifest.FileName ? 2 : f == RunManifest.SuccessMarker ? 1 : 0;
        foreach (var file in files.OrderBy(Order).ThenBy(f => f, StringComparer.Ordinal))
        {
            await using var content = File.OpenRead(Path.Combine(stagedDir, file));
            await Store.WriteAsync(folder + file, content, ct);
        }
    }

    /// <summary>
    /// The commit: <c>_LATEST</c> of the date names <paramref name="runId"/>, if it still names what <paramref name="seenETag"/>
    /// saw (null: that there was none). Another publisher's commit in between fails the run, transiently.
    /// </summary>
    public async Task CommitAsync(string dir, DateOnly runDate, string runId, string? seenETag, CancellationToken ct = default)
    {
        string name = DateFolder(dir, runDate) + LatestMarker;
        using var content = new MemoryStream(Encoding.UTF8.GetBytes(runId + "\n"));
        bool committed = seenETag is null ? await Store.TryCreateAsync(name, content, ct) : await Store.TryReplaceAsync(name, content, seenETag, ct);
        if (!committed)
            throw new TransientFailureException($"{Store.Describe(name)} changed while this run published (another publisher committed {runDate:yyyy-MM-dd}); " +
                "a retry commits on top of it.");
    }

    /// <summary>Uploads the catalog as the lake's read-only snapshot and remembers which snapshot this host's copy is.</summary>
    public async Task PushCatalogAsync(CancellationToken ct = default)
    {
        string local = Path.Combine(LocalDir, DuckDbCatalog.FileName);
        StoredObject written;
        // The catalog file may be open read-only elsewhere in this process; read it shared.
        await using (var content = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            written = await Store.WriteAsync(Prefix + DuckDbCatalog.FileName, content, ct);
        await File.WriteAllTextAsync(Path.Combine(LocalDir, SyncedMarker), written.ETag, ct);
    }

    /// <summary>
    /// Deletes, under each of <paramref name="dirs"/>, the dates before <paramref name="cutoff"/> and every run folder of a
    /// kept date other than the one its <c>_LATEST</c> names (a date without one keeps its folders: a publisher may be
    /// uploading its first run). Returns the objects deleted.
    /// </summary>
    public async Task<int> ApplyRetentionAsync(IEnumerable<string> dirs, DateOnly cutoff, CancellationToken ct = default)
    {
        int deleted = 0;
        foreach (var dir in dirs)
        {
            var dates = (await Store.ListLevelAsync($"{Prefix}{dir}/", ct)).Folders;
            foreach (var dateFolder in dates)
            {
                string name = dateFolder[$"{Prefix}{dir}/".Length..].TrimEnd('/');
                if (!name.StartsWith("run_date=", StringComparison.Ordinal) ||
                    !DateOnly.TryParseExact(name["run_date=".Length..], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) continue;
                var (latest, _) = await LatestAsync(dir, date, ct);
                if (date >= cutoff && latest is null) continue;
                foreach (var obj in await Store.ListAllAsync(dateFolder, ct))
                {
                    bool keep = date >= cutoff && (obj.Name == dateFolder + LatestMarker || obj.Name.StartsWith(dateFolder + latest + "/", StringComparison.Ordinal));
                    if (!keep && await Store.DeleteAsync(obj.Name, ct)) deleted++;
                }
            }
        }
        return deleted;
    }
}
