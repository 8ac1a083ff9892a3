using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Debias;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Debias;

/// <summary>Rel-MF generalized to confidence-weighted ALS: the per-pair weights, their limits, and the solver against a dense reference.</summary>
public class RelMfTests
{
    private static CsrMatrix RandomMatrix(int users, int items, int nnz, int seed)
    {
        var rng = new Random(seed);
        var r = Enumerable.Range(0, nnz).Select(_ => rng.Next(users)).ToArray();
        var c = Enumerable.Range(0, nnz).Select(_ => rng.Next(items)).ToArray();
        var v = Enumerable.Range(0, nnz).Select(_ => (float)rng.Next(1, 5)).ToArray();
        return CsrMatrix.FromEntries(users, items, r, c, v);
    }

    [Fact]
    public void Weights_reduce_to_the_paper_when_alpha_is_0_and_to_plain_als_when_theta_is_1()
    {
        foreach (float theta in new[] { 1f, 0.5f, 0.1f, 0.05f })
        {
            Assert.Equal(1f, RelMf.Confidence(1f, theta));
            Assert.Equal(1f / theta, RelMf.Preference(1f, theta), 5);
        }
        foreach (float c in new[] { 1f, 1.5f, 3f, 41f, 1001f })
        {
            Assert.Equal(c, RelMf.Confidence(c, 1f));
            Assert.Equal(1f, RelMf.Preference(c, 1f));
        }
        // The worked example of RelMf's remarks: c = 3, θ = 0.25.
        Assert.Equal(9f, RelMf.Confidence(3f, 0.25f));
        Assert.Equal(4f / 3f, RelMf.Preference(3f, 0.25f), 6);
    }

    [Fact]
    public void A_clicked_pairs_weighted_square_is_the_unbiased_estimate_up_to_a_constant()
    {
        // Saito et al.'s clicked-pair term, confidence-weighted: (c/θ)(1 − s)² + (1 − 1/θ)s². It must equal c′(s − p′)² + const.
        var rng = new Random(3);
        for (int trial = 0; trial < 50; trial++)
        {
            double c = 1 + 20 * rng.NextDouble(), theta = 0.05 + 0.95 * rng.NextDouble();
            double cw = RelMf.Confidence((float)c, (float)theta), p = RelMf.Preference((float)c, (float)theta);
            double Gap(double s) => cw * (s - p) * (s - p) - ((c / theta) * (1 - s) * (1 - s) + (1 - 1 / theta) * s * s);
            double g0 = Gap(0);
            foreach (double s in new[] { -1.0, 0.3, 1, 2.5, 7 })
                Assert.True(Math.Abs(Gap(s) - g0) < 1e-4 * (1 + Math.Abs(g0) + c / theta * s * s), $"c {c}, θ {theta}, s {s}");
        }
    }

    [Theory]
    [InlineData(AlsSolver.Cholesky, ConfidenceKind.Linear)]
    [InlineData(AlsSolver.ConjugateGradient, ConfidenceKind.Linear)]
    [InlineData(AlsSolver.Cholesky, ConfidenceKind.Log)]
    public void Rel_mf_equals_plain_als_when_all_propensities_are_1(AlsSolver solver, ConfidenceKind confidence)
    {
        var m = RandomMatrix(60, 40, 500, 1);
        var s = new AlsSettings(Factors: 8, Regularization: 0.1f, Alpha: 2.5f, Iterations: 4, Solver: solver, Confidence: confidence);
        var plain = ImplicitAls.Fit(AlsProblem.Build(m, s), s, new LocalExecutor());
        var ones = Enumerable.Repeat(1f, 40).ToArray();
        var problem = AlsProblem.BuildRelMf(m, s, ones);
        Assert.Equal(AlsProblem.Build(m, s).UserItemConf.Values, problem.UserItemConf.Values);
        Assert.All(problem.UserItemPref!, p => Assert.Equal(1f, p));
        var relMf = ImplicitAls.Fit(problem, s, new LocalExecutor());
        Assert.Equal(plain.UserFactors, relMf.UserFactors);
        Assert.Equal(plain.ItemFactors, relMf.ItemFactors);
    }

