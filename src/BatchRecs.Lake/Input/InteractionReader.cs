using System.Runtime.InteropServices;
using BatchRecs.Core.Data;
using Parquet;

namespace BatchRecs.Lake.Input;

/// <summary>How raw events become interaction strengths.</summary>
/// <param name="EventWeights">weight per <c>event_type</c> (missing types weigh <see cref="DefaultEventWeight"/>).</param>
/// <param name="HalfLifeDays">time decay: an event's weight halves every this many days before the window end (0 = off).</param>
/// <param name="EpochUnit">unit of an INT64 <c>event_time</c>: s, ms, us or ns.</param>
/// <param name="SkipBadFiles">skip (and list) unreadable or invalid files instead of failing the run.</param>
/// <param name="DefaultEventWeight">weight of an event whose type <paramref name="EventWeights"/> does not list.</param>
public sealed record EventRules(
    IReadOnlyDictionary<string, float>? EventWeights = null,
    float DefaultEventWeight = 1f,
    double HalfLifeDays = 0,
    string EpochUnit = "s",
    bool SkipBadFiles = false);

/// <summary>A file left out under <see cref="EventRules.SkipBadFiles"/>, and why.</summary>
public sealed record SkippedFile(string Path, string Reason);

/// <summary>What reading an input directory found, apart from the events themselves.</summary>
/// <param name="Files">every file read, with its rows (for the manifest).</param>
/// <param name="PrunedFiles">files not opened because their partition lies outside the window.</param>
/// <param name="RowsRead">rows read from the selected files.</param>
/// <param name="RowsInWindow">rows whose time falls in the window.</param>
/// <param name="Skipped">files skipped as bad input (with <c>skip_bad_files</c>), and why.</param>
/// <param name="Times">the range of <c>event_time</c> over every row read, in the window or not (to explain an empty window;
/// <see cref="DuckDbInteractionReader"/> leaves it null when the window has events).</param>
public record ReadStats(IReadOnlyList<InputFileInfo> Files, int PrunedFiles, long RowsRead, long RowsInWindow, IReadOnlyList<SkippedFile> Skipped,
    ObservedTimes? Times = null)
{
    /// <summary>The id columns' kinds in the files read (null: no file was read), and the first file read, which the
    /// kinds are checked against when read tasks' outcomes are merged.</summary>
    public (IdKind? Users, IdKind? Items, string? File) IdKinds { get; init; }
}

/// <summary>The outcome of reading an input directory: the events in the window, ids interned, and what the read found.</summary>
public sealed record ReadResult(EventLog Events, IReadOnlyList<InputFileInfo> Files, int PrunedFiles, long RowsRead, long RowsInWindow,
    IReadOnlyList<SkippedFile> Skipped, ObservedTimes? Times = null) : ReadStats(Files, PrunedFiles, RowsRead, RowsInWindow, Skipped, Times);

/// <summary>
/// Reads the interaction log contract from Parquet files under a directory: <c>user_id</c>, <c>item_id</c>
/// (INT64, INT32 or STRING), <c>event_time</c> (TIMESTAMP or INT64 epoch), optional <c>event_type</c>
/// (STRING) and <c>value</c> (numeric). Only these columns are read, row group by row group, straight into
/// columnar arrays. Bad input throws <see cref="LakeInputException"/> naming file, column and row.
/// </summary>
public static class InteractionReader
{
    public const string UserColumn = "user_id", ItemColumn = "item_id", TimeColumn = "event_time", TypeColumn = "event_type", ValueColumn = "value";

    /// <summary>
    /// The files a run for <paramref name="window"/> reads: those of its partitions and the unpartitioned ones. A file in a
    /// malformed partition has no date, so it is among them, and fails (or is skipped) with its problem.
    /// </summary>
    public static List<InputFile> Select(IReadOnlyList<InputFile> files, ReadWindow window) =>
        files.Where(f => f.Day is null || window.ContainsDay(f.Day.Value)).ToList();

    /// <param name="inputDir">a local directory, or an <c>az://CONTAINER/PREFIX</c> location.</param>
    /// <param name="window">the event dates read (partitions outside it are never opened, on object storage never listed).</param>
    /// <param name="rules">how raw events become strengths.</param>
    /// <param name="ct">cancels the read.</param>
    public static async Task<ReadResult> ReadAsync(string inputDir, ReadWindow window, EventRules rules, CancellationToken ct = default)
    {
        var listing = await ListAsync(inputDir, window, ct);
        return await ReadFilesAsync(listing.Files, window, rules, Environment.ProcessorCount, ct) with { PrunedFiles = listing.Pruned };
    }

