using System.Globalization;
using System.Text.Json;
using BatchRecs.Core.Data;
using DuckDB.NET.Data;

namespace BatchRecs.Lake.Output;

/// <summary>
/// The analysts' DuckDB database (<c>LAKE/batchrecs.duckdb</c>): tables <c>recommendations</c>, <c>similar_items</c>,
/// <c>runs</c>, <c>run_metrics</c>, <c>item_factors</c>, <c>user_factors</c>.
/// </summary>
/// <remarks>
/// DuckDB lets one process write a database file, and a reader holding it open blocks other writers. So a publish
/// never opens the live file for writing: it copies it beside itself, applies the run in one transaction,
/// checkpoints, closes, and renames the copy over the live name. A notebook left open keeps reading the old
/// file (its inode) undisturbed and sees the new run on reconnect; a crash leaves the old file intact.
/// </remarks>
public static class DuckDbCatalog
{
    public const string FileName = "batchrecs.duckdb";

    /// <summary>
    /// The memory DuckDB may use while a publish builds the next catalog, tried in order: a build that runs out of the first
    /// is made again from the live file with the next. DuckDB's default is 80 % of the machine, and unbounded it took
    /// 2.6 GB more than the run itself to insert a 100M-interaction night's 20M list rows; bounded, it writes the rows to
    /// the file as it goes (spilling what must wait). The 20M rows in 16 MiB row groups (<see cref="ListWriter.RowGroupBytes"/>)
    /// load in 256 MB: the publish took +0.65 GB over the lists (`BatchRecs.Bench publish`), against +1.4 GB in 1 GB with
    /// 128 MiB row groups (DuckDB then ran out at 512 MB). The larger limits are for what the first cannot foresee: a
    /// catalog of many retained run dates, a wide items table.
    /// </summary>
    public static readonly IReadOnlyList<string> PublishMemoryLimits = ["256MB", "2GB", "8GB"];

    /// <summary>
    /// Builds the next database file from the current one plus this run; returns its temporary path.
    /// Recommendations and similar items of run dates before <paramref name="retentionCutoff"/> are deleted, and those of
    /// the run's date are replaced by the run's (a run without similar items leaves none for its date).
    /// </summary>
    /// <param name="lakeDir">the lake.</param>
    /// <param name="req">the run.</param>
    /// <param name="parquetFiles">the staged <c>recommendations</c> part files.</param>
    /// <param name="retentionCutoff">run dates before this are deleted.</param>
    /// <param name="similarFiles">the staged <c>similar_items</c> part files, or null when the run has none.</param>
    /// <param name="memoryLimits">DuckDB's memory limits to try in order (<see cref="PublishMemoryLimits"/>).</param>
    /// <param name="onOutOfMemory">told (the limit that was too small, the next) before the build is made again.</param>
    public static string Stage(string lakeDir, PublishRequest req, IReadOnlyList<string> parquetFiles, DateOnly retentionCutoff,
        IReadOnlyList<string>? similarFiles, IReadOnlyList<string> memoryLimits, Action<string, string>? onOutOfMemory) =>
        StageCopy(lakeDir, req.Run.RunId, con =>
        {
            EnsureSchema(con, req.Users.Kind, req.Items.Kind);
            using (var tx = con.BeginTransaction())
            {
                var date = req.Run.RunDate;
                Exec(con, "DELETE FROM recommendations WHERE run_date = $date OR run_date < $cutoff", ("date", date), ("cutoff", retentionCutoff));
                if (parquetFiles.Count > 0)
                    Exec(con, "INSERT INTO recommendations SELECT run_id, $date, user_id, item_id, rank, score, source, propensity FROM read_parquet($files, hive_partitioning = false)",
                        ("date", date), ("files", parquetFiles.ToArray()));
                Exec(con, "DELETE FROM similar_items WHERE run_date = $date OR run_date < $cutoff", ("date", date), ("cutoff", retentionCutoff));
                if (similarFiles is { Count: > 0 })
                    Exec(con, "INSERT INTO similar_items SELECT run_id, $date, item_id, similar_item_id, rank, score FROM read_parquet($files, hive_partitioning = false)",
                        ("date", date), ("files", similarFiles.ToArray()));
                // Factors are kept for the newest run date only (a backfill of an older date leaves them alone).
                if (Scalar(con, "SELECT count(*) FROM user_factors WHERE run_date > $date", ("date", date)) == 0)
                {
                    Exec(con, "DELETE FROM item_factors; DELETE FROM user_factors; DELETE FROM item_propensity;");
                    AppendFactors(con, "user_factors", req, req.Users, req.UserFactors);
                    AppendFactors(con, "item_factors", req, req.Items, req.ItemFactors);
                    AppendPropensity(con, req);
                }
                if (req.ItemsFile is { } items)
                    Exec(con, "CREATE OR REPLACE TABLE items AS SELECT * FROM read_parquet($file)", ("file", items));
                WriteRun(con, req.Run);
                tx.Commit();
            }
        }, memoryLimits, onOutOfMemory);

