using BatchRecs.Core.Data;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Index;

/// <summary>
/// <see cref="PopularityFallback"/> against a brute force: popularity as (weighted) distinct users per item computed in
/// double, the segment's best <c>depth</c> items followed by the global order without duplicates, skipping history, rule
/// exclusions (counted) and capped categories (counted).
/// </summary>
public class PopularityFallbackTests
{
    private const long End = 1_800_000_000_000_000L; // Unix µs
    private const long Day = 86_400_000_000L;

    /// <summary>A window: users × items with one latest time per (user, item) entry, aligned with the CSR's entries.</summary>
    private sealed record Window(CsrMatrix UserItem, long[] Times, int[] Segment);

    /// <param name="ageDays">draws an entry's age in days (may be negative: an event after the window's end).</param>
    private static Window MakeWindow(int seed, int users, int items, int perUser, Func<Random, double> ageDays, int segments = 0)
    {
        var rng = new Random(seed);
        var time = new Dictionary<(int, int), long>();
        for (int u = 0; u < users; u++)
        {
            int m = rng.Next(0, 2 * perUser + 1);
            for (int e = 0; e < m; e++)
            {
                // A skewed item choice, so popularity has a clear head and a long tail with ties.
                int i = (int)(items * Math.Pow(rng.NextDouble(), 2.5));
                time[(u, i)] = End - (long)(ageDays(rng) * Day);
            }
        }
        var keys = time.Keys.ToArray();
        var csr = CsrMatrix.FromEntries(users, items, keys.Select(p => p.Item1).ToArray(), keys.Select(p => p.Item2).ToArray(),
            Enumerable.Repeat(1f, keys.Length).ToArray());
        var times = new long[csr.NonZeros];
        for (int u = 0; u < users; u++)
            for (int e = csr.RowPtr[u]; e < csr.RowPtr[u + 1]; e++) times[e] = time[(u, csr.ColIdx[e])];
        var segment = new int[users];
        for (int u = 0; u < users; u++) segment[u] = segments == 0 ? -1 : rng.Next(-1, segments);
        return new Window(csr, times, segment);
    }

    /// <summary>Brute-force popularity of every item over the given users (weight 2^(−age/halfLife) per entry, 1 without decay).</summary>
    private static double[] Popularity(Window w, double halfLifeDays, Func<int, bool> countsUser)
    {
        var p = new double[w.UserItem.Cols];
        for (int u = 0; u < w.UserItem.Rows; u++)
        {
            if (!countsUser(u)) continue;
            for (int e = w.UserItem.RowPtr[u]; e < w.UserItem.RowPtr[u + 1]; e++)
            {
                double ageDays = Math.Max(0, End - w.Times[e]) / (double)Day;
                p[w.UserItem.ColIdx[e]] += halfLifeDays > 0 ? Math.Pow(2, -ageDays / halfLifeDays) : 1;
            }
        }
        return p;
    }

    private static int[] Order(double[] p, IEnumerable<int> items) => items.OrderByDescending(i => p[i]).ThenBy(i => i).ToArray();

    /// <summary>
    /// The brute-force list: walk the segment's best <paramref name="depth"/> items, then the global order (items not met
    /// yet); skip history; skip and count rule items and items whose category is full; stop at n.
    /// </summary>
    private static (int[] Items, int Rules, int Category) Expected(int[] segmentOrder, int[] globalOrder, int n, int[] history,
        Func<int, bool> rule, int[]? category, int cap)
    {
        var list = new List<int>();
        var met = new HashSet<int>();
        var taken = new Dictionary<int, int>();
        int rules = 0, cat = 0;
        foreach (int i in segmentOrder.Concat(globalOrder))
        {
            if (list.Count == n) break;
            if (!met.Add(i)) continue;
            if (Array.BinarySearch(history, i) >= 0) continue;
            if (rule(i)) { rules++; continue; }
            if (category is not null && category[i] >= 0)
            {
                if (taken.GetValueOrDefault(category[i]) >= cap) { cat++; continue; }
                taken[category[i]] = taken.GetValueOrDefault(category[i]) + 1;
            }
            list.Add(i);
        }
        return (list.ToArray(), rules, cat);
    }

