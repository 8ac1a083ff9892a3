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
    public void With_an_unbiased_log_the_gate_judges_by_its_SNIPS_DCG_not_the_biased_hold_out()
    {
        // The biased hold-out says the model wins; the unbiased log says popularity does: the unbiased log decides.
        var m = new Dictionary<string, double>
        {
            ["model.ndcg@10"] = 0.30, ["popular.ndcg@10"] = 0.10,
            ["unbiased.model.snips_dcg@10"] = 0.40, ["unbiased.popular.snips_dcg@10"] = 0.45,
        };
        Assert.Contains("unbiased_input SNIPS DCG@10 0.4000 does not beat the popularity baseline (0.4500)", QualityGate.Check(m, null, 10, 0.1));
        m["unbiased.popular.snips_dcg@10"] = 0.20;
        Assert.Null(QualityGate.Check(m, null, 10, 0.1));
        Assert.Contains("below the last accepted run", QualityGate.Check(m, new Dictionary<string, double> { ["unbiased.model.snips_dcg@10"] = 0.5 }, 10, 0.1));
        // A last run judged without the log has nothing comparable: only popularity is checked.
        Assert.Null(QualityGate.Check(m, new Dictionary<string, double> { ["model.ndcg@10"] = 0.9 }, 10, 0.1));
    }

    [Fact]
    public async Task A_run_with_unbiased_input_records_its_SNIPS_metrics_and_a_log_that_popularity_wins_rejects_it()
    {
        using var dir = new TempDirectory("batchrecs-gate-unbiased");
        string input = dir.Sub("input"), lake = dir.Sub("lake");
        Assert.Equal(0, (await CliProcess.RunAsync("demo-data", "--out", input, "--users", "600", "--items", "200", "--interactions", "20000",
            "--days", "10", "--seed", "5", "--end-date", "2026-04-30")).ExitCode);
        string events = $"read_parquet('{input}/dt=*/*.parquet')";
        // A log whose positives are exactly the 5 most popular items (and negatives 5 of the least popular), for 300 users,
        // leaving out what each user already has: popularity orders it perfectly, so the model cannot beat it.
        string log = dir.Sub("unbiased.parquet");
        DuckQuery.Rows($"""
            COPY (WITH pop AS (SELECT item_id, row_number() OVER (ORDER BY count(*) DESC, item_id) AS r, count(*) OVER () AS n FROM {events} GROUP BY item_id),
                       users AS (SELECT DISTINCT user_id FROM {events} ORDER BY user_id LIMIT 300)
                  SELECT user_id, item_id, r <= 5 AS label, 0.5 AS propensity FROM users, pop
                  WHERE (r <= 5 OR r > n - 5) AND NOT EXISTS (SELECT 1 FROM {events} e WHERE e.user_id = users.user_id AND e.item_id = pop.item_id))
            TO '{log}' (FORMAT parquet)
            """);
        string[] common = ["run", "--input", input, "--lake", lake, "--set", "top_n=10", "--set", "lookback_days=10", "--set", $"unbiased_input={log}"];
        var rejected = await CliProcess.RunAsync([.. common, "--run-date", "2026-05-01"]);
        Assert.Equal(3, rejected.ExitCode);
        Assert.Contains("unbiased_input SNIPS DCG@10", rejected.StdErr);
        string db = Path.Combine(lake, "batchrecs.duckdb");
        var metrics = DuckQuery.Rows("SELECT metric, value FROM run_metrics WHERE metric LIKE 'unbiased.%' ORDER BY metric", db)
            .ToDictionary(r => (string)r[0], r => Convert.ToDouble(r[1]));
        long logged = DuckQuery.Scalar($"SELECT count(*) FROM '{log}'"), users = DuckQuery.Scalar($"SELECT count(DISTINCT user_id) FROM '{log}' WHERE label");
        Assert.True(logged > 2000 && users > 250, $"{logged} pairs, {users} users with a positive");
        Assert.Equal(logged, metrics["unbiased.pairs"]);
        Assert.Equal(users, metrics["unbiased.users"]);
        Assert.True(metrics["unbiased.popular.snips_dcg@10"] > metrics["unbiased.model.snips_dcg@10"]);
        Assert.Equal(1.0, metrics["unbiased.popular.snips_recall@10"], 9); // every positive within the first 10 of at most 10
        // Popularity puts each user's positives first: the ideal DCG of that user's positive count, averaged.
        double ideal = DuckQuery.Rows($"SELECT count(*) FILTER (WHERE label) FROM '{log}' GROUP BY user_id HAVING bool_or(label)")
            .Average(r => Enumerable.Range(1, (int)Convert.ToInt64(r[0])).Sum(j => 1 / Math.Log2(j + 1)));
        Assert.Equal(ideal, metrics["unbiased.popular.snips_dcg@10"], 9);
        Assert.False(Directory.Exists(Path.Combine(lake, "recommendations", "run_date=2026-05-01")));

        // A log of an unknown item only is refused, naming the setting; a propensity of 0 names file, column and row.
        string bad = dir.Sub("bad.parquet");
        DuckQuery.Rows($"COPY (SELECT * FROM (VALUES (1::BIGINT, 2::BIGINT, true, 0.5::DOUBLE), (1, 3, false, 0.0)) t(user_id, item_id, label, propensity)) TO '{bad}' (FORMAT parquet)");
        var refused = await CliProcess.RunAsync(["run", "--input", input, "--lake", lake, "--run-date", "2026-05-01", "--set", "lookback_days=10", "--set", $"unbiased_input={bad}"]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"unbiased_input: {bad}: column 'propensity', row group 0, row 1: propensity 0 is not in (0, 1]", refused.StdErr);
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

public class ExposureTrainingTests
{
    [Fact]
    public async Task Training_on_exposures_runs_end_to_end_with_its_hold_out_and_needs_an_exposure_log()
    {
        using var dir = new TempDirectory("batchrecs-exposure-training");
        string input = dir.Sub("input"), exposures = dir.Sub("exposures");
        Assert.Equal(0, (await CliProcess.RunAsync("demo-data", "--out", input, "--exposures", exposures, "--users", "600", "--items", "200",
            "--interactions", "20000", "--days", "10", "--end-date", "2026-04-30")).ExitCode);
        string[] run = ["run", "--input", input, "--run-date", "2026-05-01", "--set", "lookback_days=10", "--set", "quality_gate=false",
            "--set", "debias=ipw-train", "--set", "unexposed_weight=0.2"];
        var ok = await CliProcess.RunAsync([.. run, "--lake", dir.Sub("lake"), "--set", $"exposure_input={exposures}"]);
        Assert.True(ok.ExitCode == 0, ok.StdErr);
        string db = Path.Combine(dir.Sub("lake"), "batchrecs.duckdb");
        // The evaluation ran (its fit saw each user's exposures before their hold-out) and the lists hold top_n = 20 items a user.
        Assert.Equal(1, DuckQuery.Scalar("SELECT count(*) FROM run_metrics WHERE metric = 'model.ndcg@20' AND value > 0", db));
        Assert.Equal(0, DuckQuery.Scalar("SELECT count(*) FROM (SELECT user_id FROM current_recommendations GROUP BY user_id HAVING count(*) <> 20)", db));
        Assert.True(DuckQuery.Scalar("SELECT count(*) FROM run_metrics WHERE metric = 'input.exposed_pairs' AND value > 0", db) == 1);

        var refused = await CliProcess.RunAsync([.. run, "--lake", dir.Sub("lake2")]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("unexposed_weight", refused.StdErr);
        Assert.Contains("exposure_input", refused.StdErr);
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
