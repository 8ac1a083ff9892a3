using BatchRecs.Core.Data;

namespace BatchRecs.Core.Index;

/// <summary>The exploration policy's settings: slots per list, the model's candidate depth, and the rate of uniform draws.</summary>
/// <param name="Slots">explore_slots: positions of each list the policy fills (0: off).</param>
/// <param name="Pool">explore_pool: the model ranks N − m + 1 … Pool are the pool the policy draws from.</param>
/// <param name="Uniform">explore_uniform: each slot draws from the whole eligible catalogue with this probability.</param>
/// <param name="Seed">the policy's seed for the night (a function of the job's seed and the run date).</param>
public sealed record ExplorePolicy(int Slots, int Pool, double Uniform, ulong Seed);

/// <summary>
/// Fills <see cref="ExplorePolicy.Slots"/> positions of each user's top-N with a seeded randomized policy and logs, for
/// every row, the exact probability that the policy puts that item in that user's list that night.
/// </summary>
/// <remarks>
/// <para><b>The policy</b>, for a user with model ranking r₁, r₂, … (history, bans and exclusions already left out),
/// N slots and m exploration slots:</para>
/// <list type="number">
/// <item>the model keeps r₁ … r_{N−m} (probability 1);</item>
/// <item>K ~ Binomial(m, ε) of the m slots are uniform slots, the other m − K pool slots;</item>
/// <item>the pool slots take t = min(m − K, |P|) items without replacement, uniformly, from the pool P = r_{N−m+1} … r_{pool}:
/// the m items the exploration slots displace, and the next ones;</item>
/// <item>the uniform slots take c = min(m − t, C − t) items without replacement, uniformly, from the C eligible items
/// outside the model's slots that the pool slots did not take (so a pool item can also come in by a uniform draw);</item>
/// <item>the drawn items go to m seeded random positions of the N; the model's items keep their order in the others.</item>
/// </list>
/// <para><b>The propensity</b> of an eligible item i outside the model's slots is then exactly
/// π(i) = Σ_k B(k; m, ε)·[ 1{i ∈ P}·t_k/|P| + (1 − 1{i ∈ P}·t_k/|P|)·c_k/(C − t_k) ], and Σ_i π(i) = E[t + c] = m when
/// the catalogue allows (the test checks both against Monte Carlo draws). The pool starts right after the model's slots, not
/// at N + 1: ranked N − m + 1 … N, the displaced items are the ones any other model would most likely list, and with a
/// pool from N + 1 they came in only by a uniform draw (propensity ≈ m·ε/C): an off-policy estimate of lists that hold
/// them then lacked about a fifth of their clicks (measured in <c>batchrecs simulate</c>: −25 % against the truth).</para>
/// <para>Each user's draws come from a generator seeded by (policy seed, user), so a run is reproducible and users are
/// independent; the policy seed changes with the run date, so the explored items change from night to night.</para>
/// </remarks>
public static class Exploration
{
    /// <summary>
    /// The published lists: for each user with a model list, the model's first N − m items and m explored ones, with
    /// every slot's source and propensity; users without model candidates are left empty.
    /// </summary>
    /// <param name="ranked">each user's model ranking, at least N deep (Pool deep for a full pool), eligible items only.</param>
    /// <param name="n">the list length N.</param>
    /// <param name="policy">the policy.</param>
    /// <param name="userFactors">users × k factors, to score uniform draws (pool items keep the ranking's score).</param>
    /// <param name="itemFactors">items × k factors.</param>
    /// <param name="k">the factor count.</param>
    /// <param name="exclusions">what each user may not get (the query's history, bans and per-user exclusions; its N is unused).</param>
    public static TopNResult Apply(TopNResult ranked, int n, ExplorePolicy policy, float[] userFactors, float[] itemFactors, int k, TopNQuery exclusions) =>
        Apply(ranked, n, policy, userFactors, itemFactors, k, new ItemExclusions(exclusions.Exclude, exclusions.Banned, exclusions.RuleExclude));

    private static TopNResult Apply(TopNResult ranked, int n, ExplorePolicy policy, float[] userFactors, float[] itemFactors, int k, ItemExclusions exclusions)
    {
        int items = itemFactors.Length / k;
        int m = Math.Min(policy.Slots, n);
        var lists = new TopNResult(ranked.Users, n);
        lists.InitPropensities();
        int bans = exclusions.BannedBelow(items);
        var binomial = BinomialTable(m, policy.Uniform); // the same for every user
        Parallel.For(0, ranked.Users, () => new Scratch(n, items, Math.Max(0, policy.Pool - (n - m))), (u, _, scratch) =>
        {
            Fill(u, ranked, n, m, policy, binomial, userFactors, itemFactors, k, items, exclusions, bans, lists, scratch);
            return scratch;
        }, _ => { });
        return lists;
    }

    private sealed class Scratch(int n, int items, int pool)
    {
        public readonly HashSet<int> Taken = new(4 * n);
        public readonly List<(int Item, float Score)> Drawn = new(n);
        public readonly int[] Positions = new int[n];
        public readonly bool[] IsExplore = new bool[n];
        public readonly int[] PoolOrder = new int[pool];
        public readonly List<int> Eligible = new(Math.Min(items, 1024));
    }

