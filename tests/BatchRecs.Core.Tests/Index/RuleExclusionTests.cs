using BatchRecs.Core.Data;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Index;

/// <summary>
/// Top-N search with the three kinds of exclusions (history, global bans, per-user rule rows), checked against a brute
/// force written here: every item scored with <see cref="ScoreKey.Dot"/>, sorted by score then item index.
/// </summary>
public class RuleExclusionTests
{
    private const int K = 16, Users = 300, Items = 500, N = 10;

    /// <summary>A seeded model with history, 20 bans and per-user rule rows, some of which hit the user's own top items.</summary>
    private sealed record Model(float[] U, float[] V, CsrMatrix History, HashSet<int> Banned, CsrMatrix Rules)
    {
        public TopNQuery Query(int n = N) => new(n, History, Banned, MaxThreads: 2, RuleExclude: Rules);
    }

    private static Model MakeModel(int seed, int users = Users, int items = Items, int? banCount = null, HashSet<int>? banned = null)
    {
        var u = SeededData.Matrix(users, K, seed);
        var v = SeededData.Matrix(items, K, seed + 1);
        var history = SeededData.History(users, items, 15, seed + 2);
        var rng = new Random(seed + 3);
        banned ??= new HashSet<int>();
        while (banned.Count < (banCount ?? 20)) banned.Add(rng.Next(items));
        var r = new List<int>(); var c = new List<int>();
        for (int x = 0; x < users; x++)
        {
            int m = rng.Next(0, 25);
            for (int e = 0; e < m; e++) { r.Add(x); c.Add(rng.Next(items)); }
            if (x % 3 == 0)
            {
                // Rules that surely matter: three of the user's unfiltered top 15 (history excluded).
                var top = Ranking(u, v, x, history, null, null).Take(15).ToArray();
                for (int e = 0; e < 3; e++) { r.Add(x); c.Add(top[rng.Next(top.Length)]); }
            }
        }
        // Rule rows may also repeat a history item or a ban: that must not change anything.
        r.Add(1); c.Add(history.RowLength(1) > 0 ? history.RowCols(1)[0] : 0);
        if (banned.Count > 0) { r.Add(2); c.Add(banned.Min()); }
        var rules = CsrMatrix.FromEntries(users, items, r.ToArray(), c.ToArray(), Enumerable.Repeat(1f, r.Count).ToArray());
        return new Model(u, v, history, banned, rules);
    }

    /// <summary>User x's items best-first (score desc, item asc), dropping history, bans and rule items (each when given).</summary>
    private static IEnumerable<(int Item, float Score)> RankingWithScores(float[] u, float[] v, int x, CsrMatrix? history, IReadOnlySet<int>? banned, CsrMatrix? rules)
    {
        int items = v.Length / K;
        var all = new List<(int Item, float Score)>();
        for (int i = 0; i < items; i++)
        {
            if (history is not null && history.RowCols(x).IndexOf(i) >= 0) continue;
            if (banned is not null && banned.Contains(i)) continue;
            if (rules is not null && rules.RowCols(x).IndexOf(i) >= 0) continue;
            all.Add((i, ScoreKey.Dot(u.AsSpan(x * K, K), v.AsSpan(i * K, K))));
        }
        return all.OrderByDescending(p => p.Score).ThenBy(p => p.Item);
    }

    private static IEnumerable<int> Ranking(float[] u, float[] v, int x, CsrMatrix? history, IReadOnlySet<int>? banned, CsrMatrix? rules) =>
        RankingWithScores(u, v, x, history, banned, rules).Select(p => p.Item);

    /// <summary>Brute-force RuleRemoved: per user, the top n without rules, counting those a ban or the rule row removes.</summary>
    private static long BruteRuleRemoved(Model m, int n)
    {
        long total = 0;
        int users = m.U.Length / K;
        for (int x = 0; x < users; x++)
            total += Ranking(m.U, m.V, x, m.History, null, null).Take(n)
                .Count(i => m.Banned.Contains(i) || m.Rules.RowCols(x).IndexOf(i) >= 0);
        return total;
    }

