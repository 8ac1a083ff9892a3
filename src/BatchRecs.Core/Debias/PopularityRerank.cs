using BatchRecs.Core.Index;

namespace BatchRecs.Core.Debias;

/// <summary>
/// Re-ranks retrieved candidates by score − β·log p_i: a propensity (popularity) penalty in the spirit of the
/// logQ correction (Yi et al. 2019), so that of two equally scored items the less exposed one ranks first.
/// </summary>
public static class PopularityRerank
{
    /// <summary>Keeps the best <paramref name="n"/> of each user's candidates after the penalty; scores returned are the penalized ones.</summary>
    public static TopNResult Apply(TopNResult candidates, ReadOnlySpan<float> itemPropensity, double beta, int n)
    {
        var result = new TopNResult(candidates.Users, n);
        var heap = new TopKHeap(n);
        for (int u = 0; u < candidates.Users; u++)
        {
            heap.Clear();
            var items = candidates.ItemsOf(u);
            var scores = candidates.ScoresOf(u);
            for (int j = 0; j < items.Length; j++)
                heap.Push((float)(scores[j] - beta * Math.Log(itemPropensity[items[j]])), items[j]);
            result.Counts[u] = heap.DrainSorted(result.Items.AsSpan(u * n, n), result.Scores.AsSpan(u * n, n));
        }
        return result;
    }
}
