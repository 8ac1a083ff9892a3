using BatchRecs.Core.Data;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Index;

/// <summary>The exploration policy's lists and its logged propensities, against Monte Carlo draws over seeds.</summary>
public class ExplorationTests
{
    private const int Items = 40, K = 4, N = 6, Slots = 3, Pool = 20;

    private static (float[] Users, float[] ItemFactors, TopNQuery Query, TopNResult Ranked) Setup(int users)
    {
        var rng = new Random(3);
        var u = Enumerable.Range(0, users * K).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        var v = Enumerable.Range(0, Items * K).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        // User 0 has seen items 1, 5, 9; item 7 is banned for everyone; item 11 is excluded for user 0.
        var seen = CsrMatrix.FromEntries(users, Items, [0, 0, 0], [1, 5, 9], [1, 1, 1]);
        var rules = CsrMatrix.FromEntries(users, Items, [0], [11], [0]);
        var query = new TopNQuery(Pool, seen, new HashSet<int> { 7 }, RuleExclude: rules);
        return (u, v, query, ExactTopN.Search(u, v, K, query));
    }

    [Fact]
    public void Propensities_are_exact_they_sum_to_the_slots_and_match_the_frequencies_over_seeds()
    {
        var (u, v, query, ranked) = Setup(1);
        var model = ranked.ItemsOf(0).ToArray();
        var excluded = new HashSet<int> { 1, 5, 9, 7, 11 };
        var eligibleOutside = Enumerable.Range(0, Items).Where(i => !excluded.Contains(i) && Array.IndexOf(model, i, 0, N - Slots) < 0).ToArray();
        // The pool: the m model items the slots displace, and the ranks after them up to the pool's depth.
        var pool = model[(N - Slots)..Pool];
        const double eps = 0.3;
        var table = Exploration.BinomialTable(Slots, eps);
        var computed = eligibleOutside.ToDictionary(i => i, i => Exploration.Propensity(pool.Contains(i), Slots, pool.Length, eligibleOutside.Length, table));
        // The expected number of explored items per list is the slots, exactly.
        Assert.Equal(Slots, computed.Values.Sum(), 9);

        const int draws = 40_000;
        var shown = new Dictionary<int, int>();
        long explored = 0;
        for (int seed = 0; seed < draws; seed++)
        {
            var lists = Exploration.Apply(ranked, N, new ExplorePolicy(Slots, Pool, eps, (ulong)seed), u, v, K, query);
            var items = lists.ItemsOf(0).ToArray();
            Assert.Equal(N, items.Length);
            Assert.Equal(N, items.Distinct().Count());
            Assert.DoesNotContain(items, excluded.Contains);
            // The model's first N − m items keep their order in the slots exploration left them.
            var modelSlots = Enumerable.Range(0, N).Where(r => lists.SourceOf(0, r) == ListSource.Model).Select(r => items[r]).ToArray();
            Assert.Equal(model[..(N - Slots)], modelSlots);
            for (int r = 0; r < N; r++)
            {
                if (lists.SourceOf(0, r) != ListSource.Explore) { Assert.Equal(1f, lists.PropensityOf(0, r)); continue; }
                explored++;
                shown[items[r]] = shown.GetValueOrDefault(items[r]) + 1;
                Assert.Equal((float)computed[items[r]], lists.PropensityOf(0, r));
            }
        }
        Assert.Equal(Slots, (double)explored / draws, 9);
        foreach (var (item, p) in computed)
        {
            double freq = (double)shown.GetValueOrDefault(item) / draws, se = Math.Sqrt(p * (1 - p) / draws);
            Assert.True(Math.Abs(freq - p) < 4.5 * se + 1e-9, $"item {item}: shown {freq:F4}, propensity {p:F4} (± {se:F4})");
        }
        // Pool items (the displaced ones among them) are more likely than the rest, and every eligible item outside the model's
        // slots has a chance.
        Assert.All(model[(N - Slots)..N], i => Assert.True(pool.Contains(i)));
        Assert.True(pool.Min(i => computed[i]) > eligibleOutside.Where(i => !pool.Contains(i)).Max(i => computed[i]));
        Assert.All(computed.Values, p => Assert.True(p > 0));
    }

    [Fact]
    public void The_same_seed_gives_the_same_lists_and_users_differ()
    {
        var (u, v, query, ranked) = Setup(50);
        var policy = new ExplorePolicy(Slots, Pool, 0.2, 42);
        var a = Exploration.Apply(ranked, N, policy, u, v, K, query);
        var b = Exploration.Apply(ranked, N, policy, u, v, K, query);
        Assert.Equal(a.Items, b.Items);
        Assert.Equal(a.Propensities, b.Propensities);
        var c = Exploration.Apply(ranked, N, policy with { Seed = 43 }, u, v, K, query);
        Assert.NotEqual(a.Items, c.Items);
        // Explored items' scores are the model's scores of those items (the dot product).
        for (int r = 0; r < N; r++)
            if (a.SourceOf(3, r) == ListSource.Explore)
            {
                int i = a.ItemsOf(3)[r];
                float dot = 0;
                for (int d = 0; d < K; d++) dot = MathF.FusedMultiplyAdd(v[i * K + d], u[3 * K + d], dot);
                Assert.Equal(dot, a.ScoresOf(3)[r]);
            }
    }
}
