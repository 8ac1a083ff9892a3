using BatchRecs.Lake.Input;

namespace BatchRecs.Lake.Storage;

/// <summary>An object in a store: its name (the path under the container), size and last change.</summary>
public sealed record StoredObject(string Name, long Length, DateTime LastModifiedUtc, string ETag)
{
    /// <summary>Why a walk found it but it must not be opened (a dangling link, a FIFO, a folder that cannot be listed), or null.</summary>
    public string? Problem { get; init; }
}

/// <summary>One level of a listing: the objects directly under a prefix, and the child "folders" (prefixes ending in '/').</summary>
public sealed record StoreLevel(IReadOnlyList<StoredObject> Objects, IReadOnlyList<string> Folders);

/// <summary>
/// The storage a lake location lives on, as the lake uses it: list with prefix pruning, ranged reads, write, delete and
/// conditional create, and writing through a local file. Object names use '/' and never start with it. Every reader and
/// writer of the lake goes through it: <see cref="LocalDirectoryStore"/> is the embedded default (the local file system),
/// <see cref="AzureBlobStore"/> object storage (Azure Blob Storage, including ADLS Gen2 accounts). Only the publish's
/// commit differs by store, by design: a rename on a disk, a conditional <c>_LATEST</c> in object storage (see
/// <c>docs/ARCHITECTURE.md</c>).
/// </summary>
public interface IObjectStore
{
    /// <summary>How a name is shown in messages and manifests: <c>az://CONTAINER/NAME</c>. Never carries a secret.</summary>
    string Describe(string name);

    /// <summary>The objects and child folders directly under <paramref name="prefix"/> (a folder: "" or ending in '/').</summary>
    Task<StoreLevel> ListLevelAsync(string prefix, CancellationToken ct = default);

    /// <summary>Every object whose name starts with <paramref name="prefix"/>, in name order.</summary>
    Task<IReadOnlyList<StoredObject>> ListAllAsync(string prefix, CancellationToken ct = default);

    /// <summary>A seekable stream over the object that fetches only the ranges read (a Parquet footer, the column chunks asked for).</summary>
    Task<Stream> OpenReadAsync(string name, CancellationToken ct = default);

    /// <summary>
    /// <see cref="OpenReadAsync"/> for reads at scattered offsets (a few rows of a scratch file): no read-ahead buffer where
    /// the store keeps one, which each seek would refill (a local file's 1 MiB, allocated anew for every open: a sample of
    /// 4,096 users' rows opened and dropped 8 GB of them).
    /// </summary>
    Task<Stream> OpenRandomAccessAsync(string name, CancellationToken ct = default) => OpenReadAsync(name, ct);

    /// <summary>Writes the object, replacing what is there.</summary>
    Task<StoredObject> WriteAsync(string name, Stream content, CancellationToken ct = default);

    /// <summary>Writes the object only if none exists under the name; false (nothing written) if one does.</summary>
    Task<bool> TryCreateAsync(string name, Stream content, CancellationToken ct = default);

    /// <summary>Replaces the object only if its ETag is still <paramref name="etag"/>; false (nothing written) if it changed.</summary>
    Task<bool> TryReplaceAsync(string name, Stream content, string etag, CancellationToken ct = default);

    /// <summary>Creates the store's container when it does not exist yet (a lake's first publish).</summary>
    Task EnsureExistsAsync(CancellationToken ct = default);

    /// <summary>Deletes the object; false if there was none.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken ct = default);

    /// <summary>The object named exactly <paramref name="name"/>, or null.</summary>
    async Task<StoredObject?> FindAsync(string name, CancellationToken ct = default) =>
        (await ListAllAsync(name, ct)).FirstOrDefault(o => o.Name == name);

    /// <summary>Deletes every object under <paramref name="prefix"/> (a folder, ending in '/').</summary>
    async Task DeleteFolderAsync(string prefix, CancellationToken ct = default)
    {
        foreach (var o in await ListAllAsync(prefix, ct)) await DeleteAsync(o.Name, ct);
    }

    /// <summary>
    /// The objects under <paramref name="prefix"/> (a folder) that <paramref name="keep"/> admits (given each object's name),
    /// in name order, walking only the child folders <paramref name="descend"/> admits (given each folder's name, ending in
    /// '/'): one listing per folder walked, so a pruned <c>dt=</c> partition is never listed.
    /// </summary>
    async Task<IReadOnlyList<StoredObject>> WalkAsync(string prefix, Func<string, bool> descend, Func<string, bool> keep, CancellationToken ct = default)
    {
        var found = new List<StoredObject>();
        async Task Walk(string folder)
        {
            var level = await ListLevelAsync(folder, ct);
            foreach (var sub in level.Folders.Order(StringComparer.Ordinal))
                if (descend(sub)) await Walk(sub);
            found.AddRange(level.Objects.Where(o => keep(o.Name)));
        }
        await Walk(prefix);
        found.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return found;
    }

