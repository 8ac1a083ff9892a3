using BatchRecs.Core.Data;

namespace BatchRecs.Core.Index;

/// <summary>
/// The list of a user the model cannot serve (too little history, or none in the window): the window's most popular
/// items, from the user's segment when the segment is large enough, else from everyone. Popularity is the number of
/// users who met the item in the window or, with a half-life, each of them weighted by 2^(−age/half-life) of their
/// latest event with it, so recent interest counts more.
/// </summary>
/// <remarks>
/// A segment keeps only its best <c>depth</c> items; a user who needs more (long history or many exclusions) continues
/// with the global order. Ties go to the lower item index, so the lists are deterministic.
/// </remarks>
public sealed class PopularityFallback
{
    private readonly int[] _global;
    private readonly float[] _globalScore;
    private readonly int[]?[] _segment;
    private readonly float[]?[] _segmentScore;
    private readonly int[]?[] _segmentSorted;

    private PopularityFallback(int[] global, float[] globalScore, int[]?[] segment, float[]?[] segmentScore, int[]?[] segmentSorted, int[] segmentUsers)
    {
        _segmentSorted = segmentSorted;
        _global = global;
        _globalScore = globalScore;
        _segment = segment;
        _segmentScore = segmentScore;
        SegmentUsers = segmentUsers;
    }

    /// <summary>Users with history in each segment.</summary>
    public IReadOnlyList<int> SegmentUsers { get; }

    /// <summary>Whether <paramref name="segment"/> (−1: none) has its own popularity (enough users with history).</summary>
    public bool HasSegment(int segment) => segment >= 0 && segment < _segment.Length && _segment[segment] is not null;

    /// <param name="userItem">the window's users × items matrix (rows: the model's users).</param>
    /// <param name="times">each entry's latest event time (Unix µs), aligned with <paramref name="userItem"/>'s entries, or null (no decay).</param>
    /// <param name="endMicros">the end of the window (ages are counted from it).</param>
    /// <param name="halfLifeDays">0: every user counts 1.</param>
    /// <param name="userSegment">each model user's segment (−1: none), or null.</param>
    /// <param name="segments">the number of segments.</param>
    /// <param name="minSegmentUsers">users with history a segment needs for its own popularity.</param>
    /// <param name="depth">items kept per segment.</param>
    public static PopularityFallback Build(CsrMatrix userItem, ReadOnlySpan<long> times, long endMicros, double halfLifeDays,
        int[]? userSegment, int segments, int minSegmentUsers, int depth)
    {
        if (halfLifeDays > 0 && times.Length != userItem.NonZeros)
            throw new ArgumentException($"{times.Length} times for {userItem.NonZeros} entries.", nameof(times));
        double perMicro = halfLifeDays > 0 ? Math.Log(2) / (halfLifeDays * 86_400e6) : 0;
        float Weight(ReadOnlySpan<long> t, int e) => perMicro == 0 ? 1f : (float)Math.Exp(-perMicro * Math.Max(0, endMicros - t[e]));

        var global = new float[userItem.Cols];
        var segmentUsers = new int[segments];
        for (int u = 0; u < userItem.Rows; u++)
        {
            if (userSegment is not null && userSegment[u] >= 0 && userItem.RowLength(u) > 0) segmentUsers[userSegment[u]]++;
            for (int e = userItem.RowPtr[u]; e < userItem.RowPtr[u + 1]; e++) global[userItem.ColIdx[e]] += Weight(times, e);
        }
        var order = Ranked(global, Enumerable.Range(0, userItem.Cols).ToArray(), userItem.Cols);

        var segment = new int[]?[segments];
        var segmentScore = new float[]?[segments];
        var segmentSorted = new int[]?[segments];
        if (userSegment is not null && segmentUsers.Any(c => c >= minSegmentUsers))
        {
            var scratch = new float[userItem.Cols];
            var isTouched = new bool[userItem.Cols]; // not scratch[i] == 0: a very old entry's weight can round to 0
            var touched = new List<int>();
            foreach (var group in Enumerable.Range(0, userItem.Rows).Where(u => userSegment[u] >= 0 && segmentUsers[userSegment[u]] >= minSegmentUsers)
                         .GroupBy(u => userSegment[u]))
            {
                touched.Clear();
                foreach (int u in group)
                    for (int e = userItem.RowPtr[u]; e < userItem.RowPtr[u + 1]; e++)
                    {
                        int i = userItem.ColIdx[e];
                        if (!isTouched[i]) { isTouched[i] = true; touched.Add(i); }
                        scratch[i] += Weight(times, e);
                    }
                var items = Ranked(scratch, touched.ToArray(), depth);
                segment[group.Key] = items;
                segmentScore[group.Key] = items.Select(i => scratch[i]).ToArray();
                segmentSorted[group.Key] = items.Order().ToArray();
                foreach (int i in touched) { scratch[i] = 0; isTouched[i] = false; }
            }
        }
        return new PopularityFallback(order, order.Select(i => global[i]).ToArray(), segment, segmentScore, segmentSorted, segmentUsers);
    }

