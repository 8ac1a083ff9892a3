using System.Runtime.CompilerServices;
using System.Diagnostics;
using System.Globalization;
using BatchRecs.Core.Als;
using BatchRecs.Core.Errors;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Lake.Input;
using BatchRecs.Lake.Output;
using BatchRecs.Engine.Settings;

namespace BatchRecs.Engine.Pipeline;

/// <summary>
/// One run of a job for one run date: read → pairs → hold-out split → fit and evaluate against popularity →
/// quality gate → refit on the whole window → top-N for every user → publish. Nothing is published unless every
/// stage succeeded and the gate passed; the run is recorded in <c>runs</c> as running, then succeeded, rejected
/// or failed (with the reason).
/// </summary>
/// <param name="log">where the run's events go.</param>
/// <param name="reporter">writes each run's report at its end (best-effort); null: no report.</param>
public sealed class NightlyRun(RunLog log, IRunReporter? reporter = null)
{
    public async Task<RunSummary> ExecuteAsync(RunRequest req, CancellationToken ct = default)
    {
        var started = DateTime.UtcNow;
        string runId = NewRunId(req.Job.Name, req.RunDate, started);
        var metrics = new SortedDictionary<string, double>(StringComparer.Ordinal);
        JobSettings? settings = null;
        PublishOptions? publishOptions = null;
        long inputRows = 0;
        int users = 0, items = 0;
        RunRecord Record(string status, string? reason) => new(runId, req.Job.Name, req.RunDate, status, started, DateTime.UtcNow,
            reason, inputRows, users, items, metrics, settings?.Effective ?? new Dictionary<string, string>());
        log.Event("run.start", ("run_id", runId), ("job", req.Job.Name), ("run_date", req.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            ("input", req.InputDir), ("lake", req.LakeDir));
        RunDates.Check(req.RunDate, RunDates.Today(req.Job.Zone), req.AllowFutureDate);
        if (File.Exists(req.LakeDir)) throw new BadInputException($"the lake '{req.LakeDir}' is a file; give the directory to publish into (--lake, or the job file's 'lake').");
        // Refused before the lake is touched: recording these failures would write into the input or a file.
        InputLayout.RequireApart(req.InputDir, req.LakeDir);
        using var lease = RunLease.Take(req.LakeDir, runId);
        try
        {
            settings = req.Job.ResolveSettings(req.Overrides, req.LakeDir);
            if (settings.TunedFrom is { } tuning) log.Event("run.tuned_settings", ("tuning_id", tuning));
            log.Event("run.settings", ("iterations", settings.Iterations),
                ("refit_iterations", settings.HoldoutFraction > 0 ? Math.Max(1, settings.RefitIterations) : settings.Iterations));
            publishOptions = new PublishOptions(settings.Publish.RetentionDays, settings.Publish.LockTimeoutSeconds)
            {
                Faults = req.Faults,
                OnLockWait = message => log.Event("run.publish_lock_wait", ("run_id", runId), ("message", message)),
            };
            LogRepairs(await LakePublisher.RecordRunAsync(req.LakeDir, Record(RunStatus.Running, null), publishOptions, ct));
            await JobInput.CheckIdKindsAsync(req.InputDir, req.LakeDir, JobInput.Window(req.RunDate, req.Job, settings), ct);
            var stages = new StageTimer(metrics, log);
            var read = await stages.TimeAsync(StageNames.Read, () => JobInput.ReadAsync(req.InputDir, req.RunDate, req.Job, settings, ct));
            RecordInput(metrics, read);
            JobInput.RequireEvents(read, req.RunDate, req.Job, settings);
            inputRows = read.RowsInWindow;
            // The events are released as soon as they are combined: from here on the run holds pairs, then matrices.
            var pairs = PairsStage.Combine(stages, read, settings);
            var (userIds, itemIds) = (pairs.UserIds, pairs.ItemIds);
            (users, items) = (pairs.UserIds.Count, pairs.ItemIds.Count);
            metrics[MetricNames.InputUsers] = users;
            metrics[MetricNames.InputItems] = items;
            metrics[MetricNames.InputPairs] = pairs.Count;
            var exposures = settings.Input.ExposureInput is { } exposureDir
                ? await stages.TimeAsync(StageNames.ReadExposures, () => ExposureReader.ReadAsync(exposureDir,
                    JobInput.Window(req.RunDate, req.Job, settings), userIds, itemIds, ct))
                : null;
            if (exposures is not null) metrics[MetricNames.InputExposedPairs] = exposures.NonZeros;
            string? itemsFile = ItemsFile(req, settings);
            var rules = await stages.TimeAsync(StageNames.Rules, () => ListRules.LoadAsync(settings, itemsFile, userIds, itemIds, ct));
            var feedback = settings.Evaluation.FeedbackInput is { } feedbackDir
                ? await stages.TimeAsync(StageNames.ReadFeedback, () => FeedbackReader.ReadAsync(feedbackDir, req.RunDate.AddDays(-settings.Evaluation.OpeDays),
                    req.RunDate, rules.Users, itemIds, DuckDbCatalog.PublishedRunIds(req.LakeDir), ct))
                : null;
            if (feedback is not null)
            {
                metrics[MetricNames.OpeFiles] = feedback.Files;
                metrics[MetricNames.OpeUnknownRows] = feedback.UnknownRows;
            }
            var plan = new ModelPlan(settings, req.Executor ?? new LocalExecutor(), exposures, rules, feedback?.Log);
            var unbiased = settings.Evaluation.UnbiasedInput is { } unbiasedPath
                ? await stages.TimeAsync(StageNames.ReadUnbiased, () => UnbiasedLogReader.ReadAsync(unbiasedPath, userIds, itemIds, ct))
                : null;
            if (unbiased is not null)
            {
                metrics[MetricNames.UnbiasedPairs] = unbiased.Log.Pairs;
                metrics[MetricNames.UnbiasedUnknownRows] = unbiased.UnknownRows;
            }

            var checkpoints = new Checkpoints(plan.Checkpoints, req, log);
            var (model, recs, propensity, counts, similar) = Model(req, settings, pairs, rules, plan, checkpoints, stages, metrics, userIds, itemIds,
                unbiased?.Log, feedback?.Log, ct);

            metrics[MetricNames.TotalSeconds] = (DateTime.UtcNow - started).TotalSeconds;
            var record = Record(RunStatus.Succeeded, null);
            var publish = await stages.TimeAsync(StageNames.Publish, () => LakePublisher.PublishAsync(req.LakeDir, new PublishRequest(
                record, rules.Users, itemIds, recs, "als", model.Factors, model.UserFactors, model.ItemFactors, read.Files, read.Skipped,
                new ItemPropensities(propensity, counts), itemsFile, similar), publishOptions, ct));
            LogRepairs(publish.Repairs);
            checkpoints.Clear();
            WriteReport(req.LakeDir, runId);
            log.Event("run.succeeded", ("run_id", runId), ("rows", recs.TotalRows), ("partition", publish.PartitionDir), ("duckdb", publish.DatabasePath),
                ("seconds", (DateTime.UtcNow - started).TotalSeconds));
            return new RunSummary(record, publish);
        }
        catch (Exception e)
        {
            string status = e is QualityGateException ? RunStatus.Rejected : RunStatus.Failed;
            string reason = e is OperationCanceledException ? "cancelled" : ErrorClass.Describe(e);
            log.Event("run." + status, ("run_id", runId), ("reason", reason));
            try
            {
                await LakePublisher.RecordRunAsync(req.LakeDir, Record(status, reason), publishOptions, CancellationToken.None);
            }
            catch (Exception recordError)
            {
                log.Event("run.record_failed", ("run_id", runId), ("reason", recordError.Message));
            }
            if (settings is not null) WriteReport(req.LakeDir, runId);
            throw;
        }
    }

    /// <summary>
    /// The model stages, between reading and publishing: evaluation and the gate, the refit on the whole window, scoring with
    /// the rules, the off-policy estimate and similar items. A synchronous method of its own on purpose: its matrices die
    /// with this frame, before the publish, and the pairs reach it only inside <see cref="PairsStage"/>, which lets them go
    /// once the refit's matrix exists (see there for what happened when they were locals of the async run method).
    /// </summary>
    private (AlsModel Model, TopNResult Lists, float[] Propensity, int[] Counts, TopNResult? Similar) Model(RunRequest req, JobSettings settings,
        PairsStage pairs, ListRules rules, ModelPlan plan, Checkpoints checkpoints, StageTimer stages, SortedDictionary<string, double> metrics,
        IdMap userIds, IdMap itemIds, UnbiasedLog? unbiased, FeedbackLog? feedback, CancellationToken ct)
    {
        // The fallback is built only when some user can need it (a pass over every entry and a sort of the catalogue
        // otherwise wasted), while the pairs' times exist.
        var (evalModel, all, fallback) = pairs.EvaluateAndRelease(settings.HoldoutFraction > 0
                ? p => Evaluate(p, settings, plan, stages, metrics, checkpoints, unbiased, ct) : null,
            rules.MayNeedFallback(settings.Lists.MinHistory) ? (m, times) => Fallback(m, times, rules, JobInput.Window(req.RunDate, req.Job, settings), settings) : null);
        Gate(req, settings, metrics, plan.N);
        var counts = PopularityRanker.Counts(all);
        var propensity = plan.Propensities(all, counts);
        var warm = evalModel ?? (settings.Fit.WarmStart == WarmStart.LastRun ? LastRunFactors(req.LakeDir, userIds, itemIds, settings, metrics) : null);
        var model = stages.Time(StageNames.Fit, () => plan.Fit(all, propensity,
            evalModel is null ? settings.Iterations : Math.Max(1, settings.RefitIterations), warm, ct, checkpoints.PathFor(StageNames.Fit), checkpoints.OnIteration(StageNames.Fit)));
        RecordFit(metrics, StageNames.Fit, model);
        if (evalModel is null && unbiased is not null)
        {
            // No hold-out: the published model itself is judged on the unbiased log, and gated before anything is published.
            JudgeUnbiased(metrics, plan, model, all, propensity, counts, unbiased);
            Gate(req, settings, metrics, plan.N);
        }
        var (recs, index) = stages.Time(StageNames.Score, () =>
        {
            var (lists, ivf) = plan.RetrievePublished(model, all, propensity, req.RunDate);
            return (rules.Publish(lists, all, fallback, settings.Lists.MinHistory, plan.CategoryRemoved, metrics), ivf);
        });
        if (feedback is { Rows: > 0 })
            stages.Time(StageNames.Ope, () => EstimateOffPolicy(metrics, feedback, Counterfactual(recs, all, rules, plan.RankingScore(model, propensity)), plan.N, settings));
        RecordIndexChoice(metrics, plan.Index!);
        if (index is not null) RecordIndex(metrics, index);
        metrics[MetricNames.OutputRows] = recs.TotalRows;
        metrics[MetricNames.OutputUsers] = recs.Users;
        var similar = settings.Lists.SimilarItems ? stages.Time(StageNames.Similar, () => plan.SimilarItems(model, rules.Banned)) : null;
        if (similar is not null) metrics[MetricNames.SimilarItems] = similar.Counts.Count(c => c > 0);
        return (model, recs, propensity, counts, similar);
    }

    /// <summary>
    /// The combined pairs, held only here: no frame of the run ever holds the log itself, so emptying this releases it.
    /// A local set to null does not: the run's methods run once, as unoptimized (tier-0) code whose stack slots keep
    /// whatever they last held until the method returns, and a slot that had held the pairs kept 1.4 GB (at 100M
    /// interactions) from the refit to the publish — refit 3.8 GB instead of 2.4, peak 6.5 GB instead of 4.8.
    /// </summary>
    private sealed class PairsStage
    {
        private InteractionLog? _pairs;

        private PairsStage(InteractionLog pairs) => (_pairs, UserIds, ItemIds, Count) = (pairs, pairs.UserIds, pairs.ItemIds, pairs.Count);

        public IdMap UserIds { get; }
        public IdMap ItemIds { get; }
        public long Count { get; }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static PairsStage Combine(StageTimer stages, ReadResult read, JobSettings settings) =>
            new(stages.Time(StageNames.Pairs, () => PairAggregator.Combine(read.Events, JobInput.Combine(settings), consume: true)));

        /// <summary>
        /// Runs the evaluation on the pairs (when given), lays out the refit's matrix, builds the popularity fallback (when
        /// given) with the pairs' times (each matrix entry's latest event: the pairs are sorted), and lets the pairs go (20
        /// bytes each; the refit, scoring and publishing need only the matrix and the id maps).
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public (AlsModel? EvalModel, CsrMatrix All, PopularityFallback? Fallback) EvaluateAndRelease(Func<InteractionLog, AlsModel>? evaluate,
            Func<CsrMatrix, long[]?, PopularityFallback>? fallback)
        {
            var pairs = _pairs ?? throw new InvalidOperationException("the pairs were already released.");
            _pairs = null;
            var model = evaluate?.Invoke(pairs);
            var all = pairs.ToUserItemMatrix();
            return (model, all, fallback?.Invoke(all, pairs.SortedPairs ? pairs.Times : null));
        }
    }

    /// <summary>The quality gate: throws <see cref="QualityGateException"/> when the run's metrics say it is worse.</summary>
    private static void Gate(RunRequest req, JobSettings settings, IReadOnlyDictionary<string, double> metrics, int n)
    {
        if (settings.Evaluation.QualityGate &&
            QualityGate.Check(metrics, DuckDbCatalog.LastAcceptedMetrics(req.LakeDir, req.Job.Name), n, settings.Evaluation.GateTolerance) is { } why)
            throw new QualityGateException("rejected by the quality gate: " + why);
    }

    private static string? ItemsFile(RunRequest req, JobSettings settings)
    {
        if (settings.Input.ItemsInput is { } path)
            return File.Exists(path) ? Path.GetFullPath(path) : throw new LakeInputException($"items_input '{path}' does not exist.", path);
        string conventional = Path.Combine(req.InputDir, BatchRecs.Lake.Import.ItemMetadata.DefaultRelativePath);
        return File.Exists(conventional) ? Path.GetFullPath(conventional) : null;
    }

    /// <summary>
    /// The popularity fallback of the window, by segment where users_input gives segments; recency-weighted with
    /// half_life_days by <paramref name="times"/> (each matrix entry's latest event), or null when there is no half-life.
    /// </summary>
    private static PopularityFallback Fallback(CsrMatrix all, long[]? times, ListRules rules, BatchRecs.Lake.Input.ReadWindow window, JobSettings settings)
    {
        double halfLife = times is null ? 0 : settings.Input.HalfLifeDays;
        int depth = settings.TopN * 4 + settings.Lists.MinHistory;
        return PopularityFallback.Build(all, times, window.Micros().End, halfLife, rules.Segment, rules.SegmentNames.Count, settings.Lists.MinSegmentUsers, depth);
    }

    private void RecordIndexChoice(IDictionary<string, double> metrics, IndexChoice choice)
    {
        metrics[MetricNames.IndexExact] = choice.Exact ? 1 : 0;
        if (choice.EstimateSeconds is { } estimate)
        {
            metrics[MetricNames.IndexExactEstimateSeconds] = estimate;
            metrics[MetricNames.IndexExactBudgetSeconds] = choice.BudgetSeconds;
        }
        log.Event("run.index_choice", ("exact", choice.Exact), ("reason", choice.Reason));
    }

    private void RecordInput(IDictionary<string, double> metrics, ReadResult read)
    {
        metrics[MetricNames.InputRowsRead] = read.RowsRead;
        metrics[MetricNames.InputRowsInWindow] = read.RowsInWindow;
        metrics[MetricNames.InputFiles] = read.Files.Count;
        metrics[MetricNames.InputFilesPruned] = read.PrunedFiles;
        metrics[MetricNames.InputFilesSkipped] = read.Skipped.Count;
        foreach (var skip in read.Skipped) log.Event("run.input_skipped", ("file", skip.Path), ("reason", skip.Reason));
    }

    /// <summary>Holds out each user's latest pairs, fits on the rest, and scores the model and popularity on them.</summary>
    /// <remarks>Never inlined: its split, matrices and evaluated lists must die with its frame. Inlined into the run's
    /// state machine (whose many locals the JIT does not track one by one), they stayed reachable from the refit to the
    /// publish: +1.4 GB at 100M interactions (measured: refit 3.8 GB instead of 2.4, peak 6.5 GB instead of 4.8).</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private AlsModel Evaluate(InteractionLog pairs, JobSettings settings, ModelPlan plan, StageTimer stages, IDictionary<string, double> metrics,
        Checkpoints checkpoints, UnbiasedLog? unbiased, CancellationToken ct)
    {
        var split = TemporalSplit.PerUserLast(pairs, settings.HoldoutFraction);
        var train = pairs.ToUserItemMatrix(split.IsTrain, keep: true);
        var heldOut = pairs.ToUserItemMatrix(split.IsTrain, keep: false);
        metrics[MetricNames.EvalTrainPairs] = train.NonZeros;
        metrics[MetricNames.EvalHeldOutPairs] = heldOut.NonZeros;
        var counts = PopularityRanker.Counts(train);
        var propensity = plan.Propensities(train, counts);
        var model = stages.Time(StageNames.FitEval, () => plan.Fit(train, propensity, settings.Iterations, null, ct,
            checkpoints.PathFor(StageNames.FitEval), checkpoints.OnIteration(StageNames.FitEval)));
        RecordFit(metrics, StageNames.FitEval, model);
        var evalUsers = Enumerable.Range(0, heldOut.Rows).Where(u => heldOut.RowLength(u) > 0).ToArray();
        var modelRecs = stages.Time(StageNames.ScoreEval, () => plan.Score(model, train, propensity, evalUsers).Scatter(evalUsers, heldOut.Rows));
        var popRecs = PopularityRanker.Recommend(train, plan.N);
        var m = Metrics.Evaluate(modelRecs, heldOut, plan.N, propensity, counts);
        var p = Metrics.Evaluate(popRecs, heldOut, plan.N, propensity, counts);
        metrics[MetricNames.EvalUsers] = m.Users;
        foreach (var (k, v) in m.Named(MetricNames.ModelRanker).Concat(p.Named(MetricNames.PopularRanker))) metrics[k] = v;
        log.Event("run.evaluation", ("k", plan.N), ("users", m.Users), ("model_recall", m.Recall), ("model_ndcg", m.Ndcg),
            ("popular_recall", p.Recall), ("popular_ndcg", p.Ndcg), ("model_coverage", m.Coverage));
        if (unbiased is not null) JudgeUnbiased(metrics, plan, model, train, propensity, counts, unbiased);
        return model;
    }

