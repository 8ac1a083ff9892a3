using System.Globalization;
using System.Text.Json;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;

namespace BatchRecs.Engine.Settings;

/// <summary>
/// The settings of a job: defaults, then the job file's <c>settings</c> object, then <c>--set key=value</c>
/// overrides. Every key must be known and every value valid; errors name the key and the source.
/// </summary>
/// <remarks>
/// <see cref="Definitions"/> is the one table of settings (key, default, range, description; the job file schema, the
/// README table and "did you mean" come from it). Code reads a setting only through the typed groups built from it
/// (<see cref="Fit"/>, <see cref="Input"/>, <see cref="Evaluation"/>, <see cref="Retrieval"/>, <see cref="Lists"/>, <see cref="Debias"/>,
/// <see cref="Tuning"/>, <see cref="Publish"/>, <see cref="Distributed"/>), with choices as enums: <c>settings.Retrieval.Index == IndexKind.Exact</c>.
/// Each key is read by exactly one typed property (a test checks it), so a misspelt setting does not compile.
/// </remarks>
public sealed class JobSettings
{
    public static readonly IReadOnlyList<SettingDefinition> Definitions =
    [
        SettingDefinition.Int("factors", 64, 1, 1024, "latent dimension k"),
        SettingDefinition.Float("regularization", 0.05, 0, 1e6, "L2 penalty λ added to every normal equation"),
        SettingDefinition.Float("alpha", 2, 0, 1e6, "confidence slope: c = 1 + alpha·r"),
        SettingDefinition.Int("iterations", 15, 1, 1000, "ALS iterations"),
        SettingDefinition.Choice("warm_start", "none", [("none", WarmStart.None), ("last_run", WarmStart.LastRun)], "start the fit from the last published factors (ids matched by external id; new ids random); only when holdout_fraction=0, where it cannot leak held-out pairs"),
        SettingDefinition.Int("refit_iterations", 5, 0, 1000, "iterations of the full-window refit, warm-started from the evaluated fit"),
        SettingDefinition.Int("top_n", 20, 1, 10_000, "list length per user, also K of Recall@K/NDCG@K"),
        SettingDefinition.Int("lookback_days", 28, 1, 3650, "days of input before the run date"),
        SettingDefinition.Float("holdout_fraction", 0.2, 0, 1, "per-user fraction of the latest pairs held out for evaluation (0 = off)", maxExclusive: true),
        SettingDefinition.Int("seed", 42, 0, int.MaxValue, "random seed"),
        SettingDefinition.Choice("solver", "cg", [("cg", AlsSolver.ConjugateGradient), ("cholesky", AlsSolver.Cholesky)], "per-row solver"),
        SettingDefinition.Int("cg_steps", 3, 1, 100, "conjugate-gradient steps per row and half-step"),
        SettingDefinition.Choice("confidence", "linear", [("linear", ConfidenceKind.Linear), ("log", ConfidenceKind.Log)], "confidence function of the strength r"),
        SettingDefinition.Choice("mode", "implicit", [("implicit", AlsMode.Implicit), ("explicit", AlsMode.Explicit)], "implicit feedback (confidence-weighted ALS) or explicit ratings (biased MF: mean + user + item bias + taste)"),
        SettingDefinition.Bool("scale_regularization", false, "multiply λ by each row's number of entries, as Spark's ALS does"),
        SettingDefinition.IntOrAuto("user_blocks", 1, 1_000_000, "user blocks per half-step (auto: from data size and cores)"),
        SettingDefinition.IntOrAuto("item_blocks", 1, 1_000_000, "item blocks per half-step (auto: from data size and cores)"),
        SettingDefinition.Choice("combine", "sum", [("sum", CombineRule.Sum), ("max", CombineRule.Max), ("last", CombineRule.Last)], "how repeated events of a (user, item) pair combine"),
        SettingDefinition.Float("half_life_days", 0, 0, 36500, "time decay half-life of an event's weight (0 = off)"),
        SettingDefinition.Choice("epoch_unit", "s", [("s", EpochUnit.Seconds), ("ms", EpochUnit.Milliseconds), ("us", EpochUnit.Microseconds), ("ns", EpochUnit.Nanoseconds)], "unit of an INT64 event_time"),
        SettingDefinition.Choice("index", "auto", [("auto", IndexKind.Auto), ("ivf", IndexKind.Ivf), ("exact", IndexKind.Exact)], "top-N retrieval: exact scoring of every item, an IVF index over item factors, or auto: exact when its estimated cost (users × items × factors at this machine's measured throughput) is under exact_budget_seconds, else the IVF"),
        SettingDefinition.Float("exact_budget_seconds", 60, 0, 1e6, "index=auto: the longest exact scoring of all users it accepts before it uses the IVF"),
        SettingDefinition.IntOrAuto("nlist", 1, 1_000_000, "IVF lists (auto: about 4·sqrt(items))"),
        SettingDefinition.IntOrAuto("nprobe", 1, 1_000_000, "IVF lists probed per user (auto: the smallest meeting recall_floor on a sample)"),
        SettingDefinition.Float("recall_floor", 0.95, 0, 1, "minimum canary recall@top_n of the index against exact search; below it the run fails"),
        SettingDefinition.Int("canary_users", 1000, 1, 1_000_000, "users scored both exactly and through the index in every run"),
        SettingDefinition.Choice("debias", "none", [("none", DebiasMode.None), ("ipw-train", DebiasMode.IpwTrain), ("ipw-rerank", DebiasMode.IpwRerank), ("both", DebiasMode.Both)], "inverse propensity weighting: in training (Rel-MF), in re-ranking, both, or none. Measured against none (README, Debiasing on Coat): Coat DCG@5 on random test items at the defaults ipw-train 0.99×, ipw-rerank 0.97×, both 0.96×; tuned on an unbiased log (unbiased_input) against none tuned the same way 1.01×, 1.00×, 1.03×; MovieLens 100K Recall@20 at the defaults −8.5 %, −11 %, −42 %. Keep none unless tuning on your own unbiased log shows a gain"),
        SettingDefinition.Choice("propensity", "popularity", [("popularity", PropensityModel.Popularity), ("exposure", PropensityModel.Exposure), ("logged", PropensityModel.Logged)], "propensity model: item popularity power law, a logistic model over an exposure log, or logged: per item the mean propensity logged with its exposures in feedback_input's ope_days (clipped; popularity's for items never served)"),
        SettingDefinition.Float("propensity_eta", 0.5, 0, 10, "η of p_i = (n_i / max n)^η"),
        SettingDefinition.Float("propensity_clip", 0.05, 1e-6, 1, "p_min: propensities are clipped to [p_min, 1]"),
        SettingDefinition.Text("items_input", "", "Parquet file of item metadata (item_id, title, category, …) loaded as the DuckDB items table (default: INPUT/_items/items.parquet when present)"),
        SettingDefinition.Text("users_input", "", "Parquet file (or directory of them) of user_id plus optional segment columns (e.g. country): every listed user gets a list, users without enough history a popular one (of their segment)"),
        SettingDefinition.Text("exclude_input", "", "Parquet file (or directory of them) of item_id (banned for everyone) or user_id, item_id (excluded for that user): never recommended"),
        SettingDefinition.Int("min_history", 1, 1, 1_000_000, "users with fewer distinct items in the window get the popularity fallback list (source = popular)"),
        SettingDefinition.Int("min_segment_users", 50, 1, int.MaxValue, "the fallback uses a segment's own popularity when at least this many of its users have history; global popularity otherwise"),
        SettingDefinition.Int("max_per_category", 0, 0, 10_000, "at most this many items of one category (items_input's category column) per list (0 = no cap)"),
        SettingDefinition.Bool("similar_items", true, "publish every item's most similar items (cosine of item factors) as similar_items"),
        SettingDefinition.Int("similar_n", 20, 1, 10_000, "similar items per item"),
        SettingDefinition.Int("explore_slots", 0, 0, 10_000, "positions of each user's list filled by a seeded randomized exploration policy (source = explore; 0 = off): draws from the model's ranks top_n − explore_slots + 1 … explore_pool (the items the slots displace, and the next), and at rate explore_uniform from the whole eligible catalogue; every row's propensity column is the exact probability the policy shows that item to that user that night"),
        SettingDefinition.IntOrAuto("explore_pool", 2, 1_000_000, "the deepest model rank exploration draws from (auto: 10·top_n)"),
        SettingDefinition.Float("explore_uniform", 0.1, 0, 1, "share of exploration slots drawn uniformly from the user's whole eligible catalogue instead of the model's pool"),
        SettingDefinition.Float("unexposed_weight", 1, 1e-3, 1, "training on what users were shown (needs exposure_input): the weight of a (user, item) pair never shown, relative to one shown and not clicked (target 0 both). 1 ignores the exposures in training; below 1 a pair shown and passed over counts 1/unexposed_weight times as much against the item as one never shown (exposure-aware ALS), and under ipw-train the shown pairs are also weighted 1/θ (inverse propensity scoring over the exposures). Each fit sees only the exposures before its own cut (the hold-out's, the tuner's validation split, the off-policy window)"),
        SettingDefinition.Text("exposure_input", "", "directory of Parquet exposure logs (user_id, item_id, event_time[, position]) for propensity=exposure"),
        SettingDefinition.Float("rerank_beta", 0.5, 0, 1, "β of the re-rank by log max(ŝ, ε) − β·log p_i, i.e. by ŝ/p_i^β (ε = 1e-6; scores ≤ ε go last, in plain order): 0 keeps the plain order, 1 is the full relevance estimate click probability / exposure propensity. Under debias=both the Rel-MF scores already estimate relevance, so β > 0 divides by p_i a second time (0 or small is advised there)"),
        SettingDefinition.Int("rerank_candidates", 3, 1, 100, "candidates per user retrieved for re-ranking, as a multiple of top_n"),
        SettingDefinition.Bool("quality_gate", true, "reject (publish nothing) a run worse than the last accepted run or than popularity"),
        SettingDefinition.Float("gate_tolerance", 0.1, 0, 1, "allowed relative drop of model NDCG@top_n against the last accepted run of the job"),
        SettingDefinition.Text("feedback_input", "", "directory of Parquet feedback under dt=YYYY-MM-DD partitions: the exposures and outcomes of served lists (user_id, item_id, event_time, position, propensity, run_id, clicked or value); each run estimates off-policy how its model's lists would have done on the last ope_days of it"),
        SettingDefinition.Int("ope_days", 7, 1, 3650, "days of feedback_input before the run date the off-policy estimates use"),
        SettingDefinition.Bool("ope_gate", false, "reject (publish nothing) a run whose model's estimated CTR on feedback_input (doubly robust, upper end of the 95 % bootstrap interval) is below the served lists' observed CTR"),
        SettingDefinition.Text("unbiased_input", "", "Parquet file (or directory of them) of an unbiased validation log — randomized or exploration traffic: user_id, item_id, label (BOOLEAN, or a number > 0 for positive), optional propensity (the probability the item was shown, in (0, 1]; 1 when absent). When set, the quality gate and tune judge models by SNIPS DCG@top_n and Recall@top_n of its positives among each user's logged items, instead of the biased hold-out"),
        SettingDefinition.Choice("reader", "parquet-net", [("parquet-net", ReaderKind.ParquetNet), ("duckdb", ReaderKind.DuckDb)], "input reader: Parquet.Net row groups, or DuckDB read_parquet (falls back to Parquet.Net to diagnose bad input)"),
        SettingDefinition.Bool("use_tuned", true, "apply the job's last adopted tuning (between the job file and --set)"),
        SettingDefinition.Int("tune_budget", 30, 1, 10_000, "settings tried by a tuning (successive halving keeps the best third at each rung)"),
        SettingDefinition.Float("tune_final_fits", 2, 0, 1000, "what a tuning's final rung may spend on full fits, in fits of the current settings (estimated from iterations and, when larger, factors squared): in rank order, each finalist it still covers gets one; the best always does"),
        SettingDefinition.Choice("tune_metric", "ndcg", [("ndcg", TuneMetric.Ndcg), ("recall", TuneMetric.Recall), ("map", TuneMetric.Map)], "what tuning maximizes, at top_n, on the validation split (with unbiased_input: SNIPS DCG for ndcg and map, SNIPS Recall for recall, on that log)"),
        SettingDefinition.Choice("checkpoints", "auto", [("auto", CheckpointMode.Auto), ("on", CheckpointMode.On), ("off", CheckpointMode.Off)], "save the fit after every iteration so a restarted run resumes (auto: on with a distributed executor)"),
        SettingDefinition.Int("lock_timeout_seconds", 600, 1, 86400, "how long a run waits for another publisher of the same lake"),
        SettingDefinition.Int("retention_days", 30, 1, 36500, "days of published run dates kept (Parquet partitions and DuckDB rows)"),
        SettingDefinition.Bool("skip_bad_files", false, "skip unreadable or invalid input files (listed in the manifest) instead of failing"),
        SettingDefinition.Int("worker_wait_seconds", 300, 1, 86400, "distributed runs: how long a run waits while no live worker serves the blocks queue (it says so every 30 s) before it fails"),
        SettingDefinition.Int("block_timeout_seconds", 120, 1, 86400, "distributed runs: a block task processing this long without finishing is given a fresh job (a hung or lost worker)"),
    ];