    private static void Fill(int u, TopNResult ranked, int n, int m, ExplorePolicy policy, double[] binomial, float[] userFactors, float[] itemFactors,
        int k, int items, ItemExclusions exclusions, int bans, TopNResult lists, Scratch s)
    {
        var cand = ranked.ItemsOf(u);
        var candScores = ranked.ScoresOf(u);
        if (cand.Length == 0) return;
        int keep = Math.Min(n - m, cand.Length);
        int pool = Math.Max(0, Math.Min(cand.Length, policy.Pool) - keep);
        // Eligible items outside the model's slots: the user's eligible count less the kept ones.
        int outside = exclusions.EligibleCount(u, items, bans) - keep;
        var rng = new Random(unchecked((int)SplitMix64.Mix(policy.Seed ^ ((ulong)(uint)u * 0x9E3779B97F4A7C15UL))));
        s.Taken.Clear(); s.Drawn.Clear();
        for (int j = 0; j < keep; j++) s.Taken.Add(cand[j]);

        int uniformSlots = 0;
        for (int j = 0; j < m; j++) if (rng.NextDouble() < policy.Uniform) uniformSlots++;
        int t = Math.Min(m - uniformSlots, pool);
        // Pool draws: a partial Fisher–Yates over the pool's positions keep … keep + pool − 1.
        var order = s.PoolOrder;
        for (int j = 0; j < pool; j++) order[j] = keep + j;
        for (int j = 0; j < t; j++)
        {
            int pick = j + rng.Next(pool - j);
            (order[j], order[pick]) = (order[pick], order[j]);
            s.Taken.Add(cand[order[j]]);
            s.Drawn.Add((cand[order[j]], candScores[order[j]]));
        }
        int c = Math.Max(0, Math.Min(m - t, outside - t));
        DrawUniform(u, c, items, exclusions, rng, s, userFactors, itemFactors, k);

        // Positions: m seeded positions of the N (or of what the list can hold) get the drawn items, in draw order.
        int total = keep + s.Drawn.Count;
        Array.Clear(s.IsExplore, 0, n);
        for (int j = 0; j < total; j++) s.Positions[j] = j;
        for (int j = 0; j < s.Drawn.Count; j++)
        {
            int pick = j + rng.Next(total - j);
            (s.Positions[j], s.Positions[pick]) = (s.Positions[pick], s.Positions[j]);
            s.IsExplore[s.Positions[j]] = true;
        }
        int model = 0, drawn = 0;
        long row = (long)u * n;
        for (int slot = 0; slot < total; slot++)
        {
            if (s.IsExplore[slot])
            {
                var (item, score) = s.Drawn[drawn++];
                bool inPool = IndexOfPool(cand, keep, pool, item);
                lists.Items[row + slot] = item;
                lists.Scores[row + slot] = score;
                lists.Propensities![row + slot] = (float)Propensity(inPool, m, pool, outside, binomial);
                lists.Sources![row + slot] = ListSource.Explore;
            }
            else
            {
                lists.Items[row + slot] = cand[model];
                lists.Scores[row + slot] = candScores[model++];
            }
        }
        lists.Counts[u] = total;
    }

    private static bool IndexOfPool(ReadOnlySpan<int> cand, int start, int pool, int item)
    {
        foreach (int i in cand.Slice(start, pool)) if (i == item) return true;
        return false;
    }

    /// <summary>c items uniformly without replacement from the eligible items not yet taken (rejection first, enumeration
    /// when the user has few left).</summary>
    private static void DrawUniform(int u, int c, int items, ItemExclusions exclusions, Random rng, Scratch s, float[] userFactors, float[] itemFactors, int k)
    {
        if (c == 0) return;
        float Score(int i) => ScoreKey.Dot(userFactors.AsSpan(u * k, k), itemFactors.AsSpan(i * k, k));
        int attempts = 0;
        int got = 0;
        while (got < c && attempts < 64 * c)
        {
            attempts++;
            int i = rng.Next(items);
            if (s.Taken.Contains(i) || exclusions.Excludes(u, i)) continue;
            s.Taken.Add(i);
            s.Drawn.Add((i, Score(i)));
            got++;
        }
        if (got == c) return;
        // Few eligible items left: enumerate them and draw the rest uniformly among them (the same distribution).
        s.Eligible.Clear();
        for (int i = 0; i < items; i++) if (!s.Taken.Contains(i) && !exclusions.Excludes(u, i)) s.Eligible.Add(i);
        for (int j = 0; got < c && j < s.Eligible.Count; j++, got++)
        {
            int pick = j + rng.Next(s.Eligible.Count - j);
            (s.Eligible[j], s.Eligible[pick]) = (s.Eligible[pick], s.Eligible[j]);
            s.Taken.Add(s.Eligible[j]);
            s.Drawn.Add((s.Eligible[j], Score(s.Eligible[j])));
        }
    }


    /// <summary>
    /// The exact probability that the policy shows an eligible item outside the model's slots: in the pool or not, with m
    /// slots, a pool of <paramref name="pool"/> items and <paramref name="outside"/> eligible items outside the model's slots.
    /// </summary>
    public static double Propensity(bool inPool, int m, int pool, int outside, ReadOnlySpan<double> binomial)
    {
        double p = 0;
        for (int k = 0; k <= m; k++)
        {
            int t = Math.Min(m - k, pool);
            int c = Math.Max(0, Math.Min(m - t, outside - t));
            double fromPool = inPool && pool > 0 ? (double)t / pool : 0;
            double fromUniform = outside - t > 0 ? (double)c / (outside - t) : 0;
            p += binomial[k] * (fromPool + (1 - fromPool) * fromUniform);
        }
        return p;
    }

    /// <summary>The policy's B(k; m, ε) for k = 0 … m, for callers of <see cref="Propensity"/>.</summary>
    public static double[] BinomialTable(int m, double eps)
    {
        var table = new double[m + 1];
        for (int k = 0; k <= m; k++)
        {
            double choose = 1;
            for (int j = 1; j <= k; j++) choose = choose * (m - k + j) / j;
            table[k] = choose * Math.Pow(eps, k) * Math.Pow(1 - eps, m - k);
        }
        return table;
    }
}