    /// <summary>
    /// π_new for the off-policy estimate: whether tonight's lists would have shown a logged (user, item) when it was served.
    /// An item in the list: yes. An item the user has interacted with since it was served (it was unseen then, or it would
    /// not have been served) is left out of tonight's list only because of that interaction: it counts when tonight's
    /// ranking score reaches the user's last model slot. Without this, every click of the window would look like an item
    /// the new lists refuse, and the estimate would be near 0.
    /// </summary>
    private static Func<int, int, double> Counterfactual(TopNResult lists, CsrMatrix history, ListRules rules, Func<int, int, double> score) => (u, i) =>
    {
        if (u >= lists.Users) return 0;
        var items = lists.ItemsOf(u);
        if (items.Contains(i)) return 1;
        if (u >= history.Rows || history.RowCols(u).BinarySearch(i) < 0 || rules.Excludes(u, i)) return 0;
        double threshold = double.PositiveInfinity;
        var scores = lists.ScoresOf(u);
        for (int r = 0; r < items.Length; r++)
            if (lists.SourceOf(u, r) == ListSource.Model) threshold = Math.Min(threshold, scores[r]);
        return score(u, i) >= threshold ? 1 : 0;
    };

    /// <summary>
    /// Estimates how tonight's lists would have done on the served lists' logged traffic (IPS and SNIPS CTR and recall@N
    /// with bootstrap intervals), records it, and with ope_gate rejects the run when even the interval's upper end is below
    /// the CTR the served lists observed.
    /// </summary>
    private int EstimateOffPolicy(IDictionary<string, double> metrics, FeedbackLog feedback, Func<int, int, double> target, int n, JobSettings settings)
    {
        var ope = OffPolicy.Evaluate(feedback, target, n, bootstrap: 200, seed: (ulong)settings.Seed);
        metrics[MetricNames.OpeUsers] = ope.Users;
        metrics[MetricNames.OpeRows] = ope.Rows;
        metrics[MetricNames.OpeLoggedCtr] = ope.LoggedCtr;
        foreach (var (name, e) in new[] { ("ips_ctr", ope.IpsCtr), ("snips_ctr", ope.SnipsCtr),
                     (FormattableString.Invariant($"ips_recall@{n}"), ope.IpsRecall), (FormattableString.Invariant($"snips_recall@{n}"), ope.SnipsRecall) })
        {
            var (value, low, high) = MetricNames.OpeEstimate(name);
            (metrics[value], metrics[low], metrics[high]) = (e.Value, e.Low, e.High);
        }
        log.Event("run.ope", ("users", ope.Users), ("rows", ope.Rows), ("logged_ctr", ope.LoggedCtr), ("snips_ctr", ope.SnipsCtr.Value),
            ("snips_ctr_low", ope.SnipsCtr.Low), ("snips_ctr_high", ope.SnipsCtr.High), ("ips_recall", ope.IpsRecall.Value));
        if (settings.Evaluation.OpeGate && ope.SnipsCtr.High < ope.LoggedCtr)
            throw new QualityGateException(FormattableString.Invariant(
                $"rejected by ope_gate: the new lists' estimated CTR on the last {settings.Evaluation.OpeDays} days of feedback is {ope.SnipsCtr.Value:F4} (95 % interval {ope.SnipsCtr.Low:F4}–{ope.SnipsCtr.High:F4}), below the served lists' observed {ope.LoggedCtr:F4}."));
        return ope.Users;
    }

