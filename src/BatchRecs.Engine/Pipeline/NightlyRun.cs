using System.Diagnostics;
using System.Globalization;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Lake.Input;
using BatchRecs.Lake.Output;
using BatchRecs.Engine.Settings;

namespace BatchRecs.Engine.Pipeline;

/// <summary>
/// One run of a job for one run date: read → pairs → hold-out split → fit and evaluate → refit on the whole
/// window → top-N for every user → publish. Nothing is published unless every stage succeeded; a failure is
/// recorded in the <c>runs</c> table with its reason and rethrown.
/// </summary>
public sealed class NightlyRun(RunLog log)
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
        log.Event("run.start", ("run_id", runId), ("job", req.Job.Name), ("run_date", req.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            ("input", req.InputDir), ("lake", req.LakeDir));
        try
        {
            settings = req.Job.ResolveSettings(req.Overrides);
            publishOptions = new PublishOptions(settings.GetInt("retention_days"));
            await LakePublisher.RecordRunAsync(req.LakeDir, new RunRecord(runId, req.Job.Name, req.RunDate, RunStatus.Running, started, started,
                null, 0, 0, 0, new Dictionary<string, double>(), settings.Effective), publishOptions, ct);
            var executor = req.Executor ?? new LocalExecutor();
            var stages = new StageTimer(metrics, log);

            // 1. Read the window.
            var window = new ReadWindow(req.RunDate, settings.LookbackDays, req.Job.Zone);
            var rules = new EventRules(settings.EventWeights, 1f, settings.GetDouble("half_life_days"), settings.GetString("epoch_unit"), settings.GetBool("skip_bad_files"));
            var read = await stages.TimeAsync("read", () => settings.GetString("reader") == "duckdb"
                ? DuckDbInteractionReader.ReadAsync(req.InputDir, window, rules, ct)
                : InteractionReader.ReadAsync(req.InputDir, window, rules, ct));
            inputRows = read.RowsInWindow;
            metrics["input.rows_read"] = read.RowsRead;
            metrics["input.rows_in_window"] = read.RowsInWindow;
            metrics["input.files"] = read.Files.Count;
            metrics["input.files_pruned"] = read.PrunedFiles;
            metrics["input.files_skipped"] = read.Skipped.Count;
            foreach (var skip in read.Skipped) log.Event("run.input_skipped", ("file", skip.Path), ("reason", skip.Reason));
            if (read.Events.Count == 0)
                throw new LakeInputException($"no events in the window {window.FirstDay:yyyy-MM-dd} ≤ date < {window.RunDate:yyyy-MM-dd} under '{req.InputDir}'.", req.InputDir);

            var rule = settings.GetString("combine") switch { "max" => CombineRule.Max, "last" => CombineRule.Last, _ => CombineRule.Sum };
            var pairs = stages.Time("pairs", () => PairAggregator.Combine(read.Events, rule));
            users = pairs.UserCount;
            items = pairs.ItemCount;
            metrics["input.users"] = users;
            metrics["input.items"] = items;
            metrics["input.pairs"] = pairs.Count;

            int n = settings.TopN;
            int userBlocks = settings.GetInt("user_blocks"), itemBlocks = settings.GetInt("item_blocks");
            AlsModel? evalModel = null;

            // 2. Hold out each user's latest pairs, fit on the rest, compare with popularity.
            if (settings.HoldoutFraction > 0)
            {
                var split = TemporalSplit.PerUserLast(pairs, settings.HoldoutFraction);
                var train = pairs.Where(split.IsTrain).ToUserItemMatrix();
                var heldOut = pairs.Where(split.IsTrain.Select(t => !t).ToArray()).ToUserItemMatrix();
                metrics["eval.train_pairs"] = train.NonZeros;
                metrics["eval.heldout_pairs"] = heldOut.NonZeros;
                var als = settings.ToAls();
                var problem = AlsProblem.Build(train, als);
                evalModel = stages.Time("fit_eval", () => ImplicitAls.Fit(problem, als, executor, userBlocks, itemBlocks, cancellationToken: ct));
                RecordFit(metrics, "fit_eval", evalModel);
                var evalUsers = Enumerable.Range(0, heldOut.Rows).Where(u => heldOut.RowLength(u) > 0).ToArray();
                var modelRecs = stages.Time("score_eval", () => Expand(ExactTopN.Search(evalModel.UserFactors, evalModel.ItemFactors, evalModel.Factors, new TopNQuery(n, train), evalUsers), evalUsers, heldOut.Rows, n));
                var popRecs = PopularityRanker.Recommend(train, n);
                var m = Metrics.Evaluate(modelRecs, heldOut, n);
                var p = Metrics.Evaluate(popRecs, heldOut, n);
                metrics["eval.users"] = m.Users;
                metrics[$"model.recall@{n}"] = m.Recall;
                metrics[$"model.ndcg@{n}"] = m.Ndcg;
                metrics[$"popular.recall@{n}"] = p.Recall;
                metrics[$"popular.ndcg@{n}"] = p.Ndcg;
                log.Event("run.evaluation", ("k", n), ("users", m.Users), ("model_recall", m.Recall), ("model_ndcg", m.Ndcg),
                    ("popular_recall", p.Recall), ("popular_ndcg", p.Ndcg));
            }

            // 3. Refit on the whole window (warm-started from the evaluated fit) and score everyone.
            var all = pairs.ToUserItemMatrix();
            var fullAls = settings.ToAls(evalModel is null ? settings.Iterations : Math.Max(1, settings.RefitIterations));
            var fullProblem = AlsProblem.Build(all, fullAls);
            var model = stages.Time("fit", () => ImplicitAls.Fit(fullProblem, fullAls, executor, userBlocks, itemBlocks,
                evalModel?.UserFactors, evalModel?.ItemFactors, cancellationToken: ct));
            RecordFit(metrics, "fit", model);
            var recs = stages.Time("score", () => ExactTopN.Search(model.UserFactors, model.ItemFactors, model.Factors, new TopNQuery(n, all)));
            metrics["output.rows"] = recs.TotalRows;
            metrics["output.users"] = recs.Users;

            // 4. Publish all or nothing.
            var finished = DateTime.UtcNow;
            metrics["time.total_s"] = (finished - started).TotalSeconds;
            var record = new RunRecord(runId, req.Job.Name, req.RunDate, RunStatus.Succeeded, started, finished, null, inputRows, users, items, metrics, settings.Effective);
            var publish = await stages.TimeAsync("publish", () => LakePublisher.PublishAsync(req.LakeDir, new PublishRequest(
                record, pairs.UserIds, pairs.ItemIds, recs, "als", model.Factors, model.UserFactors, model.ItemFactors, read.Files, read.Skipped), publishOptions, ct));
            log.Event("run.succeeded", ("run_id", runId), ("rows", recs.TotalRows), ("partition", publish.PartitionDir), ("duckdb", publish.DatabasePath),
                ("seconds", (DateTime.UtcNow - started).TotalSeconds));
            return new RunSummary(record, publish);
        }
        catch (Exception e)
        {
            string reason = e.Message;
            log.Event("run.failed", ("run_id", runId), ("reason", reason));
            try
            {
                await LakePublisher.RecordRunAsync(req.LakeDir, new RunRecord(runId, req.Job.Name, req.RunDate, RunStatus.Failed, started, DateTime.UtcNow,
                    reason, inputRows, users, items, metrics, settings?.Effective ?? new Dictionary<string, string>()), publishOptions, CancellationToken.None);
            }
            catch (Exception recordError)
            {
                log.Event("run.record_failed", ("run_id", runId), ("reason", recordError.Message));
            }
            throw;
        }
    }

    public static string NewRunId(string job, DateOnly runDate, DateTime startedUtc) =>
        $"{job}-{runDate:yyyyMMdd}-{startedUtc:yyyyMMddTHHmmss}-{Guid.NewGuid().ToString("N")[..6]}";

    private static void RecordFit(IDictionary<string, double> metrics, string stage, AlsModel model)
    {
        if (model.History.Count == 0) return;
        metrics[$"{stage}.iterations"] = model.History.Count;
        metrics[$"{stage}.loss_final"] = model.History[^1].Loss;
        metrics[$"{stage}.seconds_per_iteration"] = model.History.Average(h => h.Seconds);
        foreach (var h in model.History)
        {
            metrics[$"{stage}.iter{h.Iteration:D3}.loss"] = h.Loss;
            metrics[$"{stage}.iter{h.Iteration:D3}.seconds"] = h.Seconds;
        }
    }

    /// <summary>Spreads a result over a subset of users back to full user indexing (other rows empty).</summary>
    private static TopNResult Expand(TopNResult subset, int[] users, int totalUsers, int n)
    {
        var full = new TopNResult(totalUsers, n);
        for (int j = 0; j < users.Length; j++)
        {
            int u = users[j];
            full.Counts[u] = subset.Counts[j];
            subset.Items.AsSpan(j * n, n).CopyTo(full.Items.AsSpan(u * n, n));
            subset.Scores.AsSpan(j * n, n).CopyTo(full.Scores.AsSpan(u * n, n));
        }
        return full;
    }

    private sealed class StageTimer(IDictionary<string, double> metrics, RunLog log)
    {
        public T Time<T>(string stage, Func<T> f)
        {
            var sw = Stopwatch.StartNew();
            var r = f();
            Done(stage, sw.Elapsed.TotalSeconds);
            return r;
        }

        public async Task<T> TimeAsync<T>(string stage, Func<Task<T>> f)
        {
            var sw = Stopwatch.StartNew();
            var r = await f();
            Done(stage, sw.Elapsed.TotalSeconds);
            return r;
        }

        private void Done(string stage, double seconds)
        {
            metrics[$"time.{stage}_s"] = seconds;
            log.Event("run.stage", ("stage", stage), ("seconds", seconds));
        }
    }
}
