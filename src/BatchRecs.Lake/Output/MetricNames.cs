using System.Globalization;

namespace BatchRecs.Lake.Output;

/// <summary>
/// The names of a run's <c>run_metrics</c> rows, defined once for the pipeline that writes them and the report and
/// CLI that read them. They are a contract analysts query: rename none.
/// </summary>
/// <remarks>
/// Families: <c>input.*</c> (what was read), <c>eval.*</c> (the hold-out), <c>RANKER.METRIC@K</c> (evaluation of the
/// model and the popularity baseline, e.g. <c>model.ndcg@20</c>; Core's <c>EvaluationReport.Named</c> writes them and a
/// test keeps it in step), <c>FIT.*</c> (per fit: <c>fit_eval</c>, <c>fit</c>), <c>index.*</c> (the IVF index),
/// <c>output.*</c>, <c>similar.*</c> and <c>time.STAGE_s</c>.
/// </remarks>
public static class MetricNames
{
    public const string InputRowsRead = "input.rows_read";
    public const string InputRowsInWindow = "input.rows_in_window";
    public const string InputFiles = "input.files";
    public const string InputFilesPruned = "input.files_pruned";
    public const string InputFilesSkipped = "input.files_skipped";
    public const string InputUsers = "input.users";
    public const string InputItems = "input.items";
    public const string InputPairs = "input.pairs";
    public const string InputExposedPairs = "input.exposed_pairs";

    public const string EvalTrainPairs = "eval.train_pairs";
    public const string EvalHeldOutPairs = "eval.heldout_pairs";
    public const string EvalUsers = "eval.users";

    public const string OutputRows = "output.rows";
    public const string OutputUsers = "output.users";

    /// <summary>Items given a similar-items list (<c>similar_items</c> on; banned items get none).</summary>
    public const string SimilarItems = "similar.items";

    /// <summary>The prefix of every <c>index.*</c> metric.</summary>
    public const string IndexPrefix = "index.";

    public const string IndexNlist = "index.nlist";
    public const string IndexNprobe = "index.nprobe";
    public const string IndexRecallMean = "index.recall_mean";
    public const string IndexRecallP5 = "index.recall_p5";
    public const string IndexCanaryUsers = "index.canary_users";
    public const string IndexBuildSeconds = "index.build_s";
    public const string IndexTuneSeconds = "index.tune_s";
    public const string IndexSearchSeconds = "index.search_s";
    public const string IndexFractionScored = "index.fraction_scored";

    /// <summary>1 when the fit started from the last published factors (<c>warm_start=last_run</c>).</summary>
    public const string FitWarmStarted = "fit.warm_started";

    /// <summary>Wall time of the whole run.</summary>
    public const string TotalSeconds = "time.total_s";

    // ---- Evaluation at K: RANKER.METRIC@K ----

    /// <summary>The ALS model's evaluation (prefix of <c>model.METRIC@K</c>).</summary>
    public const string ModelRanker = "model";

    /// <summary>The popularity baseline's evaluation (prefix of <c>popular.METRIC@K</c>).</summary>
    public const string PopularRanker = "popular";

    public const string Recall = "recall";
    public const string Ndcg = "ndcg";
    public const string Map = "map";
    public const string HitRate = "hitrate";
    public const string IpsRecall = "ips_recall";
    public const string SnipsRecall = "snips_recall";
    public const string IpsDcg = "ips_dcg";
    public const string SnipsDcg = "snips_dcg";
    public const string Coverage = "coverage";
    public const string Gini = "gini";
    public const string MeanPopularityRank = "mean_pop_rank";

    /// <summary>Every evaluation metric at K, in the order <c>EvaluationReport.Named</c> writes them.</summary>
    public static IReadOnlyList<string> AtKMetrics { get; } = [Recall, Ndcg, Map, HitRate, IpsRecall, SnipsRecall, IpsDcg, SnipsDcg, Coverage, Gini, MeanPopularityRank];