    /// <summary>Records the model's and popularity's SNIPS DCG and Recall at top_n on the unbiased log (what the gate then judges by).</summary>
    private void JudgeUnbiased(IDictionary<string, double> metrics, ModelPlan plan, AlsModel model, CsrMatrix history, float[] propensity, int[] counts, UnbiasedLog unbiased)
    {
        var m = plan.JudgeUnbiased(model, history, propensity, unbiased);
        var p = unbiased.Evaluate(unbiased.Rank(history, (_, i) => counts[i]), plan.N);
        metrics[MetricNames.UnbiasedUsers] = m.Users;
        metrics[MetricNames.UnbiasedModel(MetricNames.SnipsDcg, plan.N)] = m.Dcg;
        metrics[MetricNames.UnbiasedModel(MetricNames.SnipsRecall, plan.N)] = m.Recall;
        metrics[MetricNames.UnbiasedPopular(MetricNames.SnipsDcg, plan.N)] = p.Dcg;
        metrics[MetricNames.UnbiasedPopular(MetricNames.SnipsRecall, plan.N)] = p.Recall;
        log.Event("run.unbiased_evaluation", ("k", plan.N), ("users", m.Users), ("model_snips_dcg", m.Dcg), ("model_snips_recall", m.Recall),
            ("popular_snips_dcg", p.Dcg), ("popular_snips_recall", p.Recall));
    }

