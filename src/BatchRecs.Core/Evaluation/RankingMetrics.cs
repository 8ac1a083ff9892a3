using BatchRecs.Core.Data;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Evaluation;

/// <summary>Mean ranking quality at K over the users that have held-out items.</summary>
/// <param name="Recall">hits in the top K / min(K, held-out items), averaged over users (the normalization
/// of the <c>implicit</c> library's <c>precision_at_k</c>, so a perfect list scores 1).</param>
/// <param name="Ndcg">DCG@K / ideal DCG@K with binary relevance, log₂(rank + 1) discount.</param>
public sealed record RankingMetrics(int K, int Users, double Recall, double Ndcg);

public static class Metrics
{
    /// <summary>Scores top-N lists against held-out pairs (<paramref name="heldOut"/>: user × item CSR).</summary>
    public static RankingMetrics Evaluate(TopNResult recs, CsrMatrix heldOut, int k)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), "K must be positive.");
        double recall = 0, ndcg = 0;
        int users = 0;
        for (int u = 0; u < heldOut.Rows && u < recs.Users; u++)
        {
            var truth = heldOut.RowCols(u);
            if (truth.Length == 0) continue;
            users++;
            var list = recs.ItemsOf(u);
            int top = Math.Min(k, list.Length);
            int hits = 0;
            double dcg = 0;
            for (int r = 0; r < top; r++)
            {
                if (truth.BinarySearch(list[r]) < 0) continue;
                hits++;
                dcg += 1.0 / Math.Log2(r + 2);
            }
            int ideal = Math.Min(k, truth.Length);
            double idcg = 0;
            for (int r = 0; r < ideal; r++) idcg += 1.0 / Math.Log2(r + 2);
            recall += (double)hits / ideal;
            ndcg += dcg / idcg;
        }
        return users == 0 ? new RankingMetrics(k, 0, 0, 0) : new RankingMetrics(k, users, recall / users, ndcg / users);
    }
}
