using System.CommandLine;
using BatchRecs.Cli.Commands;
using System.Diagnostics;
using System.Globalization;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;

namespace BatchRecs.Bench;

/// <summary>
/// <c>BatchRecs.Bench quality</c>: offline quality on the public data sets, popularity vs ALS vs the IPW variants,
/// with the job's own code path (ModelPlan). MovieLens: ratings ≥ threshold are positives, temporal split;
/// Last.fm: play counts, seeded per-user random split (no timestamps).
/// </summary>
internal static class QualityBench
{
    public static Command Create()
    {
        var data = PublicDataSets.DataOption();
        var shared = PublicDataSets.SharedOption();
        var set = new Option<string[]>("--set") { Description = "base settings key=value (repeatable)" };
        var variants = new Option<string[]>("--variant") { Description = "extra settings per row, e.g. \"debias=ipw-train,propensity_eta=1\" (repeatable; default: a standard grid)" };
        var cmd = new Command("quality", "Recall/NDCG/SNIPS/coverage/popularity of popularity, ALS and its IPW variants on a public data set.") { data, shared, set, variants };
        cmd.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            string name = p.GetValue(data)!;
            var pairs = await PublicDataSets.LoadAsync(name, p.GetValue(shared)!, ct);
            double holdout = 0.2;
            var split = name == "lastfm" ? RandomSplit.PerUser(pairs, holdout, 42) : TemporalSplit.PerUserLast(pairs, holdout);
            var train = pairs.Where(split.IsTrain).ToUserItemMatrix();
            var heldOut = pairs.Where(split.IsTrain.Select(t => !t).ToArray()).ToUserItemMatrix();
            var counts = PopularityRanker.Counts(train);
            var baseSettings = p.GetValue(set) ?? [];
            var evalProp = JobSettings.Create(null, baseSettings) is var b0 ? new ModelPlan(b0, new LocalExecutor()).PopularityPropensity(counts) : null!;
            int k = JobSettings.Create(null, baseSettings).TopN;
            Console.WriteLine($"{name}: {pairs.Count:N0} pairs, {pairs.UserCount:N0} users, {pairs.ItemCount:N0} items; train {train.NonZeros:N0}, held out {heldOut.NonZeros:N0}; K = {k}; IPS/SNIPS with popularity propensities (η and clip of the base settings)");
            Console.WriteLine($"| variant | Recall@{k} | NDCG@{k} | SNIPS-Recall@{k} | coverage | mean pop rank | Gini | fit s |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            var evalUsers = Enumerable.Range(0, heldOut.Rows).Where(u => heldOut.RowLength(u) > 0).ToArray();
            Print("popularity", Metrics.Evaluate(PopularityRanker.Recommend(train, k), heldOut, k, evalProp, counts), 0);
            var rows = p.GetValue(variants) is { Length: > 0 } v ? v
                : ["debias=none", "debias=ipw-train,propensity_eta=0.5", "debias=ipw-train,propensity_eta=1", "debias=ipw-rerank,rerank_beta=0.1",
                   "debias=ipw-rerank,rerank_beta=0.3", "debias=both,propensity_eta=0.5,rerank_beta=0.3"];
            foreach (var variant in rows)
            {
                var s = JobSettings.Create(null, [.. baseSettings, .. variant.Split(',', StringSplitOptions.RemoveEmptyEntries)]);
                var plan = new ModelPlan(s, new LocalExecutor());
                var prop = plan.PopularityPropensity(counts);
                var sw = Stopwatch.StartNew();
                var model = plan.Fit(train, prop, s.Iterations, null, ct);
                double fit = sw.Elapsed.TotalSeconds;
                var recs = plan.Score(model, train, prop, evalUsers);
                Print(variant, Metrics.Evaluate(recs.Scatter(evalUsers, heldOut.Rows), heldOut, k, evalProp, counts), fit);
            }
            return 0;
        }));
        return cmd;
    }

    private static void Print(string name, EvaluationReport m, double fitSeconds) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {m.Recall:F4} | {m.Ndcg:F4} | {m.SnipsRecall:F4} | {m.Coverage:F3} | {m.MeanPopularityRank:F0} | {m.GiniExposure:F3} | {fitSeconds:F1} |"));
}
