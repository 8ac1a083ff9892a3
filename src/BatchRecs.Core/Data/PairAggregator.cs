namespace BatchRecs.Core.Data;

/// <summary>How repeated events of one (user, item) pair combine into one strength.</summary>
public enum CombineRule { Sum, Max, Last }

/// <summary>
/// Collapses an event log to one entry per (user, item) pair; the entry's time is the pair's last event. The result is
/// sorted by (user, item) (<see cref="InteractionLog.SortedPairs"/>), and a pair's events combine in the order
/// (time, position in the log), so the outcome does not depend on how the work is split.
/// </summary>
/// <remarks>
/// Partitioned like Spark's ALS in-blocks: users are cut into contiguous shards of a few million events, and each shard
/// is gathered from the log (one sequential scan of the user column per shard), sorted per user and combined on its own
/// thread. Nothing holds the whole log twice: in flight are the log, the combined pairs of finished shards (16 bytes a
/// pair) and a few shards' scratch (about 36 bytes an event).
/// </remarks>
public static class PairAggregator
{
    /// <summary>
    /// Events per shard: about eight shards per core, so the cores stay busy to the end, but between 2¹⁸ and 2²³ events:
    /// each shard scans the whole user column once, and its scratch (36 bytes an event) stays in the tens of megabytes.
    /// </summary>
    public static int ShardEvents(int events) => Math.Clamp(events / (8 * Environment.ProcessorCount), 1 << 18, 1 << 23);

    public static InteractionLog Combine(InteractionLog log, CombineRule rule = CombineRule.Sum) => Combine(EventLog.From(log), rule, consume: true);

    /// <param name="events">the events, in read order.</param>
    /// <param name="rule">how a pair's strengths combine.</param>
    /// <param name="consume">release <paramref name="events"/>' entries once every shard is combined, before the pairs
    /// are laid out in one piece (the caller no longer needs them; saves the log's size at the stage's peak).</param>
    /// <param name="firstTimes">also keep each pair's first event time (<see cref="InteractionLog.FirstTimes"/>, 8 bytes a pair).</param>
    public static InteractionLog Combine(EventLog events, CombineRule rule = CombineRule.Sum, bool consume = false, bool firstTimes = false) =>
        Combine(events, rule, consume, ShardEvents(events.Count), firstTimes);

    /// <summary>As the public overload, with the shard size given (tests cut small logs into many shards).</summary>
    internal static InteractionLog Combine(EventLog events, CombineRule rule, bool consume, int shardEvents, bool firstTimes = false) =>
        Combine([new PairSource(events, null, null)], events.UserIds, events.ItemIds, rule, consume, shardEvents, firstTimes);

