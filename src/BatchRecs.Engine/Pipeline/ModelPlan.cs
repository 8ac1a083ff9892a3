using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Debias;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Debias.ML;
using BatchRecs.Engine.Settings;
using BatchRecs.Lake.Scratch;

namespace BatchRecs.Engine.Pipeline;

/// <summary>How a run retrieves: exactly or through the IVF, and for index=auto the estimate that decided it.</summary>
/// <param name="Exact">exact scoring (else the IVF).</param>
/// <param name="EstimateSeconds">index=auto: estimated seconds of exact scoring for every user; null when the job chose.</param>
/// <param name="BudgetSeconds">exact_budget_seconds.</param>
/// <param name="SecondsPerQuery">index=auto: the measured seconds of one exact query against the catalogue (0 otherwise).</param>
public sealed record IndexChoice(bool Exact, double? EstimateSeconds, double BudgetSeconds, double SecondsPerQuery = 0)
{
    /// <summary>Why, in words (for the log).</summary>
    public string Reason => EstimateSeconds is { } e
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"index=auto: exact scoring estimated at {e:F1} s, {(Exact ? "within" : "over")} exact_budget_seconds {BudgetSeconds:G}")
        : $"index={(Exact ? "exact" : "ivf")} set by the job";
}

/// <summary>What the IVF index did in a run (recorded in <c>run_metrics</c> as <c>index.*</c>).</summary>
public sealed record IndexReport(int Nlist, int Nprobe, RecallReport Recall, double BuildSeconds, double TuneSeconds, double SearchSeconds, double FractionScored);

/// <summary>
/// How a job turns pairs into lists, shared by the evaluated fit, the published refit and tuning trials so they can
/// never drift apart: confidence and (for ipw-train) Rel-MF confidences and preferences, the block layout, and scoring with
/// seen items and the business rules' exclusions filtered inside retrieval, (for ipw-rerank and both) the re-rank by ŝ/p_i^β of
/// over-fetched candidates, and the category cap.
/// </summary>
/// <param name="settings">the job's settings.</param>
/// <param name="executor">where block tasks run.</param>
/// <param name="exposures">the exposure log (propensity=exposure, unexposed_weight &lt; 1), or null.</param>
/// <param name="feedback">served lists' logged exposures (propensity=logged), or null.</param>
/// <param name="rules">bans, per-user exclusions and the category cap, or null (none).</param>
public sealed class ModelPlan(JobSettings settings, IExecutor executor, ExposureLog? exposures = null, ListRules? rules = null, FeedbackLog? feedback = null)
{
    /// <summary>
    /// Candidates retrieved per list slot when the category cap picks from more than N (a user left short is searched
    /// again, exactly and deeper). At 10M interactions (100k users, 50 categories, cap 5 of 20) a scoring took 1.9 s with
    /// bans and no cap; with the cap, 2.0 s at 1, 2.25 s at 1.5, 3.8 s at 3. 1.5 spares most re-searches when the
    /// categories follow taste (and so crowd the top) at a small cost when they do not.
    /// </summary>
    public const double CapOverFetch = 1.5;

    public int N { get; } = settings.TopN;
    public DebiasMode Debias => settings.Debias.Mode;
    public bool TrainWithIpw => settings.Debias.TrainWithIpw;
    public bool RerankWithIpw => settings.Debias.RerankWithIpw;

    /// <summary>Candidates retrieved per user: N, or more when a re-rank (N × rerank_candidates) or the category cap (N × 1.5) picks from them.</summary>
    public int FetchCount => Math.Max(RerankWithIpw ? N * settings.Debias.RerankCandidates : N, rules?.Cap is null ? N : (int)Math.Ceiling(N * CapOverFetch));

    /// <summary>How retrieval went, once decided (index=auto decides on the first retrieval, from a timed sample).</summary>
    public IndexChoice? Index { get; private set; }

    /// <summary>Training weighs pairs never shown below those shown and passed over (unexposed_weight &lt; 1).</summary>
    public bool TrainOnExposures => settings.Debias.TrainOnExposures;

