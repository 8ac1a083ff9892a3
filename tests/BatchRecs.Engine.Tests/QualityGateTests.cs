using BatchRecs.Engine.Pipeline;


namespace BatchRecs.Engine.Tests;

public class QualityGateTests
{
    [Fact]
    public void The_gate_compares_with_popularity_and_the_last_accepted_run()
    {
        var ok = new Dictionary<string, double> { ["model.ndcg@10"] = 0.30, ["popular.ndcg@10"] = 0.10 };
        Assert.Null(QualityGate.Check(ok, null, 10, 0.1));
        Assert.Null(QualityGate.Check(ok, new Dictionary<string, double> { ["model.ndcg@10"] = 0.32 }, 10, 0.1));
        Assert.Contains("below the last accepted run", QualityGate.Check(ok, new Dictionary<string, double> { ["model.ndcg@10"] = 0.40 }, 10, 0.1));
        var weak = new Dictionary<string, double> { ["model.ndcg@10"] = 0.09, ["popular.ndcg@10"] = 0.10 };
        Assert.Contains("popularity baseline", QualityGate.Check(weak, null, 10, 0.1));
    }

    [Fact]
    public async Task A_degraded_run_is_rejected_and_the_previous_output_stays_published()
    {
        using var dir = new TempDirectory("batchrecs-gate");
        string input = dir.Sub("input"), lake = dir.Sub("lake");
        Assert.Equal(0, (await CliProcess.RunAsync("demo-data", "--out", input, "--users", "800", "--items", "300", "--interactions", "30000",
            "--days", "12", "--seed", "5", "--end-date", "2026-04-30")).ExitCode);
        string[] common = ["run", "--input", input, "--lake", lake, "--set", "top_n=10", "--set", "lookback_days=10"];
        var good = await CliProcess.RunAsync([.. common, "--run-date", "2026-04-30", "--set", "debias=both"]);
        Assert.True(good.ExitCode == 0, good.StdErr);
        var bad = await CliProcess.RunAsync([.. common, "--run-date", "2026-05-01", "--set", "iterations=1", "--set", "factors=2"]);
        Assert.Equal(3, bad.ExitCode);
        Assert.Contains("rejected by the quality gate", bad.StdErr);

        string db = Path.Combine(lake, "batchrecs.duckdb");
        Assert.False(Directory.Exists(Path.Combine(lake, "recommendations", "run_date=2026-05-01")));
        Assert.True(File.Exists(Path.Combine(lake, "recommendations", "run_date=2026-04-30", "manifest.json")));
        var runs = DuckQuery.Rows("SELECT strftime(run_date, '%Y-%m-%d'), status, reason FROM runs ORDER BY started_at", db);
        Assert.Equal(("2026-04-30", "succeeded"), ((string)runs[0][0], (string)runs[0][1]));
        Assert.Equal(("2026-05-01", "rejected"), ((string)runs[1][0], (string)runs[1][1]));
        Assert.Contains("NDCG@10", (string)runs[1][2]);
        Assert.Equal("2026-04-30", DuckQuery.Rows("SELECT DISTINCT strftime(run_date, '%Y-%m-%d') FROM current_recommendations", db).Single()[0]);
        // The accepted run was debiased: its propensities are published, clipped and never zero.
        Assert.True(DuckQuery.Scalar("SELECT count(*) FROM item_propensity WHERE propensity > 0 AND propensity <= 1", db) > 250);
        Assert.Equal(0, DuckQuery.Scalar("SELECT count(*) FROM item_propensity WHERE propensity < 0.05 - 1e-6", db));
        // The rejected run's metrics are recorded for the post-mortem.
        Assert.True(DuckQuery.Scalar("SELECT count(*) FROM run_metrics JOIN runs USING (run_id) WHERE status = 'rejected' AND metric = 'model.ndcg@10'", db) == 1);
    }
}

public class ExposureInputTests
{
    [Fact]
    public async Task Exposure_propensities_run_end_to_end_and_a_malformed_exposure_log_names_file_and_column()
    {
        using var dir = new TempDirectory("batchrecs-exposure");
        string input = dir.Sub("input"), exposures = dir.Sub("exposures"), lake = dir.Sub("lake");
        Assert.Equal(0, (await CliProcess.RunAsync("demo-data", "--out", input, "--exposures", exposures, "--users", "600", "--items", "200",
            "--interactions", "20000", "--days", "10", "--end-date", "2026-04-30")).ExitCode);
        string[] run = ["run", "--input", input, "--lake", lake, "--run-date", "2026-05-01", "--set", "lookback_days=10",
            "--set", "propensity=exposure", "--set", $"exposure_input={exposures}", "--set", "debias=ipw-rerank"];
        var ok = await CliProcess.RunAsync(run);
        Assert.True(ok.ExitCode == 0, ok.StdErr);
        string db = Path.Combine(lake, "batchrecs.duckdb");
        Assert.True(DuckQuery.Scalar("SELECT count(DISTINCT propensity) FROM item_propensity", db) > 10);

        // Break one exposure file: drop its item_id column.
        var victim = Directory.GetFiles(exposures, "*.parquet", SearchOption.AllDirectories).Order().Last();
        DuckQuery.Rows($"COPY (SELECT user_id, event_time FROM read_parquet('{victim}')) TO '{victim}.new' (FORMAT parquet)");
        File.Move(victim + ".new", victim, overwrite: true);
        var bad = await CliProcess.RunAsync(run);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("exposure log", bad.StdErr);
        Assert.Contains(victim, bad.StdErr);
        Assert.Contains("'item_id'", bad.StdErr);
    }
}

public class RecallSloTests
{
    [Fact]
    public async Task Every_run_records_canary_recall_and_one_under_the_floor_publishes_nothing_and_says_why()
    {
        using var dir = new TempDirectory("batchrecs-slo");
        string input = dir.Sub("input"), lake = dir.Sub("lake");
        Assert.Equal(0, (await CliProcess.RunAsync("demo-data", "--out", input, "--users", "1500", "--items", "1200", "--interactions", "40000",
            "--days", "10", "--end-date", "2026-04-30")).ExitCode);
        string[] run = ["run", "--input", input, "--lake", lake, "--set", "lookback_days=10", "--set", "quality_gate=false", "--set", "canary_users=300", "--set", "index=ivf"];
        var ok = await CliProcess.RunAsync([.. run, "--run-date", "2026-04-30"]);
        Assert.True(ok.ExitCode == 0, ok.StdErr);
        string db = Path.Combine(lake, "batchrecs.duckdb");
        var m = DuckQuery.Rows("SELECT metric, value FROM run_metrics WHERE metric LIKE 'index.%'", db).ToDictionary(r => (string)r[0], r => (double)r[1]);
        Assert.True(m["index.recall_mean"] >= 0.95, $"canary recall {m["index.recall_mean"]}");
        Assert.Equal(300, m["index.canary_users"]);
        Assert.True(m["index.nprobe"] >= 1 && m["index.nprobe"] <= m["index.nlist"]);

        var bad = await CliProcess.RunAsync([.. run, "--run-date", "2026-05-01", "--set", "nprobe=1", "--set", "nlist=200", "--set", "recall_floor=0.999"]);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("recall_floor", bad.StdErr);
        Assert.False(Directory.Exists(Path.Combine(lake, "recommendations", "run_date=2026-05-01")));
        var failed = DuckQuery.Rows("SELECT status, reason FROM runs WHERE run_date = DATE '2026-05-01'", db).Single();
        Assert.Equal("failed", failed[0]);
        Assert.Contains("canary recall", (string)failed[1]);
    }
}
