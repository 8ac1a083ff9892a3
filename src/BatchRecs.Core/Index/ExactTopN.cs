namespace BatchRecs.Core.Index;

/// <summary>
/// Exact maximum-inner-product top-N: every user scored against every item. The reference the IVF
/// index is measured against.
/// </summary>
/// <remarks>
/// <see cref="Search"/> is blocked: items are packed once into 16-wide panels (<see cref="PackedPanels"/>, largest
/// norm first: <see cref="NormOrder"/>); each
/// worker takes a block of 64 users and walks the items in chunks that stay in L2, scanning every chunk with
/// 8-user tiles (<see cref="TileScanner"/>). Only scores that beat a user's running threshold leave registers.
/// Scores follow <see cref="ScoreKey.Dot"/> exactly, so <see cref="Search"/> and <see cref="SearchReference"/> return
/// identical lists (same items, same float scores, ties to the lower item index).
/// </remarks>
public static class ExactTopN
{
    private const int UserBlock = 64;
    private const int ChunkBytes = 256 * 1024;

    /// <param name="userFactors">users × k row-major.</param>
    /// <param name="itemFactors">items × k row-major.</param>
    /// <param name="userSubset">indices of the users to score (null = all, in order); the result's row j is user userSubset[j].</param>
    /// <param name="k">the factor dimension.</param>
    /// <param name="q">list length, exclusions and threads.</param>
    public static TopNResult Search(float[] userFactors, float[] itemFactors, int k, TopNQuery q, int[]? userSubset = null)
    {
        ArgumentNullException.ThrowIfNull(q);
        var (users, items) = Validate(userFactors, itemFactors, k, q, userSubset);
        var result = new TopNResult(users, q.N);
        if (users == 0 || items == 0 || q.N == 0) return result;
        var slots = PackedPanels.IdentitySlots(items);
        NormOrder.Descending(itemFactors, items, k).CopyTo(slots, 0);
        var panels = PackedPanels.Pack(itemFactors, k, slots);
        var exclusions = new ItemExclusions(q.Exclude, q.Banned, q.RuleExclude);
        SearchCore(userFactors, panels, q.N, exclusions, userSubset, users, q.MaxThreads, result);
        return result;
    }

    /// <summary>Blocked scan of all panels for all users; arguments already checked.</summary>
    internal static void SearchCore(float[] queries, PackedPanels panels, int n, ItemExclusions exclusions,
        int[]? userSubset, int users, int maxThreads, TopNResult result)
    {
        int chunk = Math.Max(1, ChunkBytes / (panels.PanelFloats * sizeof(float)));
        int blocks = (users + UserBlock - 1) / UserBlock;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxThreads };
        Parallel.For(0, blocks, options, () => (new ScanWorkspace(n, UserBlock, panels.Dim), new int[UserBlock], new int[UserBlock]), (b, _, local) =>
        {
            var (ws, rows, ids) = local;
            int u0 = b * UserBlock, m = Math.Min(UserBlock, users - u0);
            for (int j = 0; j < m; j++)
            {
                rows[j] = userSubset?[u0 + j] ?? u0 + j;
                ids[j] = j;
                ws.Buffers[j].Reset(rows[j], exclusions);
            }
            for (int c0 = 0; c0 < panels.Panels; c0 += chunk)
                ws.Scan(queries, rows.AsSpan(0, m), ids.AsSpan(0, m), panels, c0, Math.Min(panels.Panels, c0 + chunk), exclusions);
            for (int j = 0; j < m; j++)
            {
                long at = (long)(u0 + j) * n;
                result.Counts[u0 + j] = ws.Buffers[j].Drain(result.Items.AsSpan((int)at, n), result.Scores.AsSpan((int)at, n));
            }
            return local;
        }, local => result.AddRuleRemoved(local.Item1.RuleRemoved));
    }

    /// <summary>
    /// The plain scalar reference: for each user, score every item with <see cref="ScoreKey.Dot"/> and keep the
    /// best N in a <see cref="TopKHeap"/>, skipping the user's excluded and the banned items. Slow; for tests.
    /// </summary>
    public static TopNResult SearchReference(float[] userFactors, float[] itemFactors, int k, TopNQuery q, int[]? userSubset = null)
    {
        ArgumentNullException.ThrowIfNull(q);
        var (users, items) = Validate(userFactors, itemFactors, k, q, userSubset);
        var result = new TopNResult(users, q.N);
        var options = new ParallelOptions { MaxDegreeOfParallelism = q.MaxThreads };
        Parallel.For(0, users, options, () => new TopKHeap(q.N), (j, _, heap) =>
        {
            int u = userSubset?[j] ?? j;
            var xu = userFactors.AsSpan(u * k, k);
            var seen = q.Exclude is null || u >= q.Exclude.Rows ? ReadOnlySpan<int>.Empty : q.Exclude.RowCols(u);
            int sp = 0;
            heap.Clear();
            for (int item = 0; item < items; item++)
            {
                float s = ScoreKey.Dot(xu, itemFactors.AsSpan(item * k, k));
                if (s < heap.Threshold) continue;
                while (sp < seen.Length && seen[sp] < item) sp++;
                if (sp < seen.Length && seen[sp] == item) continue;
                if (q.Banned is not null && q.Banned.Contains(item)) continue;
                if (q.RuleExclude is not null && u < q.RuleExclude.Rows && q.RuleExclude.Contains(u, item)) continue;
                heap.Push(s, item);
            }
            result.Counts[j] = heap.DrainSorted(result.Items.AsSpan(j * q.N, q.N), result.Scores.AsSpan(j * q.N, q.N));
            return heap;
        }, _ => { });
        return result;
    }

    internal static (int Users, int Items) Validate(float[] userFactors, float[] itemFactors, int k, TopNQuery q, int[]? userSubset)
    {
        ArgumentNullException.ThrowIfNull(itemFactors);
        int users = ValidateUsers(userFactors, k, q.N, userSubset);
        if (itemFactors.Length % k != 0) throw new ArgumentException($"item factors have {itemFactors.Length} values, not a multiple of k = {k}.", nameof(itemFactors));
        return (users, itemFactors.Length / k);
    }

    /// <summary>Checks the user side of a query; returns the number of result rows.</summary>
    internal static int ValidateUsers(float[] userFactors, int k, int n, int[]? userSubset)
    {
        ArgumentNullException.ThrowIfNull(userFactors);
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), $"k (factors) must be positive (got {k}).");
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), $"N must be ≥ 0 (got {n}).");
        if (userFactors.Length % k != 0) throw new ArgumentException($"user factors have {userFactors.Length} values, not a multiple of k = {k}.", nameof(userFactors));
        int allUsers = userFactors.Length / k;
        if (userSubset is not null)
        {
            foreach (int u in userSubset)
                if ((uint)u >= (uint)allUsers) throw new ArgumentOutOfRangeException(nameof(userSubset), $"user index {u} is outside 0..{allUsers - 1}.");
        }
        return userSubset?.Length ?? allUsers;
    }
}
