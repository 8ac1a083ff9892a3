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
using BatchRecs.Lake.Storage;
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
        // A lake on object storage is published from a local working copy; from here on the run works in that copy.
        var remote = LakeLocation.IsObjectStore(req.LakeDir) ? RemoteLake.Open(req.LakeDir) : null;
        if (remote is not null)
        {
            bool pulled = await remote.PullCatalogAsync(ct);
            log.Event("run.remote_lake", ("lake", remote.Location), ("working_copy", remote.LocalDir), ("catalog_downloaded", pulled));
            req = req with { LakeDir = remote.LocalDir };
        }
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
                OnCatalogRetry = message => log.Event("run.catalog_retry", ("run_id", runId), ("message", message)),
                Remote = remote,
            };
            LogRepairs(await LakePublisher.RecordRunAsync(req.LakeDir, Record(RunStatus.Running, null), publishOptions, ct));
            await JobInput.CheckIdKindsAsync(req.InputDir, req.LakeDir, JobInput.Window(req.RunDate, req.Job, settings), ct);
            var stages = new StageTimer(metrics, log);
            var read = await stages.TimeAsync(StageNames.Read, () => JobInput.ReadAsync(req.InputDir, req.RunDate, req.Job, settings,
                JobInput.ReadExecutor(req.Executor), ct));
            RecordInput(metrics, read.Stats);
            JobInput.RequireEvents(read.Stats, req.RunDate, req.Job, settings);
            inputRows = read.Stats.RowsInWindow;
            // The events are released as soon as they are combined: from here on the run holds pairs, then matrices.
            var pairs = PairsStage.Combine(stages, read, settings, ct);
            var (userIds, itemIds) = (pairs.UserIds, pairs.ItemIds);
            (users, items) = (pairs.UserIds.Count, pairs.ItemIds.Count);
            metrics[MetricNames.InputUsers] = users;
            metrics[MetricNames.InputItems] = items;
            metrics[MetricNames.InputPairs] = pairs.Count;
            var exposures = settings.Input.ExposureInput is { } exposureDir
                ? await stages.TimeAsync(StageNames.ReadExposures, () => ExposureReader.ReadAsync(exposureDir,
                    JobInput.Window(req.RunDate, req.Job, settings), userIds, itemIds, ct))
                : null;
            if (exposures is not null) metrics[MetricNames.InputExposedPairs] = exposures.Pairs.NonZeros;
            string? itemsFile = await ItemsFileAsync(req, settings, runId, ct);
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
            var (model, recs, propensity, counts) = Model(req, settings, pairs, rules, plan, checkpoints, stages, metrics, userIds, itemIds,
                unbiased?.Log, feedback?.Log, ct);
            // After the model stages, whose matrices are gone by now: similar items need only the item factors.
            var similar = settings.Lists.SimilarItems ? stages.Time(StageNames.Similar, () => plan.SimilarItems(model, rules.Banned)) : null;
            if (similar is not null) metrics[MetricNames.SimilarItems] = similar.Counts.Count(c => c > 0);

            metrics[MetricNames.TotalSeconds] = (DateTime.UtcNow - started).TotalSeconds;
            var record = Record(RunStatus.Succeeded, null);
            var publish = await stages.TimeAsync(StageNames.Publish, () => LakePublisher.PublishAsync(req.LakeDir, new PublishRequest(
                record, rules.Users, itemIds, recs, "als", model.Factors, model.UserFactors, model.ItemFactors, read.Stats.Files, read.Stats.Skipped,
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
                // A lake on object storage that failed before its working copy existed has nowhere to record the run.
                if (!LakeLocation.IsObjectStore(req.LakeDir))
                    await LakePublisher.RecordRunAsync(req.LakeDir, Record(status, reason), publishOptions, CancellationToken.None);
            }
            catch (Exception recordError)
            {
                log.Event("run.record_failed", ("run_id", runId), ("reason", recordError.Message));
            }
            // A cancelled run must end within seconds (SIGTERM); its report can be drawn later with `batchrecs report`.
            if (settings is not null && !LakeLocation.IsObjectStore(req.LakeDir) && e is not OperationCanceledException) WriteReport(req.LakeDir, runId);
            throw;
        }
        finally
        {
            string downloaded = DownloadedItems(req.LakeDir, runId);
            if (!LakeLocation.IsObjectStore(req.LakeDir) && File.Exists(downloaded)) File.Delete(downloaded);
        }
    }

    /// <summary>
    /// The model stages, between reading and publishing: evaluation and the gate, the refit on the whole window, scoring with
    /// the rules and the off-policy estimate. A synchronous method of its own on purpose: its matrices die with this frame,
    /// before similar items and the publish, and the pairs reach it only inside <see cref="PairsStage"/>, which lets them go
    /// once the refit's matrix exists (see there for what happened when they were locals of the async run method).
    /// </summary>
    private (AlsModel Model, TopNResult Lists, float[] Propensity, int[] Counts) Model(RunRequest req, JobSettings settings,
        PairsStage pairs, ListRules rules, ModelPlan plan, Checkpoints checkpoints, StageTimer stages, SortedDictionary<string, double> metrics,
        IdMap userIds, IdMap itemIds, UnbiasedLog? unbiased, FeedbackLog? feedback, CancellationToken ct)
    {
        // The fallback is built only when some user can need it (a pass over every entry and a sort of the catalogue
        // otherwise wasted). The off-policy estimate judges the model in each served list's context: the pairs before its
        // window and the logged users' pairs with their first times.
        var opeUsers = feedback is { Rows: > 0 }
            ? new OpeCut(new ReadWindow(req.RunDate, settings.Evaluation.OpeDays, req.Job.Zone).Micros().Start, OpeUsers(feedback, userIds.Count))
            : null;
        var (evalModel, all, fallback, opeHistory) = pairs.EvaluateAndRelease(stages,
            (train, heldOut, cuts) => Evaluate(train, heldOut, cuts, settings, plan, stages, metrics, checkpoints, unbiased, ct),
            rules.MayNeedFallback(settings.Lists.MinHistory) ? (m, times) => Fallback(m, times, rules, JobInput.Window(req.RunDate, req.Job, settings), settings) : null,
            opeUsers);
        Gate(req, settings, metrics, plan.N);
        var counts = PopularityRanker.Counts(all);
        var propensity = plan.Propensities(all, counts);
        var warm = evalModel ?? (settings.Fit.WarmStart == WarmStart.LastRun ? LastRunFactors(req.LakeDir, userIds, itemIds, settings, metrics) : null);
        // The refit solves in its start's arrays: the evaluated fit (or the last run's factors) is of no further use.
        var model = stages.Time(StageNames.Fit, () => plan.Fit(all, propensity,
            evalModel is null ? settings.Iterations : Math.Max(1, settings.RefitIterations), warm, ct, checkpoints.PathFor(StageNames.Fit),
            checkpoints.OnIteration(StageNames.Fit), warmInPlace: true, shown: plan.AllShown));
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
        if (feedback is { Rows: > 0 } && opeHistory is not null)
            stages.Time(StageNames.Ope, () => EstimateOffPolicy(metrics, feedback, opeHistory, plan, settings, req, userIds, itemIds, ct));
        RecordIndexChoice(metrics, plan.Index!);
        if (index is not null) RecordIndex(metrics, index);
        metrics[MetricNames.OutputRows] = recs.TotalRows;
        metrics[MetricNames.OutputUsers] = recs.Users;
        return (model, recs, propensity, counts);
    }

    /// <summary>
    /// The split pairs, held only here: no frame of the run ever holds them itself, so emptying this releases them.
    /// A local set to null does not: the run's methods run once, as unoptimized (tier-0) code whose stack slots keep
    /// whatever they last held until the method returns, and a slot that had held the pairs kept 1.4 GB (at 100M
    /// interactions) from the refit to the publish — refit 3.8 GB instead of 2.4, peak 6.5 GB instead of 4.8.
    /// </summary>
    private sealed class PairsStage
    {
        private SplitPairs? _pairs;

        private PairsStage(SplitPairs pairs) => (_pairs, UserIds, ItemIds, Count) = (pairs, pairs.UserIds, pairs.ItemIds, pairs.Count);

        public IdMap UserIds { get; }
        public IdMap ItemIds { get; }
        public long Count { get; }

        /// <summary>
        /// The pairs stage: combined and split shard by shard where the events are (each user's latest pairs held out when
        /// there is an evaluation), keeping the times later stages may need: the last times for a recency-weighted fallback,
        /// the first times for the off-policy estimate, each user's first held-out time for a fit on exposures.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static PairsStage Combine(StageTimer stages, InputRead read, JobSettings settings, CancellationToken ct)
        {
            var split = new PairSplit(settings.HoldoutFraction,
                LastTimes: settings.Input.HalfLifeDays > 0 && ListRules.MayNeedFallback(settings),
                FirstTimes: settings.Evaluation.FeedbackInput is not null,
                Cuts: settings.Debias.TrainOnExposures && settings.HoldoutFraction > 0);
            return new(stages.Time(StageNames.Pairs, () => read.CombineSplit(JobInput.Combine(settings), split, ct)));
        }

        /// <summary>
        /// Runs the evaluation on the split's matrices (when there is a hold-out), lets them go, and puts the refit's matrix
        /// back together from them; the popularity fallback (when given) and the off-policy estimate's history are built from
        /// that matrix and the kept times, merged the same way. The evaluation holds the split's matrices (8 bytes a pair)
        /// and only the times that were kept for those two.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public (AlsModel? EvalModel, CsrMatrix All, PopularityFallback? Fallback, TimedPairs? OpeHistory) EvaluateAndRelease(StageTimer stages,
            Func<CsrMatrix, CsrMatrix, long[]?, AlsModel> evaluate, Func<CsrMatrix, long[]?, PopularityFallback>? fallback, OpeCut? opeUsers)
        {
            var (train, heldOut, times, firstTimes, cuts) = Take();
            var model = heldOut is null ? null : evaluate(train, heldOut, cuts);
            var all = heldOut is null ? train : stages.Time(StageNames.Merge, () => train.Union(heldOut));
            var popular = fallback?.Invoke(all, times?.Of(train, heldOut));
            var history = opeUsers is null ? null
                : Of(all, (firstTimes ?? throw new InvalidOperationException("the off-policy estimate needs the pairs' first times.")).Of(train, heldOut), opeUsers);
            return (model, all, popular, history);
        }

        /// <summary>The split's parts; the pairs object goes with this frame.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private (CsrMatrix Train, CsrMatrix? HeldOut, PartTimes? Times, PartTimes? FirstTimes, long[]? Cuts) Take()
        {
            var pairs = _pairs ?? throw new InvalidOperationException("the pairs were already released.");
            _pairs = null;
            return (pairs.Train, pairs.HeldOut, pairs.Times, pairs.FirstTimes, pairs.Cuts);
        }

        /// <summary>
        /// Every pair whose first event precedes the off-policy window (what its model is fitted on), and the logged users'
        /// pairs with their first events' times (a log without times: every pair is before, every time 0). First, not last: a
        /// pair the user had before a night is history that night, whatever came after (with the last event's time, items
        /// re-interacted with later looked unseen, and the judged lists' true CTR ran 10–20 % above what the policy could show).
        /// </summary>
        /// <param name="all">every pair, as the matrix laid out from the sorted pairs.</param>
        /// <param name="first">each entry's first event time.</param>
        /// <param name="cut">the window's start and its logged users.</param>
        private static TimedPairs Of(CsrMatrix all, long[] first, OpeCut cut)
        {
            var before = new bool[all.NonZeros];
            var logged = new bool[all.NonZeros];
            var times = new List<long>();
            for (int u = 0; u < all.Rows; u++)
                for (int e = all.RowPtr[u]; e < all.RowPtr[u + 1]; e++)
                {
                    before[e] = first[e] < cut.Micros;
                    if (logged[e] = cut.Users[u]) times.Add(first[e]);
                }
            // Entries are taken in order, so the kept times line up with the logged matrix's entries.
            return new TimedPairs(all.WhereEntries(e => before[e]), all.WhereEntries(e => logged[e]), times.ToArray(), cut.Micros);
        }
    }

    /// <summary>The quality gate: throws <see cref="QualityGateException"/> when the run's metrics say it is worse.</summary>
    private static void Gate(RunRequest req, JobSettings settings, IReadOnlyDictionary<string, double> metrics, int n)
    {
        if (settings.Evaluation.QualityGate &&
            QualityGate.Check(metrics, DuckDbCatalog.LastAcceptedMetrics(req.LakeDir, req.Job.Name), n, settings.Evaluation.GateTolerance) is { } why)
            throw new QualityGateException("rejected by the quality gate: " + why);
    }

    /// <summary>
    /// The items' metadata file (items_input, or the input's conventional <c>items/items.parquet</c>), as a local file: the
    /// publish loads it with DuckDB, which reads local files only, so an object is first downloaded into the lake's
    /// <c>_scratch</c> (removed when the run ends).
    /// </summary>
    private static async Task<string?> ItemsFileAsync(RunRequest req, JobSettings settings, string runId, CancellationToken ct)
    {
        string? location = settings.Input.ItemsInput;
        bool required = location is not null;
        if (location is null)
        {
            var (input, prefix) = LakeLocation.Open(req.InputDir);
            location = input.Describe(prefix + BatchRecs.Lake.Import.ItemMetadata.DefaultRelativePath.Replace(Path.DirectorySeparatorChar, '/'));
        }
        var (store, name) = LakeLocation.Object(location);
        if (await store.FindAsync(name, ct) is null)
            return required ? throw new LakeInputException($"items_input '{location}' does not exist (give one Parquet file).", location) : null;
        // DuckDB reads a file on this host's disk where it is; an object it reads once downloaded.
        if (!LakeLocation.IsObjectStore(location)) return store.Describe(name);
        string local = DownloadedItems(req.LakeDir, runId);
        await store.DownloadAsync(name, local, ct);
        return local;
    }

    private static string DownloadedItems(string lakeDir, string runId) => Path.Combine(lakeDir, "_scratch", "items", runId + ".parquet");

    /// <summary>
    /// The popularity fallback of the window, by segment where users_input gives segments; recency-weighted with
    /// half_life_days by <paramref name="times"/> (each matrix entry's latest event), or null when there is no half-life.
    /// </summary>
    private static PopularityFallback Fallback(CsrMatrix all, long[]? times, ListRules rules, BatchRecs.Lake.Input.ReadWindow window, JobSettings settings)
    {
        double halfLife = times is null ? 0 : settings.Input.HalfLifeDays;
        int depth = settings.TopN * 4 + settings.Lists.MinHistory;
        // Counted here over every pair (read back from its store when this process holds the rows only).
        return PopularityFallback.Build(all.WithEntries(), times, window.Micros().End, halfLife, rules.Segment, rules.SegmentNames.Count, settings.Lists.MinSegmentUsers, depth);
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

    private void RecordInput(IDictionary<string, double> metrics, ReadStats read)
    {
        metrics[MetricNames.InputRowsRead] = read.RowsRead;
        metrics[MetricNames.InputRowsInWindow] = read.RowsInWindow;
        metrics[MetricNames.InputFiles] = read.Files.Count;
        metrics[MetricNames.InputFilesPruned] = read.PrunedFiles;
        metrics[MetricNames.InputFilesSkipped] = read.Skipped.Count;
        foreach (var skip in read.Skipped) log.Event("run.input_skipped", ("file", skip.Path), ("reason", skip.Reason));
    }

    /// <summary>Fits on the split's training part and scores the model and popularity on its held-out part (each user's latest pairs).</summary>
    /// <remarks>Never inlined: its split, matrices and evaluated lists must die with its frame. Inlined into the run's
    /// state machine (whose many locals the JIT does not track one by one), they stayed reachable from the refit to the
    /// publish: +1.4 GB at 100M interactions (measured: refit 3.8 GB instead of 2.4, peak 6.5 GB instead of 4.8).</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private AlsModel Evaluate(CsrMatrix train, CsrMatrix heldOut, long[]? heldOutFrom, JobSettings settings, ModelPlan plan, StageTimer stages, IDictionary<string, double> metrics,
        Checkpoints checkpoints, UnbiasedLog? unbiased, CancellationToken ct)
    {
        metrics[MetricNames.EvalTrainPairs] = train.NonZeros;
        metrics[MetricNames.EvalHeldOutPairs] = heldOut.NonZeros;
        var counts = PopularityRanker.Counts(train);
        var propensity = plan.Propensities(train, counts);
        // Trained on exposures, the fit sees each user's only before their first held-out pair: the items shown then and
        // passed over would tell it what the hold-out holds.
        var shown = heldOutFrom is null ? null : plan.ShownBefore(heldOutFrom);
        var model = stages.Time(StageNames.FitEval, () => plan.Fit(train, propensity, settings.Iterations, null, ct,
            checkpoints.PathFor(StageNames.FitEval), checkpoints.OnIteration(StageNames.FitEval), shown: shown));
        RecordFit(metrics, StageNames.FitEval, model);
        // The model's lists are judged as scored and die with the lambda, before popularity's: one row per evaluated user,
        // scored here; or, when this process holds the pairs' rows only (the workers' shards hold the entries), every user's
        // list from the executor's scoring tasks, which read their users' training rows there (the same list per user).
        var evalUsers = train.HasEntries ? Enumerable.Range(0, heldOut.Rows).Where(u => heldOut.RowLength(u) > 0).ToArray() : null;
        var m = stages.Time(StageNames.ScoreEval, () =>
            Metrics.Evaluate(plan.Score(model, train, propensity, evalUsers), heldOut, plan.N, propensity, counts, rowUsers: evalUsers));
        // Popularity's lists in a stage of their own, after the model's are collected (with the training rows read back a
        // chunk at a time, the two lists and what the scoring left behind had met in one peak).
        var p = stages.Time(StageNames.EvalPopular, () => Metrics.Evaluate(PopularityRanker.Recommend(train, plan.N), heldOut, plan.N, propensity, counts));
        metrics[MetricNames.EvalUsers] = m.Users;
        foreach (var (k, v) in m.Named(MetricNames.ModelRanker).Concat(p.Named(MetricNames.PopularRanker))) metrics[k] = v;
        log.Event("run.evaluation", ("k", plan.N), ("users", m.Users), ("model_recall", m.Recall), ("model_ndcg", m.Ndcg),
            ("popular_recall", p.Recall), ("popular_ndcg", p.Ndcg), ("model_coverage", m.Coverage));
        if (unbiased is not null) JudgeUnbiased(metrics, plan, model, train, propensity, counts, unbiased);
        return model;
    }

    /// <summary>The start of the off-policy window (Unix microseconds) and which users have logged traffic in it.</summary>
    private sealed record OpeCut(long Micros, bool[] Users);

    /// <summary>
    /// What the off-policy estimate needs of the pairs: those before the window (every user's), and the logged users' pairs
    /// as a matrix with each entry's time (its first event, Unix microseconds), and the window's start (Unix microseconds),
    /// before which <c>Before</c>'s pairs were first seen.
    /// </summary>
    private sealed record TimedPairs(CsrMatrix Before, CsrMatrix Matrix, long[] Times, long Start);

    private static bool[] OpeUsers(FeedbackLog feedback, int users)
    {
        var logged = new bool[users];
        foreach (int u in feedback.Users)
            if (u < users) logged[u] = true;
        return logged;
    }

    /// <summary>Logged users judged per night at most (a seeded sample beyond it): the intervals are tight long before.</summary>
    public const int OpeUsersPerNight = 20_000;

    /// <summary>
    /// Estimates how the job's model would have done on the logged traffic of the last ope_days — the doubly robust CTR (the
    /// headline, and what ope_gate judges), IPS and SNIPS CTR and recall@N, each with a bootstrap interval — and records it;
    /// with ope_gate it rejects the run when even the doubly robust interval's upper end is below the observed CTR.
    /// </summary>
    /// <remarks>
    /// Each served list is judged in its own context, by a model that never saw the window (tonight's was fitted on the
    /// window's clicks, and its lists cannot hold them: they are history now). A fit with the job's settings on the pairs
    /// first seen before the window; then for each night d of the log, each user served that night as they stood when d
    /// began: factors solved again from their pairs first seen before d (<see cref="ModelPlan.Refold"/>, the fit's item
    /// factors fixed), and the list ranked from them with those pairs excluded. Users with fewer than min_history pairs
    /// before d (they would have had the popularity fallback), or not in the model, are left out; so are users beyond the
    /// seeded sample of <see cref="OpeUsersPerNight"/>. When the log's randomly placed rows carry enough clicks, a fitted
    /// examination model r^−η moves each click to its new rank (<see cref="PositionModel"/>). docs/ARCHITECTURE.md
    /// (Feedback and off-policy evaluation) has the measurements behind each choice.
    /// </remarks>
    private int EstimateOffPolicy(IDictionary<string, double> metrics, FeedbackLog feedback, TimedPairs history, ModelPlan plan, JobSettings settings,
        RunRequest req, IdMap userIds, IdMap itemIds, CancellationToken ct)
    {
        int minHistory = Math.Max(1, settings.Lists.MinHistory);
        if (history.Before.NonZeros == 0)
        {
            log.Event("run.ope", ("users", 0), ("reason", "no pairs before the window to fit its model on"));
            return 0;
        }
        var counts = PopularityRanker.Counts(history.Before);
        var beforePropensity = plan.Propensities(history.Before, counts);
        // Trained on exposures, the window's model sees those before the window, and each night's refold those before the night.
        var windowModel = plan.Fit(history.Before, beforePropensity, settings.Iterations, null, ct, trackLoss: false, shown: plan.ShownBefore(history.Start));
        // The nights share the fit's item factors: their Gram matrix and one copy of the user factors to refold into.
        var itemGram = GramMatrix.Compute(windowModel.ItemFactors, windowModel.Items, windowModel.Factors);
        var refoldedUsers = (float[])windowModel.UserFactors.Clone();
        var nights = feedback.Nights ?? new int[feedback.Rows];
        bool timed = history.Times.AsSpan().ContainsAnyExcept(0L);
        var listOf = new Dictionary<(int User, int Night), int>(); // → index in `lists`
        var lists = new List<JudgedList>();
        var rowScore = new double[feedback.Rows];
        foreach (int night in nights.Distinct().Order())
        {
            long cut = new ReadWindow(DateOnly.FromDayNumber(night), 0, req.Job.Zone).Micros().End;
            var before = feedback.Nights is null || !timed ? history.Matrix : history.Matrix.WhereEntries(e => history.Times[e] < cut);
            var served = Enumerable.Range(0, feedback.Rows).Where(e => nights[e] == night).ToArray();
            var users = served.Select(e => feedback.Users[e]).Where(u => u < before.Rows && before.RowLength(u) >= minHistory).Distinct()
                .OrderBy(u => SplitMix64.Mix((ulong)settings.Seed ^ ((ulong)night << 32) ^ (ulong)u)).Take(OpeUsersPerNight).Order().ToArray();
            if (users.Length == 0) continue;
            var refolded = plan.Refold(windowModel, itemGram, refoldedUsers, before, beforePropensity, users, plan.ShownBefore(cut));
            var ranked = plan.Score(refolded, before, beforePropensity, users);
            for (int j = 0; j < users.Length; j++)
            {
                listOf[(users[j], night)] = lists.Count;
                lists.Add(new JudgedList(users[j], ranked.ItemsOf(j).ToArray(), ranked.ScoresOf(j).ToArray()));
                req.OnOpeList?.Invoke(new OpeList(userIds.ExternalAt(users[j]), DateOnly.FromDayNumber(night), lists[^1].Items.Select(itemIds.ExternalAt).ToArray()));
            }
            var score = plan.RankingScore(refolded, beforePropensity);
            foreach (int e in served)
                if (listOf.ContainsKey((feedback.Users[e], night))) rowScore[e] = score(feedback.Users[e], feedback.Items[e]);
        }
        var judged = Enumerable.Range(0, feedback.Rows).Where(e => listOf.ContainsKey((feedback.Users[e], nights[e]))).ToArray();
        if (judged.Length == 0)
        {
            log.Event("run.ope", ("users", 0), ("reason", "no logged user had min_history pairs before the night served"));
            return 0;
        }
        var rows = feedback.Where(judged);
        var rowNights = rows.Nights ?? new int[rows.Rows];
        int ListOfRow(int e) => listOf[(rows.Users[e], rowNights[e])];
        int NewRank(int e) => Array.IndexOf(lists[ListOfRow(e)].Items, rows.Items[e]) + 1;
        // Examination by position, from the randomly placed (exploration) rows when there are enough of their clicks.
        var examination = PositionModel.FitPowerLaw(rows, plan.N);
        var position = examination is { } fit ? new PositionModel(NewRank, fit.Examination) : null;
        if (examination is { } eta) metrics[MetricNames.OpeExaminationEta] = eta.Eta;
        var ope = OffPolicy.Evaluate(rows, e => NewRank(e) > 0 ? 1 : 0, plan.N, bootstrap: 200, seed: (ulong)settings.Seed, position);
        var dr = OffPolicy.DoublyRobustCtr(rows, lists, ListOfRow, e => rowScore[judged[e]], plan.N, examination?.Examination, bootstrap: 200, seed: (ulong)settings.Seed);
        metrics[MetricNames.OpeUsers] = ope.Users;
        metrics[MetricNames.OpeRows] = ope.Rows;
        metrics[MetricNames.OpeLoggedCtr] = ope.LoggedCtr;
        int n = plan.N;
        foreach (var (name, e) in new[] { ("ips_ctr", ope.IpsCtr), ("snips_ctr", ope.SnipsCtr), ("dr_ctr", dr),
                     (FormattableString.Invariant($"ips_recall@{n}"), ope.IpsRecall), (FormattableString.Invariant($"snips_recall@{n}"), ope.SnipsRecall) })
        {
            var (value, low, high) = MetricNames.OpeEstimate(name);
            (metrics[value], metrics[low], metrics[high]) = (e.Value, e.Low, e.High);
        }
        log.Event("run.ope", ("users", ope.Users), ("rows", ope.Rows), ("logged_ctr", ope.LoggedCtr), ("dr_ctr", dr.Value),
            ("dr_ctr_low", dr.Low), ("dr_ctr_high", dr.High), ("snips_ctr", ope.SnipsCtr.Value), ("ips_recall", ope.IpsRecall.Value));
        if (settings.Evaluation.OpeGate && dr.High < ope.LoggedCtr)
            throw new QualityGateException(FormattableString.Invariant(
                $"rejected by ope_gate: the new lists' estimated CTR on the last {settings.Evaluation.OpeDays} days of feedback is {dr.Value:F4} (doubly robust, 95 % interval {dr.Low:F4}–{dr.High:F4}), below the served lists' observed {ope.LoggedCtr:F4}."));
        return ope.Users;
    }

    /// <summary>Records the model's and popularity's SNIPS DCG and Recall at top_n on the unbiased log (what the gate then judges by).</summary>
    private void JudgeUnbiased(IDictionary<string, double> metrics, ModelPlan plan, AlsModel model, CsrMatrix history, float[] propensity, int[] counts, UnbiasedLog unbiased)
    {
        history = history.WithEntries(); // the logged users' history: whole here (read back from its store if need be)
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
