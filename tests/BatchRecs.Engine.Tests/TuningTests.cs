using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Core.Tuning;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using BatchRecs.Engine.Tuning;
using BatchRecs.Lake.Input;
using BatchRecs.Lake.Tuning;

namespace BatchRecs.Engine.Tests;

public class TuningTests
{
    private static async Task<string> DemoAsync(TempDirectory dir)
    {
        string input = dir.Sub("input");
        var gen = await CliProcess.RunAsync("demo-data", "--out", input, "--users", "700", "--items", "250", "--interactions", "20000",
            "--days", "10", "--seed", "13", "--end-date", "2026-04-30");
        Assert.True(gen.ExitCode == 0, gen.StdErr);
        return input;
    }

    private static JobDefinition Job(TempDirectory dir, string searchSpace, string settings = "")
    {
        string path = dir.Sub("job.json");
        File.WriteAllText(path, $$"""
            { "name": "tuned", "settings": { "lookback_days": 10, "top_n": 10, "factors": 8, "iterations": 6 {{settings}} },
              "search_space": {{searchSpace}} }
            """);
        return JobDefinition.Load(path);
    }

    [Fact]
    public void The_validation_split_never_touches_the_evaluation_hold_out()
    {
        var log = SyntheticInteractions.Generate(new SyntheticSpec(300, 100, 6000, 10, 2));
        var pairs = PairAggregator.Combine(log.ToInteractionLog());
        var splits = TuningSplits.Make(pairs, 0.2);
        var runHoldout = TemporalSplit.PerUserLast(pairs, 0.2).IsTrain.Select(t => !t).ToArray();
        Assert.Equal(runHoldout, splits.IsEvaluation);
        Assert.DoesNotContain(Enumerable.Range(0, pairs.Count), e => splits.IsEvaluation[e] && splits.IsValidation[e]);
        Assert.True(splits.IsValidation.Count(v => v) > 500);
        // Validation pairs are each user's latest among the non-evaluation pairs.
        for (int e = 0; e < pairs.Count; e++)
            if (splits.IsValidation[e])
                Assert.DoesNotContain(Enumerable.Range(0, pairs.Count), f => pairs.Users[f] == pairs.Users[e] && !splits.IsEvaluation[f]
                    && !splits.IsValidation[f] && pairs.Times[f] > pairs.Times[e]);
    }

    [Fact]
    public async Task The_search_finds_a_setting_near_the_best_of_an_exhaustive_grid_and_the_same_seed_chooses_the_same()
    {
        using var dir = new TempDirectory("batchrecs-tune");
        string input = await DemoAsync(dir);
        const string space = """{ "alpha": { "values": [0.2, 2, 20] }, "regularization": { "values": [0.01, 1, 50] }, "factors": { "values": [4, 16] } }""";
        var job = Job(dir, space);
        var date = new DateOnly(2026, 5, 1);

        // Exhaustive grid over the same space, on the same splits, through the same code path.
        var settings = job.ResolveSettings([]);
        var read = await InteractionReader.ReadAsync(input, new ReadWindow(date, 10), new EventRules());
        var pairs = PairAggregator.Combine(read.Events);
        var splits = TuningSplits.Make(pairs, settings.HoldoutFraction);
        var train = pairs.Where(splits.IsEvaluation.Zip(splits.IsValidation, (e, v) => !e && !v).ToArray()).ToUserItemMatrix();
        var validation = pairs.Where(splits.IsValidation).ToUserItemMatrix();
        var grid = new List<double>();
        foreach (var a in new[] { "0.2", "2", "20" })
            foreach (var r in new[] { "0.01", "1", "50" })
                foreach (var f in new[] { "4", "16" })
                {
                    var s = JobSettings.Create(job.Settings, [$"alpha={a}", $"regularization={r}", $"factors={f}"]);
                    var plan = new ModelPlan(s, new LocalExecutor());
                    var prop = plan.PopularityPropensity(PopularityRanker.Counts(train));
                    var model = plan.Fit(train, prop, s.Iterations, null, CancellationToken.None);
                    var recs = plan.Score(model, train, prop);
                    grid.Add(Metrics.Evaluate(recs, validation, s.TopN).Ndcg);
                }
        double best = grid.Max();

        var tune = new TuningRun(RunLog.Null);
        var first = await tune.ExecuteAsync(new TuneRequest(input, dir.Sub("lake"), date, job, [], Budget: 18));
        Assert.True(first.TunedValue >= best * 0.98, $"search found {first.TunedValue:F4}, grid best {best:F4}");
        var second = await tune.ExecuteAsync(new TuneRequest(input, dir.Sub("lake2"), date, job, [], Budget: 18));
        Assert.Equal(first.Settings, second.Settings);
        Assert.Equal(first.TunedValue, second.TunedValue);

        // Recorded in DuckDB and in the lake; a run then uses it, and --set still overrides.
        string db = Path.Combine(dir.Sub("lake"), "batchrecs.duckdb");
        Assert.True(DuckQuery.Scalar("SELECT count(*) FROM tuning_trials", db) >= 18);
        Assert.Equal(1, DuckQuery.Scalar("SELECT count(*) FROM tuned_settings", db));
        Assert.NotNull(TunedSettingsStore.LoadAdopted(dir.Sub("lake"), "tuned"));
        var resolved = job.ResolveSettings(["factors=8"], dir.Sub("lake"));
        Assert.Equal(first.TuningId, resolved.TunedFrom);
        Assert.Equal(double.Parse(first.Settings["alpha"], System.Globalization.CultureInfo.InvariantCulture), resolved.Fit.Alpha);
        Assert.Equal(8, resolved.Factors);
        Assert.Equal(first.TuningId, resolved.Effective["tuned_from"]);
        Assert.Null(job.ResolveSettings(["use_tuned=false"], dir.Sub("lake")).TunedFrom);
    }

