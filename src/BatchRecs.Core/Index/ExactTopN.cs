using System.Numerics.Tensors;
using BatchRecs.Core.Data;

namespace BatchRecs.Core.Index;

/// <summary>Options of a top-N query.</summary>
/// <param name="N">list length per user.</param>
/// <param name="Exclude">user × item CSR of items each user must not get (their history), or null.</param>
/// <param name="Banned">items nobody gets, or null.</param>
public sealed record TopNQuery(int N, CsrMatrix? Exclude = null, IReadOnlySet<int>? Banned = null, int MaxThreads = -1);

/// <summary>
/// Exact maximum-inner-product top-N: every user scored against every item. The reference the IVF
/// index is measured against.
/// </summary>
public static class ExactTopN
{
    private const int ItemTile = 1024;

    /// <param name="userFactors">users × k row-major.</param>
    /// <param name="itemFactors">items × k row-major.</param>
    /// <param name="userSubset">indices of the users to score (null = all, in order); the result's row j is user userSubset[j].</param>
    public static TopNResult Search(float[] userFactors, float[] itemFactors, int k, TopNQuery q, int[]? userSubset = null)
    {
        if (q.N < 0) throw new ArgumentOutOfRangeException(nameof(q), "N must be ≥ 0.");
        int users = userSubset?.Length ?? userFactors.Length / k;
        int items = itemFactors.Length / k;
        var result = new TopNResult(users, q.N);
        var opts = new ParallelOptions { MaxDegreeOfParallelism = q.MaxThreads };
        Parallel.For(0, (users + 63) / 64, opts, () => (new TopKHeap(q.N), new float[ItemTile]), (b, _, local) =>
        {
            var (heap, scores) = local;
            int end = Math.Min(users, (b + 1) * 64);
            for (int j = b * 64; j < end; j++)
            {
                int u = userSubset?[j] ?? j;
                var xu = userFactors.AsSpan(u * k, k);
                var seen = q.Exclude is null ? ReadOnlySpan<int>.Empty : q.Exclude.RowCols(u);
                int sp = 0;
                heap.Clear();
                for (int i0 = 0; i0 < items; i0 += ItemTile)
                {
                    int len = Math.Min(ItemTile, items - i0);
                    for (int t = 0; t < len; t++)
                        scores[t] = TensorPrimitives.Dot(xu, itemFactors.AsSpan((i0 + t) * k, k));
                    for (int t = 0; t < len; t++)
                    {
                        int item = i0 + t;
                        if (scores[t] < heap.Threshold) continue;
                        while (sp < seen.Length && seen[sp] < item) sp++;
                        if (sp < seen.Length && seen[sp] == item) continue;
                        if (q.Banned is not null && q.Banned.Contains(item)) continue;
                        heap.Push(scores[t], item);
                    }
                }
                result.Counts[j] = heap.DrainSorted(result.Items.AsSpan(j * q.N, q.N), result.Scores.AsSpan(j * q.N, q.N));
            }
            return local;
        }, _ => { });
        return result;
    }
}
