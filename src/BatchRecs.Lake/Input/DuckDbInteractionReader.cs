using System.Globalization;
using BatchRecs.Core.Data;
using DuckDB.NET.Data;
using Parquet;

namespace BatchRecs.Lake.Input;

/// <summary>
/// The same input contract read through DuckDB's own <c>read_parquet</c> (multi-threaded scan, projection and
/// time-filter pushdown into the row groups, <c>union_by_name</c> for schema drift). It accepts exactly what
/// <see cref="InteractionReader"/> accepts: the files are the same (<see cref="InputDirectory"/>), each file's footer
/// passes the same <see cref="InputSchema"/> check, and the rows the row-group reader would reject (null ids or times,
/// values that are not finite and ≥ 0, anywhere in the files, inside the window or not) are looked for in the same
/// scan. Anything unexpected — a bad file, a bad row, a failing scan, an empty window — falls back to
/// <see cref="InteractionReader"/>, whose per-file reading names the file, column, row group and row (and honours
/// <c>skip_bad_files</c>), so both readers end the same way.
/// </summary>
public static class DuckDbInteractionReader
{
    private sealed class FallBack(string why) : Exception(why);

    public static async Task<ReadResult> ReadAsync(string inputDir, ReadWindow window, EventRules rules, CancellationToken ct = default)
    {
        try
        {
            return await ReadFastAsync(inputDir, window, rules, ct);
        }
        catch (Exception e) when (e is FallBack or DuckDBException)
        {
            return await InteractionReader.ReadAsync(inputDir, window, rules, ct);
        }
    }

    /// <summary>What the footers of the files say, checked by the row-group reader's own rules.</summary>
    private sealed record Footers(bool StringUsers, bool StringItems, bool EpochTime, bool HasValue, bool HasType,
        bool NullableUsers, bool NullableItems, bool NullableTimes, Dictionary<string, long> Rows);

