using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Core.Tuning;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using BatchRecs.Lake.Input;
using BatchRecs.Lake.Output;
using BatchRecs.Lake.Tuning;

namespace BatchRecs.Engine.Tuning;

/// <summary>What to tune: the same inputs as a run, plus the search's budget.</summary>
public sealed record TuneRequest(string InputDir, string LakeDir, DateOnly RunDate, JobDefinition Job, IReadOnlyList<string> Overrides,
    int? Budget = null, TimeSpan? TimeLimit = null, IExecutor? Executor = null);

/// <summary>The splits a tuning uses: training, validation (from the training part) and the evaluation hold-out it never sees.</summary>
public sealed record TuningSplits(InteractionLog Pairs, bool[] IsEvaluation, bool[] IsValidation)
{
    public static TuningSplits Make(InteractionLog pairs, double holdoutFraction)
    {
        // The evaluation hold-out is exactly the run's; validation is the latest part of what remains.
        var evaluation = TemporalSplit.PerUserLast(pairs, holdoutFraction).IsTrain.Select(t => !t).ToArray();
        var remaining = pairs.Where(evaluation.Select(e => !e).ToArray());
        var validationOfRemaining = TemporalSplit.PerUserLast(remaining, holdoutFraction).IsTrain;
        var validation = new bool[pairs.Count];
        for (int e = 0, r = 0; e < pairs.Count; e++)
            if (!evaluation[e]) validation[e] = !validationOfRemaining[r++];
        return new TuningSplits(pairs, evaluation, validation);
    }
}