    /// <summary>
    /// Combines the sources' events shard by shard in parallel and hands each shard's pairs, still in the thread's working
    /// arrays, to <paramref name="then"/> (the pairs stage splits them there: a shard's pairs are never copied out whole
    /// only to be split, which left 16 bytes a pair of large-object garbage per shard, 0.9 GB more at the stage's peak at
    /// 100M events); the results in shard order, i.e. by user. A user's events combine in source order, then each
    /// source's own order, so the pairs are exactly those of one log of all the sources' events, source after source: they
    /// do not depend on how the files were split among read tasks.
    /// </summary>
    /// <param name="sources">the read tasks' events, in read order, and how their ids map onto the run's.</param>
    /// <param name="users">the run's users.</param>
    /// <param name="rule">how a pair's strengths combine.</param>
    /// <param name="consume">release the sources' entries once every shard is combined.</param>
    /// <param name="firstTimes">also keep each pair's first event time.</param>
    /// <param name="then">what is kept of a shard's pairs.</param>
    /// <param name="shardEvents">events per shard (null: <see cref="ShardEvents"/>).</param>
    public static T[] CombineShards<T>(IReadOnlyList<PairSource> sources, int users, CombineRule rule, bool consume, bool firstTimes,
        ShardThen<T> then, int? shardEvents = null)
    {
        var start = CountPerUser(sources, users); // start[u] = first event of user u in user order
        var shards = Shards(start, users, shardEvents ?? ShardEvents((int)Math.Min(start[users], int.MaxValue)));
        var done = new T[shards.Count];
        // One scratch per thread, reused shard after shard, and at most one shard per core (Parallel.For alone lets the
        // thread pool add threads to long bodies, each with its own scratch). At 100M events this stage peaked at 8.4 GB
        // with a fresh scratch per shard and 7.6 GB with reuse but unbounded threads; 4.7–5.1 GB now, with the collection below.
        var scratch = new System.Collections.Concurrent.ConcurrentBag<Scratch>();
        Parallel.For(0, shards.Count, OnePerCore, s =>
        {
            var mine = scratch.TryTake(out var free) ? free : new Scratch();
            var (lo, hi) = shards[s];
            done[s] = CombineShard(sources, lo, hi, start.AsSpan(lo, hi - lo + 1), rule, mine, firstTimes, then);
            scratch.Add(mine);
        });
        scratch.Clear();
        if (consume)
        {
            long released = 0;
            foreach (var source in sources) { released += source.Events.Bytes; source.Events.Release(); }
            // Hand a large log's memory back to the system before the pairs are laid out, so the two are never resident
            // together: a plain collection keeps the freed chunks committed, and the pairs' large arrays cannot reuse them
            // (measured at 100M events: 5.6 GB peak with a plain collection).
            if (released > (256L << 20))
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
        return done;
    }

    private static InteractionLog Combine(IReadOnlyList<PairSource> sources, IdMap userIds, IdMap itemIds, CombineRule rule, bool consume, int shardEvents,
        bool firstTimes)
    {
        var done = CombineShards(sources, userIds.Count, rule, consume, firstTimes, PairShard.Copy, shardEvents);
        long total = 0;
        foreach (var d in done) total += d.Items.Length;
        int n = checked((int)total);
        var u = new int[n]; var i = new int[n]; var v = new float[n]; var t = new long[n];
        var first = firstTimes ? new long[n] : null;
        int at = 0;
        for (int s = 0; s < done.Length; s++)
        {
            at += done[s].CopyTo(at, u, i, v, t, first);
            done[s] = null!; // the shard's pairs are laid out: let them go
        }
        return new InteractionLog(userIds, itemIds, u, i, v, t) { SortedPairs = true, FirstTimes = first };
    }

    /// <summary>
    /// Combines the events of users <paramref name="lo"/> ≤ u &lt; <paramref name="hi"/> (run indices) from every source: one
    /// shard of the pairs stage, as a task on its own (a distributed run's shard task reads just those users' events).
    /// </summary>
    /// <param name="sources">the read tasks' events, in read order (they may hold only this shard's users).</param>
    /// <param name="lo">the shard's first user.</param>
    /// <param name="hi">past its last user.</param>
    /// <param name="start">start[u − lo] = the shard's events of users before u (length hi − lo + 1, from 0).</param>
    /// <param name="rule">how a pair's strengths combine.</param>
    /// <param name="firstTimes">also keep each pair's first event time.</param>
    /// <param name="then">what is kept of the shard's pairs (<see cref="PairShard.Copy"/>: all of them).</param>
    public static T CombineShard<T>(IReadOnlyList<PairSource> sources, int lo, int hi, ReadOnlySpan<long> start, CombineRule rule, bool firstTimes,
        ShardThen<T> then) =>
        CombineShard(sources, lo, hi, start, rule, new Scratch(), firstTimes, then);

    /// <summary>start[u − lo] (length hi − lo + 1, from 0) for users lo ≤ u &lt; hi of <paramref name="sources"/>.</summary>
    public static long[] CountPerUser(IReadOnlyList<PairSource> sources, int lo, int hi)
    {
        var start = new long[hi - lo + 1];
        foreach (var source in sources)
        {
            var (llo, lhi) = source.LocalRange(lo, hi);
            for (int c = 0; c < source.Events.Chunks; c++)
                foreach (int local in source.Events.ChunkAt(c).Users.Span)
                    if (local >= llo && local < lhi) start[source.UserOf(local) - lo + 1]++;
        }
        for (int u = 0; u < hi - lo; u++) start[u + 1] += start[u];
        return start;
    }

    private static ParallelOptions OnePerCore => new() { MaxDegreeOfParallelism = Environment.ProcessorCount };


    /// <summary>A thread's working arrays for one shard at a time (36 bytes an event, 44 with first times), grown to the largest shard it meets.</summary>
    private sealed class Scratch
    {
        public EventKey[] Keys = [];
        public float[] Values = [];
        public int[] OutItems = [];
        public float[] OutValues = [];
        public long[] OutTimes = [];
        public long[] OutFirst = [];

        public void Ensure(int n)
        {
            if (Keys.Length >= n) return;
            Keys = new EventKey[n]; Values = new float[n];
            OutItems = new int[n]; OutValues = new float[n]; OutTimes = new long[n];
        }
    }

    // Time first: 16 bytes, not 24.
    private readonly record struct EventKey(long Time, int Item, int Position) : IComparable<EventKey>
    {
        public int CompareTo(EventKey o)
        {
            int c = Item.CompareTo(o.Item);
            if (c != 0) return c;
            c = Time.CompareTo(o.Time);
            return c != 0 ? c : Position.CompareTo(o.Position);
        }
    }

    /// <summary>start[u] = number of events of users before u (length users + 1), counted in parallel over chunks.</summary>
    private static long[] CountPerUser(IReadOnlyList<PairSource> sources, int users)
    {
        var counts = new long[users + 1];
        var gate = new object();
        var chunks = sources.SelectMany(s => Enumerable.Range(0, s.Events.Chunks).Select(c => (Source: s, Chunk: c))).ToArray();
        Parallel.For(0, chunks.Length, OnePerCore, () => new int[users], (c, _, local) =>
        {
            var (source, chunk) = chunks[c];
            var remap = source.UserRemap;
            foreach (int u in source.Events.ChunkAt(chunk).Users.Span) local[remap is null ? u : remap[u]]++;
            return local;
        }, local =>
        {
            lock (gate) for (int u = 0; u < local.Length; u++) counts[u + 1] += local[u];
        });
        for (int u = 0; u < users; u++) counts[u + 1] += counts[u];
        return counts;
    }

    /// <summary>Contiguous user ranges of about <paramref name="shardEvents"/> events each (a heavier user is a shard alone).</summary>
    /// <param name="start">start[u] = events of users before u (length users + 1).</param>
    /// <param name="users">the users.</param>
    /// <param name="shardEvents">events per shard.</param>
    public static List<(int Lo, int Hi)> Shards(long[] start, int users, int shardEvents)
    {
        var shards = new List<(int, int)>();
        int lo = 0;
        for (int u = 0; u < users; u++)
            if (start[u + 1] - start[lo] >= shardEvents) { shards.Add((lo, u + 1)); lo = u + 1; }
        if (lo < users || shards.Count == 0) shards.Add((lo, users));
        return shards;
    }

    private static T CombineShard<T>(IReadOnlyList<PairSource> sources, int lo, int hi, ReadOnlySpan<long> start, CombineRule rule, Scratch scratch,
        bool firstTimes, ShardThen<T> then)
    {
        long first = start[0];
        int n = checked((int)(start[hi - lo] - first));
        scratch.Ensure(n);
        var (keys, values) = (scratch.Keys, scratch.Values);
        var next = new int[hi - lo];
        for (int u = lo; u < hi; u++) next[u - lo] = (int)(start[u - lo] - first);
        // Gather the shard's events grouped by user, each user's in read order (Position keeps that order in the sort).
        foreach (var source in sources)
        {
            var (llo, lhi) = source.LocalRange(lo, hi);
            var (userRemap, itemRemap) = (source.UserRemap, source.ItemRemap);
            for (int c = 0; c < source.Events.Chunks; c++)
            {
                var chunk = source.Events.ChunkAt(c);
                var us = chunk.Users.Span; var items = chunk.Items.Span; var vs = chunk.Values.Span; var ts = chunk.Times.Span;
                for (int e = 0; e < us.Length; e++)
                {
                    int local = us[e];
                    if (local < llo || local >= lhi) continue;
                    int u = userRemap is null ? local : userRemap[local];
                    int p = next[u - lo]++;
                    keys[p] = new EventKey(ts[e], itemRemap is null ? items[e] : itemRemap[items[e]], p);
                    values[p] = vs[e];
                }
            }
        }
        if (firstTimes && scratch.OutFirst.Length < n) scratch.OutFirst = new long[scratch.OutItems.Length]; // only when asked: 8 bytes an event more
        var (outItems, outValues, outTimes, outFirst) = (scratch.OutItems, scratch.OutValues, scratch.OutTimes, scratch.OutFirst);
        int w = 0;
        var pairsPerUser = new int[hi - lo];
        for (int u = lo; u < hi; u++)
        {
            int s = (int)(start[u - lo] - first), end = (int)(start[u - lo + 1] - first);
            keys.AsSpan(s, end - s).Sort();
            int userPairs = 0;
            for (int p = s; p < end;)
            {
                int item = keys[p].Item;
                float value = 0; long time = long.MinValue;
                int q = p;
                for (; q < end && keys[q].Item == item; q++)
                {
                    float x = values[keys[q].Position];
                    value = rule switch
                    {
                        CombineRule.Sum => value + x,
                        CombineRule.Max => q == p ? x : Math.Max(value, x),
                        _ => x,
                    };
                    time = Math.Max(time, keys[q].Time);
                }
                outItems[w] = item; outValues[w] = value; outTimes[w] = time; w++;
                if (firstTimes) outFirst[w - 1] = keys[p].Time; // a pair's events are sorted by time
                userPairs++;
                p = q;
            }
            pairsPerUser[u - lo] = userPairs;
        }
        return then(new PairShardView(lo, pairsPerUser, outItems.AsSpan(0, w), outValues.AsSpan(0, w), outTimes.AsSpan(0, w),
            firstTimes ? outFirst.AsSpan(0, w) : default, firstTimes));
    }
}

/// <summary>
/// One read task's events and how its dense ids map onto the run's (null: they are the run's). Both maps are sorted, so
/// each remap is increasing, and a range of run users is a range of the source's own.
/// </summary>
/// <param name="Events">the task's events, ids its own.</param>
/// <param name="UserRemap">its user index → the run's, or null.</param>
/// <param name="ItemRemap">its item index → the run's, or null.</param>
public sealed record PairSource(EventLog Events, int[]? UserRemap, int[]? ItemRemap)
{
    /// <summary>The run's user index of the source's user <paramref name="local"/>.</summary>
    public int UserOf(int local) => UserRemap is null ? local : UserRemap[local];

