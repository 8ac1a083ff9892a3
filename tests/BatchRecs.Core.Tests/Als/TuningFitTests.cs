using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;

namespace BatchRecs.Core.Tests.Als;

/// <summary>The pieces cheap tuning trials stand on: warm starts from another factor count, user samples, no loss.</summary>
public class TuningFitTests
{
    private static AlsModel Fitted(int k, int users = 60, int items = 40)
    {
        var problem = AlsProblem.Build(TestProblems.RandomStrengths(users, items, 0.15, 3), new AlsSettings(Factors: k));
        return ImplicitAls.Fit(problem, new AlsSettings(Factors: k, Alpha: 2, Regularization: 0.5f, Iterations: 8, Solver: AlsSolver.Cholesky), new LocalExecutor());
    }

    private static double Score(float[] x, float[] y, int k, int u, int i)
    {
        double s = 0;
        for (int f = 0; f < k; f++) s += (double)x[u * k + f] * y[i * k + f];
        return s;
    }

    [Fact]
    public void Projection_onto_the_same_factor_count_keeps_every_score()
    {
        var m = Fitted(6);
        var (x, y) = FactorProjection.Project(m, 6, 1);
        for (int u = 0; u < m.Users; u++)
            for (int i = 0; i < m.Items; i++)
                Assert.Equal(Score(m.UserFactors, m.ItemFactors, 6, u, i), Score(x, y, 6, u, i), 1e-3);
    }

    [Fact]
    public void Projection_onto_fewer_factors_keeps_the_strongest_item_directions()
    {
        var m = Fitted(8);
        var (_, y) = FactorProjection.Project(m, 3, 1);
        // The kept columns are orthogonal and carry the three largest eigenvalues of YᵀY, largest first.
        var g = GramMatrix.Compute(y, m.Items, 3);
        var full = GramMatrix.Compute(FactorProjection.Project(m, 8, 1).Items, m.Items, 8);
        double trace = Enumerable.Range(0, 8).Sum(j => (double)full[j * 8 + j]);
        double original = Enumerable.Range(0, 8).Sum(j => (double)GramMatrix.Compute(m.ItemFactors, m.Items, 8)[j * 8 + j]);
        Assert.Equal(original, trace, 1e-2); // a rotation keeps the total energy
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
                if (a != b) Assert.True(Math.Abs(g[a * 3 + b]) < 1e-3 * g[0], $"columns {a} and {b} are not orthogonal: {g[a * 3 + b]}");
        Assert.True(g[0] >= g[4] && g[4] >= g[8]);
        // Independent check: no other unit direction of the item factors (random ones here) carries more than the first.
        var rng = new Random(5);
        for (int t = 0; t < 200; t++)
        {
            var d = TestProblems.RandomVector(8, rng);
            double norm = Math.Sqrt(d.Sum(v => (double)v * v)), energy = 0;
            for (int i = 0; i < m.Items; i++)
            {
                double p = 0;
                for (int f = 0; f < 8; f++) p += m.ItemFactors[i * 8 + f] * d[f] / norm;
                energy += p * p;
            }
            Assert.True(energy <= g[0] * (1 + 1e-4), $"direction {t} carries {energy}, more than the first principal one ({g[0]})");
        }
    }

    [Fact]
    public void Projection_onto_more_factors_keeps_the_scores_and_adds_live_columns()
    {
        var m = Fitted(4);
        var (x, y) = FactorProjection.Project(m, 7, 1);
        for (int u = 0; u < m.Users; u++)
            for (int i = 0; i < m.Items; i++)
            {
                double kept = 0;
                for (int f = 0; f < 4; f++) kept += (double)x[u * 7 + f] * y[i * 7 + f];
                Assert.Equal(Score(m.UserFactors, m.ItemFactors, 4, u, i), kept, 1e-3);
            }
        // The added columns are zero-mean and about as strong as the weakest kept direction, not a 0.01 start.
        double weakest = Math.Sqrt(Enumerable.Range(0, m.Items).Average(i => (double)y[i * 7 + 3] * y[i * 7 + 3]));
        double added = Math.Sqrt(Enumerable.Range(0, m.Items).Average(i => (double)y[i * 7 + 5] * y[i * 7 + 5]));
        Assert.InRange(added, weakest * 0.6, weakest * 1.4);
        Assert.True(Math.Abs(Enumerable.Range(0, m.Items).Average(i => (double)y[i * 7 + 5])) < 0.3 * added);
    }

