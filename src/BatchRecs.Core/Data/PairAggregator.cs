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
    internal static InteractionLog Combine(EventLog events, CombineRule rule, bool consume, int shardEvents, bool firstTimes = false)
    {
        int users = events.UserCount;
        var start = CountPerUser(events); // start[u] = first event of user u in user order
        var shards = Shards(start, users, shardEvents);
        var done = new Shard[shards.Count];
        var pairsPerUser = new int[users];
        // One scratch per thread, reused shard after shard, and at most one shard per core (Parallel.For alone lets the
        // thread pool add threads to long bodies, each with its own scratch). At 100M events this stage peaked at 8.4 GB
        // with a fresh scratch per shard and 7.6 GB with reuse but unbounded threads; 4.7–5.1 GB now, with the collection below.
        var scratch = new System.Collections.Concurrent.ConcurrentBag<Scratch>();
        Parallel.For(0, shards.Count, OnePerCore, s =>
        {
            var mine = scratch.TryTake(out var free) ? free : new Scratch();
            done[s] = CombineShard(events, start, shards[s].Lo, shards[s].Hi, rule, pairsPerUser, mine, firstTimes);
            scratch.Add(mine);
        });
        scratch.Clear();
        if (consume)
        {
            long released = events.Bytes;
            events.Release();
            // Hand a large log's memory back to the system before the pairs are laid out, so the two are never resident
            // together: a plain collection keeps the freed chunks committed, and the pairs' large arrays cannot reuse them
            // (measured at 100M events: 5.6 GB peak with a plain collection).
            if (released > (256L << 20))
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }

        long total = 0;
        foreach (var d in done) total += d.Items.Length;
        int n = checked((int)total);
        var u = new int[n]; var i = new int[n]; var v = new float[n]; var t = new long[n];
        var first = firstTimes ? new long[n] : null;
        int at = 0;
        for (int s = 0; s < done.Length; s++)
        {
            var d = done[s];
            d.Items.CopyTo(i, at); d.Values.CopyTo(v, at); d.Times.CopyTo(t, at);
            d.FirstTimes?.CopyTo(first!, at);
            for (int user = shards[s].Lo, p = at; user < shards[s].Hi; user++)
                for (int c = pairsPerUser[user]; c > 0; c--) u[p++] = user;
            at += d.Items.Length;
            done[s] = default; // the shard's pairs are laid out: let them go
        }
        return new InteractionLog(events.UserIds, events.ItemIds, u, i, v, t) { SortedPairs = true, FirstTimes = first };
    }

    private static ParallelOptions OnePerCore => new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    private readonly record struct Shard(int[] Items, float[] Values, long[] Times, long[]? FirstTimes);

    /// <summary>A thread's working arrays for one shard at a time (36 bytes an event), grown to the largest shard it meets.</summary>
    private sealed class Scratch
    {
        public EventKey[] Keys = [];
        public float[] Values = [];
        public int[] OutItems = [];
        public float[] OutValues = [];
        public long[] OutTimes = [];

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
    private static long[] CountPerUser(EventLog events)
    {
        var counts = new long[events.UserCount + 1];
        var gate = new object();
        Parallel.For(0, events.Chunks, OnePerCore, () => new int[events.UserCount], (c, _, local) =>
        {
            foreach (int u in events.ChunkAt(c).Users.Span) local[u]++;
            return local;
        }, local =>
        {
            lock (gate) for (int u = 0; u < local.Length; u++) counts[u + 1] += local[u];
        });
        for (int u = 0; u < events.UserCount; u++) counts[u + 1] += counts[u];
        return counts;
    }

    /// <summary>Contiguous user ranges of about <paramref name="shardEvents"/> events each (a heavier user is a shard alone).</summary>
    private static List<(int Lo, int Hi)> Shards(long[] start, int users, int shardEvents)
    {
        var shards = new List<(int, int)>();
        int lo = 0;
        for (int u = 0; u < users; u++)
            if (start[u + 1] - start[lo] >= shardEvents) { shards.Add((lo, u + 1)); lo = u + 1; }
        if (lo < users || shards.Count == 0) shards.Add((lo, users));
        return shards;
    }

    private static Shard CombineShard(EventLog events, long[] start, int lo, int hi, CombineRule rule, int[] pairsPerUser, Scratch scratch, bool firstTimes)
    {
        long first = start[lo];
        int n = checked((int)(start[hi] - first));
        scratch.Ensure(n);
        var (keys, values) = (scratch.Keys, scratch.Values);
        var next = new int[hi - lo];
        for (int u = lo; u < hi; u++) next[u - lo] = (int)(start[u] - first);
        // Gather the shard's events grouped by user, each user's in log order (Position keeps that order in the sort).
        for (int c = 0; c < events.Chunks; c++)
        {
            var chunk = events.ChunkAt(c);
            var us = chunk.Users.Span; var items = chunk.Items.Span; var vs = chunk.Values.Span; var ts = chunk.Times.Span;
            for (int e = 0; e < us.Length; e++)
            {
                int u = us[e];
                if (u < lo || u >= hi) continue;
                int p = next[u - lo]++;
                keys[p] = new EventKey(ts[e], items[e], p);
                values[p] = vs[e];
            }
        }
        var (outItems, outValues, outTimes) = (scratch.OutItems, scratch.OutValues, scratch.OutTimes);
        var outFirst = firstTimes ? new List<long>() : null;
        int w = 0;
        for (int u = lo; u < hi; u++)
        {
            int s = (int)(start[u] - first), end = (int)(start[u + 1] - first);
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
                outFirst?.Add(keys[p].Time); // a pair's events are sorted by time
                userPairs++;
                p = q;
            }
            pairsPerUser[u] = userPairs;
        }
        return new Shard(outItems[..w], outValues[..w], outTimes[..w], outFirst?.ToArray());
    }
}
