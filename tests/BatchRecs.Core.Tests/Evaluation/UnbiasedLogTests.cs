using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Evaluation;

/// <summary>SNIPS on logged propensities (unbiased_input), against hand and brute-force computations.</summary>
public class UnbiasedLogTests
{
    [Fact]
    public void Snips_dcg_and_recall_match_the_worked_example()
    {
        // The remark's example: list [7, 2, 9], test items {2, 5, 9} rated {5, 4, 1}, logged with p = 0.5, 0.25, 1.
        // w = 2, 4, 1, mean 7/3; order 2, 9, 5 → DCG@5 = (2/log₂2 + 4/log₂4) / (7/3) = 12/7; Recall@5 = 1; Recall@1 = 2/6.
        var lists = MetricsTests.Lists(10, [7, 2, 9]);
        var test = CsrMatrix.FromEntries(1, 10, [0, 0, 0], [2, 5, 9], [5, 4, 1]);
        float[] p = [0.5f, 0.25f, 1f];
        var at5 = RandomizedTestMetrics.Evaluate(lists, test, 5, propensity: p);
        Assert.Equal(12.0 / 7, at5.Dcg, 12);
        Assert.Equal(1, at5.Recall, 12);
        Assert.Equal(2.0 / 6, RandomizedTestMetrics.Evaluate(lists, test, 1, propensity: p).Recall, 12);
        // Equal propensities are the plain protocol, whatever their value.
        var plain = RandomizedTestMetrics.Evaluate(lists, test, 5);
        var equal = RandomizedTestMetrics.Evaluate(lists, test, 5, propensity: [0.3f, 0.3f, 0.3f]);
        Assert.Equal(plain.Dcg, equal.Dcg, 12);
        Assert.Equal(plain.Recall, equal.Recall, 12);
    }

    [Fact]
    public void On_a_random_logged_set_the_estimates_match_a_direct_computation()
    {
        var rng = new Random(11);
        const int users = 40, items = 30, k = 4;
        var rows = new List<(int U, int I, bool Label, float P)>();
        for (int u = 0; u < users; u++)
            foreach (int i in Enumerable.Range(0, items).OrderBy(_ => rng.Next()).Take(rng.Next(1, 9)))
                rows.Add((u, i, rng.NextDouble() < 0.3, 0.05f + 0.95f * rng.NextSingle()));
        var factors = Enumerable.Range(0, (users + items) * 3).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        double Score(int u, int i) => factors[u * 3] * factors[(users + i) * 3] + factors[u * 3 + 1] * factors[(users + i) * 3 + 1] + factors[u * 3 + 2] * factors[(users + i) * 3 + 2];
        var history = CsrMatrix.FromEntries(users, items, [0, 0, 5], [rows.First(r => r.U == 0).I, 29, 3], [1, 1, 1]);

        var log = UnbiasedLog.FromRows(users, items, rows.Select(r => r.U).ToArray(), rows.Select(r => r.I).ToArray(),
            rows.Select(r => r.Label).ToArray(), rows.Select(r => r.P).ToArray());
        var report = log.Evaluate(log.Rank(history, Score), k);

        // Directly: per user, unseen logged items by score (ties by id), then seen ones by id; weights 1/p normalized to mean 1.
        double dcg = 0, recall = 0;
        int counted = 0;
        foreach (var g in rows.GroupBy(r => r.U))
        {
            if (!g.Any(r => r.Label)) continue;
            bool Seen((int U, int I, bool Label, float P) r) => history.RowCols(r.U).BinarySearch(r.I) >= 0;
            var order = g.Where(r => !Seen(r)).OrderByDescending(r => Score(r.U, r.I)).ThenBy(r => r.I).Concat(g.Where(Seen).OrderBy(r => r.I)).ToList();
            double mean = order.Average(r => 1.0 / r.P), positives = order.Where(r => r.Label).Sum(r => 1.0 / r.P);
            dcg += order.Take(k).Select((r, j) => r.Label ? 1.0 / r.P / mean / Math.Log2(j + 2) : 0).Sum();
            recall += order.Take(k).Where(r => r.Label).Sum(r => 1.0 / r.P) / positives;
            counted++;
        }
        Assert.True(counted > 10);
        Assert.Equal(counted, report.Users);
        Assert.Equal(dcg / counted, report.Dcg, 10);
        Assert.Equal(recall / counted, report.Recall, 10);
    }

    [Fact]
    public void A_pair_logged_twice_counts_once_positive_if_any_row_is_with_its_smallest_propensity()
    {
        var log = UnbiasedLog.FromRows(2, 4, [1, 0, 1, 1], [2, 3, 2, 0], [false, true, true, false], [0.8f, 1f, 0.4f, 0.5f]);
        Assert.Equal(3, log.Pairs);
        Assert.Equal(2, log.Positives);
        Assert.Equal([3, 0, 2], log.Labels.ColIdx);
        Assert.Equal([1f, 0f, 1f], log.Labels.Values);
        Assert.Equal([1f, 0.5f, 0.4f], log.Propensity);
        Assert.Throws<ArgumentOutOfRangeException>(() => UnbiasedLog.FromRows(1, 1, [0], [0], [true], [0f]));
        // Restricting to user 1 keeps its entries and their propensities aligned.
        var one = log.Restrict(u => u == 1);
        Assert.Equal([0, 2], one.Labels.ColIdx);
        Assert.Equal([0.5f, 0.4f], one.Propensity);
    }
}
