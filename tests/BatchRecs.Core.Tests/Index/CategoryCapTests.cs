using BatchRecs.Core.Data;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Index;

/// <summary>
/// <see cref="CategoryCap.Apply"/> over exact candidates (fetch 3N) with a deeper exact re-search, against a brute force
/// that walks each user's full exact ranking and takes items while their category has room.
/// </summary>
public class CategoryCapTests
{
    private const int K = 16, Users = 200, Items = 500, N = 10, Cap = 2;

    private sealed record Case(float[] U, float[] V, CsrMatrix History, int[] Category);

    private static Case MakeCase(int seed, bool dominated)
    {
        var u = SeededData.Matrix(Users, K, seed);
        var v = SeededData.Matrix(Items, K, seed + 1);
        var history = SeededData.History(Users, Items, 10, seed + 2);
        var rng = new Random(seed + 3);
        var category = new int[Items];
        for (int i = 0; i < Items; i++) category[i] = rng.Next(10) == 0 ? -1 : rng.Next(8);
        if (dominated)
        {
            // The 200 largest-norm items (most users' top items) all fall in categories 0 and 1: with a cap of 2 per
            // category, the 3N candidates of most users cannot fill a list.
            var byNorm = Enumerable.Range(0, Items).OrderByDescending(i => Norm(v, i)).ThenBy(i => i).Take(200).ToArray();
            foreach (int i in byNorm) category[i] = i % 2;
        }
        return new Case(u, v, history, category);
    }

    private static double Norm(float[] v, int i)
    {
        double s = 0;
        for (int d = 0; d < K; d++) s += (double)v[i * K + d] * v[i * K + d];
        return Math.Sqrt(s);
    }

    /// <summary>The user's exact ranking (history excluded), best-first, ties to the lower item index.</summary>
    private static List<(int Item, float Score)> Ranking(Case c, int x)
    {
        var all = new List<(int Item, float Score)>();
        for (int i = 0; i < Items; i++)
            if (!c.History.Contains(x, i)) all.Add((i, ScoreKey.Dot(c.U.AsSpan(x * K, K), c.V.AsSpan(i * K, K))));
        return all.OrderByDescending(p => p.Score).ThenBy(p => p.Item).ToList();
    }

    /// <summary>Brute force: take items best-first while their category holds fewer than the cap; count skips until full.</summary>
    private static (int[] Items, float[] Scores, int Skipped) Brute(Case c, int x, int n, int cap)
    {
        var taken = new Dictionary<int, int>();
        var items = new List<int>(); var scores = new List<float>();
        int skipped = 0;
        foreach (var (i, s) in Ranking(c, x))
        {
            if (items.Count == n) break;
            int cat = c.Category[i];
            if (cat >= 0 && taken.GetValueOrDefault(cat) >= cap) { skipped++; continue; }
            if (cat >= 0) taken[cat] = taken.GetValueOrDefault(cat) + 1;
            items.Add(i); scores.Add(s);
        }
        return (items.ToArray(), scores.ToArray(), skipped);
    }

    private static (TopNResult Lists, long Removed, List<(int[] Users, int Fetch)> Calls) Run(Case c, int n, int cap, int fetch)
    {
        var candidates = ExactTopN.Search(c.U, c.V, K, new TopNQuery(fetch, c.History, MaxThreads: 2));
        var calls = new List<(int[] Users, int Fetch)>();
        TopNResult Deeper(int[] users, int f)
        {
            calls.Add((users.ToArray(), f));
            return ExactTopN.Search(c.U, c.V, K, new TopNQuery(f, c.History, MaxThreads: 2), users);
        }
        var lists = new CategoryCap(c.Category, cap).Apply(candidates, n, Deeper, Items, out long removed);
        return (lists, removed, calls);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(4, true)]
    public void Capped_lists_equal_a_brute_force_walk_of_the_full_ranking(int seed, bool dominated)
    {
        var c = MakeCase(seed, dominated);
        var (lists, removed, calls) = Run(c, N, Cap, 3 * N);
        long expectedRemoved = 0;
        for (int x = 0; x < Users; x++)
        {
            var (items, scores, skipped) = Brute(c, x, N, Cap);
            Assert.Equal(items, lists.ItemsOf(x).ToArray());
            Assert.Equal(scores, lists.ScoresOf(x).ToArray());
            expectedRemoved += skipped;
        }
        Assert.Equal(expectedRemoved, removed);
        TopNTestData.AssertWellFormed(lists, Items);
        if (dominated)
        {
            Assert.NotEmpty(calls);
            // Only users left short are searched again, each at most once per round, with a growing fetch.
            Assert.All(calls, call => Assert.Equal(call.Users.Length, call.Users.Distinct().Count()));
            Assert.True(calls.Select(call => call.Fetch).SequenceEqual(calls.Select(call => call.Fetch).Order()));
        }
    }