    [Fact]
    public async Task A_result_worse_than_the_current_settings_is_recorded_but_not_adopted()
    {
        using var dir = new TempDirectory("batchrecs-tune-worse");
        string input = await DemoAsync(dir);
        var job = Job(dir, """{ "regularization": { "values": [5000, 20000] }, "factors": { "values": [1] } }""", ", \"regularization\": 0.1");
        var result = await new TuningRun(RunLog.Null).ExecuteAsync(new TuneRequest(input, dir.Sub("lake"), new DateOnly(2026, 5, 1), job, [], Budget: 4));
        Assert.False(result.Adopted);
        Assert.True(result.TunedValue < result.CurrentValue);
        Assert.Null(TunedSettingsStore.LoadAdopted(dir.Sub("lake"), "tuned"));
        Assert.Equal(1, DuckQuery.Scalar("SELECT count(*) FROM tuned_settings WHERE NOT adopted", Path.Combine(dir.Sub("lake"), "batchrecs.duckdb")));
        Assert.Null(job.ResolveSettings([], dir.Sub("lake")).TunedFrom);
    }

    [Fact]
    public async Task The_final_fit_budget_decides_how_many_finalists_get_a_full_fit()
    {
        using var dir = new TempDirectory("batchrecs-tune-cost");
        string input = await DemoAsync(dir);
        var job = Job(dir, """{ "alpha": { "values": [0.2, 2, 20] }, "regularization": { "values": [0.01, 1, 50] }, "factors": { "values": [4, 8] } }""");
        var date = new DateOnly(2026, 5, 1);
        async Task<long> FinalistsAsync(string lake, string limit)
        {
            var r = await new TuningRun(RunLog.Null).ExecuteAsync(new TuneRequest(input, dir.Sub(lake), date, job, [$"tune_final_fits={limit}"], Budget: 18));
            Assert.True(r.CostInFits > 0);
            return DuckQuery.Scalar("SELECT count(*) FROM tuning_trials WHERE rung = 2", Path.Combine(dir.Sub(lake), "batchrecs.duckdb"));
        }
        // 18 settings → 6 → 2 by successive halving; no budget still fits the best finalist, a large one both.
        Assert.Equal(1, await FinalistsAsync("tight", "0"));
        Assert.Equal(2, await FinalistsAsync("loose", "1000"));
    }

