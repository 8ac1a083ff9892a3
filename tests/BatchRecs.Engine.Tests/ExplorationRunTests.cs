using BatchRecs.Engine.Settings;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Lake.Output;

namespace BatchRecs.Engine.Tests;

/// <summary>explore_slots through a whole run: the published rows' source and propensity, in Parquet and in DuckDB.</summary>
public class ExplorationRunTests
{
    [Fact]
    public async Task Explored_slots_are_published_with_exact_propensities_and_change_from_night_to_night()
    {
        using var dir = new TempDirectory("batchrecs-explore");
        string input = dir.Sub("input"), lake = dir.Sub("lake");
        Assert.Equal(0, (await CliProcess.RunAsync("demo-data", "--out", input, "--users", "500", "--items", "300", "--interactions", "15000",
            "--days", "10", "--seed", "8", "--end-date", "2026-04-30")).ExitCode);
        string[] common = ["run", "--input", input, "--lake", lake, "--set", "top_n=10", "--set", "lookback_days=12", "--set", "retention_days=36500",
            "--set", "explore_slots=3", "--set", "explore_uniform=0.25"];
        var first = await CliProcess.RunAsync([.. common, "--run-date", "2026-05-01"]);
        Assert.True(first.ExitCode == 0, first.StdErr);

        string parts = $"read_parquet('{lake}/recommendations/run_date=2026-05-01/*.parquet')";
        string events = $"read_parquet('{input}/dt=*/*.parquet')";
        // Every model list has 3 explored rows, each with 0 < propensity < 1; the model's rows have propensity 1.
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM (SELECT user_id, count(*) FILTER (WHERE source = 'explore') AS e FROM {parts} WHERE source <> 'popular' GROUP BY user_id) WHERE e <> 3"));
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM {parts} WHERE source = 'explore' AND NOT (propensity > 0 AND propensity < 1)"));
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM {parts} WHERE source <> 'explore' AND propensity <> 1"));
        Assert.True(DuckQuery.Scalar($"SELECT count(*) FROM {parts} WHERE source = 'explore'") >= 3 * 450);
        // Explored items are never the user's own, and ranks stay 1 … 10.
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM {parts} r JOIN {events} e USING (user_id, item_id) WHERE r.source = 'explore'"));
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM (SELECT user_id, max(rank) AS m, count(*) AS n FROM {parts} GROUP BY user_id) WHERE m <> n OR n <> 10"));
        // The analysts' table carries the same propensities, and the run reports its exploration.
        string db = Path.Combine(lake, "batchrecs.duckdb");
        Assert.Equal(DuckQuery.Scalar($"SELECT count(*) FROM {parts} WHERE source = 'explore'"),
            DuckQuery.Scalar("SELECT count(*) FROM recommendations WHERE source = 'explore' AND propensity < 1", db));
        Assert.Equal(DuckQuery.Scalar($"SELECT count(*) FROM {parts} WHERE source = 'explore'"),
            DuckQuery.Scalar("SELECT CAST(value AS BIGINT) FROM run_metrics WHERE metric = 'lists.explored'", db));

        // The same night again: the same lists (the policy is seeded by the job's seed and the run date) ...
        string Hash(string date) => DuckQuery.Rows($"SELECT sum(hash(user_id, item_id, rank, propensity)) FROM read_parquet('{lake}/recommendations/run_date={date}/*.parquet')")[0][0].ToString()!;
        string once = Hash("2026-05-01");
        Assert.Equal(0, (await CliProcess.RunAsync([.. common, "--run-date", "2026-05-01"])).ExitCode);
        Assert.Equal(once, Hash("2026-05-01"));
        // ... and the next night explores other items.
        Assert.Equal(0, (await CliProcess.RunAsync([.. common, "--run-date", "2026-05-02"])).ExitCode);
        long same = DuckQuery.Scalar($"""
            SELECT count(*) FROM read_parquet('{lake}/recommendations/run_date=2026-05-01/*.parquet') a
            JOIN read_parquet('{lake}/recommendations/run_date=2026-05-02/*.parquet') b USING (user_id, item_id) WHERE a.source = 'explore' AND b.source = 'explore'
            """);
        Assert.True(same < 0.3 * DuckQuery.Scalar($"SELECT count(*) FROM {parts} WHERE source = 'explore'"), $"{same} explored pairs repeated");

        // More slots than positions is refused, naming the setting.
        var refused = await CliProcess.RunAsync([.. common, "--run-date", "2026-05-03", "--set", "explore_slots=11"]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("explore_slots=11 is more than top_n=10", refused.StdErr);
    }
}

/// <summary>feedback_input through whole runs: off-policy estimates checked against SQL, and bad feedback refused.</summary>
public class FeedbackRunTests
{
    [Fact]
    public async Task A_run_estimates_its_lists_on_served_feedback_as_a_direct_computation_does_and_refuses_bad_feedback()
    {
        using var dir = new TempDirectory("batchrecs-feedback");
        string input = dir.Sub("input"), lake = dir.Sub("lake"), feedback = dir.Sub("feedback");
        Assert.Equal(0, (await CliProcess.RunAsync("demo-data", "--out", input, "--users", "500", "--items", "300", "--interactions", "15000",
            "--days", "10", "--seed", "8", "--end-date", "2026-04-30")).ExitCode);
        string[] common = ["run", "--input", input, "--lake", lake, "--set", "top_n=10", "--set", "lookback_days=12", "--set", "retention_days=36500",
            "--set", "explore_slots=3"];
        Assert.Equal(0, (await CliProcess.RunAsync([.. common, "--run-date", "2026-05-01"])).ExitCode);

        // The served night: every row of the 2026-05-01 lists was shown; a seeded hash decides the clicks.
        string served = $"read_parquet('{lake}/recommendations/run_date=2026-05-01/*.parquet')";
        Directory.CreateDirectory(Path.Combine(feedback, "dt=2026-05-01"));
        string file = Path.Combine(feedback, "dt=2026-05-01", "part-0.parquet");
        DuckQuery.Rows($"""
            COPY (SELECT user_id, item_id, TIMESTAMP '2026-05-01 12:00:00' AS event_time, rank AS position, propensity, run_id,
                         hash(user_id * 7 + item_id) % 1000 < 500 * pow(rank, -0.7) AS clicked FROM {served}) TO '{file}' (FORMAT parquet)
            """);
        // Night 2, in process, to see the lists the estimate judged.
        var judged = new List<OpeList>();
        await new NightlyRun(new RunLog(TextWriter.Null)).ExecuteAsync(new RunRequest(input, lake, new DateOnly(2026, 5, 2), JobDefinition.Default,
            ["top_n=10", "lookback_days=12", "retention_days=36500", "explore_slots=3", $"feedback_input={feedback}"]) { OnOpeList = judged.Add });

        string db = Path.Combine(lake, "batchrecs.duckdb");
        var m = DuckQuery.Rows("SELECT metric, value FROM run_metrics JOIN runs USING (run_id) WHERE runs.run_date = DATE '2026-05-02' AND metric LIKE 'ope.%'", db)
            .ToDictionary(r => (string)r[0], r => Convert.ToDouble(r[1]));
        // One judged list per served user of the one night, N long; none holds an item the user had before that night
        // (their first event before 2026-05-01: the context the served list was made in, so no click of it leaks in).
        var servedUsers = DuckQuery.Rows($"SELECT DISTINCT user_id FROM '{file}'").Select(r => Convert.ToInt64(r[0])).ToHashSet();
        Assert.True(judged.Count > 400 && judged.All(l => servedUsers.Contains((long)l.UserId) && l.Night == new DateOnly(2026, 5, 1) && l.ItemIds.Length == 10));
        var history = DuckQuery.Rows($"SELECT DISTINCT user_id, item_id FROM read_parquet('{input}/dt=*/*.parquet') WHERE event_time < TIMESTAMP '2026-05-01'")
            .Select(r => (Convert.ToInt64(r[0]), Convert.ToInt64(r[1]))).ToHashSet();
        Assert.DoesNotContain(judged.SelectMany(l => l.ItemIds.Select(i => ((long)l.UserId, (long)i))), history.Contains);
        // Directly: the served CTR; and SNIPS of the judged lists with the fitted examination r^−η moving each click from its
        // served position to its rank in the judged list: Σ click·(r′/r)^−η/p over served rows the lists hold / Σ 1/p over them.
        var rank = judged.SelectMany(l => l.ItemIds.Select((i, r) => (Key: ((long)l.UserId, (long)i), Rank: r + 1))).ToDictionary(x => x.Key, x => x.Rank);
        double eta = m["ope.examination_eta"], num = 0, den = 0;
        var rows = DuckQuery.Rows($"SELECT user_id, item_id, position, propensity, clicked FROM '{file}'");
        foreach (var r in rows)
        {
            if (!rank.TryGetValue((Convert.ToInt64(r[0]), Convert.ToInt64(r[1])), out int newRank)) continue;
            double p = Convert.ToDouble(r[3]);
            den += 1 / p;
            if ((bool)r[4]) num += Math.Pow((double)newRank / Convert.ToInt32(r[2]), -eta) / p;
        }
        var judgedUsers = judged.Select(l => (long)l.UserId).ToHashSet();
        Assert.Equal(judgedUsers.Count, (long)m["ope.users"]);
        Assert.Equal(rows.Count(r => judgedUsers.Contains(Convert.ToInt64(r[0]))), (long)m["ope.rows"]);
        Assert.Equal(rows.Count(r => judgedUsers.Contains(Convert.ToInt64(r[0])) && (bool)r[4]) / (double)m["ope.rows"], m["ope.logged_ctr"], 9);
        Assert.True(eta is > 0.05 and < 3, $"examination η {eta}");
        Assert.Equal(num / den, m["ope.snips_ctr"], 5);
        foreach (string name in new[] { "snips_ctr", "dr_ctr", "ips_recall@10" })
            Assert.True(m[$"ope.{name}_low"] <= m[$"ope.{name}"] && m[$"ope.{name}"] <= m[$"ope.{name}_high"], name);

        // propensity=logged: the debiasing's item propensities are the served rows' mean logged propensity (clipped at 0.05),
        // popularity's for items never served; without feedback_input the setting is refused.
        var logged = await CliProcess.RunAsync([.. common, "--run-date", "2026-05-02", "--set", $"feedback_input={feedback}",
            "--set", "propensity=logged", "--set", "debias=ipw-train", "--set", "quality_gate=false"]);
        Assert.True(logged.ExitCode == 0, logged.StdErr);
        var mismatched = DuckQuery.Scalar($"""
            SELECT count(*) FROM (SELECT item_id, greatest(avg(propensity), 0.05) AS expected FROM '{file}' GROUP BY item_id) f
            JOIN (SELECT * FROM item_propensity WHERE run_date = DATE '2026-05-02') p USING (item_id) WHERE abs(p.propensity - f.expected) > 1e-6
            """, db);
        Assert.Equal(0, mismatched);
        Assert.True(DuckQuery.Scalar("SELECT count(*) FROM item_propensity WHERE run_date = DATE '2026-05-02'", db) > 200);
        var noFeedback = await CliProcess.RunAsync([.. common, "--run-date", "2026-05-02", "--set", "propensity=logged", "--set", "debias=ipw-train"]);
        Assert.Equal(2, noFeedback.ExitCode);
        Assert.Contains("propensity=logged needs feedback_input", noFeedback.StdErr);

        // Bad feedback is refused, naming file, column and row: a propensity of 0, then a run the lake never published.
        string bad = Path.Combine(feedback, "dt=2026-05-02", "part-0.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(bad)!);
        DuckQuery.Rows($"""
            COPY (SELECT user_id, item_id, event_time, position, CASE WHEN row_number() OVER () = 3 THEN 0.0 ELSE propensity END AS propensity,
                         run_id, clicked FROM '{file}' LIMIT 5) TO '{bad}' (FORMAT parquet)
            """);
        var refused = await CliProcess.RunAsync([.. common, "--run-date", "2026-05-03", "--set", $"feedback_input={feedback}"]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"feedback_input: {bad}: column 'propensity', row group 0, row 2: propensity 0 is not in (0, 1]", refused.StdErr);
        DuckQuery.Rows($"COPY (SELECT * REPLACE (CASE WHEN row_number() OVER () = 2 THEN 0 ELSE position END AS position) FROM '{file}' LIMIT 5) TO '{bad}' (FORMAT parquet)");
        refused = await CliProcess.RunAsync([.. common, "--run-date", "2026-05-03", "--set", $"feedback_input={feedback}"]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"feedback_input: {bad}: column 'position', row group 0, row 1: position 0 is not a whole number ≥ 1", refused.StdErr);
        DuckQuery.Rows($"COPY (SELECT * REPLACE ('not-a-run' AS run_id) FROM '{file}' LIMIT 5) TO '{bad}' (FORMAT parquet)");
        refused = await CliProcess.RunAsync([.. common, "--run-date", "2026-05-03", "--set", $"feedback_input={feedback}"]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"feedback_input: {bad}: column 'run_id', row group 0, row 0: run_id 'not-a-run' is not a run this lake published", refused.StdErr);
    }
}

/// <summary>batchrecs simulate: a tiny closed loop, end to end, twice with one seed.</summary>
public class SimulateTests
{
    [Fact]
    public async Task A_tiny_simulation_writes_its_nights_and_report_and_is_deterministic_for_a_seed()
    {
        using var dir = new TempDirectory("batchrecs-simulate");
        string[] args = ["simulate", "--nights", "3", "--users", "120", "--items", "40", "--seed", "5"];
        var first = await CliProcess.RunAsync([.. args, "--out", dir.Sub("a")]);
        Assert.True(first.ExitCode == 0, first.StdErr);
        var second = await CliProcess.RunAsync([.. args, "--out", dir.Sub("b")]);
        Assert.True(second.ExitCode == 0, second.StdErr);

        string a = Path.Combine(dir.Sub("a"), "nights.parquet"), b = Path.Combine(dir.Sub("b"), "nights.parquet");
        Assert.Equal(["policy", "night", "true_ctr", "true_ctr_model", "true_recall_at_n", "ope_ctr", "ope_ctr_low", "ope_ctr_high", "ope_true_ctr", "coverage", "gini", "log_gini"],
            DuckQuery.Rows($"SELECT column_name FROM (DESCRIBE SELECT * FROM '{a}')").Select(r => (string)r[0]));
        Assert.Equal(6, DuckQuery.Scalar($"SELECT count(*) FROM '{a}'"));
        // Night 1 has no earlier traffic to estimate from; later nights do, with an interval around the estimate.
        Assert.Equal(2, DuckQuery.Scalar($"SELECT count(*) FROM '{a}' WHERE night = 1 AND ope_ctr IS NULL"));
        Assert.Equal(4, DuckQuery.Scalar($"SELECT count(*) FROM '{a}' WHERE night > 1 AND ope_ctr_low <= ope_ctr AND ope_ctr <= ope_ctr_high"));
        // …judged against the true CTR of the lists it judged (what it estimates), known only to the simulator.
        Assert.Equal(4, DuckQuery.Scalar($"SELECT count(*) FROM '{a}' WHERE night > 1 AND ope_true_ctr BETWEEN 0 AND 1"));
        // The exploring policy's model slots and all slots differ only by its explored rows; the baseline has none.
        Assert.Equal(3, DuckQuery.Scalar($"SELECT count(*) FROM '{a}' WHERE policy = 'baseline' AND true_ctr = true_ctr_model"));
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM '{a}' WHERE NOT (true_ctr BETWEEN 0 AND 1 AND gini BETWEEN 0 AND 1 AND log_gini BETWEEN 0 AND 1 AND coverage BETWEEN 0 AND 1)"));
        // The same seed, the same nights, to the last bit.
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM (SELECT * FROM '{a}' EXCEPT SELECT * FROM '{b}')"));
        // The summary it prints is what nights.parquet says: the baseline's Gini trend, and the nights the interval covered.
        long covered = DuckQuery.Scalar($"SELECT count(*) FROM '{a}' WHERE policy = 'explore' AND ope_true_ctr BETWEEN ope_ctr_low AND ope_ctr_high");
        long rises = DuckQuery.Scalar($"SELECT count(*) FROM (SELECT gini > lag(gini) OVER (ORDER BY night) AS up FROM '{a}' WHERE policy = 'baseline') WHERE up");
        var gini = DuckQuery.Rows($"SELECT gini FROM '{a}' WHERE policy = 'baseline' AND night IN (1, 3) ORDER BY night").Select(r => (double)r[0]).ToArray();
        Assert.Contains(FormattableString.Invariant($"baseline Gini {gini[0]:F3} → {gini[1]:F3}, rising on {rises} of 2 nights"), first.StdOut);
        Assert.Contains($"covers the true CTR of the lists it judged on {covered} of 2 nights", first.StdOut);
        // The explore policy really explored and logged its propensities in the feedback it served.
        Assert.True(DuckQuery.Scalar($"SELECT count(*) FROM read_parquet('{dir.Sub("a")}/explore/feedback/dt=*/*.parquet') WHERE propensity < 1") > 100);
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM read_parquet('{dir.Sub("a")}/baseline/feedback/dt=*/*.parquet') WHERE propensity < 1"));
        Assert.Contains("<svg", await File.ReadAllTextAsync(Path.Combine(dir.Sub("a"), "report.html")));
    }

