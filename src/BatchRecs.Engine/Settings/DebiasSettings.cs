namespace BatchRecs.Engine.Settings;

/// <summary>Where inverse propensity weighting applies (<c>debias</c>).</summary>
public enum DebiasMode
{
    None,
    /// <summary>In training (Rel-MF preferences).</summary>
    IpwTrain,
    /// <summary>In re-ranking over-fetched candidates.</summary>
    IpwRerank,
    Both,
}

/// <summary>How item propensities are estimated (<c>propensity</c>).</summary>
public enum PropensityModel
{
    /// <summary>Item popularity power law.</summary>
    Popularity,
    /// <summary>A logistic model over an exposure log.</summary>
    Exposure,
    /// <summary>The propensities logged with served lists (feedback_input): per item, the mean over its logged exposures.</summary>
    Logged,
}

/// <summary>Inverse propensity weighting.</summary>
/// <param name="Mode"><c>debias</c>.</param>
/// <param name="Propensity"><c>propensity</c>.</param>
/// <param name="PropensityEta"><c>propensity_eta</c>: η of p_i = (n_i / max n)^η.</param>
/// <param name="PropensityClip"><c>propensity_clip</c>: p_min.</param>
/// <param name="RerankBeta"><c>rerank_beta</c>: β in [0, 1] of the re-rank log max(ŝ, ε) − β·log p_i (<see cref="BatchRecs.Core.Debias.PopularityRerank"/>); used as given in both ipw-rerank and both.</param>
/// <param name="RerankCandidates"><c>rerank_candidates</c>: candidates per user, as a multiple of top_n.</param>
/// <param name="UnexposedWeight"><c>unexposed_weight</c>: w₀ in (0, 1] of a pair never shown (<see cref="BatchRecs.Core.Als.AlsProblem.BuildExposureAware"/>); 1 ignores exposures in training.</param>
public sealed record DebiasSettings(DebiasMode Mode, PropensityModel Propensity, double PropensityEta, double PropensityClip, double RerankBeta, int RerankCandidates,
    double UnexposedWeight)
{
    /// <summary>Training weighs pairs never shown below pairs shown and passed over (unexposed_weight &lt; 1).</summary>
    public bool TrainOnExposures => UnexposedWeight < 1;

    public bool TrainWithIpw => Mode is DebiasMode.IpwTrain or DebiasMode.Both;

    public bool RerankWithIpw => Mode is DebiasMode.IpwRerank or DebiasMode.Both;
}