    /// <summary>The input's files in the window (partitions outside it pruned); none is bad input.</summary>
    public static async Task<InputListing> ListAsync(string inputDir, ReadWindow window, CancellationToken ct = default)
    {
        var listing = await InputDirectory.ListAsync(inputDir, window, ct);
        if (listing.Files.Count == 0)
            throw new LakeInputException($"no Parquet files under '{inputDir}' fall in the window {window.FirstDay:yyyy-MM-dd} ≤ dt < {window.RunDate:yyyy-MM-dd} ({listing.Total} files listed; {listing.Pruned} partitions or files outside the window).", inputDir);
        return listing;
    }

    /// <summary>
    /// Reads <paramref name="selected"/> (a read task's share of a listing, or all of it) in their order: the events in the
    /// window, ids interned in maps of these files' own ids. <see cref="ReadStats.PrunedFiles"/> is 0 (the listing knows).
    /// </summary>
    /// <param name="selected">the files, in read order.</param>
    /// <param name="window">the event dates read.</param>
    /// <param name="rules">how raw events become strengths.</param>
    /// <param name="parallelism">files decoded at once.</param>
    /// <param name="ct">cancels the read.</param>
    public static async Task<ReadResult> ReadFilesAsync(IReadOnlyList<InputFile> selected, ReadWindow window, EventRules rules,
        int parallelism, CancellationToken ct = default)
    {
        var (start, end) = window.Micros();
        var users = new IdCollector(UserColumn);
        var items = new IdCollector(ItemColumn);
        var events = new EventLog.Builder();
        var infos = new List<InputFileInfo>(selected.Count);
        long rowsRead = 0;
        double decayPerMicro = rules.HalfLifeDays > 0 ? Math.Log(2) / (rules.HalfLifeDays * 86_400e6) : 0;

        var skipped = new List<SkippedFile>();
        var seen = ObservedTimes.None;
        // Files are decoded on all cores, each into its own ids and events, and merged in file order: the log is the one a
        // file-by-file read gives, and the first bad file in that order is the one reported. At most one file per core
        // waits decoded, so memory grows by a few files, not by the input.
        Task<FilePart> Decode(InputFile f) => Task.Run(() => f.Problem is not null
            ? throw new LakeInputException(f.Problem, f.Path)
            : ReadFileAsync(f.Path, start, end, decayPerMicro, rules, ct), ct);
        var inFlight = new Queue<(InputFile File, Task<FilePart> Part)>();
        int next = 0;
        while (inFlight.Count > 0 || next < selected.Count)
        {
            while (next < selected.Count && inFlight.Count < Math.Max(1, parallelism))
            {
                var file = selected[next++];
                inFlight.Enqueue((file, Decode(file)));
            }
            var (f, task) = inFlight.Dequeue();
            try
            {
                var part = await task;
                part.MergeInto(users, items, events);
                rowsRead += part.Rows;
                seen = seen.Union(part.Times);
                if (f.Length >= 0) infos.Add(new InputFileInfo(f.Path, f.Length, f.ModifiedUtc ?? DateTime.MinValue, part.Rows));
                else
                {
                    var fi = new FileInfo(f.Path);
                    infos.Add(new InputFileInfo(f.Path, fi.Length, fi.LastWriteTimeUtc, part.Rows));
                }
            }
            catch (LakeInputException e) when (rules.SkipBadFiles)
            {
                skipped.Add(new SkippedFile(f.Path, e.Message));
            }
            catch
            {
                await DrainAsync(inFlight);
                throw;
            }
        }

        var (userMap, userRemap) = users.Finish();
        var (itemMap, itemRemap) = items.Finish();
        var log = events.Finish(userMap, userRemap, itemMap, itemRemap);
        return new ReadResult(log, infos, 0, rowsRead, log.Count, skipped, seen) { IdKinds = (users.Kind, items.Kind, infos.FirstOrDefault()?.Path) };
    }

    /// <summary>Lets the files still being decoded finish (their outcome no longer matters) before the read fails.</summary>
    private static async Task DrainAsync(Queue<(InputFile File, Task<FilePart> Part)> inFlight)
    {
        foreach (var (_, task) in inFlight)
            try { await task; } catch { /* the first failure in file order is the one reported */ }
    }

    /// <summary>One file's in-window events with file-local ids, merged into the run's by <see cref="MergeInto"/>.</summary>
    private sealed class FilePart(string path)
    {
        public IdCollector Users { get; } = new(UserColumn);
        public IdCollector Items { get; } = new(ItemColumn);
        public List<int> U { get; } = [];
        public List<int> I { get; } = [];
        public List<float> V { get; } = [];
        public List<long> T { get; } = [];
        public long Rows { get; set; }
        public ObservedTimes Times { get; set; } = ObservedTimes.None;