    private void LogRepairs(IReadOnlyList<string> repairs)
    {
        foreach (var repair in repairs) log.Event("lake.repaired", ("what", repair));
    }

    /// <summary>
    /// Has the reporter write the run's report (<c>LAKE/reports/RUN_ID.html</c>, outside the published partition, which
    /// holds only what its manifest lists); best-effort: a report that cannot be drawn never fails a run.
    /// </summary>
    private void WriteReport(string lakeDir, string runId)
    {
        if (reporter is null) return;
        try
        {
            log.Event("run.report", ("path", reporter.Write(lakeDir, runId)));
        }
        catch (Exception e)
        {
            log.Event("run.report_failed", ("run_id", runId), ("reason", e.Message));
        }
    }

    /// <summary>The last published factors mapped onto today's ids (new ids get the usual seeded random start).</summary>
    private AlsModel? LastRunFactors(string lakeDir, IdMap userIds, IdMap itemIds, JobSettings settings, IDictionary<string, double> metrics)
    {
        int k = settings.Factors;
        ulong seed = (ulong)settings.Seed;
        var users = DuckDbCatalog.LastFactors(lakeDir, "user_factors", userIds, k, (i, row) => FactorInit.FillRow(row, seed, Side.Users, i));
        var items = DuckDbCatalog.LastFactors(lakeDir, "item_factors", itemIds, k, (i, row) => FactorInit.FillRow(row, seed, Side.Items, i));
        if (users is null || items is null)
        {
            log.Event("run.warm_start", ("from", "none"), ("reason", "no published factors of this shape"));
            return null;
        }
        metrics[MetricNames.FitWarmStarted] = 1;
        log.Event("run.warm_start", ("from", "last_run"));
        return new AlsModel(userIds.Count, itemIds.Count, k, users, items, []);
    }