    /// <summary>The exposures a fit may see when it trains on them: those first shown before each user's cut (a hold-out's
    /// or a validation split's first held-out time); null when training does not use exposures.</summary>
    public CsrMatrix? ShownBefore(long[] userCut) => TrainOnExposures ? Exposures().Before(userCut) : null;

    /// <summary>The same before one cut for every user (the off-policy window, a night).</summary>
    public CsrMatrix? ShownBefore(long cut) => TrainOnExposures ? Exposures().Before(cut) : null;

    /// <summary>Every exposure of the window, for the published fit; null when training does not use exposures.</summary>
    public CsrMatrix? AllShown => TrainOnExposures ? Exposures().Pairs : null;

    private ExposureLog Exposures() => exposures ?? throw new SettingsException("unexposed_weight",
        "unexposed_weight < 1 trains on what users were shown and needs exposure_input (a directory of exposure logs).");

    /// <summary>
    /// The fit's problem: exposure-aware (unexposed_weight &lt; 1, from the exposures <paramref name="shown"/> the caller
    /// allows, IPS-weighted under ipw-train), Rel-MF (ipw-train) or plain.
    /// </summary>
    private AlsProblem Problem(CsrMatrix strengths, AlsSettings als, float[] propensity, CsrMatrix? shown, IExecutor? on)
    {
        if (!TrainOnExposures) return TrainWithIpw ? AlsProblem.BuildRelMf(strengths, als, propensity, on) : AlsProblem.Build(strengths, als, on);
        if (shown is null) throw new InvalidOperationException("a fit that trains on exposures needs the exposures it may see (ModelPlan.ShownBefore or AllShown).");
        // Merged with the exposures where this process can: the strengths whole, read back from their store if need be.
        return AlsProblem.BuildExposureAware(strengths.WithEntries(), shown, als, (float)settings.Debias.UnexposedWeight, TrainWithIpw ? propensity : [], on);
    }

    /// <summary>
    /// The fit's ALS settings. Trained on exposures, the problem is the loss divided by w₀ (<see cref="AlsProblem.BuildExposureAware"/>),
    /// so λ is divided too: regularization keeps its weight against the pairs users were shown whatever w₀ is (with λ fixed
    /// in the divided loss, a small w₀ weakened it 1/w₀-fold, and the tuner's λ range could not reach what plain ALS reaches).
    /// </summary>
    private AlsSettings Als(int iterations)
    {
        var als = settings.ToAls(iterations);
        return TrainOnExposures ? als with { Regularization = (float)(als.Regularization / settings.Debias.UnexposedWeight) } : als;
    }

    /// <summary>Propensities from item popularity counts (clipped).</summary>
    public float[] PopularityPropensity(int[] counts) =>
        Propensity.FromPopularity(counts, settings.Debias.PropensityEta, settings.Debias.PropensityClip);

    /// <summary>
    /// Item propensities for a user × item matrix: from its popularity, or (propensity=exposure) from the exposure
    /// model fitted on the exposure log with this matrix's popularity and user activity as features.
    /// </summary>
    public float[] Propensities(CsrMatrix strengths, int[] counts)
    {
        if (settings.Debias.Propensity == PropensityModel.Logged) return LoggedPropensity(counts);
        if (settings.Debias.Propensity != PropensityModel.Exposure) return PopularityPropensity(counts);
        if (exposures is null) throw new SettingsException("exposure_input", "propensity=exposure needs exposure_input (a directory of exposure logs).");
        var activity = new int[strengths.Rows];
        for (int u = 0; u < activity.Length; u++) activity[u] = strengths.RowLength(u);
        return ExposurePropensity.Fit(exposures.Pairs, counts, activity, settings.Debias.PropensityClip, (ulong)settings.Seed).Propensity;
    }

