namespace BatchRecs.Core.Als;

/// <summary>
/// The weighted training loss L = Σᵤᵢ cᵤᵢ(pᵤᵢ − xᵤᵀyᵢ)² + λ(Σ‖xᵤ‖² + Σ‖yᵢ‖²), computed without touching
/// the unobserved pairs: Σ over all items of (xᵤᵀyᵢ)² is xᵤᵀ(YᵀY)xᵤ, so
/// L = Σᵤ [xᵤᵀGxᵤ + Σ_observed (c(p − s)² − s²)] + λ(...). O(users·k² + nnz·k).
/// </summary>
public static class TrainingLoss
{
    /// <summary>
    /// One row's share of the observed part, Σ over its entries of c(p − s)² − s² with s = xᵀy_dst: what an item
    /// half-step computes for each item it solved (<see cref="HalfStep.RowLoss"/>), while the item's users' rows are in
    /// its cache; reading them again here for every pair cost about 3 s an iteration at 100M interactions.
    /// </summary>
    /// <param name="x">the row's solved factors.</param>
    /// <param name="dst">the dst factors, rows × k.</param>
    /// <param name="cols">the row's dst rows.</param>
    /// <param name="conf">their confidences.</param>
    /// <param name="pref">their preferences, or empty for all ones.</param>
    public static double ObservedPart(ReadOnlySpan<float> x, ReadOnlySpan<float> dst, ReadOnlySpan<int> cols, ReadOnlySpan<float> conf, ReadOnlySpan<float> pref)
    {
        int k = x.Length;
        double acc = 0;
        for (int e = 0; e < cols.Length; e++)
        {
            double sc = FactorMath.Dot(x, dst.Slice(cols[e] * k, k));
            double p = pref.IsEmpty ? 1.0 : pref[e];
            acc += conf[e] * (p - sc) * (p - sc) - sc * sc;
        }
        return acc;
    }

    /// <summary>
    /// The loss from the item half-step's per-item observed parts (<see cref="ObservedPart"/>): the users' quadratic and
    /// regularization terms here, summed by user as <see cref="Compute"/> sums them, then the items' observed parts and
    /// regularization in item order. Equal to <see cref="Compute"/> up to the order of the additions, whatever the blocks
    /// or the executor (each item's part is its own sum).
    /// </summary>
    /// <param name="problem">the fit's problem (row lengths only: the entries may be elsewhere).</param>
    /// <param name="s">the fit's settings (k, λ).</param>
    /// <param name="x">users × k, row-major.</param>
    /// <param name="y">items × k, row-major.</param>
    /// <param name="gy">YᵀY, k×k.</param>
    /// <param name="itemObserved">each item's observed part, from the half-step that solved <paramref name="y"/> given <paramref name="x"/>.</param>
    public static double FromItemParts(AlsProblem problem, AlsSettings s, float[] x, float[] y, float[] gy, double[] itemObserved)
    {
        if (itemObserved.Length != problem.Items) throw new ArgumentException("one observed part per item is needed.", nameof(itemObserved));
        double total = UsersPart(problem, s, x, gy, observed: false, y);
        foreach (double v in itemObserved) total += v;
        return total + ItemRegularization(problem, s, y);
    }

    /// <param name="x">users × k, row-major.</param>
    /// <param name="y">items × k, row-major.</param>
    /// <param name="gy">YᵀY, k×k.</param>
    /// <param name="problem">the confidence (and preference) CSRs of the fit.</param>
    /// <param name="s">the fit's settings (k, λ).</param>
    public static double Compute(AlsProblem problem, AlsSettings s, float[] x, float[] y, float[] gy) =>
        UsersPart(problem, s, x, gy, observed: true, y) + ItemRegularization(problem, s, y);

    /// <summary>Σ over users of xᵀGx + λ‖x‖², with each user's observed part when <paramref name="observed"/>.</summary>
    private static double UsersPart(AlsProblem problem, AlsSettings s, float[] x, float[] gy, bool observed, float[] y)
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
                if (observed)
                    acc += ObservedPart(xu, y, m.RowCols(u), m.RowValues(u), problem.UserItemPref is { } pref ? pref.AsSpan(m.RowPtr[u], n) : default);
            }
            partial[c] = acc;
        });
        double total = 0;
        foreach (double v in partial) total += v;
        return total;
    }

    private static double ItemRegularization(AlsProblem problem, AlsSettings s, float[] y)
    {
        int k = s.Factors;
        double total = 0;
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