    private static async Task<Footers> ReadFootersAsync(IReadOnlyList<string> files, CancellationToken ct)
    {
        var schemas = new List<InputSchema>(files.Count);
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var path in files)
        {
            try
            {
                await using var reader = await ParquetReader.CreateAsync(path, cancellationToken: ct);
                schemas.Add(InputSchema.Check(reader.Schema, path));
                rows[path] = reader.Metadata?.NumRows ?? throw new FallBack("no footer");
            }
            catch (Exception e) when (e is not OperationCanceledException and not FallBack)
            {
                throw new FallBack($"{path}: {e.Message}");
            }
        }
        var first = schemas[0];
        if (schemas.Any(x => x.UserKind != first.UserKind || x.ItemKind != first.ItemKind || x.EpochTime != first.EpochTime))
            throw new FallBack("mixed kinds");
        return new Footers(first.UserKind == IdKind.String, first.ItemKind == IdKind.String, first.EpochTime,
            schemas.Any(x => x.Value is not null), schemas.Any(x => x.Type is not null),
            schemas.Any(x => x.User.IsNullable), schemas.Any(x => x.Item.IsNullable), schemas.Any(x => x.Time.IsNullable), rows);
    }

    private static async Task<ReadResult> ReadFastAsync(string inputDir, ReadWindow window, EventRules rules, CancellationToken ct)
    {
        var listing = await InputDirectory.ListAsync(inputDir, window, ct);
        var selected = listing.Files;
        if (selected.Count == 0 || selected.Any(f => f.Problem is not null)) throw new FallBack("no files, or a file not to open");
        var paths = selected.Select(f => f.Path).ToList();
        var footers = await ReadFootersAsync(paths, ct);
        var (start, end) = window.Micros();
        string list = "[" + string.Join(", ", paths.Select(Quote)) + "]";

        using var con = new DuckDBConnection("Data Source=:memory:");
        con.Open();
        // event_time as Unix microseconds; DuckDB must see the type Parquet.Net saw (an INT64 overflowing a unit fails the
        // scan and falls back; the row-group reader puts such a time outside every window).
        string timeType = EventTimeType(con, list);
        string micros;
        if (!footers.EpochTime)
            micros = timeType.StartsWith("TIMESTAMP", StringComparison.Ordinal) ? "epoch_us(event_time)" : throw new FallBack("time type " + timeType);
        else if (timeType is "BIGINT" or "INTEGER")
            micros = rules.EpochUnit switch
            {
                "s" => "CAST(event_time AS BIGINT) * 1000000", "ms" => "CAST(event_time AS BIGINT) * 1000", "us" => "CAST(event_time AS BIGINT)",
                "ns" => "CAST(event_time AS BIGINT) // 1000", _ => throw new FallBack("unit"),
            };
        else throw new FallBack("time type " + timeType);
        string weight = "1.0";
        if (footers.HasType && rules.EventWeights is { Count: > 0 } w)
            weight = "CASE event_type " + string.Join(" ", w.Select(kv => $"WHEN {Quote(kv.Key)} THEN {kv.Value.ToString("R", CultureInfo.InvariantCulture)}"))
                + $" ELSE {rules.DefaultEventWeight.ToString("R", CultureInfo.InvariantCulture)} END";
        else if (rules.DefaultEventWeight != 1f) weight = rules.DefaultEventWeight.ToString("R", CultureInfo.InvariantCulture);
        string value = footers.HasValue ? "CAST(value AS DOUBLE)" : "1.0";
        // Rows the row-group reader rejects wherever they are: only the checks a column's type leaves open.
        var badIf = new List<string>();
        if (footers.NullableUsers) badIf.Add("user_id IS NULL");
        if (footers.NullableItems) badIf.Add("item_id IS NULL");
        if (footers.NullableTimes) badIf.Add("event_time IS NULL");
        if (footers.HasValue) badIf.Add("(value IS NOT NULL AND NOT (isfinite(CAST(value AS DOUBLE)) AND CAST(value AS DOUBLE) >= 0))");
        string bad = badIf.Count > 0 ? string.Join(" OR ", badIf) : "false";

        var users = new IdCollector(InteractionReader.UserColumn);
        var items = new IdCollector(InteractionReader.ItemColumn);
        users.SetKind(footers.StringUsers ? IdKind.String : IdKind.Int64, inputDir);
        items.SetKind(footers.StringItems ? IdKind.String : IdKind.Int64, inputDir);
        var events = new EventLog.Builder();
        double decayPerMicro = rules.HalfLifeDays > 0 ? Math.Log(2) / (rules.HalfLifeDays * 86_400e6) : 0;
        using (var cmd = con.CreateCommand())
        {
            // The rows in the window come back, and, flagged, any row the row-group reader would reject wherever it is.
            cmd.CommandText = $"""
                SELECT uid, iid, t, CAST(v * w AS DOUBLE), bad FROM (
                    SELECT {Id("user_id", footers.StringUsers)} AS uid, {Id("item_id", footers.StringItems)} AS iid, {micros} AS t,
                           {value} AS v, {weight} AS w, {bad} AS bad
                    FROM read_parquet({list}, union_by_name = true, hive_partitioning = false))
                WHERE {(badIf.Count > 0 ? "bad OR " : "")}(t >= {start} AND t < {end})
                """;
            using var r = cmd.ExecuteReader();
            long rows = 0;
            while (r.Read())
            {
                if ((++rows & 0xFFFFF) == 0) ct.ThrowIfCancellationRequested();
                if (r.GetBoolean(4)) throw new FallBack("a row the row-group reader rejects");
                if (r.IsDBNull(0) || r.IsDBNull(1) || r.IsDBNull(2)) throw new FallBack("null");
                double x = r.IsDBNull(3) ? 1.0 : r.GetDouble(3);
                if (!double.IsFinite(x) || x < 0) throw new FallBack("bad value");
                long time = r.GetInt64(2);
                int user = footers.StringUsers ? users.Add(r.GetString(0)) : users.Add(r.GetInt64(0));
                int item = footers.StringItems ? items.Add(r.GetString(1)) : items.Add(r.GetInt64(1));
                float wv = (float)x;
                if (decayPerMicro > 0) wv *= (float)Math.Exp(-decayPerMicro * (end - time));
                events.Add(user, item, wv, time);
            }
        }
        // An empty window is explained from every row's time (ReadResult.Times): the row-group reader gathers them.
        if (events.Count == 0) throw new FallBack("no events in the window");
        var (userMap, userRemap) = users.Finish();
        var (itemMap, itemRemap) = items.Finish();
        var log = events.Finish(userMap, userRemap, itemMap, itemRemap);
        var infos = paths.Select(f => { var fi = new FileInfo(f); return new InputFileInfo(f, fi.Length, fi.LastWriteTimeUtc, footers.Rows[f]); }).ToList();
        return new ReadResult(log, infos, listing.Pruned, infos.Sum(x => x.Rows), log.Count, []);
    }

    /// <summary>An id column as the reader interns it: integers of any accepted width as BIGINT, strings as they are.</summary>
    private static string Id(string column, bool isString) => isString ? column : $"CAST({column} AS BIGINT)";

    private static string EventTimeType(DuckDBConnection con, string list)
    {
        using var cmd = con.CreateCommand();
        cmd.CommandText = $"SELECT column_type FROM (DESCRIBE SELECT event_time FROM read_parquet({list}, union_by_name = true, hive_partitioning = false))";
        return Convert.ToString(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) ?? "";
    }

    private static string Quote(string s) => "'" + s.Replace("'", "''") + "'";
}