    /// <summary>The best <paramref name="keep"/> of <paramref name="items"/> by score, ties to the lower index.</summary>
    private static int[] Ranked(float[] score, int[] items, int keep)
    {
        Array.Sort(items, (a, b) => score[a] != score[b] ? score[b].CompareTo(score[a]) : a.CompareTo(b));
        return items.Length <= keep ? items : items[..keep];
    }

    /// <summary>
    /// Writes a fallback list best-first: the segment's items, then everyone's, skipping the user's own items and
    /// duplicates; a rule's exclusions (<paramref name="ruleExcludes"/>) and the category cap are skipped too and counted.
    /// </summary>
    /// <param name="items">the list's slots (N).</param>
    /// <param name="scores">the popularity of each item written.</param>
    /// <param name="segment">the user's segment (−1: none, or a segment without its own popularity: everyone's).</param>
    /// <param name="history">the user's items (sorted), never recommended.</param>
    /// <param name="ruleExcludes">whether a business rule keeps an item from this user.</param>
    /// <param name="cap">the category cap (null: none).</param>
    /// <param name="removed">incremented for each item a rule or the cap removed from the list.</param>
    public int Fill(Span<int> items, Span<float> scores, int segment, ReadOnlySpan<int> history, Func<int, bool> ruleExcludes,
        CategoryCap? cap, ref RuleCounts removed)
    {
        var perCategory = cap?.NewCounter();
        if (!HasSegment(segment))
            return Take(_global, _globalScore, items, scores, 0, history, [], ruleExcludes, cap, perCategory, ref removed);
        int n = Take(_segment[segment]!, _segmentScore[segment]!, items, scores, 0, history, [], ruleExcludes, cap, perCategory, ref removed);
        // Everyone's order then, passing over the segment's items: taken already, or skipped (and counted) already.
        return Take(_global, _globalScore, items, scores, n, history, _segmentSorted[segment]!, ruleExcludes, cap, perCategory, ref removed);
    }

    private static int Take(int[] order, float[] score, Span<int> items, Span<float> scores, int n, ReadOnlySpan<int> history,
        ReadOnlySpan<int> passed, Func<int, bool> ruleExcludes, CategoryCap? cap, int[]? perCategory, ref RuleCounts removed)
    {
        for (int p = 0; p < order.Length && n < items.Length; p++)
        {
            int i = order[p];
            if (history.BinarySearch(i) >= 0 || passed.BinarySearch(i) >= 0) continue;
            if (ruleExcludes(i)) { removed.Rules++; continue; }
            if (cap is not null && !cap.Admit(i, perCategory!)) { removed.Category++; continue; }
            items[n] = i;
            scores[n] = score[p];
            n++;
        }
        return n;
    }
}

/// <summary>What business rules removed from lists: candidates a ban or exclusion removed, and those the category cap did.</summary>
public struct RuleCounts
{
    public long Rules;
    public long Category;
}
