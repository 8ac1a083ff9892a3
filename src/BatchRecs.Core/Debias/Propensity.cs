using BatchRecs.Core.Errors;
namespace BatchRecs.Core.Debias;

/// <summary>
/// Item propensities p_i: the probability that item i was exposed to a user, the quantity inverse propensity
/// weighting divides by. Always clipped to [p_min, 1] so no weight exceeds 1/p_min (the variance control of
/// Saito et al. 2020, §4) and none is zero.
/// </summary>
public static class Propensity
{
    /// <summary>
    /// From popularity: p_i = (n_i / max_j n_j)^η (Steck 2011; Saito et al. 2020 use η = 0.5), clipped to [p_min, 1].
    /// Items with no interactions get p_min.
    /// </summary>
    /// <param name="counts">n_i: interactions (distinct users) per item in the training data.</param>
    /// <param name="eta">η ≥ 0: 0 gives every item 1, 1 makes p_i proportional to n_i.</param>
    /// <param name="pMin">p_min in (0, 1]: the lower clip.</param>
    public static float[] FromPopularity(ReadOnlySpan<int> counts, double eta = 0.5, double pMin = 0.05)
    {
        Check(eta, pMin);
        int max = 0;
        foreach (int c in counts) max = Math.Max(max, c);
        var p = new float[counts.Length];
        for (int i = 0; i < p.Length; i++)
            p[i] = max == 0 ? 1f : (float)Clip(Math.Pow((double)counts[i] / max, eta), pMin);
        return p;
    }

    public static double Clip(double p, double pMin) => double.IsFinite(p) ? Math.Clamp(p, pMin, 1.0) : pMin;

    /// <summary>Checks η and p_min as every propensity model needs them (also the exposure model's, in BatchRecs.Debias.ML).</summary>
    /// <exception cref="BadInputException">η is negative or not finite, or p_min is outside (0, 1]; the message names the setting.</exception>
    public static void Check(double eta, double pMin)
    {
        if (!(eta >= 0) || !double.IsFinite(eta)) throw new BadInputException($"propensity_eta must be a finite number ≥ 0 (got {eta}).");
        if (!(pMin > 0 && pMin <= 1)) throw new BadInputException($"propensity_clip must be in (0, 1] (got {pMin}).");
    }
}
