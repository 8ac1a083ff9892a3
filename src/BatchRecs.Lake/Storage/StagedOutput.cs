namespace BatchRecs.Lake.Storage;

/// <summary>
/// Writers of whole trees (<c>demo-data</c>, <c>import</c>) on any location: a local directory is written in place; an
/// <c>az://</c> location is written to a local staging folder first and then uploaded object by object, in path order
/// (the staging folder is removed either way).
/// </summary>
public static class StagedOutput
{
    /// <summary>Runs <paramref name="write"/> on a directory that ends up at <paramref name="location"/>.</summary>
    public static async Task<T> WriteAsync<T>(string location, Func<string, Task<T>> write, CancellationToken ct = default)
    {
        if (!LakeLocation.IsObjectStore(location)) return await write(location);
        var (store, prefix) = LakeLocation.Open(location);
        string staging = Path.Combine(Path.GetTempPath(), $"batchrecs-upload-{Guid.NewGuid():N}");
        try
        {
            var result = await write(staging);
            if (Directory.Exists(staging))
                foreach (var file in Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    await using var content = File.OpenRead(file);
                    await store.WriteAsync(prefix + Path.GetRelativePath(staging, file).Replace(Path.DirectorySeparatorChar, '/'), content, ct);
                }
            return result;
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>A location as messages show it: object-store locations as given, local ones as full paths.</summary>
    public static string Shown(string location) => LakeLocation.IsObjectStore(location) ? location : Path.GetFullPath(location);
}