    private void RecordIndex(IDictionary<string, double> metrics, IndexReport index)
    {
        metrics[MetricNames.IndexNlist] = index.Nlist;
        metrics[MetricNames.IndexNprobe] = index.Nprobe;
        metrics[MetricNames.IndexRecallMean] = index.Recall.Mean;
        metrics[MetricNames.IndexRecallP5] = index.Recall.P5;
        metrics[MetricNames.IndexCanaryUsers] = index.Recall.Users;
        metrics[MetricNames.IndexBuildSeconds] = index.BuildSeconds;
        metrics[MetricNames.IndexTuneSeconds] = index.TuneSeconds;
        metrics[MetricNames.IndexSearchSeconds] = index.SearchSeconds;
        metrics[MetricNames.IndexFractionScored] = index.FractionScored;
        log.Event("run.index", ("nlist", index.Nlist), ("nprobe", index.Nprobe), ("recall_mean", index.Recall.Mean), ("recall_p5", index.Recall.P5),
            ("search_s", index.SearchSeconds));
    }

    public static string NewRunId(string job, DateOnly runDate, DateTime startedUtc) =>
        $"{job}-{runDate:yyyyMMdd}-{startedUtc:yyyyMMddTHHmmss}-{Guid.NewGuid().ToString("N")[..6]}";

