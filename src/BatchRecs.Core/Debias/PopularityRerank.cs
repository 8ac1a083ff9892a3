using BatchRecs.Core.Index;

namespace BatchRecs.Core.Debias;

/// <summary>
/// Re-ranks retrieved candidates by a debiased relevance estimate: log max(ŝ, ε) − β·log p_i, i.e. the tempered
/// inverse propensity estimate ŝ / p_i^β in log space. A model fitted naively on clicks estimates P(click) = θ_i·γ_ui,
/// so relevance γ = P(click)/θ_i (the identity E[Y/θ] = γ behind Rel-MF, Saito et al. 2020; Joachims et al. 2017).
/// β = 1 is that full estimate, β = 0 the plain ranking; β in between tempers the correction.
/// </summary>
/// <remarks>
/// <para>Why this form and not score − β·log p_i: the additive penalty is a fixed popularity bonus whose strength depends
/// on the score scale (α, λ, k change it) and can lift an item of near-zero or negative score above a relevant one.
/// Dividing is proportional: multiplying every score by a > 0 does not change the order, an item gains at most the
/// factor p_min^−β, and when all propensities are equal the order is the plain one.</para>
/// <para>Scores at or below the floor <see cref="Floor"/> (ALS scores can be ≤ 0) have no relevance estimate: those
/// candidates follow every candidate above the floor, in their plain order (score, then retrieval position). Their
/// returned score continues the log below ε along its tangent, log ε + (ŝ − ε)/ε, so returned scores stay best-first.
/// Ties keep the retrieval order, so the re-rank is deterministic.</para>
/// <para>Worked example, β = 1: candidates (ŝ, p) = (1.0, 1), (0.5, 0.25), (0.3, 1), (−0.2, 0.05) re-rank to the second
/// (0.5/0.25 = 2), the first (1), the third (0.3), then the fourth (below the floor, however rare).</para>
/// </remarks>
public static class PopularityRerank
{
    /// <summary>
    /// ε: scores at or below it have no relevance estimate. Small against ALS scores of relevant items (targets are 1,
    /// or p′ ≥ 1 under Rel-MF) and far above float noise; it is the only scale the re-rank is not invariant to.
    /// </summary>
    public const double Floor = 1e-6;

    /// <summary>Keeps the best <paramref name="n"/> of each user's candidates after the re-rank; scores returned are the re-rank scores.</summary>
    /// <param name="candidates">each user's candidates, best-first by the plain score (as retrieval returns them).</param>
    /// <param name="itemPropensity">p_i per item, in (0, 1] (clipped).</param>
    /// <param name="beta">β in [0, 1]: 0 keeps the plain order, 1 ranks by ŝ/p_i.</param>
    /// <param name="n">list length kept.</param>
    public static TopNResult Apply(TopNResult candidates, ReadOnlySpan<float> itemPropensity, double beta, int n)
    {
        if (!(beta >= 0 && beta <= 1)) throw new ArgumentOutOfRangeException(nameof(beta), $"rerank_beta must be in [0, 1] (got {beta}).");
        var result = new TopNResult(candidates.Users, n);
        var keys = new double[candidates.N];
        var order = new int[candidates.N];
        // By the re-rank score (candidates below the floor come last, in plain order), ties by retrieval position.
        var best = Comparer<int>.Create((a, b) => keys[b].CompareTo(keys[a]) is var c && c != 0 ? c : a.CompareTo(b));
        for (int u = 0; u < candidates.Users; u++)
        {
            var items = candidates.ItemsOf(u);
            var scores = candidates.ScoresOf(u);
            int m = items.Length;
            for (int j = 0; j < m; j++)
            {
                keys[j] = Score(scores[j], itemPropensity[items[j]], beta);
                order[j] = j;
            }
            Array.Sort(order, 0, m, best);
            int kept = Math.Min(n, m);
            for (int j = 0; j < kept; j++)
            {
                result.Items[(long)u * n + j] = items[order[j]];
                result.Scores[(long)u * n + j] = (float)keys[order[j]];
            }
            result.Counts[u] = kept;
        }
        return result;
    }

    /// <summary>
    /// The re-rank score of a candidate with score <paramref name="s"/> and propensity <paramref name="p"/>:
    /// log s − β·log p above the floor ε; log ε + (s − ε)/ε at or below it (no propensity term).
    /// </summary>
    public static double Score(float s, float p, double beta) =>
        s > Floor ? Math.Log(s) - beta * Math.Log(p) : Math.Log(Floor) + (s - Floor) / Floor;
}
