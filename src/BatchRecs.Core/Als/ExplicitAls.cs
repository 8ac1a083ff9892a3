using BatchRecs.Core.Errors;
using System.Diagnostics;
using BatchRecs.Core.Data;

namespace BatchRecs.Core.Als;

/// <summary>
/// A biased matrix-factorization model of ratings: r̂ᵤᵢ = μ + bᵤ + bᵢ + xᵤᵀyᵢ.
/// Worked example: μ = 3.5, bᵤ = −0.4, bᵢ = +0.7 and a taste match xᵤᵀyᵢ = 0.5 predict 3.5 − 0.4 + 0.7 + 0.5 = 4.3.
/// </summary>
public sealed class BiasedModel(float globalMean, float[] userBias, float[] itemBias, AlsModel factors)
{
    public float GlobalMean { get; } = globalMean;
    public float[] UserBias { get; } = userBias;
    public float[] ItemBias { get; } = itemBias;
    /// <summary>The taste factors and the per-iteration history (loss = Σ (r − r̂)² + λ(‖X‖² + ‖Y‖² + ‖b‖²)).</summary>
    public AlsModel Factors { get; } = factors;

    public float Predict(int user, int item) =>
        GlobalMean + UserBias[user] + ItemBias[item] + FactorMath.Dot(Factors.UserVector(user), Factors.ItemVector(item));
}

/// <summary>
/// Explicit-feedback ALS with biases (the model of Koren, Bell &amp; Volinsky 2009, eq. 5, fitted by alternating
/// exact least squares as in Zhou et al. 2008). Only observed ratings enter the loss, so there is no Gram
/// trick: each row solves its own (k+1)-dimensional system. The bias rides along as one more coordinate:
/// solving users, each rated item contributes the regressor zᵢ = [yᵢ, 1] and the target rᵤᵢ − μ − bᵢ, and the
/// solution is [xᵤ, bᵤ]; items are solved the same way with src and dst swapped (one routine, src/dst terms).
/// </summary>
public static class ExplicitAls
{
    /// <param name="ratings">users × items CSR of ratings (any finite values).</param>
    /// <param name="settings">factors, λ (and its scaling), iterations and seed; the confidence settings are not used.</param>
    /// <param name="maxThreads">threads of each half-step (-1: no limit).</param>
    /// <param name="onIteration">called after every iteration.</param>
    public static BiasedModel Fit(CsrMatrix ratings, AlsSettings settings, int maxThreads = -1, Action<IterationStats>? onIteration = null)
    {
        settings.Validate();
        if (settings.Mode != AlsMode.Explicit) throw new ArgumentException("mode is implicit: fit interaction strengths with ImplicitAls.Fit.", nameof(settings));
        if (ratings.NonZeros == 0) throw new BadInputException("there are no ratings to fit (empty input).");
        for (int e = 0; e < ratings.NonZeros; e++)
            if (!float.IsFinite(ratings.Values[e]))
                throw new BadInputException($"a rating must be a finite number; got {ratings.Values[e]} for user index {Array.FindLastIndex(ratings.RowPtr, p => p <= e)}, item index {ratings.ColIdx[e]}.");
        int k = settings.Factors;
        var byItem = ratings.Transpose();
        double sum = 0;
        foreach (float v in ratings.Values) sum += v;
        float mu = (float)(sum / ratings.NonZeros);
        var x = FactorInit.Random(ratings.Rows, k, settings.Seed, Side.Users);
        var y = FactorInit.Random(ratings.Cols, k, settings.Seed, Side.Items);
        var bu = new float[ratings.Rows];
        var bi = new float[ratings.Cols];
        var history = new List<IterationStats>(settings.Iterations);
        for (int it = 0; it < settings.Iterations; it++)
        {
            var sw = Stopwatch.StartNew();
            HalfStep(ratings, mu, y, bi, x, bu, settings, maxThreads);
            HalfStep(byItem, mu, x, bu, y, bi, settings, maxThreads);
            double loss = Loss(ratings, byItem, mu, x, bu, y, bi, settings);
            if (!double.IsFinite(loss))
                throw new ArithmeticException($"explicit ALS diverged at iteration {it + 1} (loss is {loss}); try increasing regularization.");
            var stats = new IterationStats(it + 1, sw.Elapsed.TotalSeconds, loss);
            history.Add(stats);
            onIteration?.Invoke(stats);
        }
        return new BiasedModel(mu, bu, bi, new AlsModel(ratings.Rows, ratings.Cols, k, x, y, history));
    }

