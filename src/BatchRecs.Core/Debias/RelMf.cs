using BatchRecs.Core.Data;

namespace BatchRecs.Core.Debias;

/// <summary>
/// The Rel-MF estimator of Saito et al. 2020 ("Unbiased Recommender Learning from Missing-Not-At-Random
/// Implicit Feedback", eq. 6) folded into weighted ALS. A clicked pair counts as relevant with weight 1/p_i and
/// as irrelevant with weight 1 − 1/p_i; with the ALS confidence c the pair's loss is
/// c[(1/p)(1 − s)² + (1 − 1/p)s²] = c(1/p − s)² + const, i.e. the same confidence with preference 1/p_i.
/// Unclicked pairs keep weight 1 and target 0. The weighted least squares stays closed-form.
/// </summary>
public static class RelMf
{
    /// <summary>Per-entry preferences 1/p_i aligned with <paramref name="userItem"/>'s stored values.</summary>
    public static float[] Preferences(CsrMatrix userItem, ReadOnlySpan<float> itemPropensity)
    {
        if (itemPropensity.Length != userItem.Cols) throw new ArgumentException("one propensity per item is needed.", nameof(itemPropensity));
        var pref = new float[userItem.NonZeros];
        for (int e = 0; e < pref.Length; e++) pref[e] = 1f / itemPropensity[userItem.ColIdx[e]];
        return pref;
    }
}