    /// <summary>The source's own users whose run indices lie in [lo, hi).</summary>
    public (int Lo, int Hi) LocalRange(int lo, int hi)
    {
        if (UserRemap is null)
            return Events.UserCount > 0 || Events.Count == 0 ? (Math.Min(lo, Events.UserCount), Math.Min(hi, Events.UserCount))
                : throw new InvalidOperationException("a slice without id maps is combined through its remaps.");
        int a = LowerBound(UserRemap, lo), b = LowerBound(UserRemap, hi);
        return (a, b);
    }

    private static int LowerBound(int[] sorted, int value)
    {
        int i = Array.BinarySearch(sorted, value);
        return i >= 0 ? i : ~i;
    }
}

/// <summary>What is kept of a shard's combined pairs, made from them while they are in the combining thread's working arrays.</summary>
public delegate T ShardThen<out T>(PairShardView shard);

/// <summary>
/// A shard's combined pairs in the combining thread's working arrays (valid only during the <see cref="ShardThen{T}"/>
/// call): users <see cref="Lo"/> … Lo + PairsPerUser.Length − 1, sorted by (user, item).
/// </summary>
public readonly ref struct PairShardView(int lo, int[] pairsPerUser, ReadOnlySpan<int> items, ReadOnlySpan<float> values, ReadOnlySpan<long> times,
    ReadOnlySpan<long> firstTimes, bool hasFirstTimes)
{
    public int Lo { get; } = lo;
    /// <summary>Pairs of each of the shard's users (a fresh array, the shard's own).</summary>
    public int[] PairsPerUser { get; } = pairsPerUser;
    public ReadOnlySpan<int> Items { get; } = items;
    public ReadOnlySpan<float> Values { get; } = values;
    /// <summary>Each pair's last event time.</summary>
    public ReadOnlySpan<long> Times { get; } = times;
    /// <summary>Each pair's first event time, when asked for (<see cref="HasFirstTimes"/>).</summary>
    public ReadOnlySpan<long> FirstTimes { get; } = firstTimes;
    public bool HasFirstTimes { get; } = hasFirstTimes;
    public int Pairs => Items.Length;
}

/// <summary>The combined pairs of users <paramref name="Lo"/> … Lo + PairsPerUser.Length − 1, sorted by (user, item).</summary>
/// <param name="Lo">the shard's first user (run index).</param>
/// <param name="PairsPerUser">pairs of each of the shard's users.</param>
/// <param name="Items">each pair's item (run index).</param>
/// <param name="Values">each pair's combined strength.</param>
/// <param name="Times">each pair's last event time.</param>
/// <param name="FirstTimes">each pair's first event time, when asked for.</param>
public sealed record PairShard(int Lo, int[] PairsPerUser, int[] Items, float[] Values, long[] Times, long[]? FirstTimes)
{
    public int Pairs => Items.Length;