    [Fact]
    public async Task On_MovieLens_100k_the_search_lands_within_two_percent_of_the_grid_oracle_and_beats_the_current_settings()
    {
        if (SharedData.File("ml-100k/u.data") is null) return; // SharedData.File said why on stdout
        var r = await CliProcess.RunBenchAsync("tune", "--data", "ml-100k", "--shared", SharedData.Root!);
        Assert.True(r.ExitCode == 0, r.StdErr);
        double Ndcg(string row) => double.Parse(r.StdOut.Split('\n').Single(l => l.StartsWith($"| {row} |", StringComparison.Ordinal)).Split('|')[2],
            System.Globalization.CultureInfo.InvariantCulture);
        double oracle = Ndcg("grid best on the evaluation hold-out (oracle)"), tuned = Ndcg("tuned, grid space");
        Assert.True(tuned >= 0.98 * oracle, $"tuned {tuned:F4} vs the grid's best {oracle:F4}\n{r.StdOut}");
        Assert.True(Ndcg("tuned, default space") > Ndcg("current"), r.StdOut);
    }

    [Fact]
    public void Successive_halving_promotes_only_what_the_budget_admits_and_always_the_best()
    {
        var space = new SearchSpace([new SearchDimension("alpha", Choices: ["1", "2", "3", "4", "5", "6", "7", "8", "9"])]);
        double Metric(IReadOnlyDictionary<string, string> s) => double.Parse(s["alpha"], System.Globalization.CultureInfo.InvariantCulture);
        var rungs = new[] { new Rung(0.5, 1), new Rung(1, 1) };
        // Admit only the odd alphas among the three promoted (9, 8, 7 by rank): 9 and 7 reach the last rung.
        var some = SuccessiveHalving.Run(space, 9, 1, (_, _, s) => Metric(s), rungs,
            affordable: (_, c) => [.. Enumerable.Range(0, c.Count).Where(i => Metric(c[i]) % 2 == 1)]);
        Assert.Equal(["7", "9"], some.Where(r => r.Rung == 1).Select(r => r.Settings["alpha"]).Order());
        // Admitting none still promotes the best.
        var none = SuccessiveHalving.Run(space, 9, 1, (_, _, s) => Metric(s), rungs, affordable: (_, _) => []);
        Assert.Equal(["9"], none.Where(r => r.Rung == 1).Select(r => r.Settings["alpha"]));
    }

    [Fact]
    public void Successive_halving_with_strata_promotes_the_best_of_each_stratum()
    {
        // Metrics biased by stratum (every "big" setting screens better than every "small" one): without strata only big
        // ones survive; with them each stratum keeps its own best third, winners first.
        var space = new SearchSpace([new SearchDimension("size", Choices: ["small", "big"]), new SearchDimension("q", Choices: ["1", "2", "3", "4", "5", "6"])]);
        double Metric(IReadOnlyDictionary<string, string> s) => (s["size"] == "big" ? 100 : 0) + double.Parse(s["q"], System.Globalization.CultureInfo.InvariantCulture);
        var rungs = new[] { new Rung(0.5, 1), new Rung(1, 1) };
        var plain = SuccessiveHalving.Run(space, 12, 1, (_, _, s) => Metric(s), rungs);
        Assert.All(plain.Where(r => r.Rung == 1), r => Assert.Equal("big", r.Settings["size"]));
        var strata = SuccessiveHalving.Run(space, 12, 1, (_, _, s) => Metric(s), rungs, stratum: s => s["size"]);
        var promoted = strata.Where(r => r.Rung == 1).Select(r => $"{r.Settings["size"]}{r.Settings["q"]}").ToList();
        Assert.Equal(["big6", "small6", "big5", "small5"], promoted);
    }

