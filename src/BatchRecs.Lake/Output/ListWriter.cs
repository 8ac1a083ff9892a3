using System.Security.Cryptography;
using BatchRecs.Core.Data;
using Parquet;
using Parquet.Schema;

namespace BatchRecs.Lake.Output;

/// <summary>
/// Writes a <see cref="ListTable"/> in the output contract: the owner's id, the listed item's id (input types),
/// <c>rank</c> INT32 1-based, <c>score</c> FLOAT, [<c>source</c> STRING: the model's name, <c>popular</c> for the popularity
/// fallback, <c>explore</c> for an exploration slot; <c>propensity</c> FLOAT: the probability the policy showed the item,
/// 1 for a deterministic slot,] <c>run_id</c> STRING (for recommendations
/// <c>user_id, item_id, rank, score, source, propensity, run_id</c>; for similar items <c>item_id, similar_item_id, rank, score,
/// run_id</c>); sorted by owner then rank, in row groups of about <see cref="RowGroupBytes"/> of values (see
/// <see cref="BytesPerRow"/>; a list never spans two) and part files of about <see cref="FileBytes"/>. Sized by the
/// values, not by what they take after encoding and compression, so a group's rows, and the memory its columns take
/// while it is written, are known before it is built.
/// </summary>
public static class ListWriter
{
    /// <summary>
    /// Row groups of about 16 MiB of values: 200k rows of ~80 bytes, DuckDB's own row group (122,880 rows) in size. The
    /// writer builds, and every reader decodes, a row group's columns at once, so this is the memory each holds per
    /// group: with 128 MiB groups (the Parquet and Spark block size) the 20M-row publish took +0.9 GB to write and DuckDB
    /// needed more than 512 MB to load them; with 16 MiB, +0.08 GB and 256 MB, and it ran faster (15 s against 25).
    /// </summary>
    public const long RowGroupBytes = 16L << 20;

    /// <summary>Part files of about 512 MiB of values (32 row groups): few files for a reader to list and open.</summary>
    public const long FileBytes = 32 * RowGroupBytes;

    /// <param name="rowGroupBytes">target row-group size in bytes of values (tests use small ones).</param>
    /// <param name="fileBytes">target part-file size in bytes of values.</param>
    /// <param name="dir">the (staging) partition directory the part files are written into.</param>
    /// <param name="table">the lists, ids and column names to write.</param>
    /// <param name="ct">cancels the write.</param>
    public static async Task<IReadOnlyList<PartFile>> WriteAsync(string dir, ListTable table, CancellationToken ct = default,
        long rowGroupBytes = RowGroupBytes, long fileBytes = FileBytes)
    {
        Directory.CreateDirectory(dir);
        var lists = table.Lists;
        long bytesPerRow = BytesPerRow(table);
        long rowsPerGroup = Math.Max(1, rowGroupBytes / bytesPerRow);
        long rowsPerFile = Math.Max(rowsPerGroup, fileBytes / bytesPerRow);
        var parts = new List<PartFile>();
        int owner = 0;
        while (owner < lists.Users || parts.Count == 0)
        {
            // Owners [owner, end) go into this part.
            int end = owner;
            long rows = 0;
            while (end < lists.Users && (rows + lists.Counts[end] <= rowsPerFile || rows == 0)) rows += lists.Counts[end++];
            string name = $"part-{parts.Count:D5}.parquet";
            string path = Path.Combine(dir, name);
            await WritePartAsync(path, table, owner, end, rowsPerGroup, ct);
            parts.Add(new PartFile(name, rows, new FileInfo(path).Length, await Sha256Async(path, ct)));
            owner = end;
            if (lists.Users == 0) break;
        }
        return parts;
    }

    /// <summary>
    /// The bytes of one output row's values as Parquet stores them before compression: an INT64 id is 8, a STRING
    /// 4 + its UTF-8 length (ids: the mean over the map), rank and score 4 each.
    /// </summary>
    public static long BytesPerRow(ListTable table) =>
        IdBytes(table.Owners) + IdBytes(table.Listed) + 4 + 4 + (table.Source is { } source ? StringBytes(source) + 4 : 0) + StringBytes(table.RunId);

    private static long StringBytes(string s) => 4 + System.Text.Encoding.UTF8.GetByteCount(s);

    private static long IdBytes(IdMap map)
    {
        if (map.Kind == IdKind.Int64 || map.Count == 0) return 8;
        long total = 0;
        for (int i = 0; i < map.Count; i++) total += System.Text.Encoding.UTF8.GetByteCount(map.StringAt(i));
        return 4 + (total + map.Count - 1) / map.Count;
    }

