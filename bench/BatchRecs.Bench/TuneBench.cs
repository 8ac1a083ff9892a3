using BatchRecs.Lake.Input;
using BatchRecs.Core.Errors;
using System.CommandLine;
using BatchRecs.Cli.Commands;
using System.Diagnostics;
using System.Globalization;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Core.Tuning;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using BatchRecs.Engine.Tuning;

namespace BatchRecs.Bench;

/// <summary>
/// <c>BatchRecs.Bench tune</c>: what <c>batchrecs tune</c> buys on a public data set, through the job's own input path.
/// The current settings, a 30-trial search over a grid space and over the default space, and the exhaustive grid
/// (every point fitted on the validation split, as the search sees it, and on the evaluation split, as a run reports
/// it), all on the evaluation hold-out a run reports; with the search's cost in fits.
/// </summary>
internal static class TuneBench
{
    public static Command Create()
    {
        var data = PublicDataSets.DataOption();
        var shared = PublicDataSets.SharedOption();
        var set = new Option<string[]>("--set") { Description = "base settings key=value (repeatable)" };
        var grid = new Option<string[]>("--grid")
        {
            Description = "a grid dimension as key=v1,v2,… (repeatable; default: alpha × regularization × factors, log confidence for lastfm)",
        };
        var budget = new Option<int>("--budget") { Description = "settings each search tries", DefaultValueFactory = _ => 30 };
        var cmd = new Command("tune", "Current vs tuned settings vs an exhaustive grid on a public data set, and the search's cost in fits.") { data, shared, set, grid, budget };
        cmd.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            string name = p.GetValue(data)!;
            string root = Path.Combine(Path.GetTempPath(), $"batchrecs-bench-tune-{Guid.NewGuid():N}");
            try
            {
                string input = Path.Combine(root, "input");
                await PublicDataSets.ImportAsync(name, p.GetValue(shared)!, input, ct);
                var lastDay = Directory.GetDirectories(input, "dt=*").Select(d => DateOnly.ParseExact(Path.GetFileName(d)[3..], "yyyy-MM-dd", CultureInfo.InvariantCulture)).Max();
                var runDate = lastDay.AddDays(1);
                var dims = p.GetValue(grid) is { Length: > 0 } g ? g
                    : ["alpha=" + (name == "lastfm" ? "0.1,0.3,1,3" : "0.5,2,8,32"), "regularization=" + (name == "lastfm" ? "0.1,1,10,100" : "0.01,0.3,3,30"), "factors=32,64"];
                var gridSpace = new SearchSpace(dims.Select(ParseDimension).ToList());
                var baseSettings = new Dictionary<string, string>
                {
                    ["lookback_days"] = "3650", ["quality_gate"] = "false", ["top_n"] = "20", ["index"] = "exact",
                };
                if (name == "lastfm") baseSettings["confidence"] = "log";
                string[] overrides = p.GetValue(set) ?? [];
                var job = new JobDefinition($"bench-{name}", null, "UTC", baseSettings, new Dictionary<string, float>(), null, SearchSpace: gridSpace);
                // Settings as a tuning resolves a trial's: the job's, then --set, then the values tried.
                JobSettings With(IReadOnlyDictionary<string, string> values) => job.ResolveSettings([.. overrides, .. values.Select(kv => $"{kv.Key}={kv.Value}")]);
                var current = job.ResolveSettings(overrides);
                var read = await JobInput.ReadAsync(input, runDate, job, current, LocalRead.Instance, ct);
                var pairs = read.Combine(JobInput.Combine(current), firstTimes: false, ct);
                var splits = TuningSplits.Make(pairs, current.HoldoutFraction);
                var fitTrain = pairs.Where(splits.IsEvaluation.Select(e => !e).ToArray()).ToUserItemMatrix();
                var evaluation = pairs.Where(splits.IsEvaluation).ToUserItemMatrix();
                var searchTrain = pairs.Where(splits.IsEvaluation.Zip(splits.IsValidation, (e, v) => !e && !v).ToArray()).ToUserItemMatrix();
                var validation = pairs.Where(splits.IsValidation).ToUserItemMatrix();
                Console.WriteLine($"{name}: {pairs.Count:N0} pairs ({pairs.UserCount:N0} users × {pairs.ItemCount:N0} items) in the {current.LookbackDays}-day window before {runDate:yyyy-MM-dd}; "
                    + $"evaluation hold-out {evaluation.NonZeros:N0}, validation {validation.NonZeros:N0} (the latest {current.HoldoutFraction:P0} per user of each); K = {current.TopN}");
                Console.WriteLine($"| settings | NDCG@{current.TopN} | Recall@{current.TopN} | validation NDCG | cost in fits | chosen |");
                Console.WriteLine("|---|---|---|---|---|---|");
                var (cur, _) = Evaluate(current, fitTrain, evaluation, ct);
                var (curValidation, unit) = Evaluate(current, searchTrain, validation, ct); // the grid's cost unit, as the search's
                Row("current", cur, curValidation.Ndcg, null, "");

                foreach (var (label, lake, space) in new[] { ("tuned, grid space", "lake-grid", gridSpace), ("tuned, default space", "lake-default", SearchSpace.Default) })
                {
                    var tuned = await new TuningRun(RunLog.Null).ExecuteAsync(new TuneRequest(input, Path.Combine(root, lake), runDate,
                        job with { SearchSpace = space }, overrides, Budget: p.GetValue(budget)), ct);
                    var chosen = With(tuned.Settings);
                    Row(label, Evaluate(chosen, fitTrain, evaluation, ct).Metrics, tuned.TunedValue, tuned.CostInFits,
                        Describe(tuned.Settings) + (tuned.Adopted ? "" : " (not adopted: not better than current on validation)"));
                }

                // The exhaustive grid: every point on the validation split (what a search can know) and on the evaluation split.
                var points = new List<(IReadOnlyDictionary<string, string> Point, double Validation, EvaluationReport Evaluation, double Seconds)>();
                for (int t = 0; t < gridSpace.GridSize; t++)
                {
                    var point = gridSpace.Draw(0, t);
                    var s = With(point);
                    var (valid, seconds) = Evaluate(s, searchTrain, validation, ct);
                    points.Add((point, valid.Ndcg, Evaluate(s, fitTrain, evaluation, ct).Metrics, seconds));
                }
                var byValidation = points.OrderByDescending(x => x.Validation).First();
                var oracle = points.OrderByDescending(x => x.Evaluation.Ndcg).First();
                Row($"grid best on validation ({points.Count} points)", byValidation.Evaluation, byValidation.Validation, points.Sum(x => x.Seconds) / unit, Describe(byValidation.Point));
                Row("grid best on the evaluation hold-out (oracle)", oracle.Evaluation, oracle.Validation, null, Describe(oracle.Point));
                return 0;
            }
            finally
            {
                if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
            }
        }));
        return cmd;
    }

    /// <summary>Fits on <paramref name="train"/> exactly as a run's evaluated fit and scores the users of <paramref name="heldOut"/>.</summary>
    private static (EvaluationReport Metrics, double Seconds) Evaluate(JobSettings s, CsrMatrix train, CsrMatrix heldOut, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var plan = new ModelPlan(s, new LocalExecutor());
        var prop = plan.Propensities(train, PopularityRanker.Counts(train));
        var model = plan.Fit(train, prop, s.Iterations, null, ct);
        var users = Enumerable.Range(0, heldOut.Rows).Where(u => heldOut.RowLength(u) > 0).ToArray();
        var recs = plan.Score(model, train, prop, users);
        var m = Metrics.Evaluate(recs.Scatter(users, heldOut.Rows), heldOut, s.TopN);
        return (m, sw.Elapsed.TotalSeconds);
    }

    private static SearchDimension ParseDimension(string text)
    {
        var parts = text.Split('=', 2);
        if (parts.Length != 2 || parts[1].Length == 0) throw new BadInputException($"--grid needs key=v1,v2,… (got '{text}').");
        return new SearchDimension(parts[0], Choices: parts[1].Split(','));
    }

    private static string Describe(IReadOnlyDictionary<string, string> settings) => string.Join(", ", settings.Select(kv => $"{kv.Key}={kv.Value}"));

    private static void Row(string label, EvaluationReport m, double? validation, double? cost, string chosen) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {label} | {m.Ndcg:F4} | {m.Recall:F4} | {(validation is { } v ? v.ToString("F4", CultureInfo.InvariantCulture) : "")} | {(cost is { } c ? c.ToString("F1", CultureInfo.InvariantCulture) : "")} | {chosen} |"));
}