    [Theory]
    [InlineData("""{ "alfa": { "min": 1, "max": 2 } }""", "search_space.alfa")]
    [InlineData("""{ "alpha": { "min": 0, "max": 2, "scale": "log" } }""", "search_space.alpha")]
    [InlineData("""{ "factors": { "values": [16, -3] } }""", "search_space.factors")]
    [InlineData("""{ "solver": { "values": ["cg", "qr"] } }""", "search_space.solver")]
    [InlineData("""{ "alpha": { "min": 5, "max": 1 } }""", "search_space.alpha")]
    public void A_bad_search_space_entry_is_rejected_naming_the_key(string space, string key)
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<SettingsException>(() => Job(dir, space));
        Assert.Equal(key, e.Key);
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void Search_space_draws_are_seeded_and_on_their_scales()
    {
        var space = SearchSpace.Default;
        var a = Enumerable.Range(0, 50).Select(t => space.Draw(7, t)).ToList();
        var b = Enumerable.Range(0, 50).Select(t => space.Draw(7, t)).ToList();
        Assert.Equal(a.Select(d => string.Join(",", d.Values)), b.Select(d => string.Join(",", d.Values)));
        Assert.All(a, d => Assert.Contains(d["factors"], new[] { "16", "32", "64", "128" }));
        var alphas = a.Select(d => double.Parse(d["alpha"], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.All(alphas, x => Assert.InRange(x, 0.1, 100));
        Assert.Contains(alphas, x => x < 1);   // log scale: the low decade is sampled
        Assert.Contains(alphas, x => x > 10);
    }
}

/// <summary>Tuning judged on an unbiased validation log (unbiased_input), checked against an independent computation.</summary>
public class UnbiasedTuningTests
{
    [Fact]
    public async Task Tune_with_unbiased_input_adopts_the_setting_that_is_better_on_that_log_by_an_independent_SNIPS_computation()
    {
        using var dir = new TempDirectory("batchrecs-tune-unbiased");
        string input = dir.Sub("input");
        var gen = await CliProcess.RunAsync("demo-data", "--out", input, "--users", "700", "--items", "250", "--interactions", "20000",
            "--days", "10", "--seed", "13", "--end-date", "2026-04-30");
        Assert.True(gen.ExitCode == 0, gen.StdErr);
        var date = new DateOnly(2026, 5, 1);
        var job = new JobDefinition("unbiased", null, "UTC", new Dictionary<string, string>
        {
            ["lookback_days"] = "10", ["top_n"] = "5", ["factors"] = "1", ["iterations"] = "6", ["tune_final_fits"] = "100",
        }, new Dictionary<string, float>(), null,
            SearchSpace: new SearchSpace([new SearchDimension("factors", Choices: ["1", "16"])]));
        var current = job.ResolveSettings([]);
        var read = await InteractionReader.ReadAsync(input, new ReadWindow(date, 10), new EventRules());
        var pairs = PairAggregator.Combine(read.Events);
        // What the tuner trains on with an unbiased log: everything but the run's evaluation hold-out.
        var split = TemporalSplit.PerUserLast(pairs, current.HoldoutFraction);
        var train = pairs.ToUserItemMatrix(split.IsTrain, keep: true);
        var heldOut = pairs.ToUserItemMatrix(split.IsTrain, keep: false);

        // The log: for 400 users, their held-out items (positive) and six seeded random unseen items (negative), with
        // logged propensities in [0.2, 1] so the SNIPS weights matter.
        var rng = new Random(5);
        var rows = new List<(int U, int I, bool Label, float P)>();
        for (int u = 0; u < 400; u++)
        {
            foreach (int i in heldOut.RowCols(u)) rows.Add((u, i, true, 0.2f + 0.8f * rng.NextSingle()));
            for (int j = 0; j < 6; j++)
            {
                int i = rng.Next(train.Cols);
                if (train.RowCols(u).BinarySearch(i) < 0 && heldOut.RowCols(u).BinarySearch(i) < 0 && !rows.Any(r => r.U == u && r.I == i))
                    rows.Add((u, i, false, 0.2f + 0.8f * rng.NextSingle()));
            }
        }
        string logFile = dir.Sub("unbiased.parquet");
        string values = string.Join(",", rows.Select(r => string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"({pairs.UserIds.Int64At(r.U)}, {pairs.ItemIds.Int64At(r.I)}, {(r.Label ? "true" : "false")}, {r.P})")));
        DuckQuery.Rows($"COPY (SELECT * FROM (VALUES {values}) t(user_id, item_id, label, propensity)) TO '{logFile}' (FORMAT parquet)");

        var tuned = await new TuningRun(RunLog.Null).ExecuteAsync(new TuneRequest(input, dir.Sub("lake"), date, job, [$"unbiased_input={logFile}"], Budget: 2));
        Assert.Equal("unbiased_snips_dcg@5", tuned.Metric);
        Assert.True(tuned.Adopted, $"tuned {tuned.TunedValue} vs current {tuned.CurrentValue}");
        Assert.Equal("16", tuned.Settings["factors"]);

        // Independently: fit each setting as a run would, order each user's logged items by the dot product (seen items
        // last), and compute the self-normalized inverse-propensity DCG@5 directly.
        double Snips(string factors)
        {
            var s = JobSettings.Create(job.Settings, [$"factors={factors}"]);
            var plan = new ModelPlan(s, new LocalExecutor());
            var model = plan.Fit(train, plan.PopularityPropensity(PopularityRanker.Counts(train)), s.Iterations, null, CancellationToken.None);
            double sum = 0;
            int users = 0;
            foreach (var g in rows.GroupBy(r => r.U))
            {
                if (!g.Any(r => r.Label)) continue;
                double Score(int i) => Enumerable.Range(0, s.Factors).Aggregate(0f, (acc, d) => MathF.FusedMultiplyAdd(model.ItemFactors[i * s.Factors + d], model.UserFactors[g.Key * s.Factors + d], acc));
                var ordered = g.OrderByDescending(r => Score(r.I)).ThenBy(r => r.I).ToList();
                double meanWeight = ordered.Average(r => 1.0 / r.P);
                sum += ordered.Take(5).Select((r, j) => r.Label ? 1.0 / r.P / meanWeight / Math.Log2(j + 2) : 0).Sum();
                users++;
            }
            return sum / users;
        }
        double better = Snips("16"), worse = Snips("1");
        Assert.True(better > worse, $"{better} vs {worse}");
        Assert.Equal(better, tuned.TunedValue, 9);
        Assert.Equal(worse, tuned.CurrentValue, 9);
    }
}

/// <summary>The debiasing's calibration chooses the propensity model among those the job has data for.</summary>
public class PropensityCalibrationTests
{
    [Fact]
    public async Task Tune_with_exposures_and_feedback_tries_every_propensity_model_and_records_the_choice()
    {
        using var dir = new TempDirectory("batchrecs-tune-propensity");
        string input = dir.Sub("input"), lake = dir.Sub("lake"), feedback = dir.Sub("feedback");
        Assert.Equal(0, (await CliProcess.RunAsync("demo-data", "--out", input, "--users", "400", "--items", "200", "--interactions", "12000",
            "--days", "10", "--seed", "4", "--end-date", "2026-04-30")).ExitCode);
        string[] settings = ["lookback_days=12", "top_n=10", "retention_days=36500", "explore_slots=2", "quality_gate=false"];
        Assert.Equal(0, (await CliProcess.RunAsync(["run", "--input", input, "--lake", lake, "--run-date", "2026-04-30", .. settings.SelectMany(s => new[] { "--set", s })])).ExitCode);
        // The served 04-30 lists: the feedback (propensity=logged) and, read as an exposure log, the exposures (propensity=exposure).
        Directory.CreateDirectory(Path.Combine(feedback, "dt=2026-04-30"));
        DuckQuery.Rows($"""
            COPY (SELECT user_id, item_id, TIMESTAMP '2026-04-30 12:00:00' AS event_time, rank AS position, propensity, run_id,
                         hash(user_id * 3 + item_id) % 10 < 2 AS clicked
                  FROM read_parquet('{lake}/recommendations/run_date=2026-04-30/*.parquet'))
            TO '{Path.Combine(feedback, "dt=2026-04-30", "part-0.parquet")}' (FORMAT parquet)
            """);
        var job = JobDefinition.Default with { Name = "calibrated" };
        var tuned = await new TuningRun(RunLog.Null).ExecuteAsync(new TuneRequest(input, lake, new DateOnly(2026, 5, 1), job,
            [.. settings, "debias=ipw-train", "propensity=logged", $"feedback_input={feedback}", $"exposure_input={feedback}", "factors=8", "iterations=4"],
            Budget: 9));
        // The calibration stage (trials numbered from the budget on) drew every model the job has data for, and each was fitted.
        var trials = DuckQuery.Rows($"SELECT trial, settings, metric FROM tuning_trials WHERE tuning_id = '{tuned.TuningId}'", Path.Combine(lake, "batchrecs.duckdb"));
        var models = trials.Where(t => Convert.ToInt32(t[0]) >= 9)
            .Select(t => System.Text.Json.JsonDocument.Parse((string)t[1]).RootElement.GetProperty("propensity").GetString()).ToHashSet();
        Assert.Equal(new HashSet<string?> { "popularity", "exposure", "logged" }, models);
        Assert.All(trials, t => Assert.True(double.IsFinite(Convert.ToDouble(t[2]))));
        Assert.Contains(tuned.Settings["propensity"], new[] { "popularity", "exposure", "logged" });
    }
}