    /// <summary>
    /// The one way this class writes: copy the live file beside itself, apply <paramref name="apply"/> to the copy,
    /// checkpoint, close and fsync it, and return the copy's path (for <see cref="Commit"/>).
    /// </summary>
    /// <param name="lakeDir">the lake whose catalog is copied.</param>
    /// <param name="tag">names the copy (a run or tuning id).</param>
    /// <param name="apply">the change, made on the copy.</param>
    /// <param name="memoryLimits">DuckDB's memory limits to try in order (null: <see cref="PublishMemoryLimits"/>).</param>
    /// <param name="onOutOfMemory">told (the limit that was too small, the next) before a build is made again.</param>
    private static string StageCopy(string lakeDir, string tag, Action<DuckDBConnection> apply, IReadOnlyList<string>? memoryLimits = null,
        Action<string, string>? onOutOfMemory = null)
    {
        var limits = memoryLimits ?? PublishMemoryLimits;
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return StageCopy(lakeDir, tag, apply, limits[attempt]);
            }
            catch (DuckDBException e) when (e.ErrorType == DuckDB.NET.Native.DuckDBErrorType.OutOfMemory && attempt + 1 < limits.Count)
            {
                onOutOfMemory?.Invoke(limits[attempt], limits[attempt + 1]);
            }
        }
    }

    private static string StageCopy(string lakeDir, string tag, Action<DuckDBConnection> apply, string memoryLimit)
    {
        Directory.CreateDirectory(lakeDir);
        string live = Path.Combine(lakeDir, FileName);
        string staged = Path.Combine(lakeDir, $".{FileName}.{tag}.tmp");
        File.Delete(staged);
        File.Delete(staged + ".wal");
        if (File.Exists(live)) File.Copy(live, staged);
        using (var con = new DuckDBConnection($"Data Source={staged}"))
        {
            con.Open();
            Exec(con, $"SET memory_limit = '{memoryLimit}'");
            apply(con);
            Exec(con, "CHECKPOINT");
        }
        FsyncFile(staged);
        return staged;
    }

    /// <summary>
    /// Makes a staged database file the live one (atomic rename, made durable). First sets aside any write-ahead log
    /// beside the live name (<see cref="SetAsideForeignFiles"/>): DuckDB would replay it onto the new file. Returns what
    /// was set aside.
    /// </summary>
    public static IReadOnlyList<string> Commit(string lakeDir, string stagedPath)
    {
        var setAside = SetAsideForeignFiles(lakeDir);
        File.Move(stagedPath, Path.Combine(lakeDir, FileName), overwrite: true);
        AtomicRename.FsyncDirectory(lakeDir);
        return setAside;
    }

    /// <summary>Where database files that no publisher wrote are set aside: <c>LAKE/_quarantine/</c>.</summary>
    public const string QuarantineDir = "_quarantine";

    /// <summary>
    /// Moves aside every file named <c>batchrecs.duckdb.*</c> (a write-ahead log and its checkpoint or recovery
    /// siblings) and returns what was moved. A publisher never leaves one: it builds each database in a staged copy,
    /// checkpoints and closes it. So such a file comes from a session that opened the catalog read-write (the DuckDB
    /// CLI's default), and DuckDB would replay it onto whatever file carries the name next, including the database a
    /// publish renames into place. The caller holds the <see cref="PublishLock"/>.
    /// </summary>
    public static IReadOnlyList<string> SetAsideForeignFiles(string lakeDir)
    {
        if (!Directory.Exists(lakeDir)) return [];
        var moved = new List<string>();
        // Filtered by hand: the pattern "batchrecs.duckdb.*" also matches "batchrecs.duckdb" itself (.NET keeps the DOS rule).
        foreach (var file in Directory.GetFiles(lakeDir, FileName + ".*").Where(f => Path.GetFileName(f).StartsWith(FileName + ".", StringComparison.Ordinal)))
        {
            string dir = Path.Combine(lakeDir, QuarantineDir);
            Directory.CreateDirectory(dir);
            string dest = Path.Combine(dir, $"{DateTime.UtcNow:yyyyMMddTHHmmssfff}-{Path.GetFileName(file)}");
            File.Move(file, dest, overwrite: true);
            moved.Add($"set aside '{file}' (written by a read-write session, not a publisher) as '{dest}'");
        }
        if (moved.Count > 0) AtomicRename.FsyncDirectory(lakeDir);
        return moved;
    }

    /// <summary>Records a run that publishes nothing (running, failed or rejected): only <c>runs</c> and <c>run_metrics</c> change.
    /// The caller holds the <see cref="PublishLock"/>.</summary>
    public static void RecordRun(string lakeDir, RunRecord run) => Commit(lakeDir, StageCopy(lakeDir, run.RunId, con =>
    {
        EnsureMetadataTables(con);
        using var tx = con.BeginTransaction();
        WriteRun(con, run);
        tx.Commit();
    }));

    /// <summary>
    /// The latest published factors of one side mapped onto <paramref name="ids"/> by external id: rows × k, with
    /// <paramref name="fill"/> called for ids the last run did not know (or a null result if nothing matches or k differs).
    /// </summary>
    public static float[]? LastFactors(string lakeDir, string table, IdMap ids, int k, Action<int, Span<float>> fill)
    {
        using var snapshot = CatalogSnapshot.Open(lakeDir);
        if (snapshot is null) return null;
        string idColumn = table == "user_factors" ? "user_id" : "item_id";
        using var cmd = snapshot.Connection.CreateCommand();
        cmd.CommandText = $"SELECT {idColumn}, factors FROM {table}";
        float[] result = new float[ids.Count * k];
        var known = new bool[ids.Count];
        int matched = 0;
        try
        {
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var vec = (List<float>)r.GetValue(1);
                if (vec.Count != k) return null;
                bool found = ids.Kind == IdKind.Int64 ? ids.TryGetIndex(r.GetInt64(0), out int i) : ids.TryGetIndex(r.GetString(0), out i);
                if (!found) continue;
                vec.CopyTo(result, i * k);
                known[i] = true;
                matched++;
            }
        }
        catch (Exception e) when (e is DuckDBException or InvalidCastException)
        {
            return null; // no such table yet, or the id type changed
        }
        if (matched == 0) return null;
        for (int i = 0; i < ids.Count; i++) if (!known[i]) fill(i, result.AsSpan(i * k, k));
        return result;
    }

    /// <summary>
    /// Records as <c>abandoned</c> (with the time) every <c>running</c> run whose <see cref="RunLease"/> expired: its
    /// process died without recording an outcome. Returns the run ids. The caller holds the <see cref="PublishLock"/>.
    /// </summary>
    public static IReadOnlyList<string> AbandonExpired(string lakeDir, DateTime nowUtc)
    {
        var expired = new List<string>();
        using (var snapshot = CatalogSnapshot.Open(lakeDir))
        {
            if (snapshot is null) return [];
            using var cmd = Command(snapshot.Connection, "SELECT run_id FROM runs WHERE status = $running", [("running", RunStatus.Running)]);
            try
            {
                using var r = cmd.ExecuteReader();
                while (r.Read())
                    if (RunLease.IsExpired(lakeDir, r.GetString(0), nowUtc)) expired.Add(r.GetString(0));
            }
            catch (DuckDBException)
            {
                return []; // no runs table yet
            }
        }
        RemoveExpiredLeases(lakeDir, nowUtc, expired);
        if (expired.Count == 0) return expired;
        Commit(lakeDir, StageCopy(lakeDir, "abandon", con =>
        {
            using var tx = con.BeginTransaction();
            foreach (var runId in expired)
            {
                var renewed = RunLease.LastRenewed(lakeDir, runId);
                string reason = renewed is { } t
                    ? $"abandoned: its process stopped renewing its lease at {t:yyyy-MM-dd HH:mm:ss} UTC and never recorded an outcome"
                    : "abandoned: its process ended without recording an outcome (no lease)";
                Exec(con, "UPDATE runs SET status = $status, finished_at = $now, seconds = date_diff('millisecond', started_at, $now) / 1000.0, reason = $reason WHERE run_id = $id",
                    ("status", RunStatus.Abandoned), ("now", nowUtc), ("reason", reason), ("id", runId));
            }
            tx.Commit();
        }));
        foreach (var runId in expired) RunLease.Remove(lakeDir, runId);
        return expired;
    }

    /// <summary>Expired leases of runs that are not running (they recorded an outcome, or a journal completed them).</summary>
    private static void RemoveExpiredLeases(string lakeDir, DateTime nowUtc, IReadOnlyList<string> keep)
    {
        string dir = Path.Combine(lakeDir, RunLease.Dir);
        if (!Directory.Exists(dir)) return;
        foreach (var file in Directory.GetFiles(dir))
            if (!keep.Contains(Path.GetFileName(file)) && nowUtc - File.GetLastWriteTimeUtc(file) > RunLease.Expiry)
                File.Delete(file);
    }

    /// <summary>The id kinds the catalog's <c>recommendations</c> table holds, or nulls for a lake that has none yet.</summary>
    public static (IdKind? Users, IdKind? Items) IdKinds(string lakeDir)
    {
        using var snapshot = CatalogSnapshot.Open(lakeDir);
        if (snapshot is null) return (null, null);
        using var cmd = Command(snapshot.Connection, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'recommendations' AND column_name IN ('user_id', 'item_id')", []);
        using var r = cmd.ExecuteReader();
        IdKind? users = null, items = null;
        while (r.Read())
        {
            var kind = r.GetString(1) == "VARCHAR" ? IdKind.String : IdKind.Int64;
            if (r.GetString(0) == "user_id") users = kind; else items = kind;
        }
        return (users, items);
    }

    /// <summary>One trial of a tuning, a row of <c>tuning_trials</c>.</summary>
    public sealed record TrialRow(int Trial, int Rung, string SettingsJson, double Metric, double Seconds);

    /// <summary>Appends a tuning to <c>tuning_trials</c> and <c>tuned_settings</c>. The caller holds the <see cref="PublishLock"/>.</summary>
    public static void RecordTuning(string lakeDir, Tuning.TunedSettings tuned, IReadOnlyList<TrialRow> trials) => Commit(lakeDir, StageCopy(lakeDir, tuned.TuningId, con =>
        {
            Exec(con, """
                CREATE TABLE IF NOT EXISTS tuning_trials (tuning_id VARCHAR NOT NULL, job VARCHAR NOT NULL, trial INTEGER, rung INTEGER, settings VARCHAR, metric DOUBLE, seconds DOUBLE);
                CREATE TABLE IF NOT EXISTS tuned_settings (tuning_id VARCHAR PRIMARY KEY, job VARCHAR NOT NULL, created_at TIMESTAMP, metric VARCHAR, settings VARCHAR,
                    tuned_value DOUBLE, current_value DOUBLE, adopted BOOLEAN, trials INTEGER, cost_in_fits DOUBLE);
                """);
            using (var tx = con.BeginTransaction())
            {
                using (var a = con.CreateAppender("tuning_trials"))
                    foreach (var t in trials)
                        a.CreateRow().AppendValue(tuned.TuningId).AppendValue(tuned.Job).AppendValue((int?)t.Trial).AppendValue((int?)t.Rung)
                            .AppendValue(t.SettingsJson).AppendValue((double?)t.Metric).AppendValue((double?)t.Seconds).EndRow();
                using (var a = con.CreateAppender("tuned_settings"))
                    a.CreateRow().AppendValue(tuned.TuningId).AppendValue(tuned.Job).AppendValue((DateTime?)tuned.CreatedUtc).AppendValue(tuned.Metric)
                        .AppendValue(JsonSerializer.Serialize(tuned.Settings)).AppendValue((double?)tuned.TunedValue).AppendValue((double?)tuned.CurrentValue)
                        .AppendValue((bool?)tuned.Adopted).AppendValue((int?)tuned.Trials).AppendValue((double?)tuned.CostInFits).EndRow();
                tx.Commit();
            }
        }));

    /// <summary>The id of a succeeded run of (job, run date), or null: the key of exactly-once scheduling.</summary>
    public static string? SucceededRun(string lakeDir, string job, DateOnly runDate)
    {
        using var snapshot = CatalogSnapshot.Open(lakeDir);
        if (snapshot is null) return null;
        using var cmd = snapshot.Connection.CreateCommand();
        cmd.CommandText = "SELECT run_id FROM runs WHERE job = $job AND run_date = $date AND status = 'succeeded' ORDER BY finished_at DESC LIMIT 1";
        cmd.Parameters.Add(new DuckDBParameter("job", job));
        cmd.Parameters.Add(new DuckDBParameter("date", runDate));
        return cmd.ExecuteScalar() as string;
    }

    /// <summary>The metrics of the job's last accepted (succeeded) run, or null if it has none.</summary>
    /// <summary>The ids of every run the lake published (status succeeded), for checking served lists' run_id.</summary>
    public static IReadOnlySet<string> PublishedRunIds(string lakeDir)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        using var snapshot = CatalogSnapshot.Open(lakeDir);
        if (snapshot is null) return ids;
        using var cmd = snapshot.Connection.CreateCommand();
        cmd.CommandText = "SELECT run_id FROM runs WHERE status = 'succeeded'";
        using var r = cmd.ExecuteReader();
        while (r.Read()) ids.Add(r.GetString(0));
        return ids;
    }

    public static IReadOnlyDictionary<string, double>? LastAcceptedMetrics(string lakeDir, string job)
    {
        using var snapshot = CatalogSnapshot.Open(lakeDir);
        if (snapshot is null) return null;
        using var cmd = snapshot.Connection.CreateCommand();
        cmd.CommandText = """
            SELECT m.metric, m.value FROM run_metrics m
            WHERE m.run_id = (SELECT run_id FROM runs WHERE job = $job AND status = 'succeeded' ORDER BY finished_at DESC LIMIT 1)
            """;
        cmd.Parameters.Add(new DuckDBParameter("job", job));
        using var r = cmd.ExecuteReader();
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        while (r.Read()) if (!r.IsDBNull(1)) result[r.GetString(0)] = r.GetDouble(1);
        return result.Count == 0 ? null : result;
    }

    private static void EnsureSchema(DuckDBConnection con, IdKind users, IdKind items)
    {
        EnsureMetadataTables(con);
        string ut = users == IdKind.Int64 ? "BIGINT" : "VARCHAR", it = items == IdKind.Int64 ? "BIGINT" : "VARCHAR";
        Exec(con, $"""
            CREATE TABLE IF NOT EXISTS recommendations (run_id VARCHAR NOT NULL, run_date DATE NOT NULL, user_id {ut} NOT NULL, item_id {it} NOT NULL, rank INTEGER NOT NULL, score FLOAT, source VARCHAR, propensity FLOAT DEFAULT 1);
            -- Lakes published before exploration: their lists were deterministic, so every row's propensity is 1.
            ALTER TABLE recommendations ADD COLUMN IF NOT EXISTS propensity FLOAT DEFAULT 1;
            CREATE TABLE IF NOT EXISTS similar_items (run_id VARCHAR NOT NULL, run_date DATE NOT NULL, item_id {it} NOT NULL, similar_item_id {it} NOT NULL, rank INTEGER NOT NULL, score FLOAT);
            CREATE TABLE IF NOT EXISTS user_factors (run_id VARCHAR NOT NULL, run_date DATE NOT NULL, user_id {ut} NOT NULL, factors FLOAT[] NOT NULL);
            CREATE TABLE IF NOT EXISTS item_factors (run_id VARCHAR NOT NULL, run_date DATE NOT NULL, item_id {it} NOT NULL, factors FLOAT[] NOT NULL);
            CREATE TABLE IF NOT EXISTS item_propensity (run_id VARCHAR NOT NULL, run_date DATE NOT NULL, item_id {it} NOT NULL, propensity FLOAT NOT NULL, interactions INTEGER NOT NULL);
            CREATE OR REPLACE VIEW current_recommendations AS
                SELECT * FROM recommendations WHERE run_date = (SELECT max(run_date) FROM recommendations);
            CREATE OR REPLACE VIEW current_similar_items AS
                SELECT * FROM similar_items WHERE run_date = (SELECT max(run_date) FROM recommendations);
            CREATE OR REPLACE VIEW current_run AS
                SELECT * FROM runs WHERE run_id = (SELECT any_value(run_id) FROM current_recommendations);
            CREATE OR REPLACE VIEW current_run_metrics AS
                SELECT m.* FROM run_metrics m JOIN current_run r USING (run_id);
            CREATE OR REPLACE VIEW current_user_factors AS SELECT * FROM user_factors;
            CREATE OR REPLACE VIEW current_item_factors AS SELECT * FROM item_factors;
            """);
    }

    private static void EnsureMetadataTables(DuckDBConnection con) => Exec(con, """
        CREATE TABLE IF NOT EXISTS runs (run_id VARCHAR PRIMARY KEY, job VARCHAR NOT NULL, run_date DATE NOT NULL, status VARCHAR NOT NULL,
            started_at TIMESTAMP, finished_at TIMESTAMP, seconds DOUBLE, input_rows BIGINT, users INTEGER, items INTEGER, reason VARCHAR, settings VARCHAR);
        CREATE TABLE IF NOT EXISTS run_metrics (run_id VARCHAR NOT NULL, run_date DATE NOT NULL, metric VARCHAR NOT NULL, value DOUBLE);
        """);

    /// <summary>Inserts or replaces the run's row and metrics (a run is first recorded as running, then with its outcome).</summary>
    private static void WriteRun(DuckDBConnection con, RunRecord run)
    {
        Exec(con, "DELETE FROM runs WHERE run_id = $id", ("id", run.RunId));
        Exec(con, "DELETE FROM run_metrics WHERE run_id = $id", ("id", run.RunId));
        using (var a = con.CreateAppender("runs"))
        {
            a.CreateRow()
                .AppendValue(run.RunId).AppendValue(run.Job).AppendValue((DateOnly?)run.RunDate).AppendValue(run.Status)
                .AppendValue((DateTime?)run.StartedUtc).AppendValue((DateTime?)run.FinishedUtc)
                .AppendValue((double?)(run.FinishedUtc - run.StartedUtc).TotalSeconds)
                .AppendValue((long?)run.InputRows).AppendValue((int?)run.Users).AppendValue((int?)run.Items)
                .AppendValue(run.Reason).AppendValue(JsonSerializer.Serialize(run.Settings))
                .EndRow();
        }
        using (var a = con.CreateAppender("run_metrics"))
        {
            foreach (var (metric, value) in run.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
                a.CreateRow().AppendValue(run.RunId).AppendValue((DateOnly?)run.RunDate).AppendValue(metric).AppendValue((double?)value).EndRow();
        }
    }

    private static void AppendPropensity(DuckDBConnection con, PublishRequest req)
    {
        if (req.ItemPropensity is not { } p) return;
        using var a = con.CreateAppender("item_propensity");
        for (int i = 0; i < req.Items.Count; i++)
        {
            var row = a.CreateRow().AppendValue(req.Run.RunId).AppendValue((DateOnly?)req.Run.RunDate);
            row = req.Items.Kind == IdKind.Int64 ? row.AppendValue((long?)req.Items.Int64At(i)) : row.AppendValue(req.Items.StringAt(i));
            row.AppendValue((float?)p.Propensity[i]).AppendValue((int?)p.Interactions[i]).EndRow();
        }
    }

    private static void AppendFactors(DuckDBConnection con, string table, PublishRequest req, IdMap ids, float[] factors)
    {
        int k = req.Factors;
        using var a = con.CreateAppender(table);
        // The first factors.Length / k ids have factors (listed users without history, appended after them, have none).
        for (int r = 0; r < factors.Length / k; r++)
        {
            var row = a.CreateRow().AppendValue(req.Run.RunId).AppendValue((DateOnly?)req.Run.RunDate);
            row = ids.Kind == IdKind.Int64 ? row.AppendValue((long?)ids.Int64At(r)) : row.AppendValue(ids.StringAt(r));
            row.AppendValue<float>(factors.AsSpan(r * k, k).ToArray()).EndRow();
        }
    }

    private static long Scalar(DuckDBConnection con, string sql, params (string Name, object Value)[] parameters)
    {
        using var cmd = Command(con, sql, parameters);
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    internal static void Exec(DuckDBConnection con, string sql, params (string Name, object Value)[] parameters)
    {
        using var cmd = Command(con, sql, parameters);
        cmd.ExecuteNonQuery();
    }

    private static DuckDBCommand Command(DuckDBConnection con, string sql, (string Name, object Value)[] parameters)
    {
        var cmd = con.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters) cmd.Parameters.Add(new DuckDBParameter(name, value));
        return cmd;
    }

    private static void FsyncFile(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        fs.Flush(flushToDisk: true);
    }
}
