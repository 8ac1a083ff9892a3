namespace BatchRecs.Core.Als;

/// <summary>
/// The weighted training loss L = Σᵤᵢ cᵤᵢ(pᵤᵢ − xᵤᵀyᵢ)² + λ(Σ‖xᵤ‖² + Σ‖yᵢ‖²), computed without touching
/// the unobserved pairs: Σ over all items of (xᵤᵀyᵢ)² is xᵤᵀ(YᵀY)xᵤ, so
/// L = Σᵤ [xᵤᵀGxᵤ + Σ_observed (c(p − s)² − s²)] + λ(...). O(users·k² + nnz·k).
/// </summary>
public static class TrainingLoss
{
    /// <param name="x">users × k, row-major.</param>
    /// <param name="y">items × k, row-major.</param>
    /// <param name="gy">YᵀY, k×k.</param>
    /// <param name="problem">the confidence (and preference) CSRs of the fit.</param>
    /// <param name="s">the fit's settings (k, λ).</param>
    public static double Compute(AlsProblem problem, AlsSettings s, float[] x, float[] y, float[] gy)
    {
        int k = s.Factors;
        if (x.Length != problem.Users * k || y.Length != problem.Items * k || gy.Length != k * k)
            throw new ArgumentException("x, y and gy must be users × k, items × k and k × k.");
        var m = problem.UserItemConf;
        const int chunk = 1024;
        int chunks = (m.Rows + chunk - 1) / chunk;
        var partial = new double[chunks];
        Parallel.For(0, chunks, c =>
        {
            Span<float> gx = stackalloc float[k];
            double acc = 0;
            int end = Math.Min(m.Rows, (c + 1) * chunk);
            for (int u = c * chunk; u < end; u++)
            {
                var xu = x.AsSpan(u * k, k);
                FactorMath.SymMatVec(gy, xu, gx, k);
                acc += FactorMath.Dot(xu, gx);
                int n = m.RowPtr[u + 1] - m.RowPtr[u];
                float lambda = s.ScaleRegularization ? s.Regularization * n : s.Regularization;
                acc += lambda * FactorMath.Dot(xu, xu);
                for (int e = m.RowPtr[u]; e < m.RowPtr[u + 1]; e++)
                {
                    double sc = FactorMath.Dot(xu, y.AsSpan(m.ColIdx[e] * k, k));
                    double p = problem.UserItemPref?[e] ?? 1.0;
                    acc += m.Values[e] * (p - sc) * (p - sc) - sc * sc;
                }
            }
            partial[c] = acc;
        });
        double total = 0;
        foreach (double v in partial) total += v;
        var it = problem.ItemUserConf;
        for (int i = 0; i < problem.Items; i++)
        {
            var yi = y.AsSpan(i * k, k);
            int n = it.RowPtr[i + 1] - it.RowPtr[i];
            total += (s.ScaleRegularization ? s.Regularization * n : s.Regularization) * FactorMath.Dot(yi, yi);
        }
        return total;
    }
}
