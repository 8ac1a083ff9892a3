using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Index;
using BatchRecs.Tests;

namespace BatchRecs.Core.Tests.Evaluation;

public class MetricsTests
{
    /// <summary>Lists of the given items, best first (scores 0, −1, −2, …); shared with the other evaluation tests.</summary>
    internal static TopNResult Lists(int n, params int[][] lists)
    {
        var r = new TopNResult(lists.Length, n);
        for (int u = 0; u < lists.Length; u++)
        {
            r.Counts[u] = lists[u].Length;
            for (int j = 0; j < lists[u].Length; j++) { r.Items[u * n + j] = lists[u][j]; r.Scores[u * n + j] = -j; }
        }
        return r;
    }

    [Fact]
    public void Lists_of_just_the_evaluated_users_give_the_report_of_the_same_lists_laid_out_by_user()
    {
        var rng = new Random(7);
        int users = 60, items = 40, n = 5;
        var r = new List<int>(); var c = new List<int>();
        for (int u = 0; u < users; u++)
            if (u % 3 != 0) // every third user has nothing held out
                foreach (int i in Enumerable.Range(0, items).OrderBy(_ => rng.Next()).Take(rng.Next(1, 6))) { r.Add(u); c.Add(i); }
        var heldOut = CsrMatrix.FromEntries(users, items, r.ToArray(), c.ToArray(), Enumerable.Repeat(1f, r.Count).ToArray());
        var evaluated = Enumerable.Range(0, users).Where(u => heldOut.RowLength(u) > 0).ToArray();
        var compact = Lists(n, evaluated.Select(_ => Enumerable.Range(0, items).OrderBy(_ => rng.Next()).Take(n).ToArray()).ToArray());
        var propensity = Enumerable.Range(0, items).Select(i => 0.1f + i / 50f).ToArray();
        var counts = Enumerable.Range(0, items).Select(i => (i * 7) % 13).ToArray();
        var byUser = Metrics.Evaluate(compact.Scatter(evaluated, users), heldOut, n, propensity, counts);
        var byRow = Metrics.Evaluate(compact, heldOut, n, propensity, counts, rowUsers: evaluated);
        Assert.Equal(byUser, byRow);
        Assert.Equal(evaluated.Length, byRow.Users);
        // A user with held-out pairs and no list is refused, not counted as a miss.
        Assert.Throws<ArgumentException>(() => Metrics.Evaluate(Lists(n, evaluated.Skip(1).Select(_ => new[] { 0 }).ToArray()), heldOut, n, rowUsers: evaluated[1..]));
    }

    [Fact]
    public void Recall_and_ndcg_match_hand_computed_values()
    {
        // user 0: held out {1, 4}; list [1, 2, 4]: hits at ranks 1 and 3.
        // user 1: held out {0, 2, 3, 5}; list [5, 9, 8]: hit at rank 1; recall 1/4, ideal DCG over min(K, 4) = 3.
        // user 2: nothing held out: not evaluated.
        var recs = Lists(3, [1, 2, 4], [5, 9, 8], [0, 1, 2]);
        var heldOut = CsrMatrix.FromEntries(3, 10, [0, 0, 1, 1, 1, 1], [1, 4, 0, 2, 3, 5], Enumerable.Repeat(1f, 6).ToArray());
        var m = Metrics.Evaluate(recs, heldOut, 3);
        Assert.Equal(2, m.Users);
        double recall0 = 2.0 / 2, recall1 = 1.0 / 4;
        Assert.Equal((recall0 + recall1) / 2, m.Recall, 12);
        Assert.Equal(((1.0 + 2.0 / 3) / 2 + 1.0 / 3) / 2, m.Map, 12);
        Assert.Equal(1.0, m.HitRate, 12);
        double dcg0 = 1 + 1 / Math.Log2(4), idcg0 = 1 + 1 / Math.Log2(3);
        double dcg1 = 1, idcg1 = 1 + 1 / Math.Log2(3) + 1 / Math.Log2(4);
        Assert.Equal((dcg0 / idcg0 + dcg1 / idcg1) / 2, m.Ndcg, 12);
    }

    [Fact]
    public void Short_lists_and_k_beyond_the_list_are_handled()
    {
        var recs = Lists(5, [3]);
        var heldOut = CsrMatrix.FromEntries(1, 10, [0, 0], [3, 7], [1f, 1f]);
        var m = Metrics.Evaluate(recs, heldOut, 5);
        Assert.Equal(0.5, m.Recall, 12);
        Assert.Equal(0.5, m.Map, 12);
        Assert.Equal(1.0 / (1 + 1 / Math.Log2(3)), m.Ndcg, 12);
    }

    [Fact]
    public void No_held_out_users_gives_zero_users()
    {
        var m = Metrics.Evaluate(Lists(2, [1, 2]), CsrMatrix.FromEntries(1, 3, [], [], []), 2);
        Assert.Equal(0, m.Users);
    }

