using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Evaluation;

/// <summary>Off-policy estimates against the observed CTR and against the true CTR of a simulated world.</summary>
public class OffPolicyTests
{
    [Fact]
    public void The_logging_policy_judged_on_its_own_traffic_gets_exactly_the_observed_ctr()
    {
        var rng = new Random(4);
        const int users = 300, n = 5;
        var (u, i, p, c) = (new List<int>(), new List<int>(), new List<float>(), new List<bool>());
        for (int x = 0; x < users; x++)
            foreach (int y in Enumerable.Range(0, 1000).OrderBy(_ => rng.Next()).Take(n))
            {
                u.Add(x); i.Add(y); p.Add(0.05f + 0.95f * rng.NextSingle()); c.Add(rng.NextDouble() < 0.1);
            }
        var log = new FeedbackLog(u.ToArray(), i.ToArray(), p.ToArray(), c.ToArray());
        // The logging policy shows each logged item with its logged propensity: every weight is 1.
        var byRow = Enumerable.Range(0, log.Rows).ToDictionary(e => (log.Users[e], log.Items[e]), e => (double)log.Propensity[e]);
        var ope = OffPolicy.Evaluate(log, (x, y) => byRow[(x, y)], n, bootstrap: 50);
        double observed = c.Count(b => b) / (double)log.Rows;
        Assert.Equal(observed, ope.LoggedCtr, 12);
        Assert.Equal(observed, ope.IpsCtr.Value, 9);
        Assert.Equal(observed, ope.SnipsCtr.Value, 9);
        Assert.True(ope.SnipsCtr.Low <= observed && observed <= ope.SnipsCtr.High);
        Assert.Equal(users, ope.Users);
    }

    [Fact]
    public void On_uniformly_logged_traffic_the_estimates_find_the_true_ctr_of_new_lists()
    {
        // A world of 3,000 users × 50 items with known click probabilities; the logging policy shows 5 items drawn
        // uniformly (p = 5/50 each); the new lists are each user's 5 truly best items, whose true CTR is known exactly.
        const int users = 3000, items = 50, n = 5;
        var rng = new Random(9);
        var q = new double[users, items];
        for (int x = 0; x < users; x++) for (int y = 0; y < items; y++) q[x, y] = 0.3 * Math.Pow(rng.NextDouble(), 3);
        var lists = new TopNResult(users, n);
        double truth = 0;
        for (int x = 0; x < users; x++)
        {
            var best = Enumerable.Range(0, items).OrderByDescending(y => q[x, y]).Take(n).ToArray();
            best.CopyTo(lists.Items, x * n);
            lists.Counts[x] = n;
            truth += best.Sum(y => q[x, y]);
        }
        truth /= users * n;
        var (u, i, p, c) = (new List<int>(), new List<int>(), new List<float>(), new List<bool>());
        for (int x = 0; x < users; x++)
            foreach (int y in Enumerable.Range(0, items).OrderBy(_ => rng.Next()).Take(n))
            {
                u.Add(x); i.Add(y); p.Add((float)n / items); c.Add(rng.NextDouble() < q[x, y]);
            }
        var ope = OffPolicy.Evaluate(new FeedbackLog(u.ToArray(), i.ToArray(), p.ToArray(), c.ToArray()), OffPolicy.InLists(lists), n, bootstrap: 300, seed: 2);
        // The served (uniform) lists are far worse than the best ones; both estimates find the best lists' CTR.
        Assert.True(ope.LoggedCtr < 0.6 * truth);
        foreach (var e in new[] { ope.IpsCtr, ope.SnipsCtr })
        {
            Assert.True(e.Low <= truth && truth <= e.High, $"{e} does not cover {truth:F4}");
            Assert.True(Math.Abs(e.Value - truth) < 0.1 * truth, $"{e.Value:F4} vs {truth:F4}");
        }
        // Recall: the best lists hold the best items, so they hold a large share of the (reweighted) clicks.
        Assert.True(ope.IpsRecall.Value > 0.2 && ope.IpsRecall.Low <= ope.IpsRecall.Value && ope.IpsRecall.Value <= ope.IpsRecall.High);
    }
}
