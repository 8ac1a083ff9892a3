using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Evaluation;

public class RandomizedTestMetricsTests
{
    private static TopNResult Lists(int n, params int[][] lists) => MetricsTests.Lists(n, lists);

    [Fact]
    public void Dcg5_and_recall5_match_hand_computed_values()
    {
        // Catalogue of 10 items. Ratings ≥ 4 are relevant.
        // user 0: list [3,1,4,0,5,9,2,6] (7 and 8 are training items, not listed); test {0:5, 2:1, 5:2, 6:1, 7:4, 8:1}.
        //   test order by list rank: 0 (rank 4), 5 (5), 2 (7), 6 (8), then the unlisted 7, 8 by id → rel 1,0,0,0,1 | 0.
        //   DCG@5 = 1/log2(2) + 1/log2(6); Recall@5 = 2/2.
        // user 1: list [2,0,1]; test {1:4, 2:2} → order 2, 1 → rel 0,1: DCG@5 = 1/log2(3); Recall@5 = 1.
        // user 2: list [0..9]; test {0:4, 1..5: 1, 6:5} → order 0..6 → rel 1,0,0,0,0 | 0,1: DCG@5 = 1; Recall@5 = 1/2.
        // user 3: test {0:3, 1:1}: no positive, left out.
        var lists = Lists(10, [3, 1, 4, 0, 5, 9, 2, 6], [2, 0, 1], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [0, 1]);
        var test = CsrMatrix.FromEntries(4, 10,
            [0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3],
            [0, 2, 5, 6, 7, 8, 1, 2, 0, 1, 2, 3, 4, 5, 6, 0, 1],
            [5, 1, 2, 1, 4, 1, 4, 2, 4, 1, 1, 1, 1, 1, 5, 3, 1]);
        var perUser = new double[4];
        var m = RandomizedTestMetrics.Evaluate(lists, test, 5, perUserDcg: perUser);
        Assert.Equal(3, m.Users);
        Assert.Equal(1, m.UsersWithoutPositives);
        double dcg0 = 1 + 1 / Math.Log2(6), dcg1 = 1 / Math.Log2(3), dcg2 = 1;
        Assert.Equal((dcg0 + dcg1 + dcg2) / 3, m.Dcg, 12);
        Assert.Equal((1 + 1 + 0.5) / 3, m.Recall, 12);
        double[] per = [dcg0, dcg1, dcg2];
        double sd = Math.Sqrt(per.Sum(x => (x - per.Average()) * (x - per.Average())) / 2);
        Assert.Equal(sd / Math.Sqrt(3), m.DcgStandardError, 12);
        Assert.Equal(per, perUser[..3]);
        Assert.True(double.IsNaN(perUser[3]));
    }

    [Fact]
    public void Only_the_first_K_of_the_test_order_count()
    {
        // One user, test {0:1, 1:5}; list [0, 1]: the positive is second.
        var lists = Lists(2, [0, 1]);
        var test = CsrMatrix.FromEntries(1, 2, [0, 0], [0, 1], [1, 5]);
        var at1 = RandomizedTestMetrics.Evaluate(lists, test, 1);
        Assert.Equal(0, at1.Dcg);
        Assert.Equal(0, at1.Recall);
        var at2 = RandomizedTestMetrics.Evaluate(lists, test, 2);
        Assert.Equal(1 / Math.Log2(3), at2.Dcg, 12);
        Assert.Equal(1, at2.Recall);
    }

    [Fact]
    public void No_user_with_a_positive_gives_zero_users()
    {
        var m = RandomizedTestMetrics.Evaluate(Lists(2, [0, 1]), CsrMatrix.FromEntries(1, 2, [0], [0], [2]), 5);
        Assert.Equal(0, m.Users);
        Assert.Equal(1, m.UsersWithoutPositives);
    }
}