    [Theory]
    [InlineData(2f)]
    [InlineData(0f)]
    public void Rel_mf_fit_matches_a_dense_weighted_least_squares_reference(float alpha)
    {
        // 7 users × 6 items, every row and column with an entry; unequal propensities down to the clip.
        const int users = 7, items = 6, k = 3, iterations = 3;
        const float lambda = 0.1f;
        var rng = new Random(5);
        var (rows, cols, vals) = (new List<int>(), new List<int>(), new List<float>());
        for (int u = 0; u < users; u++)
            for (int i = 0; i < items; i++)
                if (i == u % items || rng.NextDouble() < 0.35) { rows.Add(u); cols.Add(i); vals.Add(rng.Next(1, 5)); }
        var m = CsrMatrix.FromEntries(users, items, rows.ToArray(), cols.ToArray(), vals.ToArray());
        float[] theta = [1f, 0.5f, 0.25f, 0.1f, 0.8f, 0.05f];
        var x0 = Enumerable.Range(0, users * k).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var y0 = Enumerable.Range(0, items * k).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var s = new AlsSettings(Factors: k, Regularization: lambda, Alpha: alpha, Iterations: iterations, Solver: AlsSolver.Cholesky);
        var fit = ImplicitAls.Fit(AlsProblem.BuildRelMf(m, s, theta), s, new LocalExecutor(),
            new AlsFitOptions { WarmUsers = x0, WarmItems = y0 });

        // The reference: the full weighted loss Σ_ui w_ui (p_ui − x_uᵀy_i)² + λ(‖X‖² + ‖Y‖²) with the weights written
        // out here (observed: w = 1 + α·r/θ_i, p = (1 + α·r)/(θ_i + α·r); unobserved: w = 1, p = 0), each row's normal
        // equations solved exactly in double precision.
        var w = new double[users, items];
        var p = new double[users, items];
        for (int u = 0; u < users; u++) for (int i = 0; i < items; i++) w[u, i] = 1;
        for (int e = 0; e < rows.Count; e++)
        {
            int u = rows[e], i = cols[e];
            double ar = alpha * (double)vals[e];
            w[u, i] = 1 + ar / theta[i];
            p[u, i] = (1 + ar) / (theta[i] + ar);
        }
        AssertMatchesDense(fit, x0, y0, w, p, k, lambda, iterations);
    }

    [Theory]
    [InlineData(0.2f, true)]
    [InlineData(0.2f, false)]
    [InlineData(1f, true)]
    public void Exposure_aware_fit_matches_a_dense_weighted_least_squares_reference(float unexposed, bool ipw)
    {
        // 7 users × 6 items: clicks, exposures (some of them the clicks, some clicks not among them), unequal propensities.
        const int users = 7, items = 6, k = 3, iterations = 3;
        const float lambda = 0.1f, alpha = 2f;
        var rng = new Random(9);
        var (rows, cols, vals) = (new List<int>(), new List<int>(), new List<float>());
        var (er, ec) = (new List<int>(), new List<int>());
        for (int u = 0; u < users; u++)
            for (int i = 0; i < items; i++)
            {
                bool click = i == u % items || rng.NextDouble() < 0.25;
                if (click) { rows.Add(u); cols.Add(i); vals.Add(rng.Next(1, 5)); }
                if (click ? rng.NextDouble() < 0.7 : rng.NextDouble() < 0.4) { er.Add(u); ec.Add(i); }
            }
        var m = CsrMatrix.FromEntries(users, items, rows.ToArray(), cols.ToArray(), vals.ToArray());
        var exposed = CsrMatrix.FromEntries(users, items, er.ToArray(), ec.ToArray(), Enumerable.Repeat(1f, er.Count).ToArray());
        float[] theta = ipw ? [1f, 0.5f, 0.25f, 0.1f, 0.8f, 0.05f] : [];
        var x0 = Enumerable.Range(0, users * k).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var y0 = Enumerable.Range(0, items * k).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var s = new AlsSettings(Factors: k, Regularization: lambda, Alpha: alpha, Iterations: iterations, Solver: AlsSolver.Cholesky);
        var fit = ImplicitAls.Fit(AlsProblem.BuildExposureAware(m, exposed, s, unexposed, theta), s, new LocalExecutor(),
            new AlsFitOptions { WarmUsers = x0, WarmItems = y0 });

        // The reference, written out: the loss Σ w (p − xᵀy)² divided by w₀, plus λ(‖X‖² + ‖Y‖²): never shown 1, shown and
        // not clicked 1/(θ_i·w₀) with target 0, clicked (1 + α·r)/(θ_i·w₀) with target 1.
        var w = new double[users, items];
        var p = new double[users, items];
        for (int u = 0; u < users; u++) for (int i = 0; i < items; i++) w[u, i] = 1;
        for (int e = 0; e < er.Count; e++) w[er[e], ec[e]] = 1 / ((ipw ? theta[ec[e]] : 1.0) * unexposed);
        for (int e = 0; e < rows.Count; e++)
        {
            int u = rows[e], i = cols[e];
            w[u, i] = (1 + alpha * (double)vals[e]) / ((ipw ? theta[i] : 1.0) * unexposed);
            p[u, i] = 1;
        }
        AssertMatchesDense(fit, x0, y0, w, p, k, lambda, iterations);
        if (unexposed == 1 && ipw) return;
        // With w₀ = 1 and every θ = 1 it is plain ALS: the exposures change nothing.
        var plainSettings = s with { Solver = AlsSolver.Cholesky };
        var plain = ImplicitAls.Fit(AlsProblem.Build(m, plainSettings), plainSettings, new LocalExecutor(), new AlsFitOptions { WarmUsers = x0, WarmItems = y0 });
        var neutral = ImplicitAls.Fit(AlsProblem.BuildExposureAware(m, exposed, plainSettings, 1f, []), plainSettings, new LocalExecutor(), new AlsFitOptions { WarmUsers = x0, WarmItems = y0 });
        for (int j = 0; j < plain.UserFactors.Length; j++) Assert.Equal(plain.UserFactors[j], neutral.UserFactors[j], 5);
    }