    /// <summary>
    /// propensity=logged: per item, the mean propensity the serving policy logged with its exposures (the probability it
    /// showed the item to those users), clipped to [propensity_clip, 1]; items never served keep popularity's estimate.
    /// A per-item mean stands in for Rel-MF's per-item θ; with exploration traffic it is a measured exposure probability
    /// rather than a guess from popularity.
    /// </summary>
    private float[] LoggedPropensity(int[] counts)
    {
        if (feedback is null) throw new SettingsException("propensity", "propensity=logged needs feedback_input (served lists' exposures with their logged propensities).");
        var p = PopularityPropensity(counts);
        var (sum, n) = (new double[p.Length], new int[p.Length]);
        for (int e = 0; e < feedback.Rows; e++) { sum[feedback.Items[e]] += feedback.Propensity[e]; n[feedback.Items[e]]++; }
        float clip = (float)settings.Debias.PropensityClip;
        for (int i = 0; i < p.Length; i++) if (n[i] > 0) p[i] = Math.Clamp((float)(sum[i] / n[i]), clip, 1f);
        return p;
    }

    /// <param name="checkpointPath">where to checkpoint every iteration (and resume from), or null.</param>
    /// <param name="onIteration">called after every completed iteration.</param>
    /// <param name="trackLoss">compute the training loss every iteration (tuning trials, which only need the metric, skip it).</param>
    /// <param name="userSample">the share of the users <paramref name="strengths"/> holds (see <see cref="ImplicitAls.Fit"/>).</param>
    /// <param name="strengths">users × items interaction strengths to fit.</param>
    /// <param name="propensity">p_i per item, clipped (Rel-MF confidences and preferences when debias includes ipw-train, <see cref="AlsProblem.BuildRelMf"/>; unused otherwise).</param>
    /// <param name="iterations">ALS iterations of this fit.</param>
    /// <param name="warm">factors to start from, or null for seeded random ones.</param>
    /// <param name="ct">cancels the fit.</param>
    /// <param name="warmInPlace">solve in <paramref name="warm"/>'s arrays instead of copies (<see cref="AlsFitOptions.WarmInPlace"/>): it is the caller's no more.</param>
    /// <param name="shown">the exposures this fit may see when it trains on them (<see cref="ShownBefore(long[])"/>, <see cref="AllShown"/>).</param>
    public AlsModel Fit(CsrMatrix strengths, float[] propensity, int iterations, AlsModel? warm, CancellationToken ct,
        string? checkpointPath = null, Action<IterationStats>? onIteration = null, bool trackLoss = true, double userSample = 1.0, bool warmInPlace = false,
        CsrMatrix? shown = null)
    {
        var als = Als(iterations);
        if (als.Mode == AlsMode.Explicit) return ForRanking(ExplicitAls.Fit(strengths.WithEntries(), als, onIteration: onIteration));
        var problem = Problem(strengths, als, propensity, shown, executor);
        var checkpoint = checkpointPath is null ? null
            : new FileCheckpoint(checkpointPath, FileCheckpoint.Fingerprint(problem, als, warm?.UserFactors, warm?.ItemFactors));
        return ImplicitAls.Fit(problem, als, executor, new AlsFitOptions
        {
            UserBlocks = settings.Fit.UserBlocks,
            ItemBlocks = settings.Fit.ItemBlocks,
            WarmUsers = warm?.UserFactors,
            WarmItems = warm?.ItemFactors,
            WarmInPlace = warmInPlace,
            OnIteration = onIteration,
            Checkpoint = checkpoint,
            TrackLoss = trackLoss,
            UserSample = userSample,
        }, ct);
    }

    /// <summary>
    /// Explicit mode ranks a user's items by bᵢ + xᵤᵀyᵢ (the global mean and bᵤ do not change a user's order), i.e. by the
    /// inner product of [xᵤ, 1] and [yᵢ, bᵢ]: the model is returned with those (k+1)-dimensional factors, so scoring, the
    /// index and publishing stay one code path.
    /// </summary>
    private static AlsModel ForRanking(BiasedModel m)
    {
        int k = m.Factors.Factors, k1 = k + 1;
        var users = new float[m.Factors.Users * k1];
        var items = new float[m.Factors.Items * k1];
        for (int u = 0; u < m.Factors.Users; u++) { m.Factors.UserVector(u).CopyTo(users.AsSpan(u * k1)); users[u * k1 + k] = 1f; }
        for (int i = 0; i < m.Factors.Items; i++) { m.Factors.ItemVector(i).CopyTo(items.AsSpan(i * k1)); items[i * k1 + k] = m.ItemBias[i]; }
        return new AlsModel(m.Factors.Users, m.Factors.Items, k1, users, items, m.Factors.History);
    }

