using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using BatchRecs.Cli.Commands;
using BatchRecs.Core.Data;
using BatchRecs.Core.Errors;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using BatchRecs.Engine.Tuning;
using BatchRecs.Core.Tuning;
using BatchRecs.Lake.Import;
using BatchRecs.Lake.Input;

namespace BatchRecs.Bench;

/// <summary>
/// <c>BatchRecs.Bench unbiased --data coat</c>: debiasing judged on randomly exposed test data, the protocol of
/// Saito et al. (WSDM 2020). Training: Coat's self-selected (biased) ratings ≥ 4 as positives, through the job's own
/// importer, reader and <see cref="ModelPlan"/> (index=exact, top_n = the whole catalogue so every item has a rank).
/// Test: each user's random test items ordered by their rank in the user's list (<see cref="RandomizedTestMetrics"/>),
/// DCG@5 and Recall@5 with rel = 1 for a test rating ≥ 4, averaged over the users with a test positive. Also the
/// full-catalogue Recall@10/NDCG@10 of the test positives (training items excluded, as in production lists) and the
/// coverage and mean popularity rank of the top 10. Several seeds give mean ± standard error over seeds; the ratio to
/// <c>debias=none</c> is taken per seed (paired), then averaged.
/// <para><c>--tune B</c>: each variant is first tuned by the product's tuner (<c>TuningRun</c>, budget B) with a validation
/// slice of the random test ratings as its <c>unbiased_input</c> — a seeded quarter of each user's test ratings (salt
/// 12345) — and every row, tuned or not, is then measured on the other three quarters only, so the settings are never
/// chosen on the ratings they are judged by. The tuner's default space is the model's settings plus, for a debiasing
/// variant, propensity_eta, propensity_clip and (re-rank) rerank_beta.</para>
/// </summary>
internal static class UnbiasedBench
{
    private const int K = 5, CatalogueK = 10;
    private const float PositiveAt = 4f;

    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "coat (read from --shared: coat/train.ascii, coat/test.ascii)", DefaultValueFactory = _ => "coat" };
        var shared = PublicDataSets.SharedOption();
        var set = new Option<string[]>("--set") { Description = "base settings key=value (repeatable)" };
        var variants = new Option<string[]>("--variant") { Description = "extra settings per row, e.g. \"debias=ipw-train,propensity_eta=1\" (repeatable; default: none, ipw-train, ipw-rerank, both)" };
        var seeds = new Option<string?>("--seeds") { Description = "comma-separated seeds, e.g. 1,2,3,4,5 (default: the seed setting)" };
        var calibrate = new Option<bool>("--calibrate-only") { Description = "with --tune: tune the model's settings with debias=none, then only the debiasing's η, clip and β on top of them" };
        var tune = new Option<int>("--tune") { Description = "tune each variant first with this budget on a validation quarter of the random test ratings (unbiased_input), and measure every row on the other three quarters (0: no tuning)", DefaultValueFactory = _ => 0 };
        var cmd = new Command("unbiased", "DCG@5/Recall@5 on randomly exposed test ratings (Saito et al. 2020) of popularity, ALS and its IPW variants trained on biased ratings.")
            { data, shared, set, variants, seeds, tune, calibrate };
        cmd.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            if (p.GetValue(data) != "coat") throw new BadInputException($"unknown data set '{p.GetValue(data)}' for the unbiased bench (coat).");
            var d = await LoadCoatAsync(p.GetValue(shared)!, ct);
            int budget = p.GetValue(tune);
            CsrMatrix? validation = null;
            if (budget > 0) (d, validation) = SplitValidation(d);
            var baseSettings = p.GetValue(set) ?? [];
            int[] seedList = ParseSeeds(p.GetValue(seeds)) ?? [JobSettings.Create(null, baseSettings).Seed];
            var rows = p.GetValue(variants) is { Length: > 0 } v ? v : ["debias=none", "debias=ipw-train", "debias=ipw-rerank", "debias=both"];
            var counts = PopularityRanker.Counts(d.Train);
            int items = d.Train.Cols;

            var pop = Measure(PopularityRanker.Recommend(d.Train, items), d, counts);
            Console.WriteLine($"coat: {d.Train.Rows} users × {items} items; train positives (rating ≥ 4) {d.Train.NonZeros:N0}; test ratings {d.Test.NonZeros:N0}, " +
                $"test positives {d.TestPositives.NonZeros:N0}; DCG@{K}/Recall@{K} over the {pop.Test.Users} users with a test positive " +
                $"({pop.Test.UsersWithoutPositives} without are left out); Recall/NDCG@{CatalogueK} over the full catalogue, training items excluded; " +
                $"seeds {string.Join(",", seedList)}; base settings: index=exact, top_n={items}{(baseSettings.Length > 0 ? ", " + string.Join(", ", baseSettings) : "")}");
            if (validation is not null)
                Console.WriteLine($"tuned rows: tune (budget {budget}) on a validation quarter of the test ratings ({validation.NonZeros:N0} ratings); every row measured on the other {d.Test.NonZeros:N0}");
            using var tuning = validation is null ? null : await CoatTuning.CreateAsync(d.Train, d.Shown.Pairs, validation, ct);
            var results = new List<(string Name, Measured[] PerSeed, double[] Fit)>();
            foreach (var (variant, tuned) in rows.Select(r => (r, false)).Concat(tuning is null ? [] : rows.Select(r => (r, true))))
            {
                var per = new Measured[seedList.Length];
                var fit = new double[seedList.Length];
                for (int s = 0; s < seedList.Length; s++)
                {
                    string[] chosen = tuned ? await TuneVariantAsync(tuning!, baseSettings, variant, seedList[s], budget, p.GetValue(calibrate), ct) : [];
                    if (tuned) Console.WriteLine($"  {variant}, seed {seedList[s]}: tuned {string.Join(",", chosen)}");
                    var settings = JobSettings.Create(null, ["index=exact", $"top_n={items}", .. baseSettings,
                        .. variant.Split(',', StringSplitOptions.RemoveEmptyEntries), .. chosen, $"seed={seedList[s]}"]);
                    var plan = new ModelPlan(settings, new LocalExecutor(), d.Shown);
                    var prop = plan.Propensities(d.Train, counts);
                    var sw = Stopwatch.StartNew();
                    var model = plan.Fit(d.Train, prop, settings.Iterations, null, ct, shown: plan.AllShown);
                    fit[s] = sw.Elapsed.TotalSeconds;
                    per[s] = Measure(plan.Score(model, d.Train, prop), d, counts);
                }
                results.Add((tuned ? variant + ", tuned" : variant, per, fit));
            }
            var none = results.FirstOrDefault(r => r.Name.Replace(" ", "") == "debias=none").PerSeed;
            // Tuned rows are compared with none tuned the same way: a tuned variant against untuned none would credit the
            // debiasing with what the tuning did.
            var noneTuned = results.FirstOrDefault(r => r.Name.Replace(" ", "") == "debias=none,tuned").PerSeed;
            if (none is not null)
            {
                double se = none.Average(m => m.Test.DcgStandardError), mean = none.Average(m => m.Test.Dcg);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"± below = standard error over seeds (model noise only), except the paired Δ column (standard error over users of the per-user difference, averaged over seeds); the per-user standard error of debias=none's DCG@{K} is {se:F4} ({100 * se / mean:F1} % of the mean), the noise of this one test set that seeds do not average away."));
            }
            Console.WriteLine($"| variant | DCG@{K} | Recall@{K} | DCG@{K} / none (tuned rows: / none, tuned) | Δ DCG@{K} vs the same (paired over users) | Recall@{CatalogueK} (catalogue) | NDCG@{CatalogueK} (catalogue) | coverage@{CatalogueK} | mean pop rank@{CatalogueK} | fit s |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
            Print("popularity", Enumerable.Repeat(pop, seedList.Length).ToArray(), none, [0]);
            foreach (var (name, per, fit) in results) Print(name, per, name.EndsWith(", tuned", StringComparison.Ordinal) ? noneTuned : none, fit);
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// A variant's tuned settings: the tuner's default space; or (calibrateOnly) the model's settings tuned with debias=none
    /// first, then the variant's η, clip and β searched on top of them.
    /// </summary>
    private static async Task<string[]> TuneVariantAsync(CoatTuning tuning, string[] baseSettings, string variant, int seed, int budget, bool calibrateOnly, CancellationToken ct)
    {
        string[] settings = [.. baseSettings, .. variant.Split(',', StringSplitOptions.RemoveEmptyEntries), $"seed={seed}"];
        if (!calibrateOnly) return await tuning.TuneAsync(settings, budget, ct);
        var model = await tuning.TuneAsync([.. baseSettings, $"seed={seed}"], budget, ct);
        var debias = JobSettings.Create(null, settings).Debias;
        if (debias.Mode == DebiasMode.None) return model;
        var dims = new List<SearchDimension> { new("propensity_eta", 0, 1), new("propensity_clip", 0.01, 0.5, Log: true) };
        if (debias.RerankWithIpw) dims.Add(new("rerank_beta", 0, 1));
        return [.. model, .. await tuning.TuneAsync([.. settings, .. model], budget, ct, new SearchSpace(dims))];
    }

    /// <summary>
    /// Splits the random test ratings: a seeded quarter of each user's (by a hash of user, item and the salt 12345) becomes
    /// the validation slice the tuner sees; the rest stays the test.
    /// </summary>
    private static (CoatData Test, CsrMatrix Validation) SplitValidation(CoatData d)
    {
        bool InValidation(int u, int i) => (SplitMix64.Mix(12345UL ^ ((ulong)u << 32) ^ (ulong)i) >> 11) * (1.0 / (1UL << 53)) < 0.25;
        CsrMatrix Keep(CsrMatrix m, bool validation)
        {
            var (r, c, v) = (new List<int>(), new List<int>(), new List<float>());
            for (int u = 0; u < m.Rows; u++)
                for (int e = m.RowPtr[u]; e < m.RowPtr[u + 1]; e++)
                    if (InValidation(u, m.ColIdx[e]) == validation) { r.Add(u); c.Add(m.ColIdx[e]); v.Add(m.Values[e]); }
            return CsrMatrix.FromEntries(m.Rows, m.Cols, r.ToArray(), c.ToArray(), v.ToArray());
        }
        return (d with { Test = Keep(d.Test, false), TestPositives = Keep(d.TestPositives, false) }, Keep(d.Test, true));
    }

    /// <summary>
    /// The product's tuner on Coat: the training positives written as an input (ids = the bench's indices, so its lists
    /// and the tuner's line up), the validation slice as an unbiased_input file (label = rating ≥ 4), a lake per tuning.
    /// </summary>
    private sealed class CoatTuning : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), $"batchrecs-bench-coat-tune-{Guid.NewGuid():N}");
        private string Input => Path.Combine(_root, "input");
        private string Unbiased => Path.Combine(_root, "unbiased.parquet");
        private string Exposures => Path.Combine(_root, "exposures");
        private int _tunings;

        /// <param name="shown">every rated training pair, written as the exposure log a variant with unexposed_weight trains on.</param>
        public static async Task<CoatTuning> CreateAsync(CsrMatrix train, CsrMatrix shown, CsrMatrix validation, CancellationToken ct)
        {
            var t = new CoatTuning();
            long time = CoatImporter.EventTime.ToUnixTimeMilliseconds() * 1000;
            foreach (var (matrix, dir) in new[] { (train, t.Input), (shown, t.Exposures) })
            {
                var (users, items) = (new List<long>(), new List<long>());
                for (int u = 0; u < matrix.Rows; u++) foreach (int i in matrix.RowCols(u)) { users.Add(u); items.Add(i); }
                await InteractionWriter.WriteByDayAsync(dir, new InteractionColumns(users.ToArray(), null, items.ToArray(), null,
                    Enumerable.Repeat(time, users.Count).ToArray(), Values: Enumerable.Repeat(1.0, users.Count).ToArray()), ct);
            }
            var rows = new List<string>();
            for (int u = 0; u < validation.Rows; u++)
                for (int e = validation.RowPtr[u]; e < validation.RowPtr[u + 1]; e++)
                    rows.Add(string.Create(CultureInfo.InvariantCulture, $"({u}, {validation.ColIdx[e]}, {(validation.Values[e] >= PositiveAt ? "true" : "false")})"));
            using var con = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
            con.Open();
            using var cmd = con.CreateCommand();
            cmd.CommandText = $"COPY (SELECT * FROM (VALUES {string.Join(",", rows)}) v(user_id, item_id, label)) TO '{t.Unbiased}' (FORMAT parquet)";
            cmd.ExecuteNonQuery();
            return t;
        }

        /// <summary>Tunes with the given settings (as --set) and returns the chosen values as key=value (empty when not adopted).</summary>
        /// <param name="settings">the settings to start from.</param>
        /// <param name="budget">trials.</param>
        /// <param name="space">the space searched (null: the tuner's default for these settings).</param>
        /// <param name="ct">cancels the tuning.</param>
        public async Task<string[]> TuneAsync(string[] settings, int budget, CancellationToken ct, SearchSpace? space = null)
        {
            var defaults = new Dictionary<string, string>
            {
                ["index"] = "exact", ["top_n"] = K.ToString(CultureInfo.InvariantCulture), ["lookback_days"] = "3650", ["holdout_fraction"] = "0",
                ["quality_gate"] = "false", ["unbiased_input"] = Unbiased,
            };
            // A variant that trains on exposures gets the exposure log (and so the tuner's unexposed_weight); others do not, so
            // their calibration is searched as before.
            if (settings.Any(x => x.StartsWith("unexposed_weight=", StringComparison.Ordinal))) defaults["exposure_input"] = Exposures;
            var job = new JobDefinition("coat", null, "UTC", defaults, new Dictionary<string, float>(), null, SearchSpace: space);
            var tuned = await new TuningRun(RunLog.Null).ExecuteAsync(new TuneRequest(Input, Path.Combine(_root, $"lake-{_tunings++}"),
                DateOnly.FromDateTime(CoatImporter.EventTime.UtcDateTime).AddDays(1), job, settings, Budget: budget), ct);
            return tuned.Adopted ? tuned.Settings.Select(kv => $"{kv.Key}={kv.Value}").ToArray() : [];
        }

        public void Dispose()
        {
            if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        }
    }

    /// <summary>Coat as matrices over the same users × items indices: training positives (strength 1), all test ratings, test positives.</summary>
    /// <param name="Shown">every rated training pair (the user saw the item: an exposure log, for unexposed_weight &lt; 1).</param>
    internal sealed record CoatData(CsrMatrix Train, CsrMatrix Test, CsrMatrix TestPositives, ExposureLog Shown);

    /// <param name="PerUserDcg">each user's DCG@K (NaN: no test positive), for the paired comparison with none.</param>
    internal sealed record Measured(RandomizedTestReport Test, EvaluationReport Catalogue, double[] PerUserDcg);

    private static Measured Measure(TopNResult lists, CoatData d, int[] counts)
    {
        var perUser = new double[d.Test.Rows];
        return new(RandomizedTestMetrics.Evaluate(lists, d.Test, K, PositiveAt, perUser), Metrics.Evaluate(lists, d.TestPositives, CatalogueK, default, counts), perUser);
    }

    /// <summary>
    /// Paired difference with none on the same users: per user, the mean over seeds of DCG@K(variant) − DCG@K(none);
    /// returned as mean ± its standard error over users (the test-set noise the seeds cannot remove, with the users'
    /// own spread cancelled by pairing).
    /// </summary>
    private static string PairedDelta(Measured[] per, Measured[] none)
    {
        int users = per[0].PerUserDcg.Length;
        var diffs = new List<double>();
        for (int u = 0; u < users; u++)
        {
            if (double.IsNaN(none[0].PerUserDcg[u])) continue;
            double dsum = 0;
            for (int s = 0; s < per.Length; s++) dsum += per[s].PerUserDcg[u] - none[s].PerUserDcg[u];
            diffs.Add(dsum / per.Length);
        }
        if (diffs.Count < 2) return "–";
        double mean = diffs.Average(), sd = Math.Sqrt(diffs.Sum(x => (x - mean) * (x - mean)) / (diffs.Count - 1));
        return string.Create(CultureInfo.InvariantCulture, $"{mean:+0.0000;-0.0000;0.0000} ± {sd / Math.Sqrt(diffs.Count):F4}");
    }

    /// <summary>Imports Coat with the job's importer into a temporary input directory and reads it back with the job's reader.</summary>
    internal static async Task<CoatData> LoadCoatAsync(string sharedDir, CancellationToken ct)
    {
        string folder = Path.Combine(sharedDir, "coat");
        string tmp = Path.Combine(Path.GetTempPath(), $"batchrecs-data-coat-{Guid.NewGuid():N}");
        try
        {
            await CoatImporter.ImportAsync(folder, tmp, ct);
            var read = await InteractionReader.ReadAsync(tmp, new ReadWindow(new DateOnly(2016, 1, 2), 365), new EventRules(), ct);
            var all = PairAggregator.Combine(read.Events, CombineRule.Max);
            // Ratings ≥ 4 are the positives (strength 1); the rest are dropped (Saito et al.'s binarization).
            var pos = all.Where(all.Values.Select(x => x >= PositiveAt).ToArray());
            Array.Fill(pos.Values, 1f);
            // Coat has no times: every rating is one exposure at time 0 (the bench holds nothing out).
            var rated = all.ToUserItemMatrix();
            var test = await CoatImporter.ReadTestAsync(tmp, ct);
            var us = new List<int>(); var its = new List<int>(); var rs = new List<float>();
            var pu = new List<int>(); var pi = new List<int>();
            for (int e = 0; e < test.Users.Length; e++)
            {
                // Every Coat user and item has training ratings, so every test pair has an index; a missing one would be a bug.
                if (!all.UserIds.TryGetIndex(test.Users[e], out int u) || !all.ItemIds.TryGetIndex(test.Items[e], out int i))
                    throw new BadInputException($"test pair ({test.Users[e]}, {test.Items[e]}) has a user or item with no training rating.");
                us.Add(u); its.Add(i); rs.Add(test.Ratings[e]);
                if (test.Ratings[e] >= PositiveAt) { pu.Add(u); pi.Add(i); }
            }
            var testMatrix = CsrMatrix.FromEntries(all.UserCount, all.ItemCount, us.ToArray(), its.ToArray(), rs.ToArray());
            return new CoatData(pos.ToUserItemMatrix(), testMatrix, 
                CsrMatrix.FromEntries(all.UserCount, all.ItemCount, pu.ToArray(), pi.ToArray(), Enumerable.Repeat(1f, pu.Count).ToArray()),
                new ExposureLog(rated.MapValues(_ => 1f), new long[rated.NonZeros]));
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
    }

    private static int[]? ParseSeeds(string? s)
    {
        if (string.IsNullOrWhiteSpace(s)) return null;
        var parts = s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var seeds = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out seeds[i]))
                throw new BadInputException($"--seeds: '{parts[i]}' is not a non-negative integer (give e.g. --seeds 1,2,3,4,5).");
        return seeds;
    }

    private static void Print(string name, Measured[] per, Measured[]? none, double[] fit)
    {
        string ratio = none is null ? "–" : Cell(per.Select((m, s) => none[s].Test.Dcg == 0 ? double.NaN : m.Test.Dcg / none[s].Test.Dcg).ToArray(), "F3");
        string delta = none is null ? "–" : PairedDelta(per, none);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {Cell(per.Select(m => m.Test.Dcg).ToArray(), "F4")} | {Cell(per.Select(m => m.Test.Recall).ToArray(), "F4")} | {ratio} | {delta} | " +
            $"{Cell(per.Select(m => m.Catalogue.Recall).ToArray(), "F4")} | {Cell(per.Select(m => m.Catalogue.Ndcg).ToArray(), "F4")} | " +
            $"{Cell(per.Select(m => m.Catalogue.Coverage).ToArray(), "F3")} | {Cell(per.Select(m => m.Catalogue.MeanPopularityRank).ToArray(), "F1")} | {fit.Average():F2} |"));
    }

    /// <summary>The value, or with several seeds mean ± standard error over seeds (sd / √n).</summary>
    private static string Cell(double[] x, string format)
    {
        double mean = x.Average();
        if (x.Length < 2) return mean.ToString(format, CultureInfo.InvariantCulture);
        double sd = Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (x.Length - 1));
        return string.Create(CultureInfo.InvariantCulture, $"{mean.ToString(format, CultureInfo.InvariantCulture)} ± {(sd / Math.Sqrt(x.Length)).ToString(format, CultureInfo.InvariantCulture)}");
    }
}