    /// <summary>The metrics at K an operator reads first (run summary and report headline), in that order.</summary>
    public static IReadOnlyList<string> Headline { get; } = [Recall, Ndcg, Map, HitRate, SnipsRecall, Coverage, Gini, MeanPopularityRank];

    /// <summary><c>RANKER.METRIC@K</c>, e.g. <c>model.ndcg@20</c>.</summary>
    public static string AtK(string ranker, string metric, int k) => string.Create(CultureInfo.InvariantCulture, $"{ranker}.{metric}@{k}");

    public static string Model(string metric, int k) => AtK(ModelRanker, metric, k);

    public static string Popular(string metric, int k) => AtK(PopularRanker, metric, k);

    public static string ModelRecall(int k) => Model(Recall, k);

    public static string ModelNdcg(int k) => Model(Ndcg, k);

    public static string PopularNdcg(int k) => Popular(Ndcg, k);

    /// <summary>K of <paramref name="name"/> when it is <c>RANKER.METRIC@K</c> for this ranker and metric.</summary>
    public static bool TryParseAtK(string name, string ranker, string metric, out int k)
    {
        k = 0;
        string prefix = ranker + "." + metric + "@";
        return name.StartsWith(prefix, StringComparison.Ordinal)
            && int.TryParse(name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out k);
    }

    // ---- Stages: time.STAGE_s ----

    /// <summary><c>time.STAGE_s</c>: wall time of a pipeline stage (<see cref="StageNames"/>).</summary>
    public static string StageSeconds(string stage) => $"time.{stage}_s";

    /// <summary>The stage of a <c>time.STAGE_s</c> name (also "total" for <see cref="TotalSeconds"/>).</summary>
    public static bool TryParseStageSeconds(string name, out string stage)
    {
        bool match = name.StartsWith("time.", StringComparison.Ordinal) && name.EndsWith("_s", StringComparison.Ordinal);
        stage = match ? name[5..^2] : "";
        return match;
    }

    /// <summary>
    /// <c>memory.STAGE_peak_mb</c>: the process's peak resident memory during a pipeline stage, in MiB (Linux; the
    /// kernel's high-water mark, reset at each stage's start).
    /// </summary>
    public static string StagePeakMegabytes(string stage) => $"memory.{stage}_peak_mb";

    /// <summary><c>memory.peak_mb</c>: the process's peak resident memory over the whole run, in MiB (Linux).</summary>
    public const string PeakMegabytes = "memory.peak_mb";

    // ---- Fits: FIT.* (FIT is a fit stage, StageNames.FitEval or StageNames.Fit) ----

    public static string FitIterations(string fit) => $"{fit}.iterations";

    public static string FitLossFinal(string fit) => $"{fit}.loss_final";

    public static string FitSecondsPerIteration(string fit) => $"{fit}.seconds_per_iteration";

    /// <summary>The per-iteration field holding the training loss.</summary>
    public const string LossField = "loss";

    /// <summary>The per-iteration field holding the iteration's wall time.</summary>
    public const string SecondsField = "seconds";

    /// <summary><c>FIT.iterNNN.FIELD</c>, e.g. <c>fit.iter003.loss</c>.</summary>
    public static string FitIteration(string fit, int iteration, string field) =>
        string.Create(CultureInfo.InvariantCulture, $"{fit}.iter{iteration:D3}.{field}");

    /// <summary>The iteration of a <c>FIT.iterNNN.FIELD</c> name for this fit and field.</summary>
    public static bool TryParseFitIteration(string name, string fit, string field, out int iteration)
    {
        iteration = 0;
        string prefix = fit + ".iter", suffix = "." + field;
        return name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(suffix, StringComparison.Ordinal)
            && name.Length >= prefix.Length + suffix.Length
            && int.TryParse(name.AsSpan(prefix.Length, name.Length - prefix.Length - suffix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out iteration);
    }
}