    /// <summary>A scoring step over all users in user blocks (as many as the user half-step uses).</summary>
    private ScoringStep AllUsers(AlsModel model, CsrMatrix exclude, int fetch, IvfBuildOptions? ivf, int nprobe)
    {
        int blocks = settings.Fit.UserBlocks is > 0 and var b ? b : executor.Blocks(exclude);
        return new ScoringStep(model.UserFactors, model.ItemFactors, model.Factors, fetch, exclude, BlockPartitioner.Partition(exclude, blocks, model.Factors), ivf, nprobe,
            rules?.Banned, rules?.UserExclusions);
    }

    /// <summary>The exact query of a user subset (evaluation, the category cap's deeper candidates).</summary>
    private TopNQuery ExactQuery(int fetch, CsrMatrix exclude) => new(fetch, exclude, rules?.Banned, RuleExclude: rules?.UserExclusions);

    /// <summary>
    /// A model judged on an unbiased log: each user's logged items (minus <paramref name="history"/>) ordered as the
    /// published ranking orders them — by the score, or under ipw-rerank by the re-rank score ŝ/p^β — then SNIPS DCG and
    /// Recall at top_n.
    /// </summary>
    public RandomizedTestReport JudgeUnbiased(AlsModel model, CsrMatrix history, float[] propensity, UnbiasedLog log) =>
        log.Evaluate(log.Rank(history, RankingScore(model, propensity)), N);

    /// <summary>The score the published ranking orders a (user, item) by: the dot product, or under ipw-rerank the re-rank score ŝ/p^β.</summary>
    public Func<int, int, double> RankingScore(AlsModel model, float[] propensity)
    {
        var dot = UnbiasedLog.DotScore(model.UserFactors, model.ItemFactors, model.Factors);
        double beta = settings.Debias.RerankBeta;
        return RerankWithIpw ? (u, i) => PopularityRerank.Score((float)dot(u, i), propensity[i], beta) : dot;
    }

    /// <summary>
    /// The model with <paramref name="users"/>' factors solved again from their rows of <paramref name="history"/> alone,
    /// exactly (Cholesky), the item factors fixed — one user half-step, with the fit's confidences (Rel-MF's under
    /// ipw-train): what the model would hold for them had it never seen their later pairs. The rows are written into
    /// <paramref name="userFactors"/> (users × k; other rows are left as they are), which the returned model shares, so
    /// a caller refolding night after night copies the factors once. Explicit models are returned as they are (their
    /// factors carry biases a user solve does not reproduce).
    /// </summary>
    /// <param name="model">the model whose item factors are fixed.</param>
    /// <param name="itemGram">YᵀY of its item factors (<see cref="GramMatrix"/>), computed once by the caller.</param>
    /// <param name="userFactors">where the solved rows go.</param>
    /// <param name="history">each user's pairs to solve from.</param>
    /// <param name="propensity">item propensities (Rel-MF's confidences under ipw-train).</param>
    /// <param name="users">the users to solve.</param>
    /// <param name="shown">the exposures the refold may see when training on them (those before the night).</param>
    public AlsModel Refold(AlsModel model, float[] itemGram, float[] userFactors, CsrMatrix history, float[] propensity, IReadOnlyList<int> users,
        CsrMatrix? shown = null)
    {
        var als = Als(1) with { Solver = AlsSolver.Cholesky };
        if (als.Mode == AlsMode.Explicit) return model;
        var problem = Problem(history, als, propensity, shown, null);
        int k = model.Factors;
        Parallel.For(0, users.Count, j =>
        {
            int u = users[j];
            BlockSolver.Solve(problem.UserItemConf, problem.UserItemPref, new RowBlock(0, u, u + 1), model.ItemFactors, itemGram, userFactors.AsSpan(u * k, k), als);
        });
        return new AlsModel(model.Users, model.Items, k, userFactors, model.ItemFactors, model.History);
    }

    /// <summary>Whether fits checkpoint every iteration: always, never, or (auto) when blocks run outside this process.</summary>
    public bool Checkpoints => settings.Fit.Checkpoints switch { CheckpointMode.On => true, CheckpointMode.Off => false, _ => executor is not LocalExecutor };

