namespace BatchRecs.Lake.Input;

/// <summary>
/// A <c>*.parquet</c> file found under the input directory, with its partition date (null when unpartitioned) and, when
/// it must not be opened, why (a malformed partition name, a FIFO, a dangling link): readers report that as the file's
/// <see cref="LakeInputException"/>, or skip it under <c>skip_bad_files</c>.
/// </summary>
public sealed record InputFile(string Path, DateOnly? Day, string? Problem)
{
    /// <summary>Its size in bytes, as listed (−1: not known).</summary>
    public long Length { get; init; } = -1;

    /// <summary>When it last changed (UTC), when the listing gave it.</summary>
    public DateTime? ModifiedUtc { get; init; }
}

/// <summary>The files an input listing found for a window, and how many it left out as outside the window.</summary>
/// <param name="Files">the files to read, in path order (unpartitioned ones and malformed partitions included: readers report those).</param>
/// <param name="Pruned">partitions outside the window, which are never listed, and files listed but outside it.</param>
/// <param name="Total">files listed in all (pruned partitions' files are not among them).</param>
public sealed record InputListing(IReadOnlyList<InputFile> Files, int Pruned, int Total);

/// <summary>
/// Lists an input location (a local directory or an <c>az://</c> folder) the way upstream means it, through its store's
/// walk: one level at a time, so a <c>dt=</c> (or <c>date=</c>) folder outside the window is never listed (a lake of
/// years is not enumerated for a night's week). Names starting with <c>_</c> or <c>.</c> (metadata, files in flight) are
/// skipped, as in Hive and Spark. An object of 0 bytes is never opened: an empty file is not Parquet, and FIFOs, sockets
/// and devices report 0 bytes (opening a FIFO blocks until someone writes to it). On a local disk the walk follows
/// symbolic links but reads every real directory and file once (<see cref="Storage.LocalDirectoryStore.WalkAsync"/>).
/// </summary>
public static class InputDirectory
{
    /// <summary>The files of <paramref name="input"/> a read of <paramref name="window"/> opens (null: all of them).</summary>
    public static async Task<InputListing> ListAsync(string input, ReadWindow? window, CancellationToken ct = default)
    {
        var (store, root) = Storage.LakeLocation.Open(input);
        int pruned = 0;
        bool Descend(string folder)
        {
            string name = folder.TrimEnd('/');
            name = name[(name.LastIndexOf('/') + 1)..];
            if (Hidden(name)) return false;
            DateOnly? day = null;
            try { day = PartitionPath.DateOf(name + "/_"); }
            catch (InvalidDataException) { /* its files report the malformed name */ }
            if (day is { } d && window is not null && !window.ContainsDay(d)) { pruned++; return false; }
            return true;
        }
        var found = new List<InputFile>();
        static bool Keep(string name)
        {
            string last = name[(name.LastIndexOf('/') + 1)..];
            return !Hidden(last) && last.EndsWith(".parquet", StringComparison.Ordinal);
        }
        foreach (var obj in await store.WalkAsync(root, Descend, Keep, ct))
        {
            string name = obj.Name[root.Length..];
            bool folder = name.EndsWith('/'); // a folder that could not be listed
            string shown = store.Describe(obj.Name);
            string? problem = obj.Problem;
            DateOnly? day = null;
            if (!folder)
            {
                try { day = PartitionPath.DateOf(name); }
                catch (InvalidDataException e) { problem = $"{shown}: {e.Message}"; }
            }
            if (problem is null && obj.Length == 0) problem = $"{shown}: 0 bytes: an empty object, not Parquet; not opened.";
            found.Add(new InputFile(shown, day, problem) { Length = obj.Length, ModifiedUtc = obj.LastModifiedUtc });
        }
        found.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        var selected = window is null ? found : InteractionReader.Select(found, window);
        return new InputListing(selected, pruned + found.Count - selected.Count, found.Count);
    }

    private static bool Hidden(string name) => name.StartsWith('.') || name.StartsWith('_');
}
