using BatchRecs.Core.Errors;
using System.Globalization;
using System.Text.Json;
using BatchRecs.Lake.Input;
using BatchRecs.Lake.Output;
using DuckDB.NET.Data;

namespace BatchRecs.Reporting;

/// <summary>
/// Reads a run's <see cref="ReportData"/> from the lake: <c>LAKE/batchrecs.duckdb</c> opened READ_ONLY (so a
/// report never blocks a publish, which renames a new file over the live one) and the partition's manifest.
/// </summary>
public static class ReportDataReader
{
    /// <summary>Popularity groups on the long-tail chart.</summary>
    public const int LongTailBins = 20;

    public static ReportData Read(string lakeDir, string runId)
    {
        using var con = Open(lakeDir);
        var run = ReadRun(con, runId)
            ?? throw new BadInputException($"run '{runId}' is not in the runs table of {DatabasePath(lakeDir)}; list runs with: batchrecs sql \"SELECT run_id, run_date, status FROM runs ORDER BY started_at DESC\"");
        var metrics = ReadMetrics(con, runId);
        var manifest = ReadManifest(lakeDir, run);
        var settings = ReadSettings(con, runId) ?? manifest?.Manifest.Settings ?? new Dictionary<string, string>();
        return new ReportData(run, metrics, settings, ReadHistory(con, run), ReadLongTail(con, runId),
            manifest is null ? [] : InputDays(manifest.Value.Manifest), manifest?.Path,
            settings.TryGetValue("tuned_from", out var tuning) ? ReadTuning(con, tuning) : null);
    }

    /// <summary>A tuning's outcome and trials from <c>tuned_settings</c> and <c>tuning_trials</c>, or null if the lake lacks them.</summary>
    private static TuningSearch? ReadTuning(DuckDBConnection con, string tuningId)
    {
        try
        {
            using var cmd = con.CreateCommand();
            cmd.CommandText = "SELECT metric, tuned_value, current_value, adopted, cost_in_fits FROM tuned_settings WHERE tuning_id = $id";
            cmd.Parameters.Add(new DuckDBParameter("id", tuningId));
            using var r = cmd.ExecuteReader();
            if (!r.Read()) return null;
            var (metric, tuned, current, adopted, cost) = (r.GetString(0), r.GetDouble(1), r.GetDouble(2), r.GetBoolean(3), r.GetDouble(4));
            using var t = con.CreateCommand();
            t.CommandText = "SELECT trial, rung, metric FROM tuning_trials WHERE tuning_id = $id ORDER BY rung, trial";
            t.Parameters.Add(new DuckDBParameter("id", tuningId));
            using var tr = t.ExecuteReader();
            var trials = new List<(int, int, double)>();
            while (tr.Read()) trials.Add((tr.GetInt32(0), tr.GetInt32(1), tr.GetDouble(2)));
            return new TuningSearch(tuningId, metric, tuned, current, adopted, cost, trials);
        }
        catch (DuckDBException)
        {
            return null; // no tuning tables in this lake
        }
    }

    /// <summary>The id of the job's (or any job's) most recently started run, or null when the lake has none.</summary>
    public static string? LatestRunId(string lakeDir, string? job = null)
    {
        using var con = Open(lakeDir);
        using var cmd = con.CreateCommand();
        cmd.CommandText = $"SELECT run_id FROM runs {(job is null ? "" : "WHERE job = $job")} ORDER BY started_at DESC NULLS LAST, run_id DESC LIMIT 1";
        if (job is not null) cmd.Parameters.Add(new DuckDBParameter("job", job));
        return cmd.ExecuteScalar() as string;
    }

    /// <summary>The run date of a run, or null if the run is not in the lake.</summary>
    public static DateOnly? RunDateOf(string lakeDir, string runId)
    {
        using var con = Open(lakeDir);
        return ReadRun(con, runId)?.RunDate;
    }

    public static string DatabasePath(string lakeDir) => Path.Combine(lakeDir, DuckDbCatalog.FileName);