    /// <summary>Top-N for <paramref name="users"/> (null = all), excluding each user's items in <paramref name="exclude"/>.</summary>
    public TopNResult Score(AlsModel model, CsrMatrix exclude, float[] propensity, int[]? users = null) => Retrieve(model, exclude, propensity, users).Lists;

    /// <summary>
    /// Top-N through the index (chosen on the first call: <see cref="Index"/>), with what the index did: for the IVF the
    /// index is built over the item factors, nprobe auto-tuned to reach <c>recall_floor</c> (plus a margin) on a seeded
    /// sample, every user searched, and a different seeded canary sample scored both exactly and through the index; a
    /// canary recall under the floor throws <see cref="RecallSloException"/>. History, bans and per-user exclusions are
    /// filtered inside the search; an ipw-rerank re-orders the fetched candidates; the category cap picks the lists from
    /// them (searching short users again, deeper).
    /// </summary>
    /// <param name="model">the model.</param>
    /// <param name="exclude">each user's history.</param>
    /// <param name="propensity">item propensities (the re-rank).</param>
    /// <param name="users">the users to list (null: all).</param>
    /// <param name="depth">the ranking depth kept when more than N are wanted (exploration's pool; not with the category cap).</param>
    public (TopNResult Lists, IndexReport? Index) Retrieve(AlsModel model, CsrMatrix exclude, float[] propensity, int[]? users = null, int depth = 0)
    {
        int fetch = Math.Max(FetchCount, depth);
        TopNResult candidates;
        IndexReport? report = null;
        Index ??= ChooseIndex(model, exclude);
        if (Index.Exact)
            candidates = users is null
                ? executor.Score(AllUsers(model, exclude, fetch, null, 0))
                : ExactTopN.Search(model.UserFactors, model.ItemFactors, model.Factors, ExactQuery(fetch, exclude.RowsOf(users)), users);
        else
            (candidates, report) = SearchIvf(model, exclude, fetch, users);
        int keep = rules?.Cap is null ? Math.Max(N, depth) : fetch;
        TopNResult Rerank(TopNResult c, int n) => RerankWithIpw ? PopularityRerank.Apply(c, propensity, settings.Debias.RerankBeta, n) : c;
        var lists = Rerank(candidates, keep);
        if (rules?.Cap is { } cap)
        {
            // Users whose over-fetched candidates the cap left short are searched again, exactly and deeper.
            TopNResult Deeper(int[] rows, int deeper)
            {
                var shortUsers = users is null ? rows : rows.Select(r => users[r]).ToArray();
                return Rerank(ExactTopN.Search(model.UserFactors, model.ItemFactors, model.Factors, ExactQuery(deeper, exclude.RowsOf(shortUsers)), shortUsers), deeper);
            }
            lists = cap.Apply(lists, N, Deeper, model.Items, out long removed);
            CategoryRemoved = removed;
        }
        return (lists, report);
    }

    /// <summary>
    /// The published lists: <see cref="Retrieve"/>'s, or with explore_slots the model's ranking to explore_pool deep and
    /// the exploration policy of the run date on top (<see cref="Exploration"/>: sources and exact propensities).
    /// </summary>
    public (TopNResult Lists, IndexReport? Index) RetrievePublished(AlsModel model, CsrMatrix exclude, float[] propensity, DateOnly runDate)
    {
        if (Exploring(runDate) is not { } policy) return Retrieve(model, exclude, propensity);
        var (ranked, report) = Retrieve(model, exclude, propensity, depth: policy.Pool);
        // Exploration draws from every user's unseen items: the history whole (read back from its store if need be).
        return (Exploration.Apply(ranked, N, policy, model.UserFactors, model.ItemFactors, model.Factors, ExactQuery(N, exclude.WithEntries())), report);
    }