    private static async Task WritePartAsync(string path, ListTable table, int ownerStart, int ownerEnd, long rowsPerGroup, CancellationToken ct)
    {
        var lists = table.Lists;
        DataField ownerField = IdField(table.OwnerColumn, table.Owners);
        DataField listedField = IdField(table.ListedColumn, table.Listed);
        var rankField = new DataField<int>("rank");
        var scoreField = new DataField<float>("score");
        var sourceField = table.Source is null ? null : new DataField<string>("source");
        var propensityField = table.Source is null ? null : new DataField<float>("propensity");
        var runField = new DataField<string>("run_id");
        var schema = new ParquetSchema(sourceField is null
            ? [ownerField, listedField, rankField, scoreField, runField]
            : [ownerField, listedField, rankField, scoreField, sourceField, propensityField!, runField]);
        await using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        await using (var writer = await ParquetWriter.CreateAsync(schema, stream, cancellationToken: ct))
        {
            // One set of column buffers for the part, refilled per row group: a fresh set per group is large-object garbage
            // the GC lets pile up (bench publish, 20M rows: the parts took +1.55 GB resident that way, +0.98 GB now).
            var buffers = new GroupBuffers((int)Math.Min(rowsPerGroup, RowsOf(lists, ownerStart, ownerEnd)), table.RunId);
            int u = ownerStart;
            while (u < ownerEnd)
            {
                int gEnd = u;
                int rows = 0;
                while (gEnd < ownerEnd && (rows + lists.Counts[gEnd] <= rowsPerGroup || rows == 0)) rows += lists.Counts[gEnd++];
                buffers.Ensure(rows);
                var (owners, items, ranks, scores, sources, propensities) = (buffers.Owners, buffers.Items, buffers.Ranks, buffers.Scores, buffers.Sources, buffers.Propensities);
                int w = 0;
                for (int x = u; x < gEnd; x++)
                {
                    var its = lists.ItemsOf(x); var sc = lists.ScoresOf(x);
                    for (int r = 0; r < its.Length; r++)
                    {
                        owners[w] = x; items[w] = its[r]; ranks[w] = r + 1; scores[w] = sc[r];
                        if (table.Source is { } model)
                        {
                            sources[w] = SourceName(model, lists.SourceOf(x, r));
                            propensities[w] = lists.PropensityOf(x, r);
                        }
                        w++;
                    }
                }
                using var rg = writer.CreateRowGroup();
                await WriteIdsAsync(rg, ownerField, table.Owners, owners.AsMemory(0, rows), buffers, ct);
                await WriteIdsAsync(rg, listedField, table.Listed, items.AsMemory(0, rows), buffers, ct);
                await rg.WriteAsync<int>(rankField, ranks.AsMemory(0, rows), null, null, ct);
                await rg.WriteAsync<float>(scoreField, scores.AsMemory(0, rows), null, null, ct);
                if (sourceField is not null)
                {
                    await rg.WriteAsync(sourceField, new ArraySegment<string>(buffers.Sources, 0, rows), null);
                    await rg.WriteAsync<float>(propensityField!, propensities.AsMemory(0, rows), null, null, ct);
                }
                await rg.WriteAsync(runField, new ArraySegment<string>(buffers.RunIds, 0, rows), null);
                u = gEnd;
            }
        }
        await stream.FlushAsync(ct);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>The <c>source</c> value of a slot: the model's name (<see cref="ListTable.Source"/>), <c>popular</c> or <c>explore</c>.</summary>
    public static string SourceName(string model, Core.Index.ListSource source) => source switch
    {
        Core.Index.ListSource.Popular => "popular",
        Core.Index.ListSource.Explore => "explore",
        _ => model,
    };

    private static DataField IdField(string name, IdMap map) => map.Kind == IdKind.Int64 ? new DataField<long>(name) : new DataField<string>(name);

    private static long RowsOf(Core.Index.TopNResult lists, int ownerStart, int ownerEnd)
    {
        long rows = 0;
        for (int x = ownerStart; x < ownerEnd; x++) rows += lists.Counts[x];
        return Math.Max(1, rows);
    }

    private static async Task WriteIdsAsync(ParquetRowGroupWriter rg, DataField field, IdMap map, ReadOnlyMemory<int> idx, GroupBuffers buffers, CancellationToken ct)
    {
        int n = idx.Length;
        if (map.Kind == IdKind.Int64)
        {
            var ids = map.Int64Ids;
            var a = buffers.Longs;
            var ix = idx.Span;
            for (int r = 0; r < n; r++) a[r] = ids[ix[r]];
            await rg.WriteAsync<long>(field, a.AsMemory(0, n), null, null, ct);
        }
        else
        {
            var a = buffers.Strings;
            var ix = idx.Span;
            for (int r = 0; r < n; r++) a[r] = map.StringAt(ix[r]);
            await rg.WriteAsync(field, new ArraySegment<string>(a, 0, n), null);
        }
    }

    /// <summary>
    /// A part's column buffers, refilled per row group; they grow when a group is larger than any before (a group always
    /// takes at least one whole list, which can exceed the rows a group is sized for). The constant columns are filled
    /// when allocated.
    /// </summary>
    private sealed class GroupBuffers(int rows, string runId)
    {
        public int[] Owners { get; private set; } = [];
        public int[] Items { get; private set; } = [];
        public int[] Ranks { get; private set; } = [];
        public float[] Scores { get; private set; } = [];
        public float[] Propensities { get; private set; } = [];
        public long[] Longs { get; private set; } = [];
        public string[] Strings { get; private set; } = [];
        public string[] Sources { get; private set; } = [];
        public string[] RunIds { get; private set; } = [];

        /// <summary>Makes every buffer hold at least <paramref name="need"/> rows.</summary>
        /// <param name="need">the rows of the next group.</param>
        public void Ensure(int need)
        {
            if (need <= Owners.Length) return;
            int n = Math.Max(need, rows);
            Owners = new int[n]; Items = new int[n]; Ranks = new int[n]; Scores = new float[n]; Propensities = new float[n];
            Longs = new long[n]; Strings = new string[n];
            Sources = new string[n]; RunIds = new string[n];
            Array.Fill(RunIds, runId);
        }
    }

    public static async Task<string> Sha256Async(string path, CancellationToken ct = default)
    {
        await using var s = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(s, ct));
    }
}