    /// <summary>
    /// A new local file to write an object's content into (a writer that seeks, or streams more than memory should hold),
    /// then placed at <paramref name="name"/> by <see cref="CommitFileAsync"/>. The caller deletes it if it never commits.
    /// </summary>
    string StagingFile(string name);

    /// <summary>Places the staged file's content at <paramref name="name"/>, whole, and lets the staged file go.</summary>
    Task<StoredObject> CommitFileAsync(string stagedFile, string name, CancellationToken ct = default);

    /// <summary>
    /// Runs <paramref name="write"/> (<c>import</c>, <c>demo-data</c>) on a local folder whose files end up under
    /// <paramref name="prefix"/>: the folder itself on a disk; a staging folder uploaded when the writer succeeds otherwise.
    /// </summary>
    Task<T> WriteTreeAsync<T>(string prefix, Func<string, Task<T>> write, CancellationToken ct = default);
}

/// <summary>What every store offers on top of <see cref="IObjectStore"/>'s operations.</summary>
public static class ObjectStoreExtensions
{
    /// <summary>
    /// Writes the object through a local file: <paramref name="write"/> fills a new file (it may seek), which then becomes
    /// the object whole, or, if <paramref name="write"/> fails, nothing does.
    /// </summary>
    /// <param name="store">the store.</param>
    /// <param name="name">the object.</param>
    /// <param name="write">writes the content.</param>
    /// <param name="durable">flush the file to disk before the commit (what must survive a crash of this host).</param>
    public static void WriteThroughFile(this IObjectStore store, string name, Action<FileStream> write, bool durable = false)
    {
        string staged = store.StagingFile(name);
        bool committed = false;
        try
        {
            using (var fs = new FileStream(staged, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20))
            {
                write(fs);
                fs.Flush(flushToDisk: durable);
            }
            store.CommitFileAsync(staged, name).GetAwaiter().GetResult();
            committed = true;
        }
        finally
        {
            if (!committed) DiscardStaged(staged);
        }
    }

    /// <summary>
    /// Deletes a staged file that was never committed, best-effort: its folder may be gone already (a scratch step deleted
    /// under a late writer), and the error that stopped the write is the one to report, not this one.
    /// </summary>
    internal static void DiscardStaged(string staged)
    {
        try { File.Delete(staged); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Copies the object to a local file, whole or not at all (written beside it, then renamed over it).</summary>
    public static async Task DownloadAsync(this IObjectStore store, string name, string path, CancellationToken ct = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string tmp = path + ".download";
        await using (var source = await store.OpenReadAsync(name, ct))
        await using (var target = File.Create(tmp))
            await source.CopyToAsync(target, ct);
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>Lake locations: a local directory, or <c>az://CONTAINER/PREFIX</c> on Azure Blob Storage.</summary>
public static class LakeLocation
{
    public const string AzureScheme = "az://";

    /// <summary>
    /// Whether the location is in object storage. Asked only where a lake on object storage must be run differently, not
    /// read or written differently: its publish commits by a conditional <c>_LATEST</c> from a local working copy, DuckDB
    /// reads it only once downloaded, and workers need no <c>--lake</c> for it.
    /// </summary>
    public static bool IsObjectStore(string location) => location.StartsWith(AzureScheme, StringComparison.Ordinal);

    /// <summary>
    /// The store of a location and the folder prefix under it ("" or ending in '/'): the container of an <c>az://</c>
    /// location, or the local file system for a path.
    /// </summary>
    public static (IObjectStore Store, string Prefix) Open(string location)
    {
        if (!IsObjectStore(location))
        {
            string name = LocalDirectoryStore.Root.NameOf(location);
            return (LocalDirectoryStore.Root, name.Length == 0 ? "" : name + "/");
        }
        var (container, prefix) = ParseAzure(location);
        return (AzureBlobStore.Connect(container), prefix);
    }

    /// <summary>The store holding a file or object and its name there.</summary>
    public static (IObjectStore Store, string Name) Object(string location)
    {
        var (store, prefix) = Open(location);
        return (store, prefix.TrimEnd('/'));
    }

    /// <summary>Splits <c>az://CONTAINER/PREFIX</c>; the container name must be a valid one (3–63 of a–z, 0–9, '-').</summary>
    public static (string Container, string Prefix) ParseAzure(string location)
    {
        if (!IsObjectStore(location)) throw new ArgumentException($"'{location}' is not an {AzureScheme} location.", nameof(location));
        string rest = location[AzureScheme.Length..];
        int slash = rest.IndexOf('/');
        string container = slash < 0 ? rest : rest[..slash];
        string prefix = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
        if (container.Length is < 3 or > 63 || !container.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-') || container.StartsWith('-')
            || container.EndsWith('-') || container.Contains("--"))
            throw new LakeInputException($"'{location}': '{container}' is not a valid container name (3–63 lowercase letters, digits and single hyphens).", location);
        if (prefix.Split('/').Any(p => p is "." or ".."))
            throw new LakeInputException($"'{location}': '.' and '..' are not allowed in an object-store location.", location);
        return (container, prefix.Length == 0 ? "" : prefix + "/");
    }
}