/// <summary>
/// Searches alpha, regularization, factors, confidence and iterations by successive halving on a temporal validation
/// split taken before the evaluation hold-out (so the settings are never tuned on the data a run reports). The CSR,
/// id maps and propensities are built once and shared by all trials; trials run through the job's executor. The best
/// setting is adopted only if it beats the current settings on the same validation split; either way it is recorded
/// (<c>tuning_trials</c>, <c>tuned_settings</c>, <c>LAKE/tuning/JOB/</c>).
/// </summary>
public sealed class TuningRun(RunLog log)
{
    public async Task<TunedSettings> ExecuteAsync(TuneRequest req, CancellationToken ct = default)
    {
        InputLayout.RequireApart(req.InputDir, req.LakeDir);
        var current = req.Job.ResolveSettings(req.Overrides, req.LakeDir);
        var overridesWithoutTuning = req.Overrides.Where(o => !o.StartsWith("use_tuned", StringComparison.Ordinal)).ToList();
        var read = await JobInput.ReadAsync(req.InputDir, req.RunDate, req.Job, current, ct);
        JobInput.RequireEvents(read, req.RunDate, req.Job, current);
        var pairs = PairAggregator.Combine(read.Events, JobInput.Combine(current));
        double fraction = current.HoldoutFraction > 0 ? current.HoldoutFraction : 0.2;
        var splits = TuningSplits.Make(pairs, fraction);
        var train = pairs.Where(splits.IsEvaluation.Zip(splits.IsValidation, (e, v) => !e && !v).ToArray()).ToUserItemMatrix();
        var validationAll = pairs.Where(splits.IsValidation).ToUserItemMatrix();
        var counts = PopularityRanker.Counts(train);
        var executor = req.Executor ?? new LocalExecutor();
        int k = current.TopN;
        var tuneMetric = current.Tuning.Metric;
        string metricName = current.Tuning.MetricName;
        var space = req.Job.SearchSpace ?? SearchSpace.Default;
        int budget = req.Budget ?? current.Tuning.Budget;
        ulong seed = (ulong)current.Seed;
        var models = new Dictionary<int, (AlsModel Model, int Iterations)>(); // each trial's last screening model
        // Trials are scored on at most MaxValidationUsers validation users: a seeded sample shared by every trial.
        const int MaxValidationUsers = 3000;
        int validationUsers = Enumerable.Range(0, validationAll.Rows).Count(u => validationAll.RowLength(u) > 0);
        double validationShare = Math.Min(1.0, (double)MaxValidationUsers / Math.Max(1, validationUsers));
        var validation = validationShare >= 1 ? validationAll : FilterRows(validationAll, InValidationSample);
        var samples = new Dictionary<double, (CsrMatrix Train, CsrMatrix Validation)>();
        log.Event("tune.start", ("job", req.Job.Name), ("pairs", pairs.Count), ("train", train.NonZeros), ("validation", validation.NonZeros), ("budget", budget));

        AlsModel? reference = null;
        var starts = new Dictionary<int, AlsModel>(); // the reference projected onto each factor count, shared by trials
        // Samples are never smaller than this many users (or everyone, when there are fewer): below it they are noise.
        const int MinSampleUsers = 100;
        int trainUsers = Enumerable.Range(0, train.Rows).Count(u => train.RowLength(u) > 0);
        // One iteration on a few users first, so the unit below measures a fit, not the process's first-call costs (code
        // compiled, threads started); those are paid once per process whatever the search does.
        Score(current, null, Feasible(new Rung(1.0 / current.Iterations, 0.02, 0.02)));
        // The current settings, at full length: the bar to beat, the start of every trial and the unit of cost.
        var sw = Stopwatch.StartNew();
        double currentValue = Score(current, null, new Rung(1.0, 1.0));
        double fitSeconds = sw.Elapsed.TotalSeconds;
        var deadline = req.TimeLimit is { } limit ? DateTime.UtcNow + limit : (DateTime?)null;
        var searchTime = Stopwatch.StartNew();
        var results = SuccessiveHalving.Run(space, budget, seed, (trial, rung, values) =>
        {
            var s = TrialSettings(values);
            double value = Score(s, trial, Feasible(SuccessiveHalving.DefaultRungs[rung]));
            log.Event("tune.trial", ("trial", trial), ("rung", rung), (metricName, value), ("settings", string.Join(",", values.Select(kv => $"{kv.Key}={kv.Value}"))));
            return value;
        }, outOfTime: () => deadline is { } d && DateTime.UtcNow > d, affordable: Affordable,
            // Screening starts are the reference cut or padded to the trial's factor count, so how far one iteration gets
            // depends on that count: screening compares trials of the same count only; the cold last rung compares all.
            stratum: values => values.TryGetValue("factors", out var f) ? f : "");
        double searchSeconds = searchTime.Elapsed.TotalSeconds;
        var best = SuccessiveHalving.Best(results);
        bool adopted = best.Metric > currentValue;
        var tuned = new TunedSettings($"tune-{req.Job.Name}-{DateTime.UtcNow:yyyyMMddTHHmmss}-{Guid.NewGuid().ToString("N")[..6]}", req.Job.Name, DateTime.UtcNow,
            $"{metricName}@{k}", best.Settings, best.Metric, currentValue, adopted, budget, fitSeconds > 0 ? searchSeconds / fitSeconds : 0);
        using (await PublishLock.AcquireAsync(req.LakeDir, current.Publish.LockTimeout, ct))
        {
            DuckDbCatalog.RecordTuning(req.LakeDir, tuned, results.Select(r => new DuckDbCatalog.TrialRow(r.Trial, r.Rung, JsonSerializer.Serialize(r.Settings), r.Metric, r.Seconds)).ToList());
            TunedSettingsStore.Save(req.LakeDir, tuned);
        }
        log.Event("tune.done", ("tuning_id", tuned.TuningId), ("best", best.Metric), ("current", currentValue), ("adopted", adopted),
            ("cost_in_fits", tuned.CostInFits), ("settings", string.Join(",", best.Settings.Select(kv => $"{kv.Key}={kv.Value}"))));
        return tuned;

        // Fits on the (possibly user-sampled) training part and scores the rung's share of the validation users. At the
        // screening rungs a trial starts from the reference fit (projected onto its factor count) and then continues its own
        // model; the final rung is the fit a run would make (from the random start, all the trial's iterations), so the
        // value recorded, compared with the current settings and adopted is a run's, not a warm start's.
        double Score(JobSettings s, int? trial, Rung rung)
        {
            var (tr, va) = rung.UserFraction >= 1 ? (train, validation) : Sample(rung.UserFraction);
            var plan = new ModelPlan(s, executor);
            int target = RungIterations(s.Iterations, rung.IterationFraction);
            AlsModel? warm = null;
            int done = 0;
            bool screening = rung.IterationFraction < 1;
            if (screening && trial is { } t && models.TryGetValue(t, out var prev) && prev.Iterations <= target)
                (warm, done) = (prev.Model, prev.Iterations);
            else if (screening && reference is not null && s.Fit.Mode == AlsMode.Implicit)
                warm = Start(s.Factors);
            var prop = plan.Propensities(tr, counts);
            var model = done == target ? warm! : plan.Fit(tr, prop, target - done, warm, ct, trackLoss: trial is null, userSample: rung.UserFraction);
            if (trial is { } t2) models[t2] = (model, target);
            else if (!screening) reference = model; // not the warm-up
            var users = Enumerable.Range(0, va.Rows).Where(u => va.RowLength(u) > 0 && InSample(u, rung.ValidationFraction)).ToArray();
            // Trials judge the model, not the index: validation users are scored exactly (a few thousand users cost less
            // than building an IVF index per trial).
            var recs = ExactTopN.Search(model.UserFactors, model.ItemFactors, model.Factors, new TopNQuery(plan.FetchCount, tr), users);
            if (plan.RerankWithIpw) recs = BatchRecs.Core.Debias.PopularityRerank.Apply(recs, prop, s.Debias.RerankBeta, plan.N);
            var m = Metrics.Evaluate(recs.Scatter(users, va.Rows), va, k);
            return tuneMetric switch { TuneMetric.Recall => m.Recall, TuneMetric.Map => m.Map, _ => m.Ndcg };
        }

        // A trial's settings: the job's, the run's overrides, the trial's values; never the last tuning's.
        JobSettings TrialSettings(IReadOnlyDictionary<string, string> values) =>
            JobSettings.Create(req.Job.Settings, [.. overridesWithoutTuning, .. values.Select(kv => $"{kv.Key}={kv.Value}"), "use_tuned=false"], req.Job.EventWeights);

        // Where screening trials of a factor count start: the reference projected onto it (shared by the count's trials).
        AlsModel Start(int factors)
        {
            if (starts.TryGetValue(factors, out var start)) return start;
            var (pu, pi) = FactorProjection.Project(reference!, factors, seed);
            return starts[factors] = new AlsModel(reference!.Users, reference.Items, factors, pu, pi, []);
        }

        // The final rung's full fits are the dear part of a search: in rank order, each finalist whose estimated fit the
        // rest of tune_final_fits still covers gets one (the best always does). The estimate is a current fit scaled by
        // the finalist's iterations and, when larger, by its factor count squared (the k² of every row's solve dominates);
        // it depends on the settings alone, so the same seed makes the same choice however busy the machine is.
        IReadOnlyList<int> Affordable(int rung, IReadOnlyList<IReadOnlyDictionary<string, string>> candidates)
        {
            if (rung < SuccessiveHalving.DefaultRungs.Length - 1) return [.. Enumerable.Range(0, candidates.Count)];
            double left = current.Tuning.FinalFits;
            var admitted = new List<int>();
            for (int i = 0; i < candidates.Count; i++)
            {
                var s = TrialSettings(candidates[i]);
                double fits = (double)s.Iterations / current.Iterations * Math.Max(1.0, Math.Pow((double)s.Factors / current.Factors, 2));
                if (fits > left && i > 0) continue;
                left -= fits;
                admitted.Add(i);
            }
            return admitted;
        }

        Rung Feasible(Rung r) => r with
        {
            UserFraction = Math.Max(r.UserFraction, Math.Min(1.0, (double)MinSampleUsers / Math.Max(1, trainUsers))),
            ValidationFraction = Math.Max(r.ValidationFraction, Math.Min(1.0, (double)MinSampleUsers / Math.Max(1, Math.Min(validationUsers, MaxValidationUsers)))),
        };

        // One seeded uniform value per user decides every sample, so samples are nested: the users scored at a rung are
        // among the users trained on there, and a user in a smaller sample is in every larger one.
        bool InSample(int u, double fraction) => fraction >= 1 || Uniform(u, 0x5C0BEUL) < fraction;

        // A user's seeded uniform value in [0, 1) for one kind of sample (the salt).
        double Uniform(int u, ulong salt) => (SplitMix64.Mix(seed ^ salt ^ (ulong)u) >> 11) * (1.0 / (1UL << 53));

        static CsrMatrix FilterRows(CsrMatrix m, Func<int, bool> keep)
        {
            var r = new List<int>(); var c = new List<int>(); var v = new List<float>();
            for (int u = 0; u < m.Rows; u++)
                if (keep(u))
                    for (int p = m.RowPtr[u]; p < m.RowPtr[u + 1]; p++) { r.Add(u); c.Add(m.ColIdx[p]); v.Add(m.Values[p]); }
            return CsrMatrix.FromEntries(m.Rows, m.Cols, r.ToArray(), c.ToArray(), v.ToArray());
        }

        bool InValidationSample(int u) => validationShare >= 1 || Uniform(u, 0x5EEDUL) < validationShare;

        // Iterations at a rung: a share of the trial's own, at least 1, and strictly more at every later rung.
        static int RungIterations(int total, double fraction)
        {
            int target = Math.Max(1, (int)Math.Round(total * fraction));
            int rank = Array.FindIndex(SuccessiveHalving.DefaultRungs, r => r.IterationFraction == fraction);
            if (rank > 0) target = Math.Max(target, RungIterations(total, SuccessiveHalving.DefaultRungs[rank - 1].IterationFraction) + 1);
            return Math.Min(total, target);
        }

        (CsrMatrix, CsrMatrix) Sample(double userFraction)
        {
            if (samples.TryGetValue(userFraction, out var cached)) return cached;
            return samples[userFraction] = (FilterRows(train, u => InSample(u, userFraction)), FilterRows(validation, u => InSample(u, userFraction)));
        }
    }
}