    private static readonly Dictionary<string, SettingDefinition> ByKey = Definitions.ToDictionary(d => d.Key, StringComparer.Ordinal);

    private readonly Dictionary<string, string> _raw;

    private JobSettings(Dictionary<string, string> raw, Dictionary<string, float> eventWeights, string? tunedFrom)
    {
        _raw = raw;
        TunedFrom = tunedFrom;
        EventWeights = eventWeights;
        var parsed = raw.ToDictionary(kv => kv.Key, kv => ByKey[kv.Key].Parse(kv.Value), StringComparer.Ordinal);
        var r = new Reader(parsed);
        Fit = ReadFit(r);
        Input = ReadInput(r);
        Evaluation = ReadEvaluation(r);
        Retrieval = ReadRetrieval(r);
        Lists = ReadLists(r);
        Debias = ReadDebias(r);
        Tuning = ReadTuning(r);
        Publish = ReadPublish(r);
        Distributed = ReadDistributed(r);
        KeysRead = r.Keys;
    }

    /// <summary>Weights per event_type from the job file's <c>event_weights</c> object (or <c>--set event_weights.TYPE=W</c>).</summary>
    public IReadOnlyDictionary<string, float> EventWeights { get; }

    /// <summary>The tuning whose settings were applied (between the job file and --set), or null.</summary>
    public string? TunedFrom { get; }

