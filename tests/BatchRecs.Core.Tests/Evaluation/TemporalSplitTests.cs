using BatchRecs.Core.Errors;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;

namespace BatchRecs.Core.Tests.Evaluation;

public class TemporalSplitTests
{
    [Fact]
    public void Each_users_latest_pairs_are_held_out_and_one_always_stays_in_training()
    {
        // user 0: 5 pairs at times 5,1,4,2,3; user 1: one pair; user 2: two pairs with equal times.
        var log = new InteractionLog(IdMap.FromInt64([1, 2, 3]), IdMap.FromInt64(Enumerable.Range(0, 6).Select(i => (long)i)),
            users: [0, 0, 0, 0, 0, 1, 2, 2], items: [0, 1, 2, 3, 4, 0, 5, 4], values: Enumerable.Repeat(1f, 8).ToArray(),
            times: [5, 1, 4, 2, 3, 9, 7, 7]);
        var split = TemporalSplit.PerUserLast(log, 0.4);
        // user 0: ceil(0.4·5) = 2 latest (times 5 and 4) held out.
        Assert.Equal(new[] { false, true, false, true, true, true }, split.IsTrain[..6]);
        // user 2: equal times, so one of the two (decided by the tie hash) is held out.
        Assert.NotEqual(split.IsTrain[6], split.IsTrain[7]);
        Assert.Equal(3, split.HeldOutCount);
    }

    [Fact]
    public void Without_times_the_split_is_a_deterministic_random_one_not_by_item_id()
    {
        // 300 users × 10 items, every event at the same instant (a log without times, like Last.fm play counts).
        const int users = 300, items = 10;
        var u = new List<int>(); var i = new List<int>();
        for (int a = 0; a < users; a++)
            for (int b = 0; b < items; b++) { u.Add(a); i.Add(b); }
        var log = new InteractionLog(IdMap.FromInt64(Enumerable.Range(0, users).Select(x => (long)x)), IdMap.FromInt64(Enumerable.Range(0, items).Select(x => (long)x)),
            u.ToArray(), i.ToArray(), Enumerable.Repeat(1f, u.Count).ToArray(), new long[u.Count]);
        var split = TemporalSplit.PerUserLast(log, 0.2);
        Assert.Equal(split.IsTrain, TemporalSplit.PerUserLast(log, 0.2).IsTrain);
        Assert.Equal(users * 2, split.HeldOutCount); // ⌈0.2 · 10⌉ per user
        // Every item is held out about equally often (by item id, items 8 and 9 would always be): 60 expected each.
        var heldOutPerItem = new int[items];
        for (int e = 0; e < u.Count; e++) if (!split.IsTrain[e]) heldOutPerItem[i[e]]++;
        Assert.All(heldOutPerItem, n => Assert.InRange(n, 30, 90));
    }

    [Fact]
    public void Sorted_pairs_are_split_as_the_same_pairs_in_any_order()
    {
        var rng = new Random(4);
        var entries = new List<(int U, int I, long T)>();
        for (int u = 0; u < 200; u++)
            foreach (int i in Enumerable.Range(0, 40).OrderBy(_ => rng.Next()).Take(rng.Next(1, 25)).Order())
                entries.Add((u, i, rng.Next(0, 6))); // few distinct times: ties are broken by the hash
        InteractionLog Log(IReadOnlyList<(int U, int I, long T)> e, bool sorted) => new(IdMap.FromInt64(Enumerable.Range(0, 200).Select(x => (long)x)),
            IdMap.FromInt64(Enumerable.Range(0, 40).Select(x => (long)x)), e.Select(x => x.U).ToArray(), e.Select(x => x.I).ToArray(),
            Enumerable.Repeat(1f, e.Count).ToArray(), e.Select(x => x.T).ToArray()) { SortedPairs = sorted };
        var shuffled = entries.OrderBy(_ => rng.Next()).ToList();
        var sorted = TemporalSplit.PerUserLast(Log(entries, sorted: true), 0.3);
        var other = TemporalSplit.PerUserLast(Log(shuffled, sorted: false), 0.3);
        var heldOut = Enumerable.Range(0, entries.Count).Where(e => !sorted.IsTrain[e]).Select(e => entries[e]).ToHashSet();
        Assert.Equal(heldOut, Enumerable.Range(0, shuffled.Count).Where(e => !other.IsTrain[e]).Select(e => shuffled[e]).ToHashSet());
        Assert.True(heldOut.Count > 500);
    }

    [Fact]
    public void Zero_fraction_holds_nothing_out_and_bad_fractions_name_the_setting()
    {
        var log = new InteractionLog(IdMap.FromInt64([1]), IdMap.FromInt64([1, 2]), [0, 0], [0, 1], [1f, 1f], [1, 2]);
        Assert.All(TemporalSplit.PerUserLast(log, 0).IsTrain, Assert.True);
        var e = Assert.Throws<BadInputException>(() => TemporalSplit.PerUserLast(log, 1.0));
        Assert.Contains("holdout_fraction", e.Message);
    }
}