    /// <summary>
    /// The reference fit: from the same start, <paramref name="iterations"/> alternating exact solves of the full weighted loss
    /// Σ_ui w_ui (p_ui − x_uᵀy_i)² + λ(‖X‖² + ‖Y‖²) in double precision; the fit's factors must agree to 1e-4 relative.
    /// </summary>
    private static void AssertMatchesDense(AlsModel fit, float[] x0, float[] y0, double[,] w, double[,] p, int k, float lambda, int iterations)
    {
        int users = w.GetLength(0), items = w.GetLength(1);
        var x = x0.Select(v => (double)v).ToArray();
        var y = y0.Select(v => (double)v).ToArray();
        for (int it = 0; it < iterations; it++)
        {
            for (int u = 0; u < users; u++) SolveRow(x, u, y, items, k, lambda, i => w[u, i], i => p[u, i]);
            for (int i = 0; i < items; i++) SolveRow(y, i, x, users, k, lambda, u => w[u, i], u => p[u, i]);
        }
        for (int j = 0; j < x.Length; j++) Assert.True(Math.Abs(fit.UserFactors[j] - x[j]) < 1e-4 * (1 + Math.Abs(x[j])), $"user factor {j}: {fit.UserFactors[j]} vs {x[j]}");
        for (int j = 0; j < y.Length; j++) Assert.True(Math.Abs(fit.ItemFactors[j] - y[j]) < 1e-4 * (1 + Math.Abs(y[j])), $"item factor {j}: {fit.ItemFactors[j]} vs {y[j]}");
    }

    /// <summary>Row r of <paramref name="dst"/> := (Σ_j w_j v_j v_jᵀ + λI)⁻¹ Σ_j w_j p_j v_j over all <paramref name="n"/> rows v_j of <paramref name="src"/> (Gaussian elimination).</summary>
    private static void SolveRow(double[] dst, int r, double[] src, int n, int k, double lambda, Func<int, double> w, Func<int, double> p)
    {
        var a = new double[k, k + 1];
        for (int d = 0; d < k; d++) a[d, d] = lambda;
        for (int j = 0; j < n; j++)
            for (int d = 0; d < k; d++)
            {
                for (int e = 0; e < k; e++) a[d, e] += w(j) * src[j * k + d] * src[j * k + e];
                a[d, k] += w(j) * p(j) * src[j * k + d];
            }
        for (int col = 0; col < k; col++)
        {
            int piv = Enumerable.Range(col, k - col).MaxBy(row => Math.Abs(a[row, col]));
            for (int e = 0; e <= k; e++) (a[col, e], a[piv, e]) = (a[piv, e], a[col, e]);
            for (int row = 0; row < k; row++)
            {
                if (row == col) continue;
                double f = a[row, col] / a[col, col];
                for (int e = col; e <= k; e++) a[row, e] -= f * a[col, e];
            }
        }
        for (int d = 0; d < k; d++) dst[r * k + d] = a[d, k] / a[d, d];
    }

    [Fact]
    public void Rel_mf_raises_scores_of_rarely_exposed_items()
    {
        var m = RandomMatrix(80, 30, 900, 2);
        var s = new AlsSettings(Factors: 6, Regularization: 0.1f, Alpha: 1, Iterations: 6);
        var counts = PopularityRanker.Counts(m);
        var p = Propensity.FromPopularity(counts, 1.0, 0.05);
        var plain = ImplicitAls.Fit(AlsProblem.Build(m, s), s, new LocalExecutor());
        var ipw = ImplicitAls.Fit(AlsProblem.BuildRelMf(m, s, p), s, new LocalExecutor());
        double MeanScore(AlsModel model, int item) =>
            Enumerable.Range(0, m.Rows).Average(u => System.Numerics.Tensors.TensorPrimitives.Dot(model.UserVector(u), model.ItemVector(item)));
        int rare = Enumerable.Range(0, 30).Where(i => counts[i] > 0).MinBy(i => counts[i]);
        int popular = Enumerable.Range(0, 30).MaxBy(i => counts[i]);
        // Relative to the most popular item, the rare item gains under Rel-MF's propensity-weighted targets.
        Assert.True(MeanScore(ipw, rare) / MeanScore(ipw, popular) > MeanScore(plain, rare) / MeanScore(plain, popular));
    }

    [Fact]
    public void Rel_mf_rejects_propensities_that_are_not_clipped()
    {
        var m = RandomMatrix(5, 4, 10, 4);
        var s = new AlsSettings(Factors: 2);
        Assert.Throws<ArgumentException>(() => AlsProblem.BuildRelMf(m, s, [1f, 0f, 0.5f, 0.5f]));
        Assert.Throws<ArgumentException>(() => AlsProblem.BuildRelMf(m, s, [1f, 0.5f]));
    }
}