    [Fact]
    public void Snips_recall_equals_recall_when_propensities_are_equal_and_ips_scales_by_one_over_p()
    {
        var rng = new Random(11);
        int users = 40, items = 30, n = 5;
        var recs = new TopNResult(users, n);
        var r = new List<int>(); var c = new List<int>();
        for (int u = 0; u < users; u++)
        {
            var list = Enumerable.Range(0, items).OrderBy(_ => rng.Next()).Take(n).ToArray();
            recs.Counts[u] = n;
            list.CopyTo(recs.Items, u * n);
            foreach (int i in Enumerable.Range(0, items).OrderBy(_ => rng.Next()).Take(1 + rng.Next(6))) { r.Add(u); c.Add(i); }
        }
        var heldOut = CsrMatrix.FromEntries(users, items, r.ToArray(), c.ToArray(), Enumerable.Repeat(1f, r.Count).ToArray());
        var plain = Metrics.Evaluate(recs, heldOut, n);
        var equal = Metrics.Evaluate(recs, heldOut, n, Enumerable.Repeat(0.25f, items).ToArray());
        Assert.Equal(plain.Recall, equal.SnipsRecall, 12);
        Assert.Equal(plain.Recall, plain.SnipsRecall, 12);
        Assert.Equal(plain.Recall * 4, equal.IpsRecall, 10);
        Assert.Equal(equal.IpsDcg / 4, equal.SnipsDcg, 10);
    }

    [Fact]
    public void Ips_upweights_hits_on_rarely_exposed_items()
    {
        // One user, held out {0 (popular, p=1), 1 (rare, p=0.1)}; a list that hits only the rare item.
        var heldOut = CsrMatrix.FromEntries(1, 3, [0, 0], [0, 1], [1f, 1f]);
        var m = Metrics.Evaluate(Lists(1, [1]), heldOut, 1, new[] { 1f, 0.1f, 1f });
        Assert.Equal(0.5, m.Recall, 12);
        // 1/0.1f is 10 in float precision only to ~1e-7.
        Assert.Equal(10.0 / 11.0, m.SnipsRecall, 6);
        Assert.Equal(10.0 / 2, m.IpsRecall, 5);
    }

    [Fact]
    public void Coverage_gini_and_popularity_rank_match_hand_computation()
    {
        // 2 users, 4 items; lists [0, 1] and [0, 2]; item counts in training 9, 5, 1, 0.
        var heldOut = CsrMatrix.FromEntries(2, 4, [0, 1], [3, 3], [1f, 1f]);
        var m = Metrics.Evaluate(Lists(2, [0, 1], [0, 2]), heldOut, 2, default, new[] { 9, 5, 1, 0 });
        Assert.Equal(3.0 / 4, m.Coverage, 12);
        // exposure sorted [0, 1, 1, 2], total 4: Σ (2i − n − 1)x = (−3)0 + (−1)1 + (1)1 + (3)2 = 6 → 6 / (4·4)
        Assert.Equal(6.0 / 16, m.GiniExposure, 12);
        // popularity ranks: item0 1, item1 2, item2 3 → (1 + 2 + 1 + 3) / 4
        Assert.Equal(7.0 / 4, m.MeanPopularityRank, 12);
        Assert.Equal(0, Metrics.Gini(new long[] { 5, 5, 5 }), 12);
    }

    /// <summary>
    /// A held-out part and a training part that hold their rows only (a distributed run's coordinator: the entries are in
    /// the workers' shards) are read a chunk of users at a time, more than one chunk here, and give the report and the
    /// popularity baseline of the matrices whole, to the last bit.
    /// </summary>
    [Fact]
    public void Parts_read_back_a_chunk_at_a_time_from_their_store_give_the_same_report_and_baseline()
    {
        var rng = new Random(8);
        int users = CsrMatrix.DefaultChunkRows + 4_500, items = 60, n = 120_000;
        CsrMatrix Random(int entries) => CsrMatrix.FromEntries(users, items, Enumerable.Range(0, entries).Select(_ => rng.Next(users)).ToArray(),
            Enumerable.Range(0, entries).Select(_ => rng.Next(items)).ToArray(), new float[entries]);
        var (train, heldOut) = (Random(n), Random(n / 4));
        var counts = PopularityRanker.Counts(train);
        var propensity = Enumerable.Range(0, items).Select(i => 0.1f + 0.9f * (i % 7) / 7f).ToArray();
        var (storedTrain, storedHeld) = (MemoryStore.RowsOnly(train), MemoryStore.RowsOnly(heldOut));
        Assert.Equal(counts, PopularityRanker.Counts(storedTrain));

        var popular = PopularityRanker.Recommend(train, 10);
        var fromStore = PopularityRanker.Recommend(storedTrain, 10);
        Assert.Equal(popular.Counts, fromStore.Counts);
        Assert.Equal(popular.Items, fromStore.Items);
        Assert.Equal(popular.Scores, fromStore.Scores);
        Assert.Equal(users, ((MemoryStore)storedTrain.Store!).RowsRead); // every row once, in chunks

        var expected = Metrics.Evaluate(popular, heldOut, 10, propensity, counts);
        Assert.True(expected.Users > 10_000 && expected.Recall > 0);
        Assert.True(heldOut.RowPtr[CsrMatrix.DefaultChunkRows] < heldOut.NonZeros, "users beyond the first chunk are evaluated");
        Assert.Equal(expected, Metrics.Evaluate(popular, storedHeld, 10, propensity, counts));
        // One row per evaluated user.
        var evalUsers = Enumerable.Range(0, users).Where(u => heldOut.RowLength(u) > 0).ToArray();
        var rows = new TopNResult(evalUsers.Length, 10);
        for (int j = 0; j < evalUsers.Length; j++)
        {
            int u = evalUsers[j];
            popular.ItemsOf(u).CopyTo(rows.Items.AsSpan(j * 10));
            rows.Counts[j] = popular.Counts[u];
        }
        Assert.Equal(expected, Metrics.Evaluate(rows, storedHeld, 10, propensity, counts, evalUsers));
    }
}
