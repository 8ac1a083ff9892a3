using BatchRecs.Lake.Input;

namespace BatchRecs.Lake.Storage;

/// <summary>An object in a store: its name (the path under the container), size and last change.</summary>
public sealed record StoredObject(string Name, long Length, DateTime LastModifiedUtc, string ETag);

/// <summary>One level of a listing: the objects directly under a prefix, and the child "folders" (prefixes ending in '/').</summary>
public sealed record StoreLevel(IReadOnlyList<StoredObject> Objects, IReadOnlyList<string> Folders);

/// <summary>
/// The storage a lake location lives on, as the lake uses it: list with prefix pruning, ranged reads, write, delete and
/// conditional create. Object names use '/' and never start with it. <see cref="AzureBlobStore"/> is the object-storage
/// implementation (Azure Blob Storage, including ADLS Gen2 accounts); local directories are the embedded default and are
/// read by the file-system code paths, which know links, FIFOs and renames.
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
}

/// <summary>What every store offers on top of <see cref="IObjectStore"/>'s operations.</summary>
public static class ObjectStoreExtensions
{
    /// <summary>The object named exactly <paramref name="name"/>, or null.</summary>
    public static async Task<StoredObject?> FindAsync(this IObjectStore store, string name, CancellationToken ct = default) =>
        (await store.ListAllAsync(name, ct)).FirstOrDefault(o => o.Name == name);

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

    public static bool IsObjectStore(string location) => location.StartsWith(AzureScheme, StringComparison.Ordinal);

    /// <summary>The store of an <c>az://</c> location and the folder prefix under it ("" or ending in '/').</summary>
    public static (IObjectStore Store, string Prefix) Open(string location)
    {
        var (container, prefix) = ParseAzure(location);
        return (AzureBlobStore.Connect(container), prefix);
    }

    /// <summary>The store holding <paramref name="location"/>, or null for a local path.</summary>
    public static IObjectStore? StoreOf(string location) => IsObjectStore(location) ? Open(location).Store : null;

    /// <summary>The object name of an <c>az://CONTAINER/NAME</c> location.</summary>
    public static string ObjectName(string location) => ParseAzure(location).Prefix.TrimEnd('/');

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
