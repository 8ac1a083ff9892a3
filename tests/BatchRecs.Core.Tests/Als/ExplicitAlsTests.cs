using BatchRecs.Core.Errors;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;

namespace BatchRecs.Core.Tests.Als;

public class ExplicitAlsTests
{
    private static AlsSettings Explicit(int k, int iterations = 10, float reg = 0.1f) =>
        new(Factors: k, Regularization: reg, Iterations: iterations, Seed: 3, Mode: AlsMode.Explicit);

    /// <summary>Ratings of a planted model μ + bᵤ + bᵢ + xᵀy (k = 2) on about <paramref name="density"/> of the pairs.</summary>
    private static CsrMatrix Planted(int users, int items, double density, int seed)
    {
        var rng = new Random(seed);
        var bu = Enumerable.Range(0, users).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var bi = Enumerable.Range(0, items).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var x = Enumerable.Range(0, users * 2).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var y = Enumerable.Range(0, items * 2).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var r = new List<int>(); var c = new List<int>(); var v = new List<float>();
        for (int u = 0; u < users; u++)
            for (int i = 0; i < items; i++)
                if (rng.NextDouble() < density || i == u % items)
                {
                    r.Add(u); c.Add(i);
                    v.Add((float)(3.5 + bu[u] + bi[i] + x[2 * u] * y[2 * i] + x[2 * u + 1] * y[2 * i + 1]));
                }
        return CsrMatrix.FromEntries(users, items, r.ToArray(), c.ToArray(), v.ToArray());
    }

    [Fact]
    public void Prediction_is_mean_plus_biases_plus_taste_as_in_the_worked_example()
    {
        // μ 3.5, user −0.4, item +0.7, taste xᵀy = 0.5·1 + 0·0.3 = 0.5 → 4.3.
        var factors = new AlsModel(1, 1, 2, [0.5f, 0f], [1f, 0.3f], []);
        var model = new BiasedModel(3.5f, [-0.4f], [0.7f], factors);
        Assert.Equal(4.3f, model.Predict(0, 0), 5);
    }

    [Fact]
    public void A_half_step_equals_the_dense_closed_form_of_the_augmented_least_squares()
    {
        int k = 5;
        var s = Explicit(k, reg: 0.3f);
        var ratings = Planted(6, 40, 0.3, 1);
        var rng = new Random(2);
        var y = TestProblems.RandomVector(40 * k, rng, 0.5f);
        var bi = TestProblems.RandomVector(40, rng, 0.3f);
        var x = new float[6 * k];
        var bu = new float[6];
        ExplicitAls.HalfStep(ratings, 3.5f, y, bi, x, bu, s, 2);
        for (int u = 0; u < 6; u++)
        {
            // Independent: A = Σ zzᵀ + λI with z = [y, 1], b = Σ (r − μ − bᵢ)·z, Gaussian elimination in double.
            int d = k + 1;
            var a = new double[d, d + 1];
            var cols = ratings.RowCols(u);
            var vals = ratings.RowValues(u);
            for (int e = 0; e < cols.Length; e++)
            {
                var z = new double[d];
                for (int f = 0; f < k; f++) z[f] = y[cols[e] * k + f];
                z[k] = 1;
                double t = vals[e] - 3.5 - bi[cols[e]];
                for (int f = 0; f < d; f++)
                {
                    a[f, d] += t * z[f];
                    for (int g = 0; g < d; g++) a[f, g] += z[f] * z[g];
                }
            }
            for (int f = 0; f < d; f++) a[f, f] += 0.3;
            var exact = TestProblems.Gauss(a, d);
            for (int f = 0; f < k; f++) Assert.True(Math.Abs(exact[f] - x[u * k + f]) < 1e-4, $"user {u} x[{f}] = {x[u * k + f]}, closed form {exact[f]}");
            Assert.True(Math.Abs(exact[k] - bu[u]) < 1e-4, $"user {u} bias {bu[u]}, closed form {exact[k]}");
        }
    }

    [Fact]
    public void Loss_decreases_and_a_planted_model_is_recovered()
    {
        var ratings = Planted(80, 50, 0.4, 5);
        var model = ExplicitAls.Fit(ratings, Explicit(2, iterations: 30, reg: 0.01f), maxThreads: 2);
        var h = model.Factors.History;
        for (int it = 1; it < h.Count; it++)
            Assert.True(h[it].Loss <= h[it - 1].Loss * (1 + 1e-6), $"loss rose at iteration {it + 1}: {h[it - 1].Loss} → {h[it].Loss}");
        double se = 0;
        for (int u = 0; u < ratings.Rows; u++)
            for (int e = 0; e < ratings.RowLength(u); e++)
            {
                double err = ratings.RowValues(u)[e] - model.Predict(u, ratings.RowCols(u)[e]);
                se += err * err;
            }
        double rmse = Math.Sqrt(se / ratings.NonZeros);
        Assert.True(rmse < 0.05, $"training RMSE {rmse} on noise-free planted ratings");
        Assert.InRange(model.GlobalMean, 3.3f, 3.7f);
    }

    [Fact]
    public void Explicit_fits_are_bit_identical_for_any_thread_count()
    {
        var ratings = Planted(700, 60, 0.1, 8);
        var s = Explicit(8, iterations: 3);
        var one = ExplicitAls.Fit(ratings, s, maxThreads: 1);
        var many = ExplicitAls.Fit(ratings, s, maxThreads: 4);
        Assert.Equal(SolverTests.BitsOf(one.Factors.UserFactors), SolverTests.BitsOf(many.Factors.UserFactors));
        Assert.Equal(SolverTests.BitsOf(one.ItemBias), SolverTests.BitsOf(many.ItemBias));
    }

    [Fact]
    public void Bad_input_and_mismatched_mode_fail_naming_the_setting()
    {
        var ratings = Planted(5, 4, 0.5, 1);
        var values = (float[])ratings.Values.Clone();
        values[2] = float.NaN;
        var e = Assert.Throws<BadInputException>(() => ExplicitAls.Fit(new CsrMatrix(5, 4, ratings.RowPtr, ratings.ColIdx, values), Explicit(2)));
        Assert.Contains("NaN", e.Message);
        Assert.Contains("empty input", Assert.Throws<BadInputException>(() => ExplicitAls.Fit(new CsrMatrix(2, 2, new int[3], [], []), Explicit(2))).Message);
        Assert.Contains("factors", Assert.Throws<BadInputException>(() => ExplicitAls.Fit(ratings, Explicit(0))).Message);
        // A mismatched mode is a caller's bug, not the user's input: an ArgumentException (exit 1, retried).
        Assert.Contains("mode is implicit", Assert.Throws<ArgumentException>(() => ExplicitAls.Fit(ratings, Explicit(2) with { Mode = AlsMode.Implicit })).Message);
        var problem = AlsProblem.Build(TestProblems.RandomStrengths(5, 4, 0.5, 1), new AlsSettings());
        Assert.Contains("mode is explicit", Assert.Throws<ArgumentException>(() => ImplicitAls.Fit(problem, Explicit(2), new LocalExecutor(1))).Message);
    }
}