    private static DuckDBConnection Open(string lakeDir)
    {
        string db = DatabasePath(lakeDir);
        if (!File.Exists(db)) throw new BadInputException($"no run database at '{db}': pass the lake directory a job publishes to (--lake), or run a job first.");
        var con = new DuckDBConnection($"Data Source={db};ACCESS_MODE=READ_ONLY");
        con.Open();
        return con;
    }

    private static RunRow? ReadRun(DuckDBConnection con, string runId)
    {
        using var cmd = con.CreateCommand();
        cmd.CommandText = """
            SELECT run_id, job, CAST(run_date AS VARCHAR), status, started_at, finished_at, seconds, input_rows, users, items, reason
            FROM runs WHERE run_id = $id
            """;
        cmd.Parameters.Add(new DuckDBParameter("id", runId));
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return null;
        return new RunRow(r.GetString(0), r.GetString(1), ParseDate(r.GetString(2)), r.GetString(3),
            r.IsDBNull(4) ? null : r.GetDateTime(4), r.IsDBNull(5) ? null : r.GetDateTime(5),
            r.IsDBNull(6) ? null : r.GetDouble(6), r.IsDBNull(7) ? null : r.GetInt64(7),
            r.IsDBNull(8) ? null : r.GetInt32(8), r.IsDBNull(9) ? null : r.GetInt32(9), r.IsDBNull(10) ? null : r.GetString(10));
    }

    private static Dictionary<string, double> ReadMetrics(DuckDBConnection con, string runId)
    {
        using var cmd = con.CreateCommand();
        cmd.CommandText = "SELECT metric, value FROM run_metrics WHERE run_id = $id AND value IS NOT NULL";
        cmd.Parameters.Add(new DuckDBParameter("id", runId));
        using var r = cmd.ExecuteReader();
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        while (r.Read()) metrics[r.GetString(0)] = r.GetDouble(1);
        return metrics;
    }

