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
        var ope = OffPolicy.Evaluate(log, e => log.Propensity[e], n, bootstrap: 50);
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
        var log = new FeedbackLog(u.ToArray(), i.ToArray(), p.ToArray(), c.ToArray());
        var ope = OffPolicy.Evaluate(log, OffPolicy.InLists(lists, log), n, bootstrap: 300, seed: 2);
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

    /// <summary>
    /// A world with position-biased clicks (examined with r^−0.7) served by a logging policy that shows its own top 4 (p = 1)
    /// and one uniformly drawn item at a random position; the new lists are the top 5 of a different, better score, so many
    /// of their items were never logged for that user. Returns the log, the new lists, each row's new-model score, and the
    /// new lists' true CTR.
    /// </summary>
    private static (FeedbackLog Log, JudgedList[] Lists, double[] RowScore, double Truth) PositionWorld(int seed)
    {
        const int users = 4000, items = 60, n = 5;
        var rng = new Random(seed);
        double Ex(int r) => Math.Pow(r, -0.7);
        var q = new double[users, items];
        var score = new float[users, items];
        var logging = new double[users, items];
        for (int x = 0; x < users; x++)
            for (int y = 0; y < items; y++)
            {
                q[x, y] = 0.5 * Math.Pow(rng.NextDouble(), 2);
                score[x, y] = (float)(q[x, y] + 0.05 * rng.NextDouble());
                logging[x, y] = q[x, y] + 0.3 * rng.NextDouble();
            }
        var lists = new JudgedList[users];
        double truth = 0;
        var (u, i, p, c, at) = (new List<int>(), new List<int>(), new List<float>(), new List<bool>(), new List<int>());
        var rowScore = new List<double>();
        for (int x = 0; x < users; x++)
        {
            var best = Enumerable.Range(0, items).OrderByDescending(y => score[x, y]).Take(n).ToArray();
            lists[x] = new JudgedList(x, best, best.Select(y => score[x, y]).ToArray());
            truth += best.Select((y, r) => Ex(r + 1) * q[x, y]).Sum();
            var shown = Enumerable.Range(0, items).OrderByDescending(y => logging[x, y]).Take(n - 1).ToList();
            var rest = Enumerable.Range(0, items).Except(shown).ToArray();
            int explored = rest[rng.Next(rest.Length)], slot = rng.Next(n);
            shown.Insert(slot, explored);
            for (int r = 0; r < n; r++)
            {
                u.Add(x); i.Add(shown[r]); at.Add(r + 1); rowScore.Add(score[x, shown[r]]);
                p.Add(r == slot ? 1f / rest.Length : 1f);
                c.Add(rng.NextDouble() < Ex(r + 1) * q[x, shown[r]]);
            }
        }
        var log = new FeedbackLog(u.ToArray(), i.ToArray(), p.ToArray(), c.ToArray()) { Positions = at.ToArray() };
        return (log, lists, rowScore.ToArray(), truth / (users * n));
    }

    [Fact]
    public void The_examination_model_is_recovered_from_randomly_placed_rows()
    {
        var (log, _, _, _) = PositionWorld(3);
        var fit = PositionModel.FitPowerLaw(log, 5);
        Assert.NotNull(fit);
        Assert.InRange(fit.Value.Eta, 0.5, 0.9); // the world's 0.7, from ~4,000 randomly placed rows
        Assert.Equal(1, fit.Value.Examination[0], 12);
        Assert.Equal(Math.Pow(3, -fit.Value.Eta), fit.Value.Examination[2], 12);
        // Without randomly placed rows (every propensity 1) there is no evidence: no model.
        Assert.Null(PositionModel.FitPowerLaw(log with { Propensity = Array.ConvertAll(log.Propensity, _ => 1f) }, 5));
    }

    [Fact]
    public void The_doubly_robust_estimate_finds_the_true_ctr_of_lists_the_log_barely_covers()
    {
        var (log, lists, rowScore, truth) = PositionWorld(5);
        var ex = PositionModel.FitPowerLaw(log, 5)!.Value.Examination;
        var dr = OffPolicy.DoublyRobustCtr(log, lists, e => log.Users[e], e => rowScore[e], 5, ex, bootstrap: 200, seed: 3);
        Assert.True(dr.Low <= truth && truth <= dr.High, $"{dr} does not cover {truth:F4}");
        Assert.True(Math.Abs(dr.Value - truth) < 0.05 * truth, $"{dr.Value:F4} vs {truth:F4}");
    }

    /// <summary>
    /// A logging policy that knew more than the judged model: relevance q = 0.4·(a + h)/2, the judged model's score is a
    /// alone, the logging policy shows its top 4 by a + h (p = 1) and one uniformly drawn item of the rest at a random
    /// position. The judged lists (top 5 by a) hold many pairs the logging policy passed over because their h was low.
    /// </summary>
    private static (FeedbackLog Log, JudgedList[] Lists, double[] RowScore, double Truth) ConfoundedWorld(int seed)
    {
        const int users = 20000, items = 60, n = 5;
        var rng = new Random(seed);
        double Ex(int r) => Math.Pow(r, -0.7);
        var lists = new JudgedList[users];
        double truth = 0;
        var (u, i, p, c, at) = (new List<int>(), new List<int>(), new List<float>(), new List<bool>(), new List<int>());
        var rowScore = new List<double>();
        var a = new float[items];
        var q = new double[items];
        for (int x = 0; x < users; x++)
        {
            for (int y = 0; y < items; y++)
            {
                a[y] = (float)rng.NextDouble();
                q[y] = 0.4 * (a[y] + rng.NextDouble()) / 2;
            }
            var best = Enumerable.Range(0, items).OrderByDescending(y => a[y]).Take(n).ToArray();
            lists[x] = new JudgedList(x, best, best.Select(y => a[y]).ToArray());
            truth += best.Select((y, r) => Ex(r + 1) * q[y]).Sum();
            var shown = Enumerable.Range(0, items).OrderByDescending(y => q[y]).Take(n - 1).ToList();
            var rest = Enumerable.Range(0, items).Except(shown).ToArray();
            int explored = rest[rng.Next(rest.Length)], slot = rng.Next(n);
            shown.Insert(slot, explored);
            for (int r = 0; r < n; r++)
            {
                u.Add(x); i.Add(shown[r]); at.Add(r + 1); rowScore.Add(a[shown[r]]);
                p.Add(r == slot ? 1f / rest.Length : 1f);
                c.Add(rng.NextDouble() < Ex(r + 1) * q[shown[r]]);
            }
        }
        var log = new FeedbackLog(u.ToArray(), i.ToArray(), p.ToArray(), c.ToArray()) { Positions = at.ToArray() };
        return (log, lists, rowScore.ToArray(), truth / (users * n));
    }

    [Fact]
    public void The_doubly_robust_estimate_fits_its_click_model_on_randomized_rows_when_the_logging_policy_knew_more()
    {
        // Seeds 1–6: within −2 … +6 % and covered on all six; fitted on the logging policy's picks +7 … +14 %, covered on none.
        var (log, lists, rowScore, truth) = ConfoundedWorld(1);
        var ex = PositionModel.FitPowerLaw(log, 5)!.Value.Examination;
        Assert.True(log.Clicked.Where((c, e) => c && log.Propensity[e] < 1).Count() >= OffPolicy.DefaultMinExploredClicks);
        var dr = OffPolicy.DoublyRobustCtr(log, lists, e => log.Users[e], e => rowScore[e], 5, ex, bootstrap: 200, seed: 3);
        Assert.True(dr.Low <= truth && truth <= dr.High, $"{dr} does not cover {truth:F4}");
        Assert.True(Math.Abs(dr.Value - truth) < 0.07 * truth, $"{dr.Value:F4} vs {truth:F4}");
        // Fitted on the logging policy's own picks (too few randomized clicks asked for), ĝ reads the pairs it passed over
        // as if they were the ones it picked: the estimate runs high and its interval misses.
        var picks = OffPolicy.DoublyRobustCtr(log, lists, e => log.Users[e], e => rowScore[e], 5, ex, bootstrap: 200, seed: 3, minExploredClicks: int.MaxValue);
        Assert.True(picks.Value > 1.05 * truth && picks.Low > truth, $"{picks} vs {truth:F4}");
    }

    [Fact]
    public void The_calibration_is_non_decreasing_and_is_the_weighted_click_rate_per_bin()
    {
        // Two bins of 100 rows: scores 0…99 click at rate 0.3 (weights 2), scores 100…199 at rate 0.1, examined 0.5: the
        // second bin's lower rate is pooled with the first (pool-adjacent violators).
        var scores = Enumerable.Range(0, 200).Select(x => (double)x).ToArray();
        var clicks = scores.Select(x => x < 100 ? (x % 10 < 3 ? 1.0 : 0) : (x % 10 < 1 ? 1.0 : 0)).ToArray();
        var examined = scores.Select(_ => 0.5).ToArray();
        var weights = scores.Select(_ => 2.0).ToArray();
        var g = Calibration.Fit(scores, clicks, examined, weights, maxBins: 2, minRowsPerBin: 100);
        Assert.Equal((30 + 10) / (0.5 * 200), g.At(5), 12);
        Assert.Equal(g.At(5), g.At(150), 12);
        var rising = Calibration.Fit(scores, clicks.Reverse().ToArray(), examined, weights, maxBins: 2, minRowsPerBin: 100);
        Assert.Equal(10 / (0.5 * 100), rising.At(5), 12);
        Assert.Equal(30 / (0.5 * 100), rising.At(150), 12);
        Assert.Equal(30 / (0.5 * 100), rising.At(1e9), 12); // past the last bin: the last bin's rate
    }
}
