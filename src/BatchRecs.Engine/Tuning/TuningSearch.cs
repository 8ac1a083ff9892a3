using System.Diagnostics;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Core.Tuning;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using BatchRecs.Lake.Tuning;

namespace BatchRecs.Engine.Tuning;

/// <summary>
/// One tuning's search, over pairs already read. Trials are judged on the temporal validation split, or, when the job
/// names an unbiased validation log (<c>unbiased_input</c>), by SNIPS DCG (tune_metric ndcg or map) or Recall at top_n
/// on it — the measure the quality gate then uses. the training part, the validation sample and the popularity counts
/// are built once in the constructor and shared by every trial; the reference fit, each trial's last screening model
/// and the user samples are kept as the search goes. One instance per tuning; not thread-safe (trials run one after
/// another, each fitting through the executor).
/// </summary>
internal sealed class TuningSearch
{
    /// <summary>Trials are scored on at most this many validation users: a seeded sample shared by every trial.</summary>
    private const int MaxValidationUsers = 3000;

    /// <summary>Samples are never smaller than this many users (or everyone, when there are fewer): below it they are noise.</summary>
    private const int MinSampleUsers = 100;

    private readonly TuneRequest _req;
    private readonly JobSettings _current;
    private readonly RunLog _log;
    private readonly CancellationToken _ct;
    private readonly IReadOnlyList<string> _overridesWithoutTuning;
    private readonly IExecutor _executor;
    private readonly int _k;
    private readonly ulong _seed;
    private readonly int _budget;
    private readonly InteractionLog _pairs;
    private readonly CsrMatrix _train;
    private readonly CsrMatrix _validation;
    private readonly int[] _counts;
    private readonly int _trainUsers;
    private readonly int _validationUsers;
    private readonly double _validationShare;
    private readonly UnbiasedLog? _unbiased;
    private readonly ExposureLog? _exposures;
    private readonly long[] _trainUntil;
    private readonly FeedbackLog? _feedback;

    /// <summary>The unbiased log of each rung's user sample, by (user fraction, validation fraction).</summary>
    private readonly Dictionary<(double, double), UnbiasedLog> _unbiasedSamples = [];

    /// <summary>Each trial's last screening model, with the iterations it has done.</summary>
    private readonly Dictionary<int, (AlsModel Model, int Iterations)> _models = [];

    /// <summary>The reference projected onto each factor count, shared by that count's trials.</summary>
    private readonly Dictionary<int, AlsModel> _starts = [];

    /// <summary>The (training, validation) user samples, by user fraction.</summary>
    private readonly Dictionary<double, (CsrMatrix Train, CsrMatrix Validation)> _samples = [];

    /// <summary>The current settings' full fit: where screening trials start. Null until it is made.</summary>
    private AlsModel? _reference;