    /// <summary>The effective settings as strings (for the manifest and the runs table).</summary>
    public IReadOnlyDictionary<string, string> Effective
    {
        get
        {
            var d = new SortedDictionary<string, string>(_raw, StringComparer.Ordinal);
            foreach (var (t, w) in EventWeights) d["event_weights." + t] = w.ToString("R", CultureInfo.InvariantCulture);
            if (TunedFrom is not null) d["tuned_from"] = TunedFrom;
            return d;
        }
    }

    /// <summary>The ALS fit: model, solver, blocks, warm start, checkpoints.</summary>
    public FitSettings Fit { get; }

    /// <summary>The input and how its events become pairs.</summary>
    public InputSettings Input { get; }

    /// <summary>The evaluation hold-out and the quality gate.</summary>
    public EvaluationSettings Evaluation { get; }

    /// <summary>Top-N retrieval and the index.</summary>
    public RetrievalSettings Retrieval { get; }

    /// <summary>Who gets a list and what a list may hold: the popularity fallback, business rules, similar items.</summary>
    public ListSettings Lists { get; }

    /// <summary>Inverse propensity weighting.</summary>
    public DebiasSettings Debias { get; }

    /// <summary>Tuning and whether its result applies.</summary>
    public TuningSettings Tuning { get; }

