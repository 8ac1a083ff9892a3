using System.Globalization;

namespace BatchRecs.Core.Evaluation;

/// <summary>
/// Offline quality of top-K lists against held-out pairs, averaged over the users with held-out pairs.
/// With S_u the user's held-out items and hits_u = |top-K ∩ S_u|:
/// <list type="bullet">
/// <item>Recall = hits/|S_u|; NDCG = DCG/ideal DCG (binary relevance, 1/log₂(rank + 1)); MAP = Σ_hit precision@rank / min(K, |S_u|); HitRate = 1[hits &gt; 0].</item>
/// <item>IPS/SNIPS (Yang et al. 2018, eq. 4–5): every held-out hit is weighted by 1/p_i, correcting for items the old
/// system exposed more. IPS-Recall = Σ_hit 1/p_i / |S_u|; SNIPS-Recall = Σ_hit 1/p_i / Σ_{S_u} 1/p_i; IPS-DCG and
/// SNIPS-DCG likewise with the rank discount. With equal propensities SNIPS-Recall equals Recall.</item>
/// <item>Coverage = share of the catalogue in any list; GiniExposure = Gini coefficient of how often each catalogue item
/// is recommended (0 = even, 1 = one item everywhere); MeanPopularityRank = mean training-popularity rank of recommended
/// items (1 = the most popular item).</item>
/// </list>
/// </summary>
public sealed record EvaluationReport(
    int K, int Users,
    double Recall, double Ndcg, double Map, double HitRate,
    double IpsRecall, double SnipsRecall, double IpsDcg, double SnipsDcg,
    double Coverage, double GiniExposure, double MeanPopularityRank)
{
    /// <summary>Metric names as stored in <c>run_metrics</c>: <c>{prefix}.recall@K</c>, …</summary>
    public IEnumerable<KeyValuePair<string, double>> Named(string prefix)
    {
        string k = K.ToString(CultureInfo.InvariantCulture);
        yield return new($"{prefix}.recall@{k}", Recall);
        yield return new($"{prefix}.ndcg@{k}", Ndcg);
        yield return new($"{prefix}.map@{k}", Map);
        yield return new($"{prefix}.hitrate@{k}", HitRate);
        yield return new($"{prefix}.ips_recall@{k}", IpsRecall);
        yield return new($"{prefix}.snips_recall@{k}", SnipsRecall);
        yield return new($"{prefix}.ips_dcg@{k}", IpsDcg);
        yield return new($"{prefix}.snips_dcg@{k}", SnipsDcg);
        yield return new($"{prefix}.coverage@{k}", Coverage);
        yield return new($"{prefix}.gini@{k}", GiniExposure);
        yield return new($"{prefix}.mean_pop_rank@{k}", MeanPopularityRank);
    }
}