    private static (int[] Items, float[] Scores, RuleCounts Removed) Fill(PopularityFallback f, int n, int segment, int[] history,
        Func<int, bool>? rule = null, CategoryCap? cap = null)
    {
        var items = new int[n];
        var scores = new float[n];
        Array.Fill(items, -1);
        var removed = new RuleCounts();
        int count = f.Fill(items, scores, segment, history, rule ?? (_ => false), cap, ref removed);
        return (items[..count], scores[..count], removed);
    }

    private static int[] HistoryOf(Window w, int u) => w.UserItem.RowCols(u).ToArray();

    [Fact]
    public void Global_popularity_counts_distinct_users_per_item_with_ties_to_the_lower_index()
    {
        var w = MakeWindow(1, users: 400, items: 300, perUser: 6, _ => 1);
        var f = PopularityFallback.Build(w.UserItem, [], End, 0, null, 0, 1, 100);
        var p = Popularity(w, 0, _ => true);
        var global = Order(p, Enumerable.Range(0, 300));
        Assert.Contains(Enumerable.Range(0, 299), i => p[global[i]] == p[global[i + 1]] && p[global[i]] > 0); // ties occur
        foreach (int u in new[] { 0, 7, 123, 399 })
        {
            var history = HistoryOf(w, u);
            var (items, scores, removed) = Fill(f, 40, -1, history);
            var (expected, _, _) = Expected([], global, 40, history, _ => false, null, 0);
            Assert.Equal(expected, items);
            Assert.Equal(expected.Select(i => (float)p[i]).ToArray(), scores);
            Assert.Equal(0, removed.Rules + removed.Category);
        }
        // A user with no history gets the head of the global order.
        Assert.Equal(global[..25], Fill(f, 25, -1, []).Items);
    }

    [Fact]
    public void Recency_weighting_halves_an_entry_per_half_life_of_its_own_age()
    {
        // Ages in whole half-lives (0..4) and some events after the window's end (age 0): weights are exact powers of
        // two, so the brute force in double and the float sums agree exactly, ties included.
        const double halfLife = 7;
        var w = MakeWindow(2, users: 300, items: 200, perUser: 5, r => r.Next(6) == 0 ? -2 : halfLife * r.Next(5));
        var f = PopularityFallback.Build(w.UserItem, w.Times, End, halfLife, null, 0, 1, 50);
        var p = Popularity(w, halfLife, _ => true);
        var unweighted = Popularity(w, 0, _ => true);
        var global = Order(p, Enumerable.Range(0, 200));
        Assert.NotEqual(global, Order(unweighted, Enumerable.Range(0, 200))); // the weighting changes the order
        foreach (int u in new[] { 3, 50, 299 })
        {
            var history = HistoryOf(w, u);
            var (items, scores, _) = Fill(f, 30, -1, history);
            Assert.Equal(Expected([], global, 30, history, _ => false, null, 0).Items, items);
            Assert.Equal(items.Select(i => (float)p[i]).ToArray(), scores);
        }
    }

    [Fact]
    public void Recency_weighting_with_arbitrary_ages_matches_the_brute_force_up_to_float_rounding()
    {
        const double halfLife = 10;
        var w = MakeWindow(3, users: 500, items: 150, perUser: 5, r => r.NextDouble() * 60);
        var f = PopularityFallback.Build(w.UserItem, w.Times, End, halfLife, null, 0, 1, 50);
        var p = Popularity(w, halfLife, _ => true);
        var expected = Order(p, Enumerable.Range(0, 150));
        var (items, scores, _) = Fill(f, 150, -1, []);
        Assert.Equal(150, items.Length);
        for (int r = 0; r < items.Length; r++)
        {
            // Same item, or an item whose brute-force popularity is equal up to float accumulation error.
            Assert.True(items[r] == expected[r] || Math.Abs(p[items[r]] - p[expected[r]]) < 1e-4,
                $"rank {r}: got item {items[r]} ({p[items[r]]}), expected {expected[r]} ({p[expected[r]]})");
            Assert.Equal(p[items[r]], scores[r], 1e-3);
        }
    }

