namespace BatchRecs.Lake.Input;

/// <summary>
/// A <c>*.parquet</c> file found under the input directory, with its partition date (null when unpartitioned) and, when
/// it must not be opened, why (a malformed partition name, a FIFO, a dangling link): readers report that as the file's
/// <see cref="LakeInputException"/>, or skip it under <c>skip_bad_files</c>.
/// </summary>
public sealed record InputFile(string Path, DateOnly? Day, string? Problem)
{
    /// <summary>Its size in bytes, when the listing gave it (−1: ask the file system).</summary>
    public long Length { get; init; } = -1;

    /// <summary>When it last changed (UTC), when the listing gave it.</summary>
    public DateTime? ModifiedUtc { get; init; }
}

/// <summary>The files an input listing found for a window, and how many it left out as outside the window.</summary>
/// <param name="Files">the files to read, in path order (unpartitioned ones and malformed partitions included: readers report those).</param>
/// <param name="Pruned">files outside the window (a local directory), or, on object storage, partitions outside it, which are never listed.</param>
/// <param name="Total">files found in all (on object storage: those listed).</param>
public sealed record InputListing(IReadOnlyList<InputFile> Files, int Pruned, int Total);

/// <summary>
/// Walks an input directory the way upstream means it: every real directory once, every real file once.
/// </summary>
/// <remarks>
/// Symbolic links are followed (a partition kept elsewhere and linked in is input), but a directory or file already
/// reached is not walked or read again: a link back up the tree (a loop) or a second name for a partition would
/// otherwise read the same events many times. The physical tree is walked first, links after it, so a directory
/// linked under two names is read under its own. Names starting with <c>_</c> or <c>.</c> (metadata, files in flight)
/// are skipped, as in Hive and Spark. A file of 0 bytes is never opened: an empty file is not Parquet, and FIFOs,
/// sockets and devices report 0 bytes (opening a FIFO blocks until someone writes to it).
/// </remarks>
public static class InputDirectory
{
    /// <summary>
    /// The files of <paramref name="input"/> a read of <paramref name="window"/> opens (null: all of them). A local directory
    /// is walked by <see cref="Discover"/>; an <c>az://</c> location is listed one level at a time, and a <c>dt=</c> (or
    /// <c>date=</c>) folder outside the window is never listed: a lake of years is not enumerated for a night's week.
    /// </summary>
    public static async Task<InputListing> ListAsync(string input, ReadWindow? window, CancellationToken ct = default)
    {
        if (!Storage.LakeLocation.IsObjectStore(input))
        {
            var files = Discover(input);
            var selected = window is null ? files.ToList() : InteractionReader.Select(files, window);
            return new InputListing(selected, files.Count - selected.Count, files.Count);
        }
        var (store, root) = Storage.LakeLocation.Open(input);
        var found = new List<InputFile>();
        int pruned = 0, total = 0;
        async Task Walk(string prefix)
        {
            var level = await store.ListLevelAsync(prefix, ct);
            foreach (var folder in level.Folders.Order(StringComparer.Ordinal))
            {
                string name = folder[prefix.Length..].TrimEnd('/');
                if (name.StartsWith('.') || name.StartsWith('_')) continue;
                DateOnly? day = null;
                try { day = PartitionPath.DateOf(name + "/_"); }
                catch (InvalidDataException) { /* its files report the malformed name */ }
                if (day is { } d && window is not null && !window.ContainsDay(d)) { pruned++; continue; }
                await Walk(folder);
            }
            foreach (var obj in level.Objects)
            {
                string name = obj.Name[prefix.Length..];
                if (name.StartsWith('.') || name.StartsWith('_') || !name.EndsWith(".parquet", StringComparison.Ordinal)) continue;
                total++;
                string shown = store.Describe(obj.Name);
                string? problem = null;
                DateOnly? day = null;
                try { day = PartitionPath.DateOf(obj.Name[root.Length..]); }
                catch (InvalidDataException e) { problem = $"{shown}: {e.Message}"; }
                if (problem is null && obj.Length == 0) problem = $"{shown}: 0 bytes: an empty object, not Parquet; not opened.";
                found.Add(new InputFile(shown, day, problem) { Length = obj.Length, ModifiedUtc = obj.LastModifiedUtc });
            }
        }
        await Walk(root);
        found.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return new InputListing(window is null ? found : InteractionReader.Select(found, window), pruned, total);
    }

    /// <summary>The files in ordinal path order.</summary>
    public static IReadOnlyList<InputFile> Discover(string inputDir)
    {
        if (!Directory.Exists(inputDir)) throw new LakeInputException($"input directory '{inputDir}' does not exist.", inputDir);
        var root = new DirectoryInfo(inputDir);
        var seenDirs = new HashSet<string>(StringComparer.Ordinal);
        var seenFiles = new HashSet<string>(StringComparer.Ordinal);
        var found = new List<InputFile>();
        var linkedDirs = new Queue<DirectoryInfo>();
        var linkedFiles = new List<FileInfo>();

        void Walk(DirectoryInfo dir, string real)
        {
            if (!seenDirs.Add(real)) return;
            List<FileSystemInfo> entries;
            try { entries = dir.EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal).ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                found.Add(new InputFile(dir.FullName, null, $"{dir.FullName}: the directory cannot be listed ({e.Message})."));
                return;
            }
            foreach (var entry in entries)
            {
                if (entry.Name.StartsWith('.') || entry.Name.StartsWith('_')) continue;
                if (entry is DirectoryInfo sub)
                {
                    if (sub.LinkTarget is null) Walk(sub, Path.Join(real, sub.Name));
                    else linkedDirs.Enqueue(sub);
                }
                else if (entry is FileInfo file && file.Name.EndsWith(".parquet", StringComparison.Ordinal))
                {
                    if (file.LinkTarget is null) Add(file, Path.Join(real, file.Name));
                    else linkedFiles.Add(file);
                }
            }
        }

        void Add(FileInfo file, string? real)
        {
            if (real is not null && !seenFiles.Add(real)) return;
            string? problem = null;
            DateOnly? day = null;
            try { day = PartitionPath.DateOf(Path.GetRelativePath(root.FullName, file.FullName)); }
            catch (InvalidDataException e) { problem = $"{file.FullName}: {e.Message}"; }
            problem ??= ProblemOf(file, real);
            found.Add(new InputFile(file.FullName, day, problem));
        }

        Walk(root, RealPath(root.FullName));
        while (linkedDirs.TryDequeue(out var link)) Walk(link, RealPath(link.FullName));
        foreach (var file in linkedFiles) Add(file, TryRealPath(file.FullName));
        found.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return found;
    }

    /// <summary>Why <paramref name="file"/> (whose links lead to <paramref name="real"/>) must not be opened, or null.</summary>
    private static string? ProblemOf(FileInfo file, string? real)
    {
        if (real is null) return $"{file.FullName}: a symbolic link that cannot be resolved (too many levels of links).";
        var target = new FileInfo(real);
        if (!target.Exists)
            return $"{file.FullName}: a symbolic link to '{file.LinkTarget}', which does not exist.";
        if (target.Length == 0)
            return $"{file.FullName}: 0 bytes: an empty file, or not a regular file (a FIFO, socket or device); not opened.";
        return null;
    }

    /// <summary>
    /// The path with every symbolic link resolved (as realpath(3); components that do not exist are kept as given), so
    /// that two names for one directory compare equal.
    /// </summary>
    internal static string RealPath(string path)
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
