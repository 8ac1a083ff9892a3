using BatchRecs.Core.Debias;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Debias;

/// <summary>The debiased re-rank log max(ŝ, ε) − β·log p_i: its limits, its invariances and its floor.</summary>
public class PopularityRerankTests
{
    /// <summary>Candidates best-first by score, ties by item (as retrieval returns them): scores from N(0, 1) with some exact ties.</summary>
    private static TopNResult Candidates(int users, int m, int items, int seed, bool positive = false)
    {
        var rng = new Random(seed);
        var c = new TopNResult(users, m);
        for (int u = 0; u < users; u++)
        {
            var picked = Enumerable.Range(0, items).OrderBy(_ => rng.Next()).Take(m).ToArray();
            var scores = picked.Select(_ =>
            {
                double z = Math.Round(rng.NextDouble() * 2 - 1, rng.Next(2) == 0 ? 1 : 6); // 1 decimal: many ties
                return (float)(positive ? 0.01 + Math.Abs(z) : z);
            }).ToArray();
            var order = Enumerable.Range(0, m).OrderByDescending(j => scores[j]).ThenBy(j => picked[j]).ToArray();
            for (int j = 0; j < m; j++) { c.Items[u * m + j] = picked[order[j]]; c.Scores[u * m + j] = scores[order[j]]; }
            c.Counts[u] = m;
        }
        return c;
    }

    private static float[] RandomPropensities(int items, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, items).Select(_ => (float)(0.05 + 0.95 * rng.NextDouble())).ToArray();
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void Rerank_equals_the_plain_ranking_when_all_propensities_are_equal(double beta)
    {
        var cand = Candidates(users: 40, m: 30, items: 100, seed: 1);
        var p = Enumerable.Repeat(0.3f, 100).ToArray();
        var r = PopularityRerank.Apply(cand, p, beta, n: 10);
        for (int u = 0; u < cand.Users; u++)
        {
            Assert.Equal(cand.ItemsOf(u)[..10].ToArray(), r.ItemsOf(u).ToArray());
            var sc = r.ScoresOf(u);
            for (int j = 1; j < sc.Length; j++) Assert.True(sc[j - 1] >= sc[j]);
        }
        // β = 0 is the plain ranking whatever the propensities.
        if (beta == 0)
        {
            var r0 = PopularityRerank.Apply(cand, RandomPropensities(100, 2), 0, n: 30);
            for (int u = 0; u < cand.Users; u++) Assert.Equal(cand.ItemsOf(u).ToArray(), r0.ItemsOf(u).ToArray());
        }
    }

    [Fact]
    public void Rerank_with_beta_1_orders_positive_scores_by_score_over_propensity()
    {
        var cand = Candidates(users: 40, m: 30, items: 100, seed: 3, positive: true);
        var p = RandomPropensities(100, 4);
        var r = PopularityRerank.Apply(cand, p, 1.0, n: 30);
        for (int u = 0; u < cand.Users; u++)
        {
            var items = cand.ItemsOf(u).ToArray();
            var scores = cand.ScoresOf(u).ToArray();
            var expected = Enumerable.Range(0, items.Length).OrderByDescending(j => (double)scores[j] / p[items[j]]).ThenBy(j => j).Select(j => items[j]);
            Assert.Equal(expected, r.ItemsOf(u).ToArray());
        }
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void Rerank_is_scale_invariant(double beta)
    {
        var cand = Candidates(users: 40, m: 30, items: 100, seed: 5);
        var scaled = Candidates(users: 40, m: 30, items: 100, seed: 5);
        for (int j = 0; j < scaled.Scores.Length; j++) scaled.Scores[j] *= 7;
        var p = RandomPropensities(100, 6);
        var r = PopularityRerank.Apply(cand, p, beta, n: 10);
        var r7 = PopularityRerank.Apply(scaled, p, beta, n: 10);
        Assert.Equal(r.Items, r7.Items);
    }

    [Fact]
    public void Scores_at_or_below_the_floor_follow_every_positive_one_in_plain_order()
    {
        // The worked example of PopularityRerank's remarks, with a second negative candidate and an exact zero.
        var cand = new TopNResult(1, 6);
        cand.Counts[0] = 6;
        new[] { 0, 1, 2, 3, 4, 5 }.CopyTo(cand.Items, 0);
        new[] { 1.0f, 0.5f, 0.3f, 0f, -0.2f, -0.3f }.CopyTo(cand.Scores, 0);
        var p = new[] { 1f, 0.25f, 1f, 0.05f, 0.05f, 1f };
        var r = PopularityRerank.Apply(cand, p, beta: 1, n: 6);
        Assert.Equal([1, 0, 2, 3, 4, 5], r.ItemsOf(0).ToArray());
        Assert.Equal(Math.Log(2), r.ScoresOf(0)[0], 5);
        var sc = r.ScoresOf(0);
        for (int j = 1; j < sc.Length; j++) Assert.True(sc[j - 1] > sc[j]);
        Assert.Equal([1, 0, 2], PopularityRerank.Apply(cand, p, beta: 1, n: 3).ItemsOf(0).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => PopularityRerank.Apply(cand, p, beta: 1.5, n: 3));
    }
}