    [Fact]
    public void A_large_enough_segment_gets_its_own_popularity_and_a_small_one_the_global_order()
    {
        var w = MakeWindow(4, users: 600, items: 250, perUser: 6, _ => 1, segments: 3);
        // Segment 2 is made small: only 5 of its users keep their segment.
        int kept = 0;
        for (int u = 0; u < w.Segment.Length; u++)
            if (w.Segment[u] == 2 && (w.UserItem.RowLength(u) == 0 || ++kept > 5)) w.Segment[u] = -1;
        int minUsers = 20;
        var withHistory = Enumerable.Range(0, 3).Select(s => Enumerable.Range(0, 600).Count(u => w.Segment[u] == s && w.UserItem.RowLength(u) > 0)).ToArray();
        Assert.True(withHistory[0] >= minUsers && withHistory[1] >= minUsers && withHistory[2] < minUsers);

        const int depth = 60;
        var f = PopularityFallback.Build(w.UserItem, [], End, 0, w.Segment, 3, minUsers, depth);
        Assert.Equal(withHistory, f.SegmentUsers.ToArray());
        Assert.True(f.HasSegment(0) && f.HasSegment(1));
        Assert.False(f.HasSegment(2));
        Assert.False(f.HasSegment(-1));

        var pGlobal = Popularity(w, 0, _ => true);
        var global = Order(pGlobal, Enumerable.Range(0, 250));
        for (int s = 0; s < 3; s++)
        {
            var ps = Popularity(w, 0, u => w.Segment[u] == s);
            var segmentOrder = s < 2 ? Order(ps, Enumerable.Range(0, 250).Where(i => ps[i] > 0)).Take(depth).ToArray() : [];
            Assert.NotEqual(global[..20], Order(ps, Enumerable.Range(0, 250))[..20]); // the segment's taste differs
            foreach (int u in Enumerable.Range(0, 600).Where(u => w.Segment[u] == s).Take(6))
            {
                var history = HistoryOf(w, u);
                var (items, scores, _) = Fill(f, 20, s, history);
                Assert.Equal(Expected(segmentOrder, global, 20, history, _ => false, null, 0).Items, items);
                // Items from the segment's list carry the segment's popularity, the rest the global popularity.
                Assert.Equal(items.Select(i => (float)(segmentOrder.Contains(i) ? ps[i] : pGlobal[i])).ToArray(), scores);
            }
        }
    }

    [Fact]
    public void An_exhausted_segment_list_continues_with_the_global_order_without_duplicates()
    {
        var w = MakeWindow(5, users: 300, items: 120, perUser: 5, _ => 1, segments: 2);
        const int depth = 8, n = 40;
        var f = PopularityFallback.Build(w.UserItem, [], End, 0, w.Segment, 2, 10, depth);
        Assert.True(f.HasSegment(0));
        var global = Order(Popularity(w, 0, _ => true), Enumerable.Range(0, 120));
        var ps = Popularity(w, 0, u => w.Segment[u] == 0);
        var segmentOrder = Order(ps, Enumerable.Range(0, 120).Where(i => ps[i] > 0)).Take(depth).ToArray();
        Assert.Equal(depth, segmentOrder.Length);
        foreach (int u in Enumerable.Range(0, 300).Where(u => w.Segment[u] == 0).Take(10))
        {
            var history = HistoryOf(w, u);
            var (items, _, _) = Fill(f, n, 0, history);
            Assert.Equal(items.Length, items.Distinct().Count());
            Assert.Equal(Expected(segmentOrder, global, n, history, _ => false, null, 0).Items, items);
            Assert.Equal(Math.Min(n, 120 - history.Length), items.Length);
        }
    }