    private static Dictionary<string, string>? ReadSettings(DuckDBConnection con, string runId)
    {
        using var cmd = con.CreateCommand();
        cmd.CommandText = "SELECT settings FROM runs WHERE run_id = $id";
        cmd.Parameters.Add(new DuckDBParameter("id", runId));
        if (cmd.ExecuteScalar() is not string { Length: > 0 } json) return null;
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(json);
        }
        catch (JsonException)
        {
            return null; // an older or hand-edited row: the report shows the manifest's settings instead
        }
    }

    /// <summary>
    /// The job's runs up to this one, in run-date order (a backfilled older date shows the trend up to that date; re-runs of a date
    /// appear in start order), with the metrics a trend can draw.
    /// </summary>
    private static List<HistoryPoint> ReadHistory(DuckDBConnection con, RunRow run)
    {
        using var cmd = con.CreateCommand();
        cmd.CommandText = $"""
            WITH me AS (SELECT run_date, started_at FROM runs WHERE run_id = $id),
            h AS (
                SELECT r.run_id, r.run_date, r.status, r.started_at FROM runs r, me
                WHERE r.job = $job AND (r.run_id = $id OR r.run_date < me.run_date OR (r.run_date = me.run_date AND r.started_at <= me.started_at))
                ORDER BY r.run_date DESC, r.started_at DESC NULLS LAST, r.run_id DESC LIMIT {RunReport.TrendRuns})
            SELECT h.run_id, CAST(h.run_date AS VARCHAR), h.status, m.metric, m.value
            FROM h LEFT JOIN run_metrics m ON m.run_id = h.run_id AND m.value IS NOT NULL
                AND (m.metric LIKE '{MetricNames.ModelRanker}.%' OR m.metric LIKE '{MetricNames.PopularRanker}.%' OR m.metric LIKE '{MetricNames.IndexPrefix}%' OR m.metric LIKE '{MetricNames.OpePrefix}%')
            ORDER BY h.run_date, h.started_at NULLS FIRST, h.run_id
            """;
        cmd.Parameters.Add(new DuckDBParameter("job", run.Job));
        cmd.Parameters.Add(new DuckDBParameter("id", run.RunId));
        using var r = cmd.ExecuteReader();
        var points = new List<HistoryPoint>();
        Dictionary<string, double>? current = null;
        while (r.Read())
        {
            string id = r.GetString(0);
            if (points.Count == 0 || points[^1].RunId != id)
            {
                current = new Dictionary<string, double>(StringComparer.Ordinal);
                points.Add(new HistoryPoint(id, ParseDate(r.GetString(1)), r.GetString(2), current));
            }
            if (!r.IsDBNull(3)) current![r.GetString(3)] = r.GetDouble(4);
        }
        return points;
    }

    /// <summary>Items ranked by input interactions, in <see cref="LongTailBins"/> groups, against their recommendation slots.</summary>
    private static LongTail? ReadLongTail(DuckDBConnection con, string runId)
    {
        if (!TableExists(con, "item_propensity") || !TableExists(con, "recommendations")) return null;
        using var cmd = con.CreateCommand();
        cmd.CommandText = $"""
            WITH pop AS (
                SELECT item_id, interactions,
                       row_number() OVER (ORDER BY interactions DESC, item_id) AS r, count(*) OVER () AS n
                FROM item_propensity WHERE run_id = $id),
            rec AS (SELECT item_id, count(*) AS slots FROM recommendations WHERE run_id = $id GROUP BY item_id),
            joined AS (
                SELECT least(CAST(floor((r - 1) * {LongTailBins}.0 / n) AS INTEGER), {LongTailBins - 1}) AS bin, r, interactions, coalesce(slots, 0) AS slots
                FROM pop LEFT JOIN rec USING (item_id))
            SELECT bin, CAST(min(r) AS INTEGER), CAST(max(r) AS INTEGER), CAST(sum(interactions) AS BIGINT), CAST(sum(slots) AS BIGINT),
                   CAST(count(*) FILTER (WHERE slots > 0) AS INTEGER)
            FROM joined GROUP BY bin ORDER BY bin
            """;
        cmd.Parameters.Add(new DuckDBParameter("id", runId));
        using var r = cmd.ExecuteReader();
        var bins = new List<LongTailBin>();
        int recommended = 0;
        while (r.Read())
        {
            bins.Add(new LongTailBin(r.GetInt32(1), r.GetInt32(2), r.GetInt64(3), r.GetInt64(4)));
            recommended += r.GetInt32(5);
        }
        if (bins.Count == 0 || bins.Sum(b => b.Slots) == 0) return null;
        return new LongTail(bins[^1].LastRank, recommended, bins.Sum(b => b.Interactions), bins.Sum(b => b.Slots), bins);
    }

    private static bool TableExists(DuckDBConnection con, string table)
    {
        using var cmd = con.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM information_schema.tables WHERE table_name = $t";
        cmd.Parameters.Add(new DuckDBParameter("t", table));
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
    }

    /// <summary>The run's manifest, if its partition is still the one this run published (a later re-run of the date replaces it).</summary>
    private static (RunManifest Manifest, string Path)? ReadManifest(string lakeDir, RunRow run)
    {
        string path = Path.Combine(RunReport.PartitionDir(lakeDir, run.RunDate), RunManifest.FileName);
        if (!File.Exists(path)) return null;
        var manifest = RunManifest.Read(path);
        return manifest.RunId == run.RunId ? (manifest, path) : null;
    }

    private static List<InputDay> InputDays(RunManifest manifest) =>
        manifest.Inputs
            .GroupBy(f => DayOf(f.Path))
            .Select(g => new InputDay(g.Key, g.Sum(f => f.Rows), g.Count()))
            .OrderBy(d => d.Day ?? DateOnly.MinValue)
            .ToList();

    private static DateOnly? DayOf(string path)
    {
        try
        {
            return PartitionPath.DateOf(path);
        }
        catch (InvalidDataException)
        {
            return null; // a dt= directory that is not a date: counted as undated
        }
    }

    private static DateOnly ParseDate(string s) => DateOnly.ParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture);
}
