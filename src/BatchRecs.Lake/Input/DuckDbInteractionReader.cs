using System.Globalization;
using BatchRecs.Core.Data;
using DuckDB.NET.Data;

namespace BatchRecs.Lake.Input;

/// <summary>
/// The same input contract read through DuckDB's own <c>read_parquet</c> (multi-threaded scan, projection and
/// time-filter pushdown into the row groups, <c>union_by_name</c> for schema drift). Anything unexpected — a
/// failing scan, a null id, a bad value, mixed id kinds — falls back to <see cref="InteractionReader"/>, whose
/// per-file reading names the file, column, row group and row (and honours <c>skip_bad_files</c>).
/// </summary>
public static class DuckDbInteractionReader
{
    private sealed class FallBack(string why) : Exception(why);

    public static async Task<ReadResult> ReadAsync(string inputDir, ReadWindow window, EventRules rules, CancellationToken ct = default)
    {
        try
        {
            return ReadFast(inputDir, window, rules, ct);
        }
        catch (Exception e) when (e is FallBack or DuckDBException)
        {
            return await InteractionReader.ReadAsync(inputDir, window, rules, ct);
        }
    }

    private static ReadResult ReadFast(string inputDir, ReadWindow window, EventRules rules, CancellationToken ct)
    {
        var files = InteractionReader.Discover(inputDir);
        var selected = files.Where(f => f.Day is null || window.ContainsDay(f.Day.Value)).Select(f => f.Path).ToList();
        if (selected.Count == 0) throw new FallBack("no files");
        var (start, end) = window.Micros();
        string list = "[" + string.Join(", ", selected.Select(Quote)) + "]";

        using var con = new DuckDBConnection("Data Source=:memory:");
        con.Open();
        // Column types per file: required columns present, one id kind per column.
        var types = new Dictionary<string, HashSet<string>>();
        var perFile = new Dictionary<string, HashSet<string>>();
        using (var cmd = con.CreateCommand())
        {
            cmd.CommandText = $"SELECT file_name, name, type, logical_type FROM parquet_schema({list})";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                string file = r.GetString(0), name = r.GetString(1);
                string type = r.IsDBNull(2) ? "" : r.GetString(2);
                (perFile.TryGetValue(file, out var cols) ? cols : perFile[file] = []).Add(name);
                (types.TryGetValue(name, out var set) ? set : types[name] = []).Add(type);
            }
        }
        foreach (var f in selected)
            if (!perFile.TryGetValue(f, out var cols) || !cols.Contains(InteractionReader.UserColumn) || !cols.Contains(InteractionReader.ItemColumn) || !cols.Contains(InteractionReader.TimeColumn))
                throw new FallBack("missing column");
        foreach (var idCol in new[] { InteractionReader.UserColumn, InteractionReader.ItemColumn })
            if (types[idCol].Count(t => t == "BYTE_ARRAY") > 0 && types[idCol].Any(t => t != "BYTE_ARRAY")) throw new FallBack("mixed id kinds");
        bool stringUsers = types[InteractionReader.UserColumn].Contains("BYTE_ARRAY");
        bool stringItems = types[InteractionReader.ItemColumn].Contains("BYTE_ARRAY");
        bool hasType = types.ContainsKey(InteractionReader.TypeColumn);
        bool hasValue = types.ContainsKey(InteractionReader.ValueColumn);

        var fileRows = new Dictionary<string, long>();
        using (var cmd = con.CreateCommand())
        {
            cmd.CommandText = $"SELECT file_name, num_rows FROM parquet_file_metadata({list})";
            using var r = cmd.ExecuteReader();
            while (r.Read()) fileRows[r.GetString(0)] = r.GetInt64(1);
        }

