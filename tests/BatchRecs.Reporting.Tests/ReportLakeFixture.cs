using BatchRecs.Reporting;
using DuckDB.NET.Data;

namespace BatchRecs.Reporting.Tests;

/// <summary>
/// A small lake made by the real command line, as the nightly job would leave it: two evaluated runs with the IVF
/// index (2026-04-30, 2026-05-01), one with evaluation off and exact retrieval (2026-05-02), and one that failed
/// (2026-05-03, an empty input). The report of each published run is written right after it, as the pipeline does:
/// the lake keeps item popularity for the newest run only.
/// </summary>
public sealed class ReportLakeFixture : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("batchrecs-report");

    public string Lake => _dir.Sub("lake");
    public string Scratch => _dir.Sub("scratch");
    public string EvaluatedRun { get; private set; } = "";
    public string PlainRun { get; private set; } = "";
    public string FailedRun { get; private set; } = "";
    public string FailedReason { get; private set; } = "";

    /// <summary>The report of the second evaluated run, written by <c>batchrecs report --run latest</c> right after that run.</summary>
    public string EvaluatedReport { get; private set; } = "";

    public async Task InitializeAsync()
    {
        string input = _dir.Sub("input"), empty = _dir.Sub("empty-input");
        Directory.CreateDirectory(empty);
        Directory.CreateDirectory(Scratch);
        await Cli(0, "demo-data", "--out", input, "--users", "800", "--items", "300", "--interactions", "20000", "--days", "10",
            "--seed", "7", "--end-date", "2026-04-30");
        string[] common = ["--lake", Lake, "--set", "lookback_days=10", "--set", "top_n=10", "--set", "quality_gate=false",
            "--set", "retention_days=36500"]; // retention counts from the wall clock: keep the fixed dates
        // The evaluated runs go through the IVF index (index=auto would score this small catalogue exactly).
        await Cli(0, ["run", "--input", input, "--run-date", "2026-04-30", .. common, "--set", "index=ivf"]);
        // A tuning adopted between the runs: the 05-01 run uses it, and its report shows the search.
        await Cli(0, ["tune", "--input", input, "--run-date", "2026-05-01", "--budget", "9", "--lake", Lake, "--set", "lookback_days=10", "--set", "top_n=10", "--set", "regularization=500"]);
        // The 04-30 lists were served: their rows and seeded clicks are the 05-01 run's feedback, so its report has an estimate.
        string feedback = _dir.Sub("feedback");
        Directory.CreateDirectory(Path.Combine(feedback, "dt=2026-04-30"));
        Query($"""
            COPY (SELECT user_id, item_id, TIMESTAMP '2026-04-30 12:00:00' AS event_time, rank AS position, propensity, run_id,
                         hash(user_id * 7 + item_id) % 10 < 2 AS clicked
                  FROM read_parquet('{Lake}/recommendations/run_date=2026-04-30/*.parquet'))
            TO '{Path.Combine(feedback, "dt=2026-04-30", "part-0.parquet")}' (FORMAT parquet)
            """, database: null);
        await Cli(0, ["run", "--input", input, "--run-date", "2026-05-01", .. common, "--set", "index=ivf", "--set", $"feedback_input={feedback}"]);
        EvaluatedRun = LatestRun();
        var report = await Cli(0, "report", "--run", "latest", "--lake", Lake);
        EvaluatedReport = RunReport.DefaultPath(Lake, EvaluatedRun);
        Assert.Contains(EvaluatedReport, report.StdOut);
        await Cli(0, ["run", "--input", input, "--run-date", "2026-05-02", .. common, "--set", "holdout_fraction=0", "--set", "index=exact"]);
        PlainRun = LatestRun();
        await Cli(2, ["run", "--input", empty, "--run-date", "2026-05-03", .. common]);
        FailedRun = LatestRun();
        FailedReason = Query($"SELECT reason FROM runs WHERE run_id = '{FailedRun}'");
    }

    public static async Task<CliProcess.Result> Cli(int expectedExit, params string[] args)
    {
        var r = await CliProcess.RunAsync(args);
        Assert.True(r.ExitCode == expectedExit, $"batchrecs {string.Join(' ', args)} exited {r.ExitCode}, expected {expectedExit}:\n{r.StdOut}\n{r.StdErr}");
        return r;
    }

    private string LatestRun() => Query("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1");

    private string Query(string sql) => Query(sql, Path.Combine(Lake, "batchrecs.duckdb"))!;

    /// <summary>The first value of <paramref name="sql"/> on the lake's catalog (read-only), or on an in-memory database.</summary>
    private static string? Query(string sql, string? database)
    {
        using var con = new DuckDBConnection(database is null ? "Data Source=:memory:" : $"Data Source={database};ACCESS_MODE=READ_ONLY");
        con.Open();
        using var cmd = con.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar()?.ToString();
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}
