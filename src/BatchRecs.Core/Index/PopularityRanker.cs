using BatchRecs.Core.Data;

namespace BatchRecs.Core.Index;

/// <summary>The popularity baseline: every user gets the most interacted-with items they have not seen.</summary>
public static class PopularityRanker
{
    /// <summary>Item popularity: the number of distinct users per item in a user × item CSR.</summary>
    public static int[] Counts(CsrMatrix userItem)
    {
        var counts = new int[userItem.Cols];
        foreach (int i in userItem.ColIdx) counts[i]++;
        return counts;
    }

    public static TopNResult Recommend(CsrMatrix train, int n)
    {
        var counts = Counts(train);
        var order = Enumerable.Range(0, train.Cols).ToArray();
        Array.Sort(order, (a, b) => counts[a] != counts[b] ? counts[b].CompareTo(counts[a]) : a.CompareTo(b));
        var result = new TopNResult(train.Rows, n);
        Parallel.For(0, train.Rows, u =>
        {
            var seen = train.RowCols(u);
            int c = 0;
            for (int p = 0; p < order.Length && c < n; p++)
            {
                if (seen.BinarySearch(order[p]) >= 0) continue;
                result.Items[u * n + c] = order[p];
                result.Scores[u * n + c] = counts[order[p]];
                c++;
            }
            result.Counts[u] = c;
        });
        return result;
    }
}
