using BatchRecs.Lake.Input;

namespace BatchRecs.Lake.Storage;

/// <summary>
/// The local file system as an <see cref="IObjectStore"/>, the embedded default: object names are paths under the file
/// system's root (<c>/</c>) with '/' between their parts, so <c>/data/lake</c> is the folder <c>data/lake/</c>, and
/// <see cref="Describe"/> shows a name as its path again. What a local disk offers beyond object storage is used where it
/// matters: writes land under a temporary name and are renamed (all or nothing), a staged file is renamed into place instead
/// of copied, and the walk of a tree follows symbolic links as upstream means them (see <see cref="WalkAsync"/>).
/// </summary>
public sealed class LocalDirectoryStore : IObjectStore
{
    private readonly string _root;

    private LocalDirectoryStore(string root) => _root = root;

    /// <summary>The store of the file system's root (on Unix <c>/</c>; the drive of the working directory elsewhere).</summary>
    public static LocalDirectoryStore Root { get; } = new(Path.GetPathRoot(Path.GetFullPath(Environment.CurrentDirectory))!);

    /// <summary>The object name of a local path (absolute or relative to the working directory): its full path without the root.</summary>
    public string NameOf(string path)
    {
        string full = Path.GetFullPath(path);
        if (!full.StartsWith(_root, StringComparison.Ordinal))
            throw new ArgumentException($"'{path}' is not on the file system rooted at '{_root}'.", nameof(path));
        return full[_root.Length..].Replace(Path.DirectorySeparatorChar, '/').TrimEnd('/');
    }

    public string Describe(string name) => PathOf(name);

    private string PathOf(string name) => _root + name.TrimEnd('/').Replace('/', Path.DirectorySeparatorChar);

    private string NameOfFull(string fullPath) => fullPath[_root.Length..].Replace(Path.DirectorySeparatorChar, '/');

    public Task<StoreLevel> ListLevelAsync(string prefix, CancellationToken ct = default)
    {
        var dir = new DirectoryInfo(PathOf(prefix));
        if (!dir.Exists) return Task.FromResult(new StoreLevel([], []));
        var objects = new List<StoredObject>();
        var folders = new List<string>();
        foreach (var entry in dir.EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            if (entry is DirectoryInfo) folders.Add(prefix + entry.Name + "/");
            else if (entry is FileInfo f && !IsInFlight(f.Name)) objects.Add(Of(prefix + f.Name, f));
        }
        return Task.FromResult(new StoreLevel(objects, folders));
    }

