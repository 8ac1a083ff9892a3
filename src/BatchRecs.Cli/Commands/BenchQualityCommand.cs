using BatchRecs.Core.Errors;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using BatchRecs.Lake.Import;
using BatchRecs.Lake.Input;

namespace BatchRecs.Cli.Commands;

/// <summary>
/// <c>batchrecs bench quality</c>: offline quality on the public data sets, popularity vs ALS vs the IPW variants,
/// with the job's own code path (ModelPlan). MovieLens: ratings ≥ threshold are positives, temporal split;
/// Last.fm: play counts, seeded per-user random split (no timestamps).
/// </summary>
internal static class BenchQualityCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "ml-100k, ml-latest-small or lastfm (read from --shared)", Required = true };
        var shared = new Option<string>("--shared") { Description = "folder of the public data sets", DefaultValueFactory = _ => Path.Combine("..", "shared", "data") };
        var set = new Option<string[]>("--set") { Description = "base settings key=value (repeatable)" };
        var variants = new Option<string[]>("--variant") { Description = "extra settings per row, e.g. \"debias=ipw-train,propensity_eta=1\" (repeatable; default: a standard grid)" };
        var cmd = new Command("quality", "Recall/NDCG/SNIPS/coverage/popularity of popularity, ALS and its IPW variants on a public data set.") { data, shared, set, variants };
        cmd.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            string name = p.GetValue(data)!;
            var pairs = await LoadAsync(name, p.GetValue(shared)!, ct);
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

    /// <summary>Imports a public data set into the Parquet input contract (Last.fm, which has no times, on 2011-05-01).</summary>
    public static Task ImportAsync(string name, string sharedDir, string outDir, CancellationToken ct) => name switch
    {
        "ml-100k" or "ml-latest-small" => RatingImporter.ImportMovieLensAsync(Path.Combine(sharedDir, name), outDir, ct),
        "lastfm" => RatingImporter.ImportDelimitedAsync(Path.Combine(sharedDir, "hetrec2011-lastfm-2k", "user_artists.dat"), outDir,
            new DelimitedLayout('\t', true, "userID", "artistID", null, "weight", "play", DefaultTime: new DateTimeOffset(2011, 5, 1, 0, 0, 0, TimeSpan.Zero)), ct),
        _ => throw new BadInputException($"unknown data set '{name}' (ml-100k, ml-latest-small, lastfm)."),
    };

    /// <summary>Loads a public data set through the importer and reader (the job's own input path) as pairs.</summary>
    public static async Task<InteractionLog> LoadAsync(string name, string sharedDir, CancellationToken ct)
    {
        string tmp = Path.Combine(Path.GetTempPath(), $"batchrecs-data-{name}-{Guid.NewGuid():N}");
        try
        {
            await ImportAsync(name, sharedDir, tmp, ct);
            var read = await InteractionReader.ReadAsync(tmp, new ReadWindow(new DateOnly(2100, 1, 1), 365 * 200), new EventRules(), ct);
            var pairs = PairAggregator.Combine(read.Events, CombineRule.Max);
            if (name.StartsWith("ml-", StringComparison.Ordinal))
            {
                // Ratings ≥ 4 are the positives (strength 1); the rest are dropped.
                var keep = pairs.Values.Select(v => v >= 4f).ToArray();
                var pos = pairs.Where(keep);
                Array.Fill(pos.Values, 1f);
                return pos;
            }
            return pairs;
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
    }
}