    [Fact]
    public async Task With_new_items_the_catalogue_grows_night_by_night_and_no_list_holds_an_item_before_it_arrived()
    {
        using var dir = new TempDirectory("batchrecs-simulate-new");
        var run = await CliProcess.RunAsync(["simulate", "--nights", "3", "--users", "120", "--items", "40", "--seed", "5", "--new-items", "0.5", "--out", dir.Path]);
        Assert.True(run.ExitCode == 0, run.StdErr);
        string input = $"read_parquet('{dir.Path}/baseline/input/dt=*/*.parquet', hive_partitioning = true)";
        // Half the items arrive during the three nights: the organic history before night 1 knows at most the other half.
        long before = DuckQuery.Scalar($"SELECT count(DISTINCT item_id) FROM {input} WHERE dt < DATE '2026-01-01'");
        long all = DuckQuery.Scalar($"SELECT count(DISTINCT item_id) FROM {input}");
        Assert.InRange(before, 5, 20);
        Assert.True(all > before, $"no item arrived: {before} items before the nights, {all} in all");
        // A night's lists hold only items its run had seen in the log, so none that had not arrived yet.
        string lists = $"read_parquet('{dir.Path}/baseline/lake/recommendations/run_date=2026-01-01/*.parquet')";
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM {lists} WHERE item_id NOT IN (SELECT item_id FROM {input} WHERE dt < DATE '2026-01-01')"));

        var bad = await CliProcess.RunAsync(["simulate", "--nights", "3", "--new-items", "1", "--out", dir.Sub("bad")]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--new-items", bad.StdErr);
    }
}