    [Theory]
    [InlineData(5, false)]
    [InlineData(6, true)]
    public void Every_list_respects_the_cap_and_is_full_when_the_catalogue_allows(int seed, bool dominated)
    {
        var c = MakeCase(seed, dominated);
        var (lists, _, _) = Run(c, N, Cap, 3 * N);
        for (int x = 0; x < Users; x++)
        {
            var perCategory = lists.ItemsOf(x).ToArray().Where(i => c.Category[i] >= 0).GroupBy(i => c.Category[i]);
            Assert.All(perCategory, g => Assert.True(g.Count() <= Cap, $"user {x}: {g.Count()} items of category {g.Key}"));
            // What the catalogue allows: uncategorised eligible items plus min(cap, eligible items) per category.
            var eligible = Enumerable.Range(0, Items).Where(i => !c.History.Contains(x, i)).ToArray();
            int possible = eligible.Count(i => c.Category[i] < 0)
                + eligible.Where(i => c.Category[i] >= 0).GroupBy(i => c.Category[i]).Sum(g => Math.Min(Cap, g.Count()));
            Assert.Equal(Math.Min(N, possible), lists.Counts[x]);
        }
    }

    [Fact]
    public void Deeper_re_search_is_called_for_the_users_left_short_and_only_them()
    {
        var c = MakeCase(7, dominated: true);
        int fetch = 3 * N;
        var candidates = ExactTopN.Search(c.U, c.V, K, new TopNQuery(fetch, c.History, MaxThreads: 2));
        // Users whose 3N candidates cannot fill a capped list (brute force over the candidates alone).
        var shortUsers = Enumerable.Range(0, Users).Where(x =>
        {
            var taken = new Dictionary<int, int>();
            int w = 0;
            foreach (int i in candidates.ItemsOf(x))
            {
                int cat = c.Category[i];
                if (cat >= 0 && taken.GetValueOrDefault(cat) >= Cap) continue;
                if (cat >= 0) taken[cat] = taken.GetValueOrDefault(cat) + 1;
                w++;
            }
            return w < N;
        }).ToArray();
        Assert.NotEmpty(shortUsers);
        var (_, _, calls) = Run(c, N, Cap, fetch);
        Assert.NotEmpty(calls);
        Assert.Equal(shortUsers, calls[0].Users.Order().ToArray());
        Assert.Equal(4 * fetch, calls[0].Fetch);
        for (int r = 1; r < calls.Count; r++)
        {
            Assert.Subset(calls[r - 1].Users.ToHashSet(), calls[r].Users.ToHashSet());
            Assert.Equal(Math.Min(Items, 4 * calls[r - 1].Fetch), calls[r].Fetch);
        }
    }

    [Fact]
    public void A_deeper_round_that_admits_fewer_items_than_the_first_leaves_only_padding_after_the_list()
    {
        // The first round comes from an approximate search (IVF) and the deeper one from the exact ranking, so the
        // deeper candidates need not extend the first ones: here they are all of one category.
        const int n = 4, cap = 1;
        var category = new int[20];
        for (int i = 0; i < 20; i++) category[i] = i < 3 ? i : 0; // items 0..2: categories 0..2; items 3..19: category 0
        var first = new TopNResult(1, 3);
        first.Items[0] = 0; first.Items[1] = 1; first.Items[2] = 2;
        first.Scores[0] = 3f; first.Scores[1] = 2f; first.Scores[2] = 1f;
        first.Counts[0] = 3;
        TopNResult Deeper(int[] users, int fetch)
        {
            var r = new TopNResult(users.Length, fetch);
            for (int j = 0; j < users.Length; j++)
            {
                int m = Math.Min(fetch, 17);
                for (int c = 0; c < m; c++) { r.Items[j * fetch + c] = 3 + c; r.Scores[j * fetch + c] = 10f - c; }
                r.Counts[j] = m;
            }
            return r;
        }
        var lists = new CategoryCap(category, cap).Apply(first, n, Deeper, 20, out _);
        // Brute force over the last round's candidates: one item of category 0 (item 3).
        Assert.Equal(new[] { 3 }, lists.ItemsOf(0).ToArray());
        TopNTestData.AssertWellFormed(lists, 20);
        for (int r = lists.Counts[0]; r < n; r++) Assert.True(float.IsNaN(lists.Scores[r]), $"slot {r} keeps score {lists.Scores[r]}");
    }

    [Fact]
    public void Rule_removed_of_the_candidates_is_carried_to_the_capped_lists()
    {
        var c = MakeCase(8, dominated: false);
        var banned = new HashSet<int> { 1, 2, 3, 100, 200 };
        var candidates = ExactTopN.Search(c.U, c.V, K, new TopNQuery(3 * N, c.History, banned, 2));
        long expected = 0;
        for (int x = 0; x < Users; x++) expected += Ranking(c, x).Take(3 * N).Count(p => banned.Contains(p.Item));
        Assert.Equal(expected, candidates.RuleRemoved);
        var lists = new CategoryCap(c.Category, Cap).Apply(candidates, N,
            (users, f) => ExactTopN.Search(c.U, c.V, K, new TopNQuery(f, c.History, banned, 2), users), Items, out _);
        Assert.Equal(candidates.RuleRemoved, lists.RuleRemoved);
    }
}
