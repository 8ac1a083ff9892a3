using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Evaluation;

public class MetricsTests
{
    private static TopNResult Lists(int n, params int[][] lists)
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
    public void Recall_and_ndcg_match_hand_computed_values()
    {
        // user 0: held out {1, 4}; list [1, 2, 4]: hits at ranks 1 and 3.
        // user 1: held out {0, 2, 3, 5}; list [5, 9, 8]: hit at rank 1, K=3 so ideal = 3 hits.
        // user 2: nothing held out: not evaluated.
        var recs = Lists(3, [1, 2, 4], [5, 9, 8], [0, 1, 2]);
        var heldOut = CsrMatrix.FromEntries(3, 10, [0, 0, 1, 1, 1, 1], [1, 4, 0, 2, 3, 5], Enumerable.Repeat(1f, 6).ToArray());
        var m = Metrics.Evaluate(recs, heldOut, 3);
        Assert.Equal(2, m.Users);
        double recall0 = 2.0 / 2, recall1 = 1.0 / 3;
        Assert.Equal((recall0 + recall1) / 2, m.Recall, 12);
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
        Assert.Equal(1.0 / (1 + 1 / Math.Log2(3)), m.Ndcg, 12);
    }

    [Fact]
    public void No_held_out_users_gives_zero_users()
    {
        var m = Metrics.Evaluate(Lists(2, [1, 2]), CsrMatrix.FromEntries(1, 3, [], [], []), 2);
        Assert.Equal(0, m.Users);
    }
}
