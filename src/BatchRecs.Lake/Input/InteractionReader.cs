using BatchRecs.Core.Data;
using Parquet;
using Parquet.Schema;

namespace BatchRecs.Lake.Input;

/// <summary>How raw events become interaction strengths.</summary>
/// <param name="EventWeights">weight per <c>event_type</c> (missing types weigh <see cref="DefaultEventWeight"/>).</param>
/// <param name="HalfLifeDays">time decay: an event's weight halves every this many days before the window end (0 = off).</param>
/// <param name="EpochUnit">unit of an INT64 <c>event_time</c>: s, ms, us or ns.</param>
/// <param name="SkipBadFiles">skip (and list) unreadable or invalid files instead of failing the run.</param>
public sealed record EventRules(
    IReadOnlyDictionary<string, float>? EventWeights = null,
    float DefaultEventWeight = 1f,
    double HalfLifeDays = 0,
    string EpochUnit = "s",
    bool SkipBadFiles = false);

/// <summary>A file left out under <see cref="EventRules.SkipBadFiles"/>, and why.</summary>
public sealed record SkippedFile(string Path, string Reason);

/// <summary>The outcome of reading an input directory.</summary>
public sealed record ReadResult(InteractionLog Events, IReadOnlyList<InputFileInfo> Files, int PrunedFiles, long RowsRead, long RowsInWindow,
    IReadOnlyList<SkippedFile> Skipped);

/// <summary>
/// Reads the interaction log contract from Parquet files under a directory: <c>user_id</c>, <c>item_id</c>
/// (INT64, INT32 or STRING), <c>event_time</c> (TIMESTAMP or INT64 epoch), optional <c>event_type</c>
/// (STRING) and <c>value</c> (numeric). Only these columns are read, row group by row group, straight into
/// columnar arrays. Bad input throws <see cref="LakeInputException"/> naming file, column and row.
/// </summary>
public static class InteractionReader
{
    public const string UserColumn = "user_id", ItemColumn = "item_id", TimeColumn = "event_time", TypeColumn = "event_type", ValueColumn = "value";

    /// <summary>All <c>*.parquet</c> files under <paramref name="inputDir"/> in ordinal path order, with their partition dates.</summary>
    public static IReadOnlyList<(string Path, DateOnly? Day)> Discover(string inputDir)
    {
        if (!Directory.Exists(inputDir)) throw new LakeInputException($"input directory '{inputDir}' does not exist.", inputDir);
        // Names starting with '_' or '.' (files or folders, e.g. _items/, .staging) are metadata or in flight, as in Hive/Spark.
        return Directory.EnumerateFiles(inputDir, "*.parquet", SearchOption.AllDirectories)
            .Where(p => !Path.GetRelativePath(inputDir, p).Split(Path.DirectorySeparatorChar).Any(seg => seg.StartsWith('.') || seg.StartsWith('_')))
            .Order(StringComparer.Ordinal)
            .Select(p => (p, PartitionPath.DateOf(Path.GetRelativePath(inputDir, p))))
            .ToList();
    }