        /// <summary>Appends the file's events to the run's, its ids interned in the run's collectors (the kinds checked).</summary>
        public void MergeInto(IdCollector runUsers, IdCollector runItems, EventLog.Builder runEvents)
        {
            var userMap = runUsers.Intern(Users, path);
            var itemMap = runItems.Intern(Items, path);
            var u = CollectionsMarshal.AsSpan(U); var i = CollectionsMarshal.AsSpan(I);
            var v = CollectionsMarshal.AsSpan(V); var t = CollectionsMarshal.AsSpan(T);
            for (int e = 0; e < u.Length; e++) runEvents.Add(userMap[u[e]], itemMap[i[e]], v[e], t[e]);
        }
    }

    /// <summary>Reads one file's in-window rows, ids interned per file; with the file's row count and its range of times.</summary>
    /// <param name="path">the file as its store shows it (<see cref="Storage.IObjectStore.Describe"/>): a path, or an <c>az://</c> object.</param>
    /// <param name="start">the window's start (Unix microseconds).</param>
    /// <param name="end">the window's end (Unix microseconds, exclusive).</param>
    /// <param name="decayPerMicro">the time decay's rate (0: none).</param>
    /// <param name="rules">event weights and the epoch unit.</param>
    /// <param name="ct">cancels the read.</param>
    private static async Task<FilePart> ReadFileAsync(string path, long start, long end, double decayPerMicro, EventRules rules,
        CancellationToken ct)
    {
        var part = new FilePart(path);
        var (users, items) = (part.Users, part.Items);
        long fileRows = 0;
        var seen = ObservedTimes.None;
        var reader = await OpenParquetAsync(path, ct);
        await using (reader)
        {
            var schema = InputSchema.Check(reader.Schema, path);
            var (userField, itemField, timeField, typeField, valueField) = (schema.User, schema.Item, schema.Time, schema.Type, schema.Value);
            users.SetKind(schema.UserKind, path);
            items.SetKind(schema.ItemKind, path);

            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                using var rg = reader.OpenRowGroupReader(g);
                int n = checked((int)rg.RowCount);
                var at = new ColumnReaders.Location(path, g);
                int[] uu, ii; long[] tt; float[] vv;
                try
                {
                    (tt, var stored) = await ColumnReaders.ReadTimesAsync(rg, timeField, n, rules.EpochUnit, at with { Column = TimeColumn }, ct);
                    if (stored is { } range) seen = schema.EpochTime ? seen.WithEpochs(range) : seen.WithTimestamps(range);
                    var keep = new bool[n];
                    for (int r = 0; r < n; r++) keep[r] = tt[r] >= start && tt[r] < end;
                    uu = await ColumnReaders.ReadIdsAsync(rg, userField, n, users, keep, at with { Column = UserColumn }, ct);
                    ii = await ColumnReaders.ReadIdsAsync(rg, itemField, n, items, keep, at with { Column = ItemColumn }, ct);
                    vv = valueField is null ? Ones(n) : await ColumnReaders.ReadValuesAsync(rg, valueField, n, at with { Column = ValueColumn }, ct);
                    if (typeField is not null) await ColumnReaders.ApplyEventWeightsAsync(rg, typeField, vv, rules, at with { Column = TypeColumn }, ct);
                    else if (rules.DefaultEventWeight != 1f) for (int r = 0; r < n; r++) vv[r] *= rules.DefaultEventWeight;
                }
                catch (LakeInputException) { throw; }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    throw new LakeInputException($"{path}: row group {g} could not be decoded ({e.Message}); the file may be corrupt.", path, null, e);
                }
                for (int r = 0; r < n; r++)
                {
                    if (uu[r] < 0) continue; // outside the window
                    float w = vv[r];
                    if (decayPerMicro > 0) w *= (float)Math.Exp(-decayPerMicro * (end - tt[r]));
                    part.U.Add(uu[r]); part.I.Add(ii[r]); part.V.Add(w); part.T.Add(tt[r]);
                }
                fileRows += n;
            }
        }
        part.Rows = fileRows;
        part.Times = seen;
        return part;
    }

    /// <summary>
    /// Opens a Parquet file through its store's seekable stream (a file; on object storage one that fetches only the ranges
    /// Parquet.Net reads: the footer, then the column chunks of the contract's columns).
    /// </summary>
    /// <param name="path">a local path, or an <c>az://</c> object.</param>
    /// <param name="ct">cancels the open.</param>
    internal static async Task<ParquetReader> OpenParquetAsync(string path, CancellationToken ct)
    {
        Stream? stream = null;
        try
        {
            var (store, name) = Storage.LakeLocation.Object(path);
            stream = await store.OpenReadAsync(name, ct);
            return await ParquetReader.CreateAsync(stream, leaveStreamOpen: false, cancellationToken: ct);
        }
        catch (LakeInputException) { throw; }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (stream is not null) await stream.DisposeAsync();
            throw new LakeInputException($"{path}: not a readable Parquet file ({e.Message}).", path, null, e);
        }
    }

    private static float[] Ones(int n)
    {
        var a = new float[n];
        Array.Fill(a, 1f);
        return a;
    }
}