    public Task<IReadOnlyList<StoredObject>> ListAllAsync(string prefix, CancellationToken ct = default)
    {
        int slash = prefix.LastIndexOf('/');
        var dir = new DirectoryInfo(PathOf(slash < 0 ? "" : prefix[..slash]));
        IReadOnlyList<StoredObject> found = !dir.Exists ? []
            : dir.EnumerateFiles("*", SearchOption.AllDirectories)
                .Select(f => (Name: NameOfFull(f.FullName), File: f))
                .Where(f => f.Name.StartsWith(prefix, StringComparison.Ordinal) && !IsInFlight(f.File.Name))
                .OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => Of(f.Name, f.File)).ToList();
        return Task.FromResult(found);
    }

    public Task<StoredObject?> FindAsync(string name, CancellationToken ct = default)
    {
        var f = new FileInfo(PathOf(name));
        return Task.FromResult(f.Exists ? Of(name, f) : null);
    }

    public Task<Stream> OpenReadAsync(string name, CancellationToken ct = default) => Open(name, 1 << 20);

    /// <summary>Unbuffered: each read is one read of the file, at its offset.</summary>
    public Task<Stream> OpenRandomAccessAsync(string name, CancellationToken ct = default) => Open(name, 0);

    private Task<Stream> Open(string name, int bufferSize)
    {
        string path = PathOf(name);
        try { return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize)); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new LakeInputException($"{path} does not exist.", path, null, e);
        }
    }

    public async Task<StoredObject> WriteAsync(string name, Stream content, CancellationToken ct = default)
    {
        string staged = StagingFile(name);
        try
        {
            await using (var fs = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
                await content.CopyToAsync(fs, ct);
        }
        catch
        {
            ObjectStoreExtensions.DiscardStaged(staged);
            throw;
        }
        return await CommitFileAsync(staged, name, ct);
    }

    public async Task<bool> TryCreateAsync(string name, Stream content, CancellationToken ct = default)
    {
        string staged = StagingFile(name);
        try
        {
            await using (var fs = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
                await content.CopyToAsync(fs, ct);
            // Without overwrite the move links the new name (link(2)), which fails if the name exists: at most one creator wins.
            File.Move(staged, PathOf(name), overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(PathOf(name)))
        {
            return false;
        }
        finally
        {
            ObjectStoreExtensions.DiscardStaged(staged); // gone after the move; left when the name was taken or the write failed
        }
    }

    /// <remarks>
    /// Compares and replaces in two steps: a local disk has no conditional rename, so writers of one name must be serialized
    /// by a lock of their own (a local lake's publishes are, by the lake's lock file).
    /// </remarks>
    public async Task<bool> TryReplaceAsync(string name, Stream content, string etag, CancellationToken ct = default)
    {
        if ((await FindAsync(name, ct))?.ETag != etag) return false;
        await WriteAsync(name, content, ct);
        return true;
    }

    public Task EnsureExistsAsync(CancellationToken ct = default) => Task.CompletedTask;

    public Task<bool> DeleteAsync(string name, CancellationToken ct = default)
    {
        string path = PathOf(name);
        bool existed = File.Exists(path);
        if (existed) File.Delete(path);
        return Task.FromResult(existed);
    }

    /// <summary>Deletes the folder and everything under it; one that does not exist has nothing to delete.</summary>
    public Task DeleteFolderAsync(string prefix, CancellationToken ct = default)
    {
        try { Directory.Delete(PathOf(prefix), recursive: true); }
        catch (DirectoryNotFoundException) { }
        return Task.CompletedTask;
    }

    /// <summary>A temporary name beside the object (same file system, so the commit is a rename); its folder is created.</summary>
    public string StagingFile(string name)
    {
        string path = PathOf(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}{InFlightSuffix}";
    }

    /// <summary>Renames the staged file over the object: readers see the old content or the new, whole.</summary>
    public Task<StoredObject> CommitFileAsync(string stagedFile, string name, CancellationToken ct = default)
    {
        string path = PathOf(name);
        File.Move(stagedFile, path, overwrite: true);
        return Task.FromResult(Of(name, new FileInfo(path)));
    }

    /// <summary>Writes in the folder itself: a tree written on a local disk is in place once written.</summary>
    public Task<T> WriteTreeAsync<T>(string prefix, Func<string, Task<T>> write, CancellationToken ct = default) => write(PathOf(prefix));

    /// <summary>Staged files carry this suffix until their rename: listings leave them out.</summary>
    private const string InFlightSuffix = ".tmp";

    private static bool IsInFlight(string fileName) => fileName.EndsWith(InFlightSuffix, StringComparison.Ordinal);

    /// <summary>
    /// Every file under <paramref name="prefix"/> that <paramref name="keep"/> admits, once, following symbolic links: a partition kept elsewhere and linked in
    /// is input, but a directory or file already reached is not walked or listed again, so a link back up the tree (a loop)
    /// or a second name for a partition cannot repeat its files. The physical tree is walked first, links after it, so a
    /// directory linked under two names is listed under its own. A link that cannot be resolved, a file of 0 bytes (an
    /// empty file, or a FIFO, socket or device, which must never be opened: opening a FIFO blocks) and a directory that
    /// cannot be listed (named as a folder, ending in '/') are listed with their <see cref="StoredObject.Problem"/>. A folder
    /// that does not exist is an error.
    /// </summary>
    public Task<IReadOnlyList<StoredObject>> WalkAsync(string prefix, Func<string, bool> descend, Func<string, bool> keep, CancellationToken ct = default)
    {
        var seenDirs = new HashSet<string>(StringComparer.Ordinal);
        var seenFiles = new HashSet<string>(StringComparer.Ordinal);
        var found = new List<StoredObject>();
        var linkedDirs = new Queue<DirectoryInfo>();
        var linkedFiles = new List<FileInfo>();

        void Walk(DirectoryInfo dir, string real)
        {
            if (!seenDirs.Add(real)) return;
            List<FileSystemInfo> entries;
            try { entries = dir.EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal).ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                found.Add(new StoredObject(NameOfFull(dir.FullName) + "/", 0, DateTime.MinValue, "") { Problem = $"{dir.FullName}: the directory cannot be listed ({e.Message})." });
                return;
            }
            foreach (var entry in entries)
            {
                if (entry is DirectoryInfo sub)
                {
                    if (!descend(NameOfFull(sub.FullName) + "/")) continue;
                    if (sub.LinkTarget is null) Walk(sub, Path.Join(real, sub.Name));
                    else linkedDirs.Enqueue(sub);
                }
                // Only kept names count as seen: a kept link to a file the caller would not keep must still be found.
                else if (entry is FileInfo file && !IsInFlight(file.Name) && keep(NameOfFull(file.FullName)))
                {
                    if (file.LinkTarget is null) Add(file, Path.Join(real, file.Name));
                    else linkedFiles.Add(file);
                }
            }
        }

        void Add(FileInfo file, string? real)
        {
            if (real is not null && !seenFiles.Add(real)) return;
            var target = real is null ? null : new FileInfo(real);
            string? problem = real is null ? $"{file.FullName}: a symbolic link that cannot be resolved (too many levels of links)."
                : !target!.Exists ? $"{file.FullName}: a symbolic link to '{file.LinkTarget}', which does not exist."
                : target.Length == 0 ? $"{file.FullName}: 0 bytes: an empty file, or not a regular file (a FIFO, socket or device); not opened."
                : null;
            found.Add(problem is null ? Of(NameOfFull(file.FullName), target!) : new StoredObject(NameOfFull(file.FullName), 0, DateTime.MinValue, "") { Problem = problem });
        }

        var root = new DirectoryInfo(PathOf(prefix));
        if (!root.Exists) throw new LakeInputException($"'{root.FullName}' does not exist (no such directory).", root.FullName);
        Walk(root, RealPath(root.FullName));
        while (linkedDirs.TryDequeue(out var link)) Walk(link, RealPath(link.FullName));
        foreach (var file in linkedFiles) Add(file, TryRealPath(file.FullName));
        found.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return Task.FromResult<IReadOnlyList<StoredObject>>(found);
    }

    private static StoredObject Of(string name, FileInfo f) =>
        new(name, f.Length, f.LastWriteTimeUtc, $"{f.LastWriteTimeUtc.Ticks:x}-{f.Length:x}");

    /// <summary>
    /// The path with every symbolic link resolved (as realpath(3); components that do not exist are kept as given), so
    /// that two names for one directory compare equal.
    /// </summary>
    public static string RealPath(string path)
    {
        int hops = 0;
        return Resolve(path, Path.GetFullPath(Environment.CurrentDirectory), ref hops);
    }

    private static string? TryRealPath(string path)
    {
        try { return RealPath(path); }
        catch (LakeInputException) { return null; }
    }

    /// <summary>Resolves <paramref name="path"/> against <paramref name="realBase"/>, which has no links in it.</summary>
    private static string Resolve(string path, string realBase, ref int hops)
    {
        string root = Path.GetPathRoot(Path.GetFullPath(path, realBase))!;
        string result = Path.IsPathRooted(path) ? root : realBase;
        foreach (var part in (Path.IsPathRooted(path) ? path[Path.GetPathRoot(path)!.Length..] : path)
                     .Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") continue;
            // ".." after a link means the link target's parent; result has no links in it, so its parent is right.
            if (part == "..") { result = Path.GetDirectoryName(result) ?? root; continue; }
            string next = Path.Join(result, part);
            string? target = new FileInfo(next).LinkTarget;
            if (target is null) { result = next; continue; }
            if (++hops > 40) throw new LakeInputException($"'{path}': too many levels of symbolic links.", path);
            result = Resolve(target, result, ref hops);
        }
        return result;
    }
}