    private static void RecordFit(IDictionary<string, double> metrics, string stage, AlsModel model)
    {
        if (model.History.Count == 0) return;
        metrics[MetricNames.FitIterations(stage)] = model.History.Count;
        metrics[MetricNames.FitLossFinal(stage)] = model.History[^1].Loss;
        metrics[MetricNames.FitSecondsPerIteration(stage)] = model.History.Average(h => h.Seconds);
        foreach (var h in model.History)
        {
            metrics[MetricNames.FitIteration(stage, h.Iteration, MetricNames.LossField)] = h.Loss;
            metrics[MetricNames.FitIteration(stage, h.Iteration, MetricNames.SecondsField)] = h.Seconds;
        }
    }

    /// <summary>
    /// Checkpoint files of a (job, run date)'s fits under <c>LAKE/_scratch/checkpoints/</c>: keyed by the run key, not the
    /// run id, so a restarted coordinator finds them; removed once the run is published.
    /// </summary>
    private sealed class Checkpoints(bool enabled, RunRequest req, RunLog log)
    {
        private readonly string _dir = Path.Combine(req.LakeDir, "_scratch", "checkpoints", $"{req.Job.Name}-{req.RunDate:yyyyMMdd}");

        public string? PathFor(string stage)
        {
            if (!enabled) return null;
            string path = Path.Combine(_dir, stage + ".bin");
            if (File.Exists(path)) log.Event("run.checkpoint_found", ("stage", stage), ("path", path));
            return path;
        }

