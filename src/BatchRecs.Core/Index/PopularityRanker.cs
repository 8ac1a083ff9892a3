using BatchRecs.Core.Data;

namespace BatchRecs.Core.Index;

/// <summary>The popularity baseline: every user gets the most interacted-with items they have not seen.</summary>
public static class PopularityRanker
{
    /// <summary>Item popularity: the number of distinct users per item in a user × item CSR (from its store when it holds rows only).</summary>
    public static int[] Counts(CsrMatrix userItem)
    {
        if (!userItem.HasEntries && userItem.Store is { } store) return store.ColumnCounts(userItem.Cols);
        var counts = new int[userItem.Cols];
        foreach (int i in userItem.ColIdx) counts[i]++;
        return counts;
    }

    /// <summary>Each user's <paramref name="n"/> most popular items in <paramref name="train"/> that are not in their row of it (a chunk of rows at a time when it holds rows only).</summary>
    public static TopNResult Recommend(CsrMatrix train, int n)
    {
        var counts = Counts(train);
        var order = Enumerable.Range(0, train.Cols).ToArray();
        Array.Sort(order, (a, b) => counts[a] != counts[b] ? counts[b].CompareTo(counts[a]) : a.CompareTo(b));
        var result = new TopNResult(train.Rows, n);
        train.ForEachRowChunk((start, rows) =>
            Parallel.For(0, rows.Rows, j =>
            {
                var seen = rows.RowCols(j);
                long at = (long)(start + j) * n;
                int c = 0;
                for (int p = 0; p < order.Length && c < n; p++)
                {
                    if (seen.BinarySearch(order[p]) >= 0) continue;
                    result.Items[at + c] = order[p];
                    result.Scores[at + c] = counts[order[p]];
                    c++;
                }
                result.Counts[start + j] = c;
            }));
        return result;
    }
}