    /// <summary>The shard's pairs copied out of the combining thread's working arrays.</summary>
    public static PairShard Copy(PairShardView view) => new(view.Lo, view.PairsPerUser, view.Items.ToArray(), view.Values.ToArray(), view.Times.ToArray(),
        view.HasFirstTimes ? view.FirstTimes.ToArray() : null);

    /// <summary>Copies the shard's pairs into the run's arrays at <paramref name="at"/>; returns how many.</summary>
    public int CopyTo(int at, int[] users, int[] items, float[] values, long[] times, long[]? firstTimes)
    {
        Items.CopyTo(items, at); Values.CopyTo(values, at); Times.CopyTo(times, at);
        if (firstTimes is not null) (FirstTimes ?? throw new InvalidOperationException("the shard has no first times.")).CopyTo(firstTimes, at);
        FillUsers(PairsPerUser, Lo, users.AsSpan(at));
        return Items.Length;
    }

    /// <summary>Writes user <paramref name="lo"/> + u once for each of its <paramref name="pairsPerUser"/>[u] pairs.</summary>
    private static void FillUsers(ReadOnlySpan<int> pairsPerUser, int lo, Span<int> users)
    {
        for (int u = 0, p = 0; u < pairsPerUser.Length; u++)
            for (int c = pairsPerUser[u]; c > 0; c--) users[p++] = lo + u;
    }
}