    /// <summary>
    /// The exploration policy of the lists published for <paramref name="runDate"/> (seeded by the job's seed and the date,
    /// so each night explores other items and a re-run repeats its night), or null when explore_slots is 0.
    /// </summary>
    public ExplorePolicy? Exploring(DateOnly runDate)
    {
        var lists = settings.Lists;
        if (lists.ExploreSlots == 0) return null;
        if (lists.ExploreSlots > N)
            throw new SettingsException("explore_slots", $"explore_slots={lists.ExploreSlots} is more than top_n={N}: a list has only top_n positions.");
        int pool = lists.PoolFor(N);
        if (pool <= N)
            throw new SettingsException("explore_pool", $"explore_pool={pool} must be deeper than top_n={N}: exploration draws from the model's ranks top_n − explore_slots + 1 … explore_pool.");
        if (rules?.Cap is not null)
            throw new SettingsException("explore_slots", "explore_slots and max_per_category cannot be combined yet: the category cap would change which items exploration can show, and so its propensities.");
        return new ExplorePolicy(lists.ExploreSlots, pool, lists.ExploreUniform, SplitMix64.Mix((ulong)settings.Seed ^ ((ulong)runDate.DayNumber * 0x9E3779B97F4A7C15UL)));
    }

    /// <summary>Candidates the category cap skipped in the last retrieval.</summary>
    public long CategoryRemoved { get; private set; }

    /// <summary>
    /// index=exact and index=ivf are taken as given; index=auto times exact scoring of a seeded sample of users and
    /// chooses it when the estimate for every user with history is within exact_budget_seconds.
    /// </summary>
    private IndexChoice ChooseIndex(AlsModel model, CsrMatrix exclude)
    {
        var retrieval = settings.Retrieval;
        if (retrieval.Index != IndexKind.Auto) return new IndexChoice(retrieval.Index == IndexKind.Exact, null, retrieval.ExactBudgetSeconds);
        var active = Enumerable.Range(0, model.Users).Where(u => exclude.RowLength(u) > 0).ToArray();
        double estimate = ExactCostEstimate(model, exclude, active, (ulong)settings.Seed);
        return new IndexChoice(estimate <= retrieval.ExactBudgetSeconds, estimate, retrieval.ExactBudgetSeconds, active.Length == 0 ? 0 : estimate / active.Length);
    }

    /// <summary>
    /// Seconds exact scoring of <paramref name="active"/> would take on this machine: a seeded sample of 256 users is
    /// scored exactly on all cores and the time scaled up; when that estimate is within 4× of the budget either way, a
    /// larger sample (about 1 % of the users, at most 4096) decides. Packing the items into panels is timed with the
    /// sample (so the estimate errs high on tiny catalogues, where it does not matter).
    /// </summary>
    public double ExactCostEstimate(AlsModel model, CsrMatrix exclude, int[] active, ulong seed)
    {
        if (active.Length == 0 || model.Items == 0) return 0;
        var rng = new Random((int)(seed % int.MaxValue));
        var shuffled = active.OrderBy(_ => rng.Next()).ToArray();
        int larger = Math.Clamp(active.Length / 100, 256, 4096);
        // The sampled users' history is all the timed searches exclude (read from its store when this process holds rows only).
        var query = ExactQuery(FetchCount, exclude.RowsOf(shuffled.Take(Math.Max(256, larger))));
        // A first small search compiles the kernels, so the timed ones measure the scan, not the JIT.
        ExactTopN.Search(model.UserFactors, model.ItemFactors, model.Factors, query, shuffled[..Math.Min(8, shuffled.Length)]);
        double Timed(int sample)
        {
            var users = shuffled[..Math.Min(sample, shuffled.Length)].Order().ToArray();
            var sw = System.Diagnostics.Stopwatch.StartNew();
            ExactTopN.Search(model.UserFactors, model.ItemFactors, model.Factors, query, users);
            return sw.Elapsed.TotalSeconds * active.Length / users.Length;
        }
        double estimate = Timed(256), budget = settings.Retrieval.ExactBudgetSeconds;
        return larger > 256 && estimate < 4 * budget && estimate > budget / 4 ? Timed(larger) : estimate;
    }

