using BatchRecs.Core.Data;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Evaluation;

/// <summary>DCG@K and Recall@K of a model's lists on a randomly exposed test set, averaged over the users with a test positive.</summary>
/// <param name="K">the depth scored.</param>
/// <param name="Users">users averaged over (those with at least one test positive).</param>
/// <param name="UsersWithoutPositives">users with test ratings but none ≥ the threshold (left out of the means).</param>
/// <param name="Dcg">mean unnormalized DCG@K = Σ_{j≤K} rel_j / log₂(j + 1).</param>
/// <param name="Recall">mean Recall@K = test positives in the first K / the user's test positives.</param>
/// <param name="DcgStandardError">standard error of <paramref name="Dcg"/> over users (sample sd of the per-user DCG@K / √Users):
/// the noise of drawing these users and test items, which more model seeds do not reduce.</param>
public sealed record RandomizedTestReport(int K, int Users, int UsersWithoutPositives, double Dcg, double Recall, double DcgStandardError = 0);

/// <summary>
/// The evaluation of Saito et al. (WSDM 2020, "Unbiased Recommender Learning from Missing-Not-At-Random Implicit
/// Feedback", §5) on data whose test items were shown at random (Coat's <c>test.ascii</c>, Yahoo! R3): every user is
/// scored on <b>their own test items only</b>, ordered by the model, and rel = 1 for a test rating ≥ the threshold.
/// </summary>
/// <remarks>
/// Our lists are a ranking of the catalogue (top_n = all items), so a user's test items are ordered by their rank in
/// the user's list. Items not in the list — the user's own training items, which lists exclude — go after every listed
/// item, in item-id order; ties cannot occur otherwise. Example: list [7, 2, 9], test items {2, 5, 9} with ratings
/// {5, 4, 1} → order 2, 9, 5 → rel 1, 0, 1 → DCG@5 = 1/log₂2 + 1/log₂4 = 1.5, Recall@5 = 2/2.
/// The DCG is the standard one (log₂(j + 1)); Saito's released code uses rel_1 + Σ_{j≥2} rel_j/log₂ j and
/// rel = 0.001 + 0.999·y over all test users, so published numbers are not directly comparable.
/// <para><b>Logged propensities (SNIPS).</b> When the test items were not all shown with the same probability (exploration
/// traffic, an <c>unbiased_input</c> with a propensity column), each logged pair gets the weight w = 1/p, self-normalized
/// per user to a mean of 1 over the user's logged items (Swaminathan and Joachims 2015; Yang et al. 2018):
/// DCG@K = Σ_{j≤K} rel_j·w_j / log₂(j + 1) / mean(w), Recall@K = Σ_{j≤K} rel_j·w_j / Σ rel·w. Equal propensities give
/// exactly the plain protocol above. Example: the user above with p = 0.5, 0.25, 1 for items 2, 5, 9 → w = 2, 4, 1, mean
/// 7/3; order 2, 9, 5 → DCG@5 = (2/log₂2 + 4/log₂4) / (7/3) = 12/7, Recall@5 = 6/6, Recall@1 = 2/6.</para>
/// </remarks>
public static class RandomizedTestMetrics
{
    /// <param name="lists">ranked lists, row u = user u (a list may be shorter than the catalogue).</param>
    /// <param name="test">users × items test ratings (0 = not rated is simply absent); rows beyond <c>lists.Users</c> are ignored.</param>
    /// <param name="k">K of DCG@K and Recall@K.</param>
    /// <param name="positiveAt">a test rating at or above it is relevant (Coat, Yahoo! R3: 4).</param>
    /// <param name="perUserDcg">if given (length test.Rows), receives each user's DCG@K, NaN for users left out — for paired comparisons of two models on the same users.</param>
    /// <param name="propensity">the probability each test entry was shown with, aligned with <c>test</c>'s entries, for the
    /// SNIPS weights; empty: all equal (a randomized test set).</param>
    public static RandomizedTestReport Evaluate(TopNResult lists, CsrMatrix test, int k, float positiveAt = 4f, double[]? perUserDcg = null,
        ReadOnlySpan<float> propensity = default)
    {
        if (!propensity.IsEmpty && propensity.Length != test.NonZeros) throw new ArgumentException($"one propensity per test entry is needed ({test.NonZeros}).", nameof(propensity));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        if (perUserDcg is not null && perUserDcg.Length != test.Rows) throw new ArgumentException($"perUserDcg needs one slot per test row ({test.Rows}).", nameof(perUserDcg));
        perUserDcg?.AsSpan().Fill(double.NaN);
        var rank = new int[test.Cols];
        Array.Fill(rank, int.MaxValue);
        double dcg = 0, dcgSquares = 0, recall = 0;
        int users = 0, without = 0;
        for (int u = 0; u < test.Rows && u < lists.Users; u++)
        {
            var items = test.RowCols(u);
            if (items.Length == 0) continue;
            var ratings = test.RowValues(u);
            var p = propensity.IsEmpty ? default : propensity.Slice(test.RowPtr[u], items.Length);
            double weightAll = 0, weightPositive = 0;
            for (int j = 0; j < items.Length; j++)
            {
                weightAll += Weight(p, j);
                if (ratings[j] >= positiveAt) weightPositive += Weight(p, j);
            }
            if (weightPositive == 0) { without++; continue; }
            double scale = items.Length / weightAll; // weights self-normalized to a mean of 1 over the user's logged items
            var list = lists.ItemsOf(u);
            for (int r = 0; r < list.Length; r++) rank[list[r]] = r;
            var order = Order(items, rank);
            for (int r = 0; r < list.Length; r++) rank[list[r]] = int.MaxValue;
            double d = 0, hits = 0;
            for (int j = 0; j < Math.Min(k, order.Length); j++)
            {
                if (ratings[order[j]] < positiveAt) continue;
                double w = Weight(p, order[j]);
                hits += w;
                d += w * scale / Math.Log2(j + 2);
            }
            if (perUserDcg is not null) perUserDcg[u] = d;
            dcg += d;
            dcgSquares += d * d;
            recall += hits / weightPositive;
            users++;
        }
        if (users == 0) return new RandomizedTestReport(k, 0, without, 0, 0);
        double mean = dcg / users;
        double se = users < 2 ? 0 : Math.Sqrt(Math.Max(0, (dcgSquares - users * mean * mean) / (users - 1)) / users);
        return new RandomizedTestReport(k, users, without, mean, recall / users, se);
    }

    /// <summary>The inverse propensity weight of a user's j-th test entry (1 without propensities).</summary>
    private static double Weight(ReadOnlySpan<float> p, int j) => p.IsEmpty ? 1 : 1.0 / p[j];

    /// <summary>Positions into <paramref name="items"/> (sorted item ids), ordered by <paramref name="rank"/> (int.MaxValue = not listed), then item id.</summary>
    private static int[] Order(ReadOnlySpan<int> items, int[] rank)
    {
        var keys = new long[items.Length];
        var pos = new int[items.Length];
        for (int j = 0; j < items.Length; j++) { keys[j] = ((long)rank[items[j]] << 32) | (uint)items[j]; pos[j] = j; }
        Array.Sort(keys, pos);
        return pos;
    }
}