    /// <param name="req">the tuning's request.</param>
    /// <param name="current">the job's settings now (the bar to beat).</param>
    /// <param name="pairs">the window's combined pairs.</param>
    /// <param name="unbiased">the unbiased validation log (unbiased_input), or null.</param>
    /// <param name="exposures">the exposure log on the pairs' ids (propensity=exposure), or null.</param>
    /// <param name="feedback">served lists' logged exposures (propensity=logged), or null.</param>
    /// <param name="log">where the trials' events go.</param>
    /// <param name="ct">cancels the search between fits.</param>
    public TuningSearch(TuneRequest req, JobSettings current, InteractionLog pairs, UnbiasedLog? unbiased, ExposureLog? exposures, FeedbackLog? feedback,
        RunLog log, CancellationToken ct)
    {
        (_req, _current, _pairs, _unbiased, _exposures, _feedback, _log, _ct) = (req, current, pairs, unbiased, exposures, feedback, log, ct);
        _overridesWithoutTuning = req.Overrides.Where(o => !o.StartsWith("use_tuned", StringComparison.Ordinal)).ToList();
        double fraction = current.HoldoutFraction > 0 ? current.HoldoutFraction : 0.2;
        var splits = TuningSplits.Make(pairs, fraction);
        // Judged on an unbiased log, trials need no validation split: they train on all but the run's evaluation hold-out
        // (on everything when the run holds nothing out).
        bool[] train = unbiased is null ? splits.IsEvaluation.Zip(splits.IsValidation, (e, v) => !e && !v).ToArray()
            : current.HoldoutFraction > 0 ? splits.IsEvaluation.Select(e => !e).ToArray()
            : Enumerable.Repeat(true, pairs.Count).ToArray();
        _train = pairs.Where(train).ToUserItemMatrix();
        // Trials that train on exposures see each user's only before the first pair they do not train on.
        _trainUntil = TemporalSplit.FirstHeldOutTimes(pairs, train);
        var validationAll = pairs.Where(unbiased is null ? splits.IsValidation : new bool[pairs.Count]).ToUserItemMatrix();
        _counts = PopularityRanker.Counts(_train);
        _executor = req.Executor ?? new LocalExecutor();
        _k = current.TopN;
        _budget = req.Budget ?? current.Tuning.Budget;
        _seed = (ulong)current.Seed;
        _validationUsers = Enumerable.Range(0, validationAll.Rows).Count(u => validationAll.RowLength(u) > 0);
        _validationShare = Math.Min(1.0, (double)MaxValidationUsers / Math.Max(1, _validationUsers));
        _validation = _validationShare >= 1 ? validationAll : FilterRows(validationAll, InValidationSample);
        _trainUsers = Enumerable.Range(0, _train.Rows).Count(u => _train.RowLength(u) > 0);
        if (_unbiased is not null) _validationUsers = Enumerable.Range(0, _unbiased.Labels.Rows).Count(u => _unbiased.Labels.RowLength(u) > 0);
    }

    /// <summary>What trials are judged by, as recorded (<c>tuned_settings.metric</c>).</summary>
    private string MetricName => _unbiased is null ? _current.Tuning.MetricName
        : "unbiased_" + (_current.Tuning.Metric == TuneMetric.Recall ? "snips_recall" : "snips_dcg");

    /// <summary>
    /// The debiasing's calibration, searched on top of the tuned model when the job debiases and gives no space: the
    /// propensities' η and clip, the re-rank's β, and (with an exposure log, training debiased) unexposed_weight. Only an
    /// unbiased log judges them fairly (on a biased split every correction toward unshown items looks like a loss).
    /// Searched together with the model's settings, the extra
    /// dimensions cost the model search its budget: on Coat that lost 3–8 % of DCG@5 against debias=none tuned alone;
    /// in two stages every mode came within 1 % of it (README, Debiasing on Coat).
    /// </summary>
    private SearchSpace? CalibrationSpace()
    {
        if (_req.Job.SearchSpace is not null || _current.Debias.Mode == DebiasMode.None) return null;
        List<SearchDimension> dims = [new("propensity_eta", 0, 1), new("propensity_clip", 0.01, 0.5, Log: true)];
        // The propensity model too, among those the job has the data for (η applies to popularity's only).
        string[] models = [PropensityName(PropensityModel.Popularity), .. _exposures is null ? [] : new[] { PropensityName(PropensityModel.Exposure) },
            .. _feedback is null ? [] : new[] { PropensityName(PropensityModel.Logged) }];
        if (models.Length > 1) dims.Add(new SearchDimension("propensity", Choices: models));
        if (_current.Debias.RerankWithIpw) dims.Add(new SearchDimension("rerank_beta", 0, 1));
        // With an exposure log, how much a pair shown and passed over counts against its item (1: not at all).
        if (_exposures is not null && _current.Debias.TrainWithIpw) dims.Add(new SearchDimension("unexposed_weight", 0.01, 1, Log: true));
        return new SearchSpace(dims);
    }