    [Fact]
    public void Rule_exclusions_and_the_category_cap_are_skipped_and_counted_in_the_global_order()
    {
        var w = MakeWindow(6, users: 300, items: 200, perUser: 5, _ => 1);
        var f = PopularityFallback.Build(w.UserItem, [], End, 0, null, 0, 1, 50);
        var global = Order(Popularity(w, 0, _ => true), Enumerable.Range(0, 200));
        var rng = new Random(60);
        var category = Enumerable.Range(0, 200).Select(_ => rng.Next(12) == 0 ? -1 : rng.Next(5)).ToArray();
        var cap = new CategoryCap(category, 3);
        // Rules that hit the head: every third of the global top 30, plus a few random items.
        var ruled = global.Take(30).Where((_, r) => r % 3 == 0).Concat(Enumerable.Range(0, 10).Select(_ => rng.Next(200))).ToHashSet();
        foreach (int u in new[] { 1, 2, 100, 250 })
        {
            var history = HistoryOf(w, u);
            var (items, _, removed) = Fill(f, 15, -1, history, ruled.Contains, cap);
            var (expected, rules, cat) = Expected([], global, 15, history, ruled.Contains, category, 3);
            Assert.Equal(expected, items);
            Assert.True(rules > 0 && cat > 0);
            Assert.Equal(rules, removed.Rules);
            Assert.Equal(cat, removed.Category);
        }
    }

    [Fact]
    public void An_item_skipped_in_the_segment_list_is_counted_once_when_met_again_in_the_global_order()
    {
        // A rule-excluded or capped item in the segment's head is met a second time when the list continues with the
        // global order; it is one item removed from one list.
        var w = MakeWindow(7, users: 300, items: 120, perUser: 5, _ => 1, segments: 2);
        const int depth = 10, n = 30;
        var f = PopularityFallback.Build(w.UserItem, [], End, 0, w.Segment, 2, 10, depth);
        var global = Order(Popularity(w, 0, _ => true), Enumerable.Range(0, 120));
        var ps = Popularity(w, 0, u => w.Segment[u] == 0);
        var segmentOrder = Order(ps, Enumerable.Range(0, 120).Where(i => ps[i] > 0)).Take(depth).ToArray();
        var ruled = new HashSet<int> { segmentOrder[0], segmentOrder[3] };
        var category = new int[120];
        Array.Fill(category, -1);
        category[segmentOrder[1]] = category[segmentOrder[2]] = category[segmentOrder[4]] = 0; // cap 2: the third is skipped
        var cap = new CategoryCap(category, 2);
        var (items, _, removed) = Fill(f, n, 0, [], ruled.Contains, cap);
        var (expected, rules, cat) = Expected(segmentOrder, global, n, [], ruled.Contains, category, 2);
        Assert.Equal(expected, items);
        Assert.Equal(2, rules);
        Assert.Equal(1, cat);
        Assert.Equal(rules, removed.Rules);
        Assert.Equal(cat, removed.Category);
    }

    [Fact]
    public void Very_old_entries_with_a_short_half_life_never_put_an_item_twice_in_a_list()
    {
        // 2^(−age/halfLife) underflows to 0 in float for entries hundreds of half-lives old; the item must still appear
        // once in its segment's list and once in a user's list.
        var w = MakeWindow(8, users: 200, items: 40, perUser: 6, r => r.Next(3) == 0 ? 200 : r.NextDouble() * 3, segments: 1);
        const double halfLife = 0.5;
        var f = PopularityFallback.Build(w.UserItem, w.Times, End, halfLife, w.Segment, 1, 5, 40);
        Assert.True(f.HasSegment(0));
        var (items, _, _) = Fill(f, 40, 0, []);
        Assert.Equal(items.Length, items.Distinct().Count());
        Assert.Equal(40, items.Length);
    }
}