    /// <summary>Publishing into the lake.</summary>
    public PublishSettings Publish { get; }

    /// <summary>How a distributed run waits for its workers and blocks.</summary>
    public DistributedSettings Distributed { get; }

    /// <summary>The keys the typed groups read, in order (a test checks each definition is read exactly once).</summary>
    internal IReadOnlyList<string> KeysRead { get; }

    public int Factors => Fit.Factors;
    public int TopN => Retrieval.TopN;
    public int Iterations => Fit.Iterations;
    public int RefitIterations => Fit.RefitIterations;
    public int LookbackDays => Input.LookbackDays;
    public double HoldoutFraction => Evaluation.HoldoutFraction;
    public int Seed => Fit.Seed;

    /// <summary>Reads the parsed values for the typed groups, noting every key read.</summary>
    private sealed class Reader(Dictionary<string, object> parsed)
    {
        public List<string> Keys { get; } = [];

        private object Get(string key)
        {
            Keys.Add(key);
            return parsed.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"unknown setting '{key}'.");
        }

        public int Int(string key) => (int)Get(key);
        public bool Bool(string key) => (bool)Get(key);
        public double Double(string key) => (double)Get(key);
        public string? Text(string key) => (string)Get(key) is { Length: > 0 } s ? s : null;
        public T Choice<T>(string key) where T : struct, Enum => (T)ByKey[key].ChoiceValues![(string)Get(key)];
    }

    private static FitSettings ReadFit(Reader r) => new(
        Factors: r.Int("factors"),
        Regularization: r.Double("regularization"),
        Alpha: r.Double("alpha"),
        Iterations: r.Int("iterations"),
        RefitIterations: r.Int("refit_iterations"),
        WarmStart: r.Choice<WarmStart>("warm_start"),
        Seed: r.Int("seed"),
        Solver: r.Choice<AlsSolver>("solver"),
        CgSteps: r.Int("cg_steps"),
        Confidence: r.Choice<ConfidenceKind>("confidence"),
        Mode: r.Choice<AlsMode>("mode"),
        ScaleRegularization: r.Bool("scale_regularization"),
        UserBlocks: r.Int("user_blocks"),
        ItemBlocks: r.Int("item_blocks"),
        Checkpoints: r.Choice<CheckpointMode>("checkpoints"));

    private static InputSettings ReadInput(Reader r) => new(
        LookbackDays: r.Int("lookback_days"),
        Combine: r.Choice<CombineRule>("combine"),
        HalfLifeDays: r.Double("half_life_days"),
        EpochUnit: r.Choice<EpochUnit>("epoch_unit"),
        Reader: r.Choice<ReaderKind>("reader"),
        SkipBadFiles: r.Bool("skip_bad_files"),
        ItemsInput: r.Text("items_input"),
        ExposureInput: r.Text("exposure_input"),
        UsersInput: r.Text("users_input"),
        ExcludeInput: r.Text("exclude_input"));

    private static EvaluationSettings ReadEvaluation(Reader r) => new(
        HoldoutFraction: r.Double("holdout_fraction"),
        QualityGate: r.Bool("quality_gate"),
        GateTolerance: r.Double("gate_tolerance"),
        UnbiasedInput: r.Text("unbiased_input"),
        FeedbackInput: r.Text("feedback_input"),
        OpeDays: r.Int("ope_days"),
        OpeGate: r.Bool("ope_gate"));

    private static RetrievalSettings ReadRetrieval(Reader r) => new(
        TopN: r.Int("top_n"),
        Index: r.Choice<IndexKind>("index"),
        Nlist: r.Int("nlist"),
        Nprobe: r.Int("nprobe"),
        RecallFloor: r.Double("recall_floor"),
        CanaryUsers: r.Int("canary_users"),
        ExactBudgetSeconds: r.Double("exact_budget_seconds"));

    private static ListSettings ReadLists(Reader r) => new(
        MinHistory: r.Int("min_history"),
        MinSegmentUsers: r.Int("min_segment_users"),
        MaxPerCategory: r.Int("max_per_category"),
        SimilarItems: r.Bool("similar_items"),
        SimilarN: r.Int("similar_n"),
        ExploreSlots: r.Int("explore_slots"),
        ExplorePool: r.Int("explore_pool"),
        ExploreUniform: r.Double("explore_uniform"));

    private static DebiasSettings ReadDebias(Reader r) => new(
        Mode: r.Choice<DebiasMode>("debias"),
        Propensity: r.Choice<PropensityModel>("propensity"),
        PropensityEta: r.Double("propensity_eta"),
        PropensityClip: r.Double("propensity_clip"),
        RerankBeta: r.Double("rerank_beta"),
        RerankCandidates: r.Int("rerank_candidates"),
        UnexposedWeight: r.Double("unexposed_weight"));

    private static TuningSettings ReadTuning(Reader r) => new(
        UseTuned: r.Bool("use_tuned"),
        Budget: r.Int("tune_budget"),
        FinalFits: r.Double("tune_final_fits"),
        Metric: r.Choice<TuneMetric>("tune_metric"));

    private static PublishSettings ReadPublish(Reader r) => new(
        LockTimeoutSeconds: r.Int("lock_timeout_seconds"),
        RetentionDays: r.Int("retention_days"));

    private static DistributedSettings ReadDistributed(Reader r) => new(
        WorkerWaitSeconds: r.Int("worker_wait_seconds"),
        BlockTimeoutSeconds: r.Int("block_timeout_seconds"));

    public AlsSettings ToAls(int? iterations = null) => new(
        Factors: Fit.Factors,
        Regularization: (float)Fit.Regularization,
        Alpha: (float)Fit.Alpha,
        Iterations: iterations ?? Fit.Iterations,
        Solver: Fit.Solver,
        CgSteps: Fit.CgSteps,
        Confidence: Fit.Confidence,
        ScaleRegularization: Fit.ScaleRegularization,
        Mode: Fit.Mode,
        Seed: (ulong)Fit.Seed);

    public static JobSettings Defaults() => Create(null, []);

    /// <summary>
    /// Defaults, then <paramref name="fromJob"/> (the job file's settings), then <paramref name="tuned"/> (the job's last
    /// adopted tuning, unless <c>use_tuned=false</c>), then <paramref name="overrides"/> (key=value).
    /// </summary>
    public static JobSettings Create(IReadOnlyDictionary<string, string>? fromJob, IEnumerable<string> overrides,
        IReadOnlyDictionary<string, float>? eventWeights = null, (string Id, IReadOnlyDictionary<string, string> Settings)? tuned = null)
    {
        var raw = Definitions.ToDictionary(d => d.Key, d => d.Default, StringComparer.Ordinal);
        var weights = new Dictionary<string, float>(eventWeights ?? new Dictionary<string, float>(), StringComparer.Ordinal);
        foreach (var (k, v) in fromJob ?? new Dictionary<string, string>())
        {
            if (!ByKey.ContainsKey(k)) throw Unknown(k, "the job file");
            raw[k] = v;
        }
        // Parse the overrides first: they decide whether the tuning applies (use_tuned) and go on top of it.
        var set = new List<(string Key, string Value)>();
        foreach (var o in overrides)
        {
            int eq = o.IndexOf('=');
            if (eq <= 0) throw new SettingsException(o, $"--set expects key=value (got '{o}').");
            string k = o[..eq].Trim(), v = o[(eq + 1)..].Trim();
            if (k.StartsWith("event_weights.", StringComparison.Ordinal))
            {
                weights[k["event_weights.".Length..]] = ParseWeight(k, v);
                continue;
            }
            if (!ByKey.ContainsKey(k)) throw Unknown(k, "--set");
            set.Add((k, v));
        }
        string useTuned = set.LastOrDefault(x => x.Key == "use_tuned").Value ?? raw["use_tuned"];
        string? tunedFrom = null;
        if (tuned is { } t && (bool)ByKey["use_tuned"].Parse(useTuned))
        {
            foreach (var (k, v) in t.Settings)
            {
                if (!ByKey.ContainsKey(k)) throw Unknown(k, $"tuned settings {t.Id}");
                raw[k] = v;
            }
            tunedFrom = t.Id;
        }
        foreach (var (k, v) in set) raw[k] = v;
        return new JobSettings(raw, weights, tunedFrom);
    }

    internal static float ParseWeight(string key, string v) =>
        float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float w) && float.IsFinite(w) && w >= 0
            ? w : throw new SettingsException(key, $"setting '{key}' must be a number ≥ 0 (got '{v}').");

    private static SettingsException Unknown(string key, string source)
    {
        var near = Definitions.Select(d => d.Key).OrderBy(d => Levenshtein(d, key)).First();
        return new SettingsException(key, $"unknown setting '{key}' in {source}; did you mean '{near}'? Known settings: {string.Join(", ", Definitions.Select(d => d.Key))}.");
    }

    private static int Levenshtein(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }

    internal static string JsonScalar(JsonElement e, string key) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetRawText(),
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new SettingsException(key, $"setting '{key}' must be a number or a string (got {e.ValueKind})."),
    };
}