    private static void AssertEqualsBruteForce(Model m, TopNResult r, int n)
    {
        int users = m.U.Length / K;
        Assert.Equal(users, r.Users);
        for (int x = 0; x < users; x++)
        {
            var expected = RankingWithScores(m.U, m.V, x, m.History, m.Banned, m.Rules).Take(n).ToArray();
            Assert.Equal(expected.Select(p => p.Item).ToArray(), r.ItemsOf(x).ToArray());
            Assert.Equal(expected.Select(p => p.Score).ToArray(), r.ScoresOf(x).ToArray());
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(29)]
    public void Exact_search_with_history_bans_and_rule_rows_equals_the_reference_and_a_brute_force(int seed)
    {
        var m = MakeModel(seed);
        var fast = ExactTopN.Search(m.U, m.V, K, m.Query());
        var reference = ExactTopN.SearchReference(m.U, m.V, K, m.Query());
        TopNTestData.AssertSameLists(reference, fast);
        AssertEqualsBruteForce(m, fast, N);
        for (int x = 0; x < Users; x++)
            foreach (int i in fast.ItemsOf(x))
                Assert.False(m.Rules.Contains(x, i), $"user {x} got rule-excluded item {i}");
    }

    [Theory]
    [InlineData(11, 10)]
    [InlineData(29, 10)]
    [InlineData(5, 1)]
    [InlineData(7, 40)]
    public void Exact_search_counts_exactly_the_rule_removed_items_of_the_unfiltered_top_n(int seed, int n)
    {
        var m = MakeModel(seed);
        long expected = BruteRuleRemoved(m, n);
        Assert.True(expected > 0, "the test model must have rules that matter");
        var r = ExactTopN.Search(m.U, m.V, K, m.Query(n));
        Assert.Equal(expected, r.RuleRemoved);
        AssertEqualsBruteForce(m, r, n);
    }

    [Fact]
    public void History_alone_is_not_counted_as_rule_removed()
    {
        var m = MakeModel(3);
        var r = ExactTopN.Search(m.U, m.V, K, new TopNQuery(N, m.History, MaxThreads: 2));
        Assert.Equal(0, r.RuleRemoved);
        var withBansOnly = ExactTopN.Search(m.U, m.V, K, new TopNQuery(N, m.History, m.Banned, MaxThreads: 2));
        long bansOnly = 0;
        for (int x = 0; x < Users; x++) bansOnly += Ranking(m.U, m.V, x, m.History, null, null).Take(N).Count(m.Banned.Contains);
        Assert.Equal(bansOnly, withBansOnly.RuleRemoved);
    }

    [Fact]
    public void Rule_removed_over_a_user_subset_counts_only_those_users()
    {
        var m = MakeModel(13);
        int[] subset = [299, 0, 150, 3, 3, 77];
        var r = ExactTopN.Search(m.U, m.V, K, m.Query(), subset);
        long expected = 0;
        foreach (int x in subset)
            expected += Ranking(m.U, m.V, x, m.History, null, null).Take(N).Count(i => m.Banned.Contains(i) || m.Rules.Contains(x, i));
        Assert.Equal(expected, r.RuleRemoved);
        for (int j = 0; j < subset.Length; j++)
            Assert.Equal(Ranking(m.U, m.V, subset[j], m.History, m.Banned, m.Rules).Take(N).ToArray(), r.ItemsOf(j).ToArray());
    }

    [Theory]
    [InlineData(11, 1)]
    [InlineData(29, 2)]
    public void Ivf_search_scanning_every_list_equals_exact_search_and_counts_the_same_rule_removals(int seed, int normRanges)
    {
        var m = MakeModel(seed);
        var index = IvfIndex.Build(m.V, K, new IvfBuildOptions(Nlist: 20, NormRanges: normRanges, MaxThreads: 2));
        var options = new IvfSearchOptions(N, index.Nlist, m.History, m.Banned, 2, m.Rules);
        var (ivf, _) = index.Search(m.U, options);
        var exact = ExactTopN.Search(m.U, m.V, K, options.ToExactQuery());
        TopNTestData.AssertSameLists(exact, ivf);
        AssertEqualsBruteForce(m, ivf, N);
        long expected = BruteRuleRemoved(m, N);
        Assert.True(expected > 0);
        Assert.Equal(expected, ivf.RuleRemoved);
        Assert.Equal(expected, exact.RuleRemoved);
    }

    [Fact]
    public void Banning_the_fifty_largest_norm_items_still_fills_every_list()
    {
        // The largest norms hold most users' top items, so the bans empty the head of nearly every ranking.
        var v = SeededData.Matrix(Items, K, 41);
        var byNorm = Enumerable.Range(0, Items).OrderByDescending(i => Norm(v, i)).ThenBy(i => i).Take(50).ToHashSet();
        var m = MakeModel(40, banned: byNorm, banCount: 50) with { V = v };
        var exact = ExactTopN.Search(m.U, m.V, K, m.Query());
        AssertEqualsBruteForce(m, exact, N);
        Assert.Equal(BruteRuleRemoved(m, N), exact.RuleRemoved);
        var index = IvfIndex.Build(m.V, K, new IvfBuildOptions(Nlist: 25, MaxThreads: 2));
        foreach (int nprobe in new[] { 1, 3 })
        {
            var (ivf, _) = index.Search(m.U, new IvfSearchOptions(N, nprobe, m.History, m.Banned, 2, m.Rules));
            for (int x = 0; x < Users; x++)
            {
                Assert.Equal(N, ivf.Counts[x]);
                foreach (int i in ivf.ItemsOf(x))
                {
                    Assert.DoesNotContain(i, m.Banned);
                    Assert.False(m.History.Contains(x, i) || m.Rules.Contains(x, i), $"user {x} got excluded item {i} at nprobe {nprobe}");
                }
            }
            TopNTestData.AssertWellFormed(ivf, Items);
        }
    }

    [Fact]
    public void A_small_catalogue_gives_each_user_exactly_the_eligible_items_when_rules_leave_fewer_than_n()
    {
        const int items = 60, n = 50;
        var m = MakeModel(17, users: 40, items: items, banCount: 15);
        var exact = ExactTopN.Search(m.U, m.V, K, m.Query(n));
        var index = IvfIndex.Build(m.V, K, new IvfBuildOptions(Nlist: 8, MaxThreads: 2));
        var (ivf, _) = index.Search(m.U, new IvfSearchOptions(n, 1, m.History, m.Banned, 2, m.Rules));
        for (int x = 0; x < 40; x++)
        {
            int eligible = Enumerable.Range(0, items).Count(i => !m.History.Contains(x, i) && !m.Banned.Contains(i) && !m.Rules.Contains(x, i));
            Assert.Equal(Math.Min(n, eligible), exact.Counts[x]);
            Assert.Equal(Math.Min(n, eligible), ivf.Counts[x]);
            Assert.Equal(Ranking(m.U, m.V, x, m.History, m.Banned, m.Rules).Take(n).ToArray(), exact.ItemsOf(x).ToArray());
            // Every eligible item is returned, so IVF holds the same set (order by score as well).
            if (eligible <= n) Assert.Equal(exact.ItemsOf(x).ToArray(), ivf.ItemsOf(x).ToArray());
        }
    }

    private static double Norm(float[] v, int i)
    {
        double s = 0;
        for (int d = 0; d < K; d++) s += (double)v[i * K + d] * v[i * K + d];
        return Math.Sqrt(s);
    }
}
