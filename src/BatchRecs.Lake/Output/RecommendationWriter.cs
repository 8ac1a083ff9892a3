using System.Security.Cryptography;
using BatchRecs.Core.Data;
using Parquet;
using Parquet.Schema;

namespace BatchRecs.Lake.Output;

/// <summary>
/// Writes top-N lists in the output contract: <c>user_id</c>, <c>item_id</c> (input types), <c>rank</c> INT32 1-based,
/// <c>score</c> FLOAT, <c>source</c> STRING (<c>als</c>, or <c>popular</c> for the popularity fallback), <c>run_id</c> STRING; sorted by user then rank, in row groups of about
/// <see cref="RowGroupBytes"/> of values (see <see cref="BytesPerRow"/>; a user's list never spans two) and part files
/// of about <see cref="FileBytes"/>. Sized by the values, not by what they take after encoding and compression, so a
/// group's rows, and the memory its columns take while it is written, are known before it is built.
/// </summary>
public static class RecommendationWriter
{
    /// <summary>Row groups of about 128 MiB of values: the Parquet and Spark block size, what scanners are tuned for.</summary>
    public const long RowGroupBytes = 128L << 20;

    /// <summary>Part files of about four row groups.</summary>
    public const long FileBytes = 4 * RowGroupBytes;

    public static readonly string[] Columns = ["user_id", "item_id", "rank", "score", "source", "run_id"];

    /// <param name="rowGroupBytes">target row-group size in bytes of values (tests use small ones).</param>
    /// <param name="fileBytes">target part-file size in bytes of values.</param>
    /// <param name="dir">the (staging) partition directory the part files are written into.</param>
    /// <param name="req">the lists and ids to write.</param>
    /// <param name="ct">cancels the write.</param>
    public static async Task<IReadOnlyList<PartFile>> WriteAsync(string dir, PublishRequest req, CancellationToken ct = default,
        long rowGroupBytes = RowGroupBytes, long fileBytes = FileBytes)
    {
        Directory.CreateDirectory(dir);
        var recs = req.Recommendations;
        long bytesPerRow = BytesPerRow(req);
        long rowsPerGroup = Math.Max(1, rowGroupBytes / bytesPerRow);
        long rowsPerFile = Math.Max(rowsPerGroup, fileBytes / bytesPerRow);
        var parts = new List<PartFile>();
        int user = 0;
        while (user < recs.Users || parts.Count == 0)
        {
            // Users [user, end) go into this part.
            int end = user;
            long rows = 0;
            while (end < recs.Users && (rows + recs.Counts[end] <= rowsPerFile || rows == 0)) rows += recs.Counts[end++];
            string name = $"part-{parts.Count:D5}.parquet";
            string path = Path.Combine(dir, name);
            await WritePartAsync(path, req, user, end, rowsPerGroup, ct);
            parts.Add(new PartFile(name, rows, new FileInfo(path).Length, await Sha256Async(path, ct)));
            user = end;
            if (recs.Users == 0) break;
        }
        return parts;
    }

    /// <summary>
    /// The bytes of one output row's values as Parquet stores them before compression: an INT64 id is 8, a STRING
    /// 4 + its UTF-8 length (ids: the mean over the map), rank and score 4 each.
    /// </summary>
    public static long BytesPerRow(PublishRequest req) =>
        IdBytes(req.Users) + IdBytes(req.Items) + 4 + 4 + StringBytes(req.Source) + StringBytes(req.Run.RunId);

    private static long StringBytes(string s) => 4 + System.Text.Encoding.UTF8.GetByteCount(s);

    private static long IdBytes(IdMap map)
    {
        if (map.Kind == IdKind.Int64 || map.Count == 0) return 8;
        long total = 0;
        for (int i = 0; i < map.Count; i++) total += System.Text.Encoding.UTF8.GetByteCount(map.StringAt(i));
        return 4 + (total + map.Count - 1) / map.Count;
    }

