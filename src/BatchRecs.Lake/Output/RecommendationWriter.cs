using System.Security.Cryptography;
using BatchRecs.Core.Data;
using Parquet;
using Parquet.Schema;

namespace BatchRecs.Lake.Output;

/// <summary>
/// Writes top-N lists in the output contract: <c>user_id</c>, <c>item_id</c> (input types), <c>rank</c> INT32 1-based,
/// <c>score</c> FLOAT, <c>source</c> STRING, <c>run_id</c> STRING; sorted by user then rank, split into part files of
/// about <see cref="FileBytes"/> with row groups of about <see cref="RowGroupBytes"/> on disk (a user's list is never
/// split). The first row group's rows come from an estimate (<see cref="BytesPerRow"/>); every later one uses the bytes
/// per row the groups written so far actually took, after encoding and compression.
/// </summary>
public static class RecommendationWriter
{
    /// <summary>Row groups of about 128 MiB: the Parquet and Spark block size, what scanners are tuned for.</summary>
    public const long RowGroupBytes = 128L << 20;

    /// <summary>Part files of about four row groups.</summary>
    public const long FileBytes = 4 * RowGroupBytes;

    public static readonly string[] Columns = ["user_id", "item_id", "rank", "score", "source", "run_id"];

    /// <param name="rowGroupBytes">target row-group size on disk (tests use small ones).</param>
    /// <param name="fileBytes">target part-file size on disk.</param>
    public static async Task<IReadOnlyList<PartFile>> WriteAsync(string dir, PublishRequest req, CancellationToken ct = default,
        long rowGroupBytes = RowGroupBytes, long fileBytes = FileBytes)
    {
        Directory.CreateDirectory(dir);
        var recs = req.Recommendations;
        var size = new Sizing(rowGroupBytes, fileBytes, BytesPerRow(req));
        var parts = new List<PartFile>();
        int user = 0;
        while (user < recs.Users || parts.Count == 0)
        {
            string name = $"part-{parts.Count:D5}.parquet";
            string path = Path.Combine(dir, name);
            int end = await WritePartAsync(path, req, user, size, ct);
            long rows = 0;
            for (int x = user; x < end; x++) rows += recs.Counts[x];
            parts.Add(new PartFile(name, rows, new FileInfo(path).Length, await Sha256Async(path, ct)));
            user = end;
            if (recs.Users == 0) break;
        }
        return parts;
    }

    /// <summary>Rows per row group and per file from the bytes per row: estimated at first, then as measured.</summary>
    private sealed class Sizing(long rowGroupBytes, long fileBytes, double estimate)
    {
        private long _bytes, _rows;

        private double BytesPerRow => _rows > 0 ? Math.Max(1.0, (double)_bytes / _rows) : estimate;

        public long RowsPerGroup => Math.Max(1, (long)(rowGroupBytes / BytesPerRow));

        /// <summary>Whether a file already holding <paramref name="written"/> bytes takes another row group.</summary>
        public bool Fits(long written) => written + rowGroupBytes / 2 <= fileBytes;

        public void Wrote(long rows, long bytes) { _rows += rows; _bytes += bytes; }
    }

    /// <summary>
    /// Estimated uncompressed bytes of one output row: an INT64 id is 8, a STRING id 4 + its mean UTF-8 length; rank
    /// and score 4 each; source and run_id are one value per file, dictionary-encoded to about a byte each.
    /// </summary>
    internal static long BytesPerRow(PublishRequest req) => IdBytes(req.Users) + IdBytes(req.Items) + 4 + 4 + 2;

    private static long IdBytes(IdMap map)
    {
        if (map.Kind == IdKind.Int64 || map.Count == 0) return 8;
        long total = 0;
        for (int i = 0; i < map.Count; i++) total += System.Text.Encoding.UTF8.GetByteCount(map.StringAt(i));
        return 4 + (total + map.Count - 1) / map.Count;
    }

    /// <summary>Writes users from <paramref name="userStart"/> on, row group by row group, until the file is about
    /// <see cref="FileBytes"/> (at least one group); returns the first user not written.</summary>
    private static async Task<int> WritePartAsync(string path, PublishRequest req, int userStart, Sizing size, CancellationToken ct)
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
        int u = userStart, userEnd = recs.Users;
        await using (var writer = await ParquetWriter.CreateAsync(schema, stream, cancellationToken: ct))
        {
            while (u < userEnd && (u == userStart || size.Fits(stream.Position)))
            {
                int gEnd = u;
                int rows = 0;
                long rowsPerGroup = size.RowsPerGroup, start = stream.Position;
                while (gEnd < userEnd && (rows + recs.Counts[gEnd] <= rowsPerGroup || rows == 0)) rows += recs.Counts[gEnd++];
                var users = new int[rows]; var items = new int[rows]; var ranks = new int[rows]; var scores = new float[rows];
                int w = 0;
                for (int x = u; x < gEnd; x++)
                {
                    var its = recs.ItemsOf(x); var sc = recs.ScoresOf(x);
                    for (int r = 0; r < its.Length; r++) { users[w] = x; items[w] = its[r]; ranks[w] = r + 1; scores[w] = sc[r]; w++; }
                }
                using (var rg = writer.CreateRowGroup())
                {
                    await WriteIdsAsync(rg, userField, req.Users, users, ct);
                    await WriteIdsAsync(rg, itemField, req.Items, items, ct);
                    await rg.WriteAsync<int>(rankField, ranks, null, null, ct);
                    await rg.WriteAsync<float>(scoreField, scores, null, null, ct);
                    await rg.WriteAsync(sourceField, Enumerable.Repeat(req.Source, rows).ToArray(), null);
                    await rg.WriteAsync(runField, Enumerable.Repeat(req.Run.RunId, rows).ToArray(), null);
                }
                size.Wrote(rows, stream.Position - start);
                u = gEnd;
            }
        }
        await stream.FlushAsync(ct);
        stream.Flush(flushToDisk: true);
        return u;
    }

    internal static async Task WriteIdsAsync(ParquetRowGroupWriter rg, DataField field, IdMap map, int[] idx, CancellationToken ct)
    {
        if (map.Kind == IdKind.Int64)
        {
            var ids = map.Int64Ids;
            var a = new long[idx.Length];
            for (int r = 0; r < a.Length; r++) a[r] = ids[idx[r]];
            await rg.WriteAsync<long>(field, a, null, null, ct);
        }
        else
        {
            var a = new string[idx.Length];
            for (int r = 0; r < a.Length; r++) a[r] = map.StringAt(idx[r]);
            await rg.WriteAsync(field, a, null);
        }
    }

    public static async Task<string> Sha256Async(string path, CancellationToken ct = default)
    {
        await using var s = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(s, ct));
    }
}
