using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Index;

public class ExactTopNTests
{
    [Fact]
    public void Blocked_search_equals_naive_sort_for_every_k_from_1_to_70()
    {
        // 37 items: two panels plus a remainder; 11 users: one full 8-user tile and a partial one.
        for (int k = 1; k <= 70; k++)
        {
            var users = SeededData.Matrix(11, k, seed: k);
            var items = SeededData.Matrix(37, k, seed: 1000 + k);
            var r = ExactTopN.Search(users, items, k, new TopNQuery(10));
            for (int u = 0; u < 11; u++)
            {
                var (ei, es) = TopNTestData.Naive(users, items, k, u, 10, null, null);
                Assert.Equal(ei, r.ItemsOf(u).ToArray());
                Assert.Equal(es, r.ScoresOf(u).ToArray());
            }
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(15, 3)]
    [InlineData(16, 16)]
    [InlineData(17, 5)]
    [InlineData(1000, 100)]
    [InlineData(2049, 50)]
    public void Ties_are_broken_by_the_lower_item_index(int items, int n)
    {
        // Small integer factors make many scores exactly equal.
        const int k = 3;
        var u = SeededData.Matrix(20, k, seed: 5, integers: true);
        var v = SeededData.Matrix(items, k, seed: 6, integers: true);
        var r = ExactTopN.Search(u, v, k, new TopNQuery(n));
        for (int x = 0; x < 20; x++)
            Assert.Equal(TopNTestData.Naive(u, v, k, x, n, null, null).Items, r.ItemsOf(x).ToArray());
    }

    [Fact]
    public void Blocked_search_agrees_with_the_scalar_reference_with_history_and_bans()
    {
        const int k = 24, users = 150, items = 3001;
        var u = SeededData.Matrix(users, k, 1);
        var v = SeededData.Matrix(items, k, 2);
        var seen = SeededData.History(users, items, 40, 3);
        var banned = new HashSet<int> { 0, 5, 17, 2999, 3000 };
        var q = new TopNQuery(64, seen, banned);
        var fast = ExactTopN.Search(u, v, k, q);
        TopNTestData.AssertSameLists(ExactTopN.SearchReference(u, v, k, q), fast);
        TopNTestData.AssertWellFormed(fast, items);
        for (int x = 0; x < users; x++)
        {
            foreach (int i in fast.ItemsOf(x))
            {
                Assert.False(seen.Contains(x, i), $"user {x} got seen item {i}");
                Assert.DoesNotContain(i, banned);
            }
            Assert.Equal(64, fast.Counts[x]);
        }
    }

    [Fact]
    public void N_larger_than_the_catalogue_returns_every_eligible_item_once()
    {
        const int k = 8, items = 40;
        var u = SeededData.Matrix(9, k, 1);
        var v = SeededData.Matrix(items, k, 2);
        var seen = SeededData.History(9, items, 5, 3);
        var banned = new HashSet<int> { 3 };
        var r = ExactTopN.Search(u, v, k, new TopNQuery(100, seen, banned));
        TopNTestData.AssertWellFormed(r, items);
        for (int x = 0; x < 9; x++)
        {
            int eligible = Enumerable.Range(0, items).Count(i => !seen.Contains(x, i) && i != 3);
            Assert.Equal(eligible, r.Counts[x]);
            Assert.Equal(TopNTestData.Naive(u, v, k, x, 100, seen, banned).Items, r.ItemsOf(x).ToArray());
        }
    }

    [Fact]
    public void User_subset_rows_follow_the_subset_and_threads_do_not_change_results()
    {
        const int k = 16;
        var u = SeededData.Matrix(300, k, 1);
        var v = SeededData.Matrix(500, k, 2);
        int[] subset = [299, 0, 17, 17, 150];
        var one = ExactTopN.Search(u, v, k, new TopNQuery(20, MaxThreads: 1), subset);
        var all = ExactTopN.Search(u, v, k, new TopNQuery(20, MaxThreads: 4), subset);
        TopNTestData.AssertSameLists(one, all);
        for (int j = 0; j < subset.Length; j++)
            Assert.Equal(TopNTestData.Naive(u, v, k, subset[j], 20, null, null).Items, one.ItemsOf(j).ToArray());
    }

    [Fact]
    public void Empty_inputs_and_zero_N_give_empty_lists()
    {
        var u = SeededData.Matrix(3, 4, 1);
        Assert.Equal(0, ExactTopN.Search(u, [], 4, new TopNQuery(5)).TotalRows);
        Assert.Equal(0, ExactTopN.Search(u, SeededData.Matrix(10, 4, 2), 4, new TopNQuery(0)).TotalRows);
        Assert.Throws<ArgumentException>(() => ExactTopN.Search(u, new float[7], 4, new TopNQuery(5)));
    }
}
