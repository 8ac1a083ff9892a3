using System.Text.Json;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Execution;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using BatchRecs.Lake.Input;
using BatchRecs.Lake.Output;
using BatchRecs.Lake.Storage;
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
        // A lake on object storage: tune in its working copy, then push the tuned settings and the catalog.
        var remote = LakeLocation.IsObjectStore(req.LakeDir) ? RemoteLake.Open(req.LakeDir) : null;
        if (remote is not null)
        {
            await remote.PullCatalogAsync(ct);
            req = req with { LakeDir = remote.LocalDir };
        }
        var current = req.Job.ResolveSettings(req.Overrides, req.LakeDir);
        var read = await JobInput.ReadAsync(req.InputDir, req.RunDate, req.Job, current, JobInput.ReadExecutor(req.Executor), ct);
        JobInput.RequireEvents(read.Stats, req.RunDate, req.Job, current);
        var pairs = read.Combine(JobInput.Combine(current), firstTimes: false, ct);
        var unbiased = current.Evaluation.UnbiasedInput is { } path ? await UnbiasedLogReader.ReadAsync(path, pairs.UserIds, pairs.ItemIds, ct) : null;
        // The propensity models' data, as a run reads it: trials with propensity=exposure or logged need them, and the
        // calibration chooses among the models the job has data for.
        var exposures = current.Input.ExposureInput is { } exposureDir
            ? await ExposureReader.ReadAsync(exposureDir, JobInput.Window(req.RunDate, req.Job, current), pairs.UserIds, pairs.ItemIds, ct)
            : null;
        var feedback = current.Evaluation.FeedbackInput is { } feedbackDir
            ? (await FeedbackReader.ReadAsync(feedbackDir, req.RunDate.AddDays(-current.Evaluation.OpeDays), req.RunDate, pairs.UserIds, pairs.ItemIds,
                DuckDbCatalog.PublishedRunIds(req.LakeDir), ct)).Log
            : null;
        var (tuned, trials) = new TuningSearch(req, current, pairs, unbiased?.Log, exposures, feedback, log, ct).Run();
        using (await PublishLock.AcquireAsync(req.LakeDir, current.Publish.LockTimeout, ct, message => log.Event("tune.publish_lock_wait", ("message", message))))
        {
            DuckDbCatalog.RecordTuning(req.LakeDir, tuned, trials.Select(r => new DuckDbCatalog.TrialRow(r.Trial, r.Rung, JsonSerializer.Serialize(r.Settings), r.Metric, r.Seconds)).ToList());
            TunedSettingsStore.Save(req.LakeDir, tuned);
            if (remote is not null)
            {
                await remote.PushTuningAsync(ct);
                await remote.PushCatalogAsync(ct);
            }
        }
        log.Event("tune.done", ("tuning_id", tuned.TuningId), ("best", tuned.TunedValue), ("current", tuned.CurrentValue), ("adopted", tuned.Adopted),
            ("cost_in_fits", tuned.CostInFits), ("settings", string.Join(",", tuned.Settings.Select(kv => $"{kv.Key}={kv.Value}"))));
        return tuned;
    }
}