    private static async Task WritePartAsync(string path, PublishRequest req, int userStart, int userEnd, long rowsPerGroup, CancellationToken ct)
    {
        var recs = req.Recommendations;
        DataField userField = req.Users.Kind == IdKind.Int64 ? new DataField<long>("user_id") : new DataField<string>("user_id");
        DataField itemField = req.Items.Kind == IdKind.Int64 ? new DataField<long>("item_id") : new DataField<string>("item_id");
        var rankField = new DataField<int>("rank");
        var scoreField = new DataField<float>("score");
        var sourceField = new DataField<string>("source");
        var runField = new DataField<string>("run_id");
        var schema = new ParquetSchema(userField, itemField, rankField, scoreField, sourceField, runField);
        await using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        await using (var writer = await ParquetWriter.CreateAsync(schema, stream, cancellationToken: ct))
        {
            // One set of column buffers for the part, refilled per row group: a fresh set per group is large-object garbage
            // the GC lets pile up (bench publish, 20M rows: the parts took +1.55 GB resident that way, +0.98 GB now).
            var buffers = new GroupBuffers((int)Math.Min(rowsPerGroup, RowsOf(recs, userStart, userEnd)), req.Run.RunId);
            int u = userStart;
            while (u < userEnd)
            {
                int gEnd = u;
                int rows = 0;
                while (gEnd < userEnd && (rows + recs.Counts[gEnd] <= rowsPerGroup || rows == 0)) rows += recs.Counts[gEnd++];
                buffers.Ensure(rows);
                var (users, items, ranks, scores, sources) = (buffers.Users, buffers.Items, buffers.Ranks, buffers.Scores, buffers.Sources);
                int w = 0;
                for (int x = u; x < gEnd; x++)
                {
                    var its = recs.ItemsOf(x); var sc = recs.ScoresOf(x);
                    for (int r = 0; r < its.Length; r++)
                    {
                        users[w] = x; items[w] = its[r]; ranks[w] = r + 1; scores[w] = sc[r];
                        sources[w] = SourceName(req, recs.SourceOf(x, r));
                        w++;
                    }
                }
                using var rg = writer.CreateRowGroup();
                await WriteIdsAsync(rg, userField, req.Users, users.AsMemory(0, rows), buffers, ct);
                await WriteIdsAsync(rg, itemField, req.Items, items.AsMemory(0, rows), buffers, ct);
                await rg.WriteAsync<int>(rankField, ranks.AsMemory(0, rows), null, null, ct);
                await rg.WriteAsync<float>(scoreField, scores.AsMemory(0, rows), null, null, ct);
                await rg.WriteAsync(sourceField, new ArraySegment<string>(buffers.Sources, 0, rows), null);
                await rg.WriteAsync(runField, new ArraySegment<string>(buffers.RunIds, 0, rows), null);
                u = gEnd;
            }
        }
        await stream.FlushAsync(ct);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>The <c>source</c> value of a slot: the model's name (<see cref="PublishRequest.Source"/>), <c>popular</c> or <c>explore</c>.</summary>
    public static string SourceName(PublishRequest req, Core.Index.ListSource source) => source switch
    {
        Core.Index.ListSource.Popular => "popular",
        Core.Index.ListSource.Explore => "explore",
        _ => req.Source,
    };

    private static long RowsOf(Core.Index.TopNResult recs, int userStart, int userEnd)
    {
        long rows = 0;
        for (int x = userStart; x < userEnd; x++) rows += recs.Counts[x];
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
        public int[] Users { get; private set; } = [];
        public int[] Items { get; private set; } = [];
        public int[] Ranks { get; private set; } = [];
        public float[] Scores { get; private set; } = [];
        public long[] Longs { get; private set; } = [];
        public string[] Strings { get; private set; } = [];
        public string[] Sources { get; private set; } = [];
        public string[] RunIds { get; private set; } = [];

        /// <summary>Makes every buffer hold at least <paramref name="need"/> rows.</summary>
        /// <param name="need">the rows of the next group.</param>
        public void Ensure(int need)
        {
            if (need <= Users.Length) return;
            int n = Math.Max(need, rows);
            Users = new int[n]; Items = new int[n]; Ranks = new int[n]; Scores = new float[n];
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
