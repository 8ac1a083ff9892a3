using BatchRecs.Core.Errors;
using BatchRecs.Core.Data;

namespace BatchRecs.Core.Evaluation;

/// <summary>A split of a pair log into training and held-out entries (masks over the log's entries).</summary>
public sealed record Split(bool[] IsTrain)
{
    public int TrainCount => IsTrain.Count(t => t);
    public int HeldOutCount => IsTrain.Length - TrainCount;
}

/// <summary>
/// Per-user temporal hold-out: each user's most recent ⌈fraction·n⌉ pairs are held out, always keeping
/// at least one pair in training (users with a single pair are not evaluated). Ties in time are broken by a
/// fixed hash of (user, item): deterministic, and unrelated to how ids were assigned, so pairs logged in the same
/// second are not held out by id order, and a log without times (every event at one instant, e.g. Last.fm play
/// counts) gets a deterministic pseudo-random per-user split.
/// </summary>
public static class TemporalSplit
{
    /// <summary>
    /// Each user's first held-out time (Unix microseconds: the earliest time of a pair <paramref name="isTrain"/> leaves
    /// out; <see cref="long.MaxValue"/> for a user with none): what a fit on the rest may know of that user's exposures is
    /// what came before it.
    /// </summary>
    public static long[] FirstHeldOutTimes(InteractionLog pairs, bool[] isTrain)
    {
        var cut = new long[pairs.UserCount];
        Array.Fill(cut, long.MaxValue);
        for (int e = 0; e < pairs.Count; e++)
            if (!isTrain[e]) cut[pairs.Users[e]] = Math.Min(cut[pairs.Users[e]], pairs.Times[e]);
        return cut;
    }

    public static Split PerUserLast(InteractionLog pairs, double fraction)
    {
        CheckFraction(fraction);
        var isTrain = new bool[pairs.Count];
        Array.Fill(isTrain, true);
        if (fraction == 0) return new Split(isTrain);
        // Each user's entries as one range of `order`, in log order; sorted pairs need no `order` (4 bytes a pair): a user's
        // entries are the range itself.
        var rowStart = new int[pairs.UserCount + 1];
        foreach (int u in pairs.Users) rowStart[u + 1]++;
        for (int u = 0; u < pairs.UserCount; u++) rowStart[u + 1] += rowStart[u];
        int[]? order = null;
        if (!pairs.SortedPairs)
        {
            order = new int[pairs.Count];
            var next = rowStart.AsSpan(0, pairs.UserCount).ToArray();
            for (int e = 0; e < pairs.Count; e++) order[next[pairs.Users[e]]++] = e;
        }
        Parallel.For(0, pairs.UserCount, u =>
        {
            int s = rowStart[u], n = rowStart[u + 1] - s;
            if (n < 2) return;
            var rented = System.Buffers.ArrayPool<HoldKey>.Shared.Rent(n);
            var keys = rented.AsSpan(0, n);
            for (int j = 0; j < n; j++)
            {
                int e = order?[s + j] ?? s + j;
                keys[j] = HoldKey.Of(u, pairs.Items[e], pairs.Times[e], e);
            }
            HoldOut(keys, fraction, isTrain);
            System.Buffers.ArrayPool<HoldKey>.Shared.Return(rented);
        });
        return new Split(isTrain);
    }

    /// <summary>
    /// The split of one shard of combined pairs (<see cref="PairAggregator.CombineShards{T}"/>): each of its users' latest
    /// pairs held out exactly as <see cref="PerUserLast"/> holds them out of the whole log (the hold-out is per user), so
    /// the pairs stage splits where it combines and no place holds the pairs whole.
    /// </summary>
    /// <param name="shard">the shard's pairs, sorted by (user, item), with their last event times.</param>
    /// <param name="spec">the hold-out share and which times the split keeps.</param>
    public static SplitShard Split(PairShardView shard, PairSplit spec)
    {
        CheckFraction(spec.HoldoutFraction);
        int users = shard.PairsPerUser.Length;
        // A shard's scratch (1 byte a pair), rented: a fresh mask per shard was large-object garbage.
        var rented = System.Buffers.ArrayPool<bool>.Shared.Rent(shard.Pairs);
        var isTrain = rented.AsSpan(0, shard.Pairs);
        isTrain.Fill(true);
        long[]? cuts = spec.Cuts ? new long[users] : null;
        if (cuts is not null) Array.Fill(cuts, long.MaxValue);
        if (spec.HoldoutFraction > 0)
        {
            ReadOnlySpan<int> items = shard.Items;
            ReadOnlySpan<long> times = shard.Times;
            var keys = new HoldKey[users == 0 ? 0 : shard.PairsPerUser.Max()];
            for (int u = 0, s = 0; u < users; s += shard.PairsPerUser[u], u++)
            {
                int n = shard.PairsPerUser[u], user = shard.Lo + u;
                if (n < 2) continue;
                var list = keys.AsSpan(0, n);
                for (int j = 0; j < n; j++) list[j] = HoldKey.Of(user, items[s + j], times[s + j], s + j);
                long first = HoldOut(list, spec.HoldoutFraction, isTrain);
                if (cuts is not null) cuts[u] = first;
            }
        }
        var split = SplitShard.Of(shard, isTrain, spec, cuts);
        System.Buffers.ArrayPool<bool>.Shared.Return(rented);
        return split;
    }

    private static void CheckFraction(double fraction)
    {
        if (!(fraction >= 0 && fraction < 1)) throw new BadInputException($"holdout_fraction must be in [0, 1) (got {fraction}).");
    }

    /// <summary>
    /// The hold-out of one user's pairs, for the whole log and for a shard alike: sorts <paramref name="keys"/> into hold-out
    /// order and marks the latest ⌈fraction·n⌉ of them (keeping at least one in training) false in
    /// <paramref name="isTrain"/> (indexed by <see cref="HoldKey.Entry"/>); returns the earliest held-out time.
    /// </summary>
    private static long HoldOut(Span<HoldKey> keys, double fraction, Span<bool> isTrain)
    {
        int n = keys.Length;
        keys.Sort();
        long first = long.MaxValue;
        for (int j = n - Math.Min(n - 1, (int)Math.Ceiling(fraction * n)); j < n; j++)
        {
            isTrain[keys[j].Entry] = false;
            first = Math.Min(first, keys[j].Time);
        }
        return first;
    }

    /// <summary>One of a user's pairs in hold-out order (by time, ties by a fixed hash of (user, item), then by item), with its entry.</summary>
    private readonly record struct HoldKey(long Time, ulong Tie, int Item, int Entry) : IComparable<HoldKey>
    {
        public static HoldKey Of(int user, int item, long time, int entry) => new(time, TieKey(user, item), item, entry);

        public int CompareTo(HoldKey o)
        {
            int c = Time.CompareTo(o.Time);
            if (c != 0) return c;
            c = Tie.CompareTo(o.Tie);
            return c != 0 ? c : Item.CompareTo(o.Item);
        }
    }

    private static ulong TieKey(int user, int item) => SplitMix64.Mix(((ulong)(uint)user << 32 | (uint)item) ^ 0x7E57_5EEDUL);
}