    public static async Task<ReadResult> ReadAsync(string inputDir, ReadWindow window, EventRules rules, CancellationToken ct = default)
    {
        var files = Discover(inputDir);
        var selected = files.Where(f => f.Day is null || window.ContainsDay(f.Day.Value)).ToList();
        int pruned = files.Count - selected.Count;
        if (selected.Count == 0)
            throw new LakeInputException($"no Parquet files under '{inputDir}' fall in the window {window.FirstDay:yyyy-MM-dd} ≤ dt < {window.RunDate:yyyy-MM-dd} ({files.Count} files in all).", inputDir);

        var (start, end) = window.Micros();
        var users = new IdCollector(UserColumn);
        var items = new IdCollector(ItemColumn);
        var u = new GrowableArray<int>(); var i = new GrowableArray<int>();
        var v = new GrowableArray<float>(); var t = new GrowableArray<long>();
        var infos = new List<InputFileInfo>(selected.Count);
        long rowsRead = 0;
        double decayPerMicro = rules.HalfLifeDays > 0 ? Math.Log(2) / (rules.HalfLifeDays * 86_400e6) : 0;

        var skipped = new List<SkippedFile>();
        foreach (var (path, _) in selected)
        {
            ct.ThrowIfCancellationRequested();
            var (userMark, itemMark, rowMark) = (users.Checkpoint(), items.Checkpoint(), u.Count);
            try
            {
                long fileRows = await ReadFileAsync(path, users, items, u, i, v, t, start, end, decayPerMicro, rules, ct);
                var fi = new FileInfo(path);
                rowsRead += fileRows;
                infos.Add(new InputFileInfo(path, fi.Length, fi.LastWriteTimeUtc, fileRows));
            }
            catch (LakeInputException e) when (rules.SkipBadFiles)
            {
                users.Rollback(userMark); items.Rollback(itemMark);
                u.Truncate(rowMark); i.Truncate(rowMark); v.Truncate(rowMark); t.Truncate(rowMark);
                skipped.Add(new SkippedFile(path, e.Message));
            }
        }

        var (userMap, userRemap) = users.Finish();
        var (itemMap, itemRemap) = items.Finish();
        var ua = u.ToArray(); var ia = i.ToArray();
        for (int e = 0; e < ua.Length; e++) { ua[e] = userRemap[ua[e]]; ia[e] = itemRemap[ia[e]]; }
        var log = new InteractionLog(userMap, itemMap, ua, ia, v.ToArray(), t.ToArray());
        return new ReadResult(log, infos, pruned, rowsRead, log.Count, skipped);
    }

    /// <summary>Reads one file's in-window rows into the accumulators; returns the file's row count.</summary>
    private static async Task<long> ReadFileAsync(string path, IdCollector users, IdCollector items,
        GrowableArray<int> u, GrowableArray<int> i, GrowableArray<float> v, GrowableArray<long> t,
        long start, long end, double decayPerMicro, EventRules rules, CancellationToken ct)
    {
        long fileRows = 0;
        ParquetReader reader;
        try { reader = await ParquetReader.CreateAsync(path, cancellationToken: ct); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new LakeInputException($"{path}: not a readable Parquet file ({e.Message}).", path, null, e);
        }
        await using (reader)
        {
            var schema = reader.Schema;
            var userField = Require(schema, UserColumn, path);
            var itemField = Require(schema, ItemColumn, path);
            var timeField = Require(schema, TimeColumn, path);
            var typeField = schema.DataFields.FirstOrDefault(f => f.Name == TypeColumn);
            var valueField = schema.DataFields.FirstOrDefault(f => f.Name == ValueColumn);
            users.SetKind(ColumnReaders.IdKindOf(userField, path), path);
            items.SetKind(ColumnReaders.IdKindOf(itemField, path), path);

            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                using var rg = reader.OpenRowGroupReader(g);
                int n = checked((int)rg.RowCount);
                var at = new ColumnReaders.Location(path, g);
                int[] uu, ii; long[] tt; float[] vv;
                try
                {
                    tt = await ColumnReaders.ReadTimesAsync(rg, timeField, n, rules.EpochUnit, at with { Column = TimeColumn }, ct);
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
                    u.Add(uu[r]); i.Add(ii[r]); v.Add(w); t.Add(tt[r]);
                }
                fileRows += n;
            }
        }
        return fileRows;
    }

    private static DataField Require(ParquetSchema schema, string name, string path) =>
        schema.DataFields.FirstOrDefault(f => f.Name == name)
        ?? throw new LakeInputException($"{path}: required column '{name}' is missing (columns: {string.Join(", ", schema.DataFields.Select(f => f.Name))}).", path, name);

    private static float[] Ones(int n)
    {
        var a = new float[n];
        Array.Fill(a, 1f);
        return a;
    }
}
