using BatchRecs.Core.Data;
using BatchRecs.Core.Errors;
using BatchRecs.Debias.ML;

namespace BatchRecs.Debias.ML.Tests;

public class ExposurePropensityTests
{
    /// <summary>Exposure probability grows with popularity by construction; the model must recover the order.</summary>
    private static (CsrMatrix Exposures, int[] Counts, int[] Activity) World(int seed)
    {
        var rng = new Random(seed);
        int users = 400, items = 60;
        var counts = Enumerable.Range(0, items).Select(i => 1 + i * 5).ToArray(); // item i: popularity grows with i
        var activity = Enumerable.Range(0, users).Select(_ => 5 + rng.Next(30)).ToArray();
        var r = new List<int>(); var c = new List<int>();
        for (int u = 0; u < users; u++)
            for (int i = 0; i < items; i++)
                if (rng.NextDouble() < 0.02 + 0.5 * i / items) { r.Add(u); c.Add(i); }
        return (CsrMatrix.FromEntries(users, items, r.ToArray(), c.ToArray(), Enumerable.Repeat(1f, r.Count).ToArray()), counts, activity);
    }

    [Fact]
    public void Exposure_propensities_rise_with_exposure_are_clipped_and_deterministic()
    {
        var (exp, counts, activity) = World(1);
        var fit = ExposurePropensity.Fit(exp, counts, activity, pMin: 0.05, seed: 7);
        Assert.Equal(60, fit.Propensity.Length);
        Assert.All(fit.Propensity, p => Assert.InRange(p, 0.05f, 1f));
        Assert.Equal(1f, fit.Propensity.Max());
        Assert.True(fit.Weights[0] > 0, "exposure should grow with item popularity");
        Assert.True(fit.Propensity[59] > fit.Propensity[30] && fit.Propensity[30] > fit.Propensity[5]);
        var again = ExposurePropensity.Fit(exp, counts, activity, pMin: 0.05, seed: 7);
        Assert.Equal(fit.Propensity, again.Propensity);
    }

    [Fact]
    public void An_empty_exposure_log_names_the_setting()
    {
        var empty = CsrMatrix.FromEntries(3, 3, [], [], []);
        var e = Assert.Throws<BadInputException>(() => ExposurePropensity.Fit(empty, [1, 1, 1], [1, 1, 1]));
        Assert.Contains("exposure", e.Message);
    }
}