    /// <summary>
    /// Each item's <c>similar_n</c> most similar other items by cosine of <paramref name="model"/>'s item factors
    /// (<see cref="SimilarItems.Compute"/>): exact, or through an IVF index (same nlist and seed) over the normalized items
    /// with nprobe as set, or auto-tuned to <c>recall_floor</c> plus the same margin. index=exact and index=ivf decide as
    /// for users; index=auto holds items × the measured seconds per exact query against exact_budget_seconds. Row i = item i.
    /// </summary>
    /// <param name="model">the published fit.</param>
    /// <param name="banned">items that are nobody's neighbour and get no list (business rules), or null.</param>
    public TopNResult SimilarItems(AlsModel model, IReadOnlySet<int>? banned)
    {
        int n = settings.Lists.SimilarN;
        bool exact = settings.Retrieval.Index switch
        {
            IndexKind.Exact => true,
            IndexKind.Ivf => false,
            _ => (Index?.SecondsPerQuery ?? 0) * model.Items <= settings.Retrieval.ExactBudgetSeconds,
        };
        if (exact)
            return Core.Index.SimilarItems.Compute(model.ItemFactors, model.Factors, n, banned);
        var build = new IvfBuildOptions(Nlist: settings.Retrieval.Nlist, Seed: (ulong)settings.Seed);
        return Core.Index.SimilarItems.Compute(model.ItemFactors, model.Factors, n, banned, build, settings.Retrieval.Nprobe,
            Math.Min(1.0, settings.Retrieval.RecallFloor + 0.01));
    }

    private (TopNResult, IndexReport) SearchIvf(AlsModel model, CsrMatrix exclude, int fetch, int[]? users)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var build = new IvfBuildOptions(Nlist: settings.Retrieval.Nlist, Seed: (ulong)settings.Seed);
        var index = IvfIndex.Build(model.ItemFactors, model.Factors, build);
        double buildSeconds = sw.Elapsed.TotalSeconds;
        double floor = settings.Retrieval.RecallFloor;
        int canary = settings.Retrieval.CanaryUsers;
        // Only users with history are scored for real; sample the tuning and the canary among them.
        var active = users ?? Enumerable.Range(0, model.Users).Where(u => exclude.RowLength(u) > 0).ToArray();
        // What this process searches itself: the tuning's and the canary's samples, the share scored, the subset asked for.
        // Their history is read from its store when this process holds rows only; all users' lists come from the executor.
        var searched = RecallMeasurement.Canary(model.Users, canary, (ulong)settings.Seed + 1, active)
            .Concat(RecallMeasurement.Canary(model.Users, canary, RecallMeasurement.DefaultSeed, active)).Concat(active.Take(canary)).Concat(users ?? []);
        var options = new IvfSearchOptions(fetch, 1, exclude.RowsOf(searched), rules?.Banned, RuleExclude: rules?.UserExclusions);
        sw.Restart();
        int nprobe = settings.Retrieval.Nprobe;
        if (nprobe == 0)
            nprobe = index.AutoTuneNprobe(model.UserFactors, model.ItemFactors, options, Math.Min(1.0, floor + 0.01), canary, (ulong)settings.Seed + 1, active).Nprobe;
        double tune = sw.Elapsed.TotalSeconds;
        options = options with { Nprobe = nprobe };
        sw.Restart();
        // Everyone's lists through the executor (user blocks, each runner building the same seeded index); a subset here.
        TopNResult lists;
        if (users is null) lists = executor.Score(AllUsers(model, exclude, fetch, build, nprobe));
        else lists = index.Search(model.UserFactors, options, users).Result;
        double search = sw.Elapsed.TotalSeconds;
        var recall = RecallMeasurement.Measure(index, model.UserFactors, model.ItemFactors, options, canary, RecallMeasurement.DefaultSeed, active);
        // The share of the catalogue scored per user, measured on the canary-sized prefix of the active users.
        double fraction = index.Search(model.UserFactors, options, active.Take(canary).ToArray()).Stats.FractionScored(model.Items);
        var report = new IndexReport(index.Nlist, nprobe, recall, buildSeconds, tune, search, fraction);
        if (recall.Mean < floor)
            throw new RecallSloException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"IVF canary recall@{fetch} {recall.Mean:F4} (p5 {recall.P5:F4}, {recall.Users} users, nlist {index.Nlist}, nprobe {nprobe}) is under recall_floor {floor}; raise nprobe or use index=exact."));
        return (lists, report);
    }
}