    private static string PropensityName(PropensityModel model) => model.ToString().ToLowerInvariant();

    /// <summary>What the search found, and every trial (for <c>tuning_trials</c>).</summary>
    public sealed record Outcome(TunedSettings Tuned, IReadOnlyList<TrialResult> Trials);

    public Outcome Run()
    {
        string metricName = MetricName;
        _log.Event("tune.start", ("job", _req.Job.Name), ("pairs", _pairs.Count), ("train", _train.NonZeros), ("validation", _validation.NonZeros), ("budget", _budget));
        // One iteration on a few users first, so the unit below measures a fit, not the process's first-call costs (code
        // compiled, threads started); those are paid once per process whatever the search does.
        Score(_current, null, Feasible(new Rung(1.0 / _current.Iterations, 0.02, 0.02)));
        // The current settings, at full length: the bar to beat, the start of every trial and the unit of cost.
        var sw = Stopwatch.StartNew();
        double currentValue = Score(_current, null, new Rung(1.0, 1.0));
        double fitSeconds = sw.Elapsed.TotalSeconds;
        var deadline = _req.TimeLimit is { } limit ? DateTime.UtcNow + limit : (DateTime?)null;
        var searchTime = Stopwatch.StartNew();
        var calibration = CalibrationSpace();
        // With a calibration to follow, the model's settings are searched without the debiasing (debias=none), then the
        // calibration on top of the best of them, with the job's debias mode; trials of the second stage are numbered on.
        IReadOnlyList<TrialResult> Search(SearchSpace space, IReadOnlyDictionary<string, string> fixedValues, int firstTrial) =>
            SuccessiveHalving.Run(space, _budget, _seed + (ulong)firstTrial, (trial, rung, values) =>
            {
                var s = TrialSettings(fixedValues.Concat(values));
                double value = Score(s, firstTrial + trial, Feasible(SuccessiveHalving.DefaultRungs[rung]));
                _log.Event("tune.trial", ("trial", firstTrial + trial), ("rung", rung), (metricName, value), ("settings", string.Join(",", values.Select(kv => $"{kv.Key}={kv.Value}"))));
                return value;
            }, outOfTime: () => deadline is { } d && DateTime.UtcNow > d, affordable: Affordable,
                // Screening starts are the reference cut or padded to the trial's factor count, so how far one iteration gets
                // depends on that count: screening compares trials of the same count only; the cold last rung compares all.
                stratum: values => values.TryGetValue("factors", out var f) ? f : "")
            .Select(r => r with { Trial = firstTrial + r.Trial, Settings = fixedValues.Where(kv => kv.Key != "debias").Concat(r.Settings).ToDictionary() }).ToList();
        var noDebias = new Dictionary<string, string> { ["debias"] = "none" };
        var results = Search(_req.Job.SearchSpace ?? SearchSpace.Default, calibration is null ? new Dictionary<string, string>() : noDebias, 0);
        if (calibration is not null)
            results = [.. results, .. Search(calibration, SuccessiveHalving.Best(results).Settings, _budget)];
        double searchSeconds = searchTime.Elapsed.TotalSeconds;
        var best = SuccessiveHalving.Best(calibration is null ? results : results.Where(r => r.Trial >= _budget).ToList());
        bool adopted = best.Metric > currentValue;
        var tuned = new TunedSettings($"tune-{_req.Job.Name}-{DateTime.UtcNow:yyyyMMddTHHmmss}-{Guid.NewGuid().ToString("N")[..6]}", _req.Job.Name, DateTime.UtcNow,
            $"{metricName}@{_k}", best.Settings, best.Metric, currentValue, adopted, _budget, fitSeconds > 0 ? searchSeconds / fitSeconds : 0);
        return new Outcome(tuned, results);
    }

