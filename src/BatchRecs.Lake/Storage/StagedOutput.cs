namespace BatchRecs.Lake.Storage;

/// <summary>
/// Writers of whole trees (<c>demo-data</c>, <c>import</c>) on any location, through its store's
/// <see cref="IObjectStore.WriteTreeAsync{T}"/>: a local directory is written in place; an <c>az://</c> location is written
/// to a local staging folder first and then uploaded object by object, in path order.
/// </summary>
public static class StagedOutput
{
    /// <summary>Runs <paramref name="write"/> on a directory that ends up at <paramref name="location"/>.</summary>
    public static Task<T> WriteAsync<T>(string location, Func<string, Task<T>> write, CancellationToken ct = default)
    {
        var (store, prefix) = LakeLocation.Open(location);
        return store.WriteTreeAsync(prefix, write, ct);
    }

    /// <summary>A location as messages show it: object-store locations as given, local ones as full paths.</summary>
    public static string Shown(string location) => LakeLocation.IsObjectStore(location) ? location : Path.GetFullPath(location);
}
