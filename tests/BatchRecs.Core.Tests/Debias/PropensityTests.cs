using BatchRecs.Core.Errors;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Debias;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Debias;

public class PropensityTests
{
    [Fact]
    public void Popularity_propensities_follow_the_power_law_and_are_clipped_never_zero()
    {
        var p = Propensity.FromPopularity([100, 25, 1, 0], eta: 0.5, pMin: 0.05);
        Assert.Equal(1f, p[0]);
        Assert.Equal(0.5f, p[1], 6);
        Assert.Equal(0.1f, p[2], 6);
        Assert.Equal(0.05f, p[3]);
        Assert.All(p, x => Assert.InRange(x, 0.05f, 1f));
        Assert.Contains("propensity_clip", Assert.Throws<BadInputException>(() => Propensity.FromPopularity([1], 0.5, 0)).Message);
        Assert.Contains("propensity_eta", Assert.Throws<BadInputException>(() => Propensity.FromPopularity([1], -1, 0.1)).Message);
    }

    private static CsrMatrix RandomMatrix(int users, int items, int nnz, int seed)
    {
        var rng = new Random(seed);
        var r = Enumerable.Range(0, nnz).Select(_ => rng.Next(users)).ToArray();
        var c = Enumerable.Range(0, nnz).Select(_ => rng.Next(items)).ToArray();
        var v = Enumerable.Range(0, nnz).Select(_ => (float)rng.Next(1, 5)).ToArray();
        return CsrMatrix.FromEntries(users, items, r, c, v);
    }

    [Fact]
    public void Ipw_training_with_uniform_propensities_gives_the_same_factors_as_no_debiasing()
    {
        var m = RandomMatrix(60, 40, 500, 1);
        var s = new AlsSettings(Factors: 8, Regularization: 0.1f, Alpha: 2, Iterations: 4);
        var plain = ImplicitAls.Fit(AlsProblem.Build(m, s), s, new LocalExecutor());
        var uniform = Enumerable.Repeat(1f, 40).ToArray();
        var ipw = ImplicitAls.Fit(AlsProblem.Build(m, s, RelMf.Preferences(m, uniform)), s, new LocalExecutor());
        Assert.Equal(plain.UserFactors, ipw.UserFactors);
        Assert.Equal(plain.ItemFactors, ipw.ItemFactors);
    }

    [Fact]
    public void Ipw_training_raises_scores_of_rarely_exposed_items()
    {
        var m = RandomMatrix(80, 30, 900, 2);
        var s = new AlsSettings(Factors: 6, Regularization: 0.1f, Alpha: 1, Iterations: 6);
        var counts = PopularityRanker.Counts(m);
        var p = Propensity.FromPopularity(counts, 1.0, 0.05);
        var plain = ImplicitAls.Fit(AlsProblem.Build(m, s), s, new LocalExecutor());
        var ipw = ImplicitAls.Fit(AlsProblem.Build(m, s, RelMf.Preferences(m, p)), s, new LocalExecutor());
        double MeanScore(AlsModel model, int item) =>
            Enumerable.Range(0, m.Rows).Average(u => System.Numerics.Tensors.TensorPrimitives.Dot(model.UserVector(u), model.ItemVector(item)));
        int rare = Enumerable.Range(0, 30).Where(i => counts[i] > 0).MinBy(i => counts[i]);
        int popular = Enumerable.Range(0, 30).MaxBy(i => counts[i]);
        // Relative to the most popular item, the rare item gains under Rel-MF's 1/p targets.
        Assert.True(MeanScore(ipw, rare) / MeanScore(ipw, popular) > MeanScore(plain, rare) / MeanScore(plain, popular));
    }

    [Fact]
    public void Rerank_penalizes_popular_items_and_keeps_lists_valid()
    {
        var cand = new TopNResult(1, 4);
        cand.Counts[0] = 4;
        new[] { 0, 1, 2, 3 }.CopyTo(cand.Items, 0);
        new[] { 1.0f, 0.95f, 0.9f, 0.2f }.CopyTo(cand.Scores, 0);
        var p = new[] { 1f, 0.5f, 0.1f, 0.1f };
        var r = PopularityRerank.Apply(cand, p, beta: 0.1, n: 3);
        // penalized: 1.0, 0.95 + 0.0693, 0.9 + 0.2303, 0.2 + 0.2303
        Assert.Equal([2, 1, 0], r.ItemsOf(0).ToArray());
        Assert.Equal(3, r.Counts[0]);
        Assert.True(r.ScoresOf(0)[0] >= r.ScoresOf(0)[1] && r.ScoresOf(0)[1] >= r.ScoresOf(0)[2]);
        Assert.Equal([0, 1, 2], PopularityRerank.Apply(cand, p, beta: 0, n: 3).ItemsOf(0).ToArray());
    }
}