        public Action<IterationStats> OnIteration(string stage) => s =>
        {
            log.Event("run.iteration", ("stage", stage), ("iteration", s.Iteration), ("seconds", s.Seconds), ("loss", s.Loss));
            req.Faults.Reach(FaultPoint.Iteration(stage, s.Iteration));
        };

        public void Clear()
        {
            if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
        }
    }

    /// <summary>
    /// Times each stage (<c>time.STAGE_s</c>) and records its peak resident memory (<c>memory.STAGE_peak_mb</c>) and the
    /// run's (<c>memory.peak_mb</c>, the largest stage peak). What the previous stage left behind is collected first, so it
    /// is not counted in this stage's peak.
    /// </summary>
    private sealed class StageTimer(IDictionary<string, double> metrics, RunLog log)
    {
        public T Time<T>(string stage, Func<T> f)
        {
            using var memory = Start(stage);
            var sw = Stopwatch.StartNew();
            var r = f();
            Done(stage, sw.Elapsed.TotalSeconds, memory);
            return r;
        }

        public async Task<T> TimeAsync<T>(string stage, Func<Task<T>> f)
        {
            using var memory = Start(stage);
            var sw = Stopwatch.StartNew();
            var r = await f();
            Done(stage, sw.Elapsed.TotalSeconds, memory);
            return r;
        }

        private StageMemory.Sampler? Start(string stage)
        {
            log.Event("run.stage_start", ("stage", stage));
            StageMemory.Release();
            return StageMemory.Watch();
        }

        private void Done(string stage, double seconds, StageMemory.Sampler? memory)
        {
            metrics[MetricNames.StageSeconds(stage)] = seconds;
            if (memory is null)
            {
                log.Event("run.stage", ("stage", stage), ("seconds", seconds));
                return;
            }
            double peak = Math.Round(memory.PeakMegabytes, 1);
            metrics[MetricNames.StagePeakMegabytes(stage)] = peak;
            metrics[MetricNames.PeakMegabytes] = Math.Max(metrics.TryGetValue(MetricNames.PeakMegabytes, out var p) ? p : 0, peak);
            log.Event("run.stage", ("stage", stage), ("seconds", seconds), ("peak_mb", Math.Round(peak)));
        }
    }
}