        // event_time as Unix microseconds, whatever its physical type.
        string timeType = EventTimeType(con, list);
        string micros = timeType.StartsWith("TIMESTAMP", StringComparison.Ordinal) ? "epoch_us(event_time)"
            : rules.EpochUnit switch { "s" => "event_time * 1000000", "ms" => "event_time * 1000", "us" => "event_time", "ns" => "event_time // 1000", _ => throw new FallBack("unit") };
        string weight = "1.0";
        if (hasType && rules.EventWeights is { Count: > 0 } w)
            weight = "CASE event_type " + string.Join(" ", w.Select(kv => $"WHEN {Quote(kv.Key)} THEN {kv.Value.ToString("R", CultureInfo.InvariantCulture)}"))
                + $" ELSE {rules.DefaultEventWeight.ToString("R", CultureInfo.InvariantCulture)} END";
        else if (rules.DefaultEventWeight != 1f) weight = rules.DefaultEventWeight.ToString("R", CultureInfo.InvariantCulture);
        string value = hasValue ? "CAST(value AS DOUBLE)" : "1.0";

        var users = new IdCollector(InteractionReader.UserColumn);
        var items = new IdCollector(InteractionReader.ItemColumn);
        users.SetKind(stringUsers ? IdKind.String : IdKind.Int64, inputDir);
        items.SetKind(stringItems ? IdKind.String : IdKind.Int64, inputDir);
        var u = new GrowableArray<int>(1 << 16); var i = new GrowableArray<int>(1 << 16);
        var v = new GrowableArray<float>(1 << 16); var t = new GrowableArray<long>(1 << 16);
        double decayPerMicro = rules.HalfLifeDays > 0 ? Math.Log(2) / (rules.HalfLifeDays * 86_400e6) : 0;
        using (var cmd = con.CreateCommand())
        {
            cmd.CommandText = $"""
                SELECT user_id, item_id, t, CAST(v * w AS DOUBLE) FROM (
                    SELECT user_id, item_id, {micros} AS t, {value} AS v, {weight} AS w
                    FROM read_parquet({list}, union_by_name = true, hive_partitioning = false))
                WHERE t >= {start} AND t < {end}
                """;
            using var r = cmd.ExecuteReader();
            long rows = 0;
            while (r.Read())
            {
                if ((++rows & 0xFFFFF) == 0) ct.ThrowIfCancellationRequested();
                if (r.IsDBNull(0) || r.IsDBNull(1) || r.IsDBNull(2)) throw new FallBack("null");
                double x = r.IsDBNull(3) ? 1.0 : r.GetDouble(3);
                if (!double.IsFinite(x) || x < 0) throw new FallBack("bad value");
                long time = r.GetInt64(2);
                u.Add(stringUsers ? users.Add(r.GetString(0)) : users.Add(r.GetInt64(0)));
                i.Add(stringItems ? items.Add(r.GetString(1)) : items.Add(r.GetInt64(1)));
                float wv = (float)x;
                if (decayPerMicro > 0) wv *= (float)Math.Exp(-decayPerMicro * (end - time));
                v.Add(wv);
                t.Add(time);
            }
        }
        var (userMap, userRemap) = users.Finish();
        var (itemMap, itemRemap) = items.Finish();
        var ua = u.ToArray(); var ia = i.ToArray();
        for (int e = 0; e < ua.Length; e++) { ua[e] = userRemap[ua[e]]; ia[e] = itemRemap[ia[e]]; }
        var log = new InteractionLog(userMap, itemMap, ua, ia, v.ToArray(), t.ToArray());
        var infos = selected.Select(f => { var fi = new FileInfo(f); return new InputFileInfo(f, fi.Length, fi.LastWriteTimeUtc, fileRows.GetValueOrDefault(f)); }).ToList();
        return new ReadResult(log, infos, files.Count - selected.Count, infos.Sum(x => x.Rows), log.Count, []);
    }

    private static string EventTimeType(DuckDBConnection con, string list)
    {
        using var cmd = con.CreateCommand();
        cmd.CommandText = $"SELECT column_type FROM (DESCRIBE SELECT event_time FROM read_parquet({list}, union_by_name = true, hive_partitioning = false))";
        return Convert.ToString(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) ?? "";
    }

    private static string Quote(string s) => "'" + s.Replace("'", "''") + "'";
}