    /// <summary>
    /// Solves every src row: min over [x, b] of Σₑ (rₑ − μ − b_dst(e) − b − xᵀy_dst(e))² + λ(‖x‖² + b²).
    /// Rows are independent (fixed row chunks, any thread), so results do not depend on the thread count.
    /// </summary>
    internal static void HalfStep(CsrMatrix src, float mu, float[] dstFactors, float[] dstBias, float[] srcFactors, float[] srcBias,
        AlsSettings s, int maxThreads)
    {
        int k = s.Factors, d = k + 1;
        const int chunk = 256;
        Parallel.For(0, (src.Rows + chunk - 1) / chunk, new ParallelOptions { MaxDegreeOfParallelism = maxThreads }, () => new float[d * d + 2 * d + 2 * CholeskySolver.Panel * d], (c, _, scratch) =>
        {
            var a = scratch.AsSpan(0, d * d);
            var b = scratch.AsSpan(d * d, d);
            var w = scratch.AsSpan(d * d + d, d);
            var zPanel = scratch.AsSpan(d * d + 2 * d, CholeskySolver.Panel * d);
            var tPanel = scratch.AsSpan(d * d + 2 * d + CholeskySolver.Panel * d, CholeskySolver.Panel * d);
            int end = Math.Min(src.Rows, (c + 1) * chunk);
            for (int row = c * chunk; row < end; row++)
            {
                var cols = src.RowCols(row);
                var vals = src.RowValues(row);
                if (cols.Length == 0) { srcFactors.AsSpan(row * k, k).Clear(); srcBias[row] = 0; continue; }
                float lambda = s.ScaleRegularization ? s.Regularization * cols.Length : s.Regularization;
                a.Clear();
                b.Clear();
                for (int f = 0; f < d; f++) a[f * d + f] = lambda;
                for (int e0 = 0; e0 < cols.Length; e0 += CholeskySolver.Panel)
                {
                    int n = Math.Min(CholeskySolver.Panel, cols.Length - e0);
                    for (int e = 0; e < n; e++)
                    {
                        int j = cols[e0 + e];
                        var z = zPanel.Slice(e * d, d);
                        dstFactors.AsSpan(j * k, k).CopyTo(z);
                        z[k] = 1f;
                        z.CopyTo(tPanel.Slice(e * d, d));
                        FactorMath.Axpy(vals[e0 + e] - mu - dstBias[j], z, b);
                    }
                    FactorMath.RankUpdateUpper(a, d, zPanel, tPanel, n);
                }
                if (!FactorMath.CholeskyUpper(a, d))
                    throw new ArithmeticException("an explicit normal equation is not positive definite; try increasing regularization.");
                FactorMath.CholeskySolveUpper(a, b, w, d);
                w[..k].CopyTo(srcFactors.AsSpan(row * k, k));
                srcBias[row] = w[k];
            }
            return scratch;
        }, _ => { });
    }

    /// <summary>Σ over observed ratings of (r − r̂)² + λ(‖X‖² + ‖Y‖² + ‖bᵤ‖² + ‖bᵢ‖²) (λ per row when scaled).</summary>
    internal static double Loss(CsrMatrix byUser, CsrMatrix byItem, float mu, float[] x, float[] bu, float[] y, float[] bi, AlsSettings s)
    {
        int k = s.Factors;
        double loss = 0;
        for (int u = 0; u < byUser.Rows; u++)
        {
            var cols = byUser.RowCols(u);
            var vals = byUser.RowValues(u);
            for (int e = 0; e < cols.Length; e++)
            {
                double err = vals[e] - (mu + bu[u] + bi[cols[e]] + FactorMath.Dot(x.AsSpan(u * k, k), y.AsSpan(cols[e] * k, k)));
                loss += err * err;
            }
            double lu = s.ScaleRegularization ? s.Regularization * cols.Length : s.Regularization;
            loss += lu * (FactorMath.Dot(x.AsSpan(u * k, k), x.AsSpan(u * k, k)) + (double)bu[u] * bu[u]);
        }
        for (int i = 0; i < byItem.Rows; i++)
        {
            double li = s.ScaleRegularization ? s.Regularization * byItem.RowLength(i) : s.Regularization;
            loss += li * (FactorMath.Dot(y.AsSpan(i * k, k), y.AsSpan(i * k, k)) + (double)bi[i] * bi[i]);
        }
        return loss;
    }
}