    // Fits on the (possibly user-sampled) training part and scores the rung's share of the validation users. At the
    // screening rungs a trial starts from the reference fit (projected onto its factor count) and then continues its own
    // model; the final rung is the fit a run would make (from the random start, all the trial's iterations), so the
    // value recorded, compared with the current settings and adopted is a run's, not a warm start's.
    private double Score(JobSettings s, int? trial, Rung rung)
    {
        var (tr, va) = rung.UserFraction >= 1 ? (_train, _validation) : Sample(rung.UserFraction);
        var plan = new ModelPlan(s, _executor, _exposures, feedback: _feedback);
        int target = RungIterations(s.Iterations, rung.IterationFraction);
        AlsModel? warm = null;
        int done = 0;
        bool screening = rung.IterationFraction < 1;
        if (screening && trial is { } t && _models.TryGetValue(t, out var prev) && prev.Iterations <= target)
            (warm, done) = (prev.Model, prev.Iterations);
        else if (screening && _reference is not null && s.Fit.Mode == AlsMode.Implicit)
            warm = Start(s.Factors);
        var prop = plan.Propensities(tr, _counts);
        var shown = plan.TrainOnExposures
            ? plan.ShownBefore(rung.UserFraction >= 1 ? _trainUntil : _trainUntil.Select((t, u) => InSample(u, rung.UserFraction) ? t : long.MinValue).ToArray())
            : null;
        var model = done == target ? warm! : plan.Fit(tr, prop, target - done, warm, _ct, trackLoss: trial is null, userSample: rung.UserFraction, shown: shown);
        if (trial is { } t2) _models[t2] = (model, target);
        else if (!screening) _reference = model; // not the warm-up
        if (_unbiased is not null)
        {
            var judged = plan.JudgeUnbiased(model, tr, prop, UnbiasedSample(rung));
            return _current.Tuning.Metric == TuneMetric.Recall ? judged.Recall : judged.Dcg;
        }
        var users = Enumerable.Range(0, va.Rows).Where(u => va.RowLength(u) > 0 && InSample(u, rung.ValidationFraction)).ToArray();
        // Trials judge the model, not the index: validation users are scored exactly (a few thousand users cost less
        // than building an IVF index per trial).
        var recs = ExactTopN.Search(model.UserFactors, model.ItemFactors, model.Factors, new TopNQuery(plan.FetchCount, tr), users);
        if (plan.RerankWithIpw) recs = BatchRecs.Core.Debias.PopularityRerank.Apply(recs, prop, s.Debias.RerankBeta, plan.N);
        var m = Metrics.Evaluate(recs.Scatter(users, va.Rows), va, _k);
        return _current.Tuning.Metric switch { TuneMetric.Recall => m.Recall, TuneMetric.Map => m.Map, _ => m.Ndcg };
    }

    // A trial's settings: the job's, the run's overrides, the trial's values; never the last tuning's.
    private JobSettings TrialSettings(IEnumerable<KeyValuePair<string, string>> values) =>
        JobSettings.Create(_req.Job.Settings, [.. _overridesWithoutTuning, .. values.Select(kv => $"{kv.Key}={kv.Value}"), "use_tuned=false"], _req.Job.EventWeights);

    // Where screening trials of a factor count start: the reference projected onto it (shared by the count's trials).
    private AlsModel Start(int factors)
    {
        if (_starts.TryGetValue(factors, out var start)) return start;
        var (pu, pi) = FactorProjection.Project(_reference!, factors, _seed);
        return _starts[factors] = new AlsModel(_reference!.Users, _reference.Items, factors, pu, pi, []);
    }

