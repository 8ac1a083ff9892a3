namespace BatchRecs.Core.Index;

/// <summary>
/// At most <see cref="Cap"/> items of one category per list (<c>max_per_category</c>). Retrieval over-fetches
/// candidates; <see cref="Apply"/> walks each user's candidates best-first, keeps an item while its category has room,
/// and reports the users whose candidates ran out before N while more items exist, to be searched again deeper.
/// </summary>
/// <param name="Category">each item's category (−1: none, never capped).</param>
/// <param name="Cap">items per category and list (≥ 1).</param>
public sealed record CategoryCap(int[] Category, int Cap)
{
    private readonly int _categories = Category.Length == 0 ? 0 : Category.Max() + 1;

    /// <summary>A per-list counter of items taken per category (reset it with <see cref="Clear"/>).</summary>
    public int[] NewCounter() => new int[_categories];

    /// <summary>Whether item <paramref name="item"/> fits the list counted by <paramref name="taken"/>; counts it if so.</summary>
    public bool Admit(int item, int[] taken)
    {
        int c = Category[item];
        if (c < 0) return true;
        if (taken[c] >= Cap) return false;
        taken[c]++;
        return true;
    }

    /// <summary>Resets a counter after a list of <paramref name="items"/> (the items admitted into it).</summary>
    public void Clear(int[] taken, ReadOnlySpan<int> items)
    {
        foreach (int i in items)
            if (Category[i] >= 0) taken[Category[i]] = 0;
    }

    /// <summary>
    /// Each user's first <paramref name="n"/> admitted candidates. A user left short while their candidates were all
    /// admissible-looking (a full candidate list) gets <paramref name="deeper"/> candidates, four times as many each
    /// round, up to <paramref name="maxFetch"/>, so every user gets N items when the catalogue allows.
    /// </summary>
    /// <param name="candidates">best-first candidates per user (the retrieval's over-fetch).</param>
    /// <param name="n">the list length.</param>
    /// <param name="deeper">(users, fetch) → those users' best-first candidates, fetch per user.</param>
    /// <param name="maxFetch">the most candidates a user can have (the catalogue).</param>
    /// <param name="removed">candidates the cap skipped while filling the lists (each user's last round).</param>
    public TopNResult Apply(TopNResult candidates, int n, Func<int[], int, TopNResult> deeper, int maxFetch, out long removed)
    {
        var lists = new TopNResult(candidates.Users, n);
        lists.AddRuleRemoved(candidates.RuleRemoved);
        long skippedTotal = 0;
        var taken = NewCounter();
        int[]? users = null; // row j of current is user users[j] (null: all users, in order)
        var current = candidates;
        int fetch = candidates.N;
        while (true)
        {
            var again = new List<int>();
            for (int j = 0; j < current.Users; j++)
            {
                int u = users?[j] ?? j;
                // A deeper round may admit fewer than the last (its candidates need not extend an IVF round's): pad afresh.
                lists.Items.AsSpan((int)((long)u * n), n).Fill(-1);
                lists.Scores.AsSpan((int)((long)u * n), n).Fill(float.NaN);
                var items = current.ItemsOf(j);
                var scores = current.ScoresOf(j);
                int w = 0, skipped = 0;
                for (int c = 0; c < items.Length && w < n; c++)
                {
                    if (!Admit(items[c], taken)) { skipped++; continue; }
                    lists.Items[(long)u * n + w] = items[c];
                    lists.Scores[(long)u * n + w] = scores[c];
                    w++;
                }
                lists.Counts[u] = w;
                Clear(taken, lists.ItemsOf(u));
                if (w < n && items.Length == fetch && fetch < maxFetch) again.Add(u);
                else skippedTotal += skipped;
            }
            if (again.Count == 0) break;
            fetch = (int)Math.Min(maxFetch, 4L * fetch);
            users = again.ToArray();
            current = deeper(users, fetch);
        }
        removed = skippedTotal;
        return lists;
    }
}
