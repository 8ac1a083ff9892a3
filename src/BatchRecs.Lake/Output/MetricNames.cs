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
/// <c>lists.*</c> (who got which source), <c>rules.*</c> (what the business rules removed), <c>output.*</c>,
/// <c>similar.*</c> and <c>time.STAGE_s</c>.
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

    /// <summary>Users whose list comes from the model (source <c>als</c>).</summary>
    public const string ListsUsersModel = "lists.users_als";

    /// <summary>Users given the popularity fallback (source <c>popular</c>): under min_history, or listed without history.</summary>
    public const string ListsUsersPopular = "lists.users_popular";

    /// <summary>Of <see cref="ListsUsersPopular"/>, those whose segment had its own popularity.</summary>
    public const string ListsUsersPopularSegment = "lists.users_popular_segment";

    /// <summary>Distinct users in users_input (0 when unset).</summary>
    public const string ListsUsersListed = "lists.users_listed";

    /// <summary>Users whose list is shorter than top_n (the catalogue, after their history and the rules, ran out).</summary>
    public const string ListsShort = "lists.short";

    /// <summary>Rows filled by the exploration policy (source = explore; explore_slots), and their mean propensity.</summary>
    public const string ListsExplored = "lists.explored";
    public const string ListsExploredPropensityMean = "lists.explored_propensity_mean";

    /// <summary>Items banned for everyone by exclude_input (and known to the run).</summary>
    public const string RulesBannedItems = "rules.banned_items";

    /// <summary>Items items_input marks available = false (and known to the run).</summary>
    public const string RulesUnavailableItems = "rules.unavailable_items";

    /// <summary>(user, item) exclusions of exclude_input that apply to the run's users and items.</summary>
    public const string RulesExcludedPairs = "rules.excluded_pairs";

    /// <summary>Candidates the category cap (max_per_category) skipped while the lists were filled.</summary>
    public const string RulesCategoryRemoved = "rules.category_removed";

    /// <summary>
    /// Candidates the rules removed: items of the users' retrieved candidate lists (the top N, or the over-fetched top
    /// when the category cap or a re-rank picks from more) that a ban, unavailability or exclusion removed, counted over
    /// every user retrieval scored (including those whose list the fallback then replaced; their own history not
    /// counted), plus those the category cap skipped, plus the fallback lists' skipped items.
    /// </summary>
    public const string RulesCandidatesRemoved = "rules.candidates_removed";

    /// <summary>1 when retrieval was exact, 0 when it went through the IVF index.</summary>
    public const string IndexExact = "index.exact";

    /// <summary>index=auto: the estimated seconds of exact scoring for every user, from a timed sample.</summary>
    public const string IndexExactEstimateSeconds = "index.exact_estimate_s";

    /// <summary>index=auto: the budget the estimate was held against (exact_budget_seconds).</summary>
    public const string IndexExactBudgetSeconds = "index.exact_budget_s";
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

    // ---- On the unbiased validation log (unbiased_input): unbiased.RANKER.METRIC@K ----

    /// <summary>The judged model on the unbiased log (prefix of <c>unbiased.model.snips_dcg@K</c>, <c>….snips_recall@K</c>).</summary>
    public const string UnbiasedModelRanker = "unbiased.model";

    /// <summary>Popularity (training counts) on the unbiased log.</summary>
    public const string UnbiasedPopularRanker = "unbiased.popular";

    public static string UnbiasedModel(string metric, int k) => AtK(UnbiasedModelRanker, metric, k);

    public static string UnbiasedPopular(string metric, int k) => AtK(UnbiasedPopularRanker, metric, k);

    /// <summary>Users of the unbiased log with a positive of a known item (those the metrics average over).</summary>
    public const string UnbiasedUsers = "unbiased.users";

    /// <summary>Distinct (user, item) pairs of the unbiased log that the run knows, and its rows naming an unknown user or item.</summary>
    public const string UnbiasedPairs = "unbiased.pairs";
    public const string UnbiasedUnknownRows = "unbiased.unknown_rows";

    // ---- Off-policy estimates of the published lists on feedback_input: ope.* ----

    /// <summary>Users and exposures of the feedback window used, files read, and rows of users or items the run does not know.</summary>
    /// <summary>What every off-policy metric's name starts with.</summary>
    public const string OpePrefix = "ope.";
    public const string OpeUsers = "ope.users";
    public const string OpeRows = "ope.rows";
    public const string OpeFiles = "ope.files";
    public const string OpeUnknownRows = "ope.unknown_rows";

    /// <summary>The served lists' observed CTR on the window (clicks / exposures).</summary>
    public const string OpeLoggedCtr = "ope.logged_ctr";
    /// <summary>η of the examination model r^−η fitted on the randomly placed rows (absent: too few of their clicks, item-level estimate).</summary>
    public const string OpeExaminationEta = "ope.examination_eta";

    /// <summary><c>ope.NAME</c>, <c>ope.NAME_low</c>, <c>ope.NAME_high</c>: an estimate and its bootstrap 95 % interval
    /// (NAME: ips_ctr, snips_ctr, ips_recall@K, snips_recall@K).</summary>
    public static (string Value, string Low, string High) OpeEstimate(string name) => ("ope." + name, "ope." + name + "_low", "ope." + name + "_high");

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