    // The final rung's full fits are the dear part of a search: in rank order, each finalist whose estimated fit the
    // rest of tune_final_fits still covers gets one (the best always does). The estimate is a current fit scaled by
    // the finalist's iterations and, when larger, by its factor count squared (the k² of every row's solve dominates);
    // it depends on the settings alone, so the same seed makes the same choice however busy the machine is.
    private IReadOnlyList<int> Affordable(int rung, IReadOnlyList<IReadOnlyDictionary<string, string>> candidates)
    {
        if (rung < SuccessiveHalving.DefaultRungs.Length - 1) return [.. Enumerable.Range(0, candidates.Count)];
        double left = _current.Tuning.FinalFits;
        var admitted = new List<int>();
        for (int i = 0; i < candidates.Count; i++)
        {
            var s = TrialSettings(candidates[i]);
            double fits = (double)s.Iterations / _current.Iterations * Math.Max(1.0, Math.Pow((double)s.Factors / _current.Factors, 2));
            if (fits > left && i > 0) continue;
            left -= fits;
            admitted.Add(i);
        }
        return admitted;
    }

    private Rung Feasible(Rung r) => r with
    {
        UserFraction = Math.Max(r.UserFraction, Math.Min(1.0, (double)MinSampleUsers / Math.Max(1, _trainUsers))),
        ValidationFraction = Math.Max(r.ValidationFraction, Math.Min(1.0, (double)MinSampleUsers / Math.Max(1, Math.Min(_validationUsers, MaxValidationUsers)))),
    };

    // One seeded uniform value per user decides every sample, so samples are nested: the users scored at a rung are
    // among the users trained on there, and a user in a smaller sample is in every larger one.
    private bool InSample(int u, double fraction) => fraction >= 1 || Uniform(u, 0x5C0BEUL) < fraction;

    // A user's seeded uniform value in [0, 1) for one kind of sample (the salt).
    private double Uniform(int u, ulong salt) => (SplitMix64.Mix(_seed ^ salt ^ (ulong)u) >> 11) * (1.0 / (1UL << 53));

    private static CsrMatrix FilterRows(CsrMatrix m, Func<int, bool> keep)
    {
        var r = new List<int>(); var c = new List<int>(); var v = new List<float>();
        for (int u = 0; u < m.Rows; u++)
            if (keep(u))
                for (int p = m.RowPtr[u]; p < m.RowPtr[u + 1]; p++) { r.Add(u); c.Add(m.ColIdx[p]); v.Add(m.Values[p]); }
        return CsrMatrix.FromEntries(m.Rows, m.Cols, r.ToArray(), c.ToArray(), v.ToArray());
    }

    // The unbiased log of the users a rung trains on and scores (users outside the training sample have no fitted factors).
    private UnbiasedLog UnbiasedSample(Rung rung)
    {
        if (rung.UserFraction >= 1 && rung.ValidationFraction >= 1) return _unbiased!;
        var key = (rung.UserFraction, rung.ValidationFraction);
        if (_unbiasedSamples.TryGetValue(key, out var cached)) return cached;
        return _unbiasedSamples[key] = _unbiased!.Restrict(u => InSample(u, rung.UserFraction) && InSample(u, rung.ValidationFraction));
    }

    private bool InValidationSample(int u) => _validationShare >= 1 || Uniform(u, 0x5EEDUL) < _validationShare;

    // Iterations at a rung: a share of the trial's own, at least 1, and strictly more at every later rung.
    private static int RungIterations(int total, double fraction)
    {
        int target = Math.Max(1, (int)Math.Round(total * fraction));
        int rank = Array.FindIndex(SuccessiveHalving.DefaultRungs, r => r.IterationFraction == fraction);
        if (rank > 0) target = Math.Max(target, RungIterations(total, SuccessiveHalving.DefaultRungs[rank - 1].IterationFraction) + 1);
        return Math.Min(total, target);
    }

    private (CsrMatrix, CsrMatrix) Sample(double userFraction)
    {
        if (_samples.TryGetValue(userFraction, out var cached)) return cached;
        return _samples[userFraction] = (FilterRows(_train, u => InSample(u, userFraction)), FilterRows(_validation, u => InSample(u, userFraction)));
    }
}