    [Fact]
    public void A_user_sample_fits_items_as_the_whole_population_would()
    {
        // Half of the users sampled (the others empty rows) vs the same half, each user present twice: the duplicated
        // problem is what the sample estimates (twice the sampled data term), fitted with the plain λ. One iteration from
        // the same start must give the same item factors.
        const int users = 40, items = 30, k = 5;
        var full = TestProblems.RandomStrengths(users, items, 0.2, 7);
        var keep = Enumerable.Range(0, users).Select(u => u % 2 == 0).ToArray();
        var r = new List<int>(); var c = new List<int>(); var v = new List<float>();
        var r2 = new List<int>(); var c2 = new List<int>(); var v2 = new List<float>();
        for (int u = 0; u < users; u++)
            for (int p = full.RowPtr[u]; p < full.RowPtr[u + 1]; p++)
            {
                if (!keep[u]) continue;
                r.Add(u); c.Add(full.ColIdx[p]); v.Add(full.Values[p]);
                foreach (int copy in new[] { u, u + users }) { r2.Add(copy); c2.Add(full.ColIdx[p]); v2.Add(full.Values[p]); }
            }
        var sample = CsrMatrix.FromEntries(users, items, r.ToArray(), c.ToArray(), v.ToArray());
        var doubled = CsrMatrix.FromEntries(2 * users, items, r2.ToArray(), c2.ToArray(), v2.ToArray());
        var s = new AlsSettings(Factors: k, Alpha: 3, Regularization: 2f, Iterations: 1, Solver: AlsSolver.Cholesky);
        var y0 = FactorInit.Random(items, k, 9, Side.Items, 0.5f);
        var fromSample = ImplicitAls.Fit(AlsProblem.Build(sample, s), s, new LocalExecutor(), new AlsFitOptions { WarmUsers = new float[users * k], WarmItems = y0, UserSample = 0.5 });
        var fromDoubled = ImplicitAls.Fit(AlsProblem.Build(doubled, s), s, new LocalExecutor(), new AlsFitOptions { WarmUsers = new float[2 * users * k], WarmItems = y0 });
        for (int j = 0; j < items * k; j++) Assert.Equal(fromDoubled.ItemFactors[j], fromSample.ItemFactors[j], 1e-3f);
        // Without the scaling the sample's items would be over-regularized: the check above can fail.
        var unscaled = ImplicitAls.Fit(AlsProblem.Build(sample, s), s, new LocalExecutor(), new AlsFitOptions { WarmUsers = new float[users * k], WarmItems = y0 });
        Assert.Contains(Enumerable.Range(0, items * k), j => Math.Abs(unscaled.ItemFactors[j] - fromDoubled.ItemFactors[j]) > 1e-2);
    }

    [Fact]
    public void Skipping_the_loss_changes_nothing_but_the_recorded_loss()
    {
        var problem = AlsProblem.Build(TestProblems.RandomStrengths(50, 30, 0.2, 4), new AlsSettings(Factors: 4));
        var s = new AlsSettings(Factors: 4, Alpha: 2, Iterations: 4);
        var with = ImplicitAls.Fit(problem, s, new LocalExecutor());
        var without = ImplicitAls.Fit(problem, s, new LocalExecutor(), new AlsFitOptions { TrackLoss = false });
        Assert.Equal(with.UserFactors, without.UserFactors);
        Assert.Equal(with.ItemFactors, without.ItemFactors);
        Assert.All(with.History, h => Assert.True(double.IsFinite(h.Loss)));
        Assert.All(without.History, h => Assert.True(double.IsNaN(h.Loss)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImplicitAls.Fit(problem, s, new LocalExecutor(), new AlsFitOptions { UserSample = 0 }));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Divergence_is_caught_with_or_without_the_loss(bool trackLoss)
    {
        var problem = AlsProblem.Build(TestProblems.RandomStrengths(30, 20, 0.2, 4), new AlsSettings(Factors: 3));
        var s = new AlsSettings(Factors: 3, Iterations: 1);
        var items = FactorInit.Random(20, 3, 1, Side.Items);
        items[7] = float.NaN;
        var e = Assert.Throws<ArithmeticException>(() => ImplicitAls.Fit(problem, s, new LocalExecutor(), new AlsFitOptions { WarmItems = items, TrackLoss = trackLoss }));
        Assert.Contains("diverged at iteration 1", e.Message);
    }
}
