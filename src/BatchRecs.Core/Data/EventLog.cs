namespace BatchRecs.Core.Data;

/// <summary>
/// Events as read, before they are combined into pairs: the columns of <see cref="InteractionLog"/> kept in fixed-size
/// chunks, in read order. A reader appends to it row by row without the doubling and final copy of a growing array
/// (which at 100M events held 4–6 GB for a 2 GB log), and the pairs stage (<see cref="PairAggregator"/>) reads it
/// without collecting it in one place. Entry <c>e</c> lives in chunk <c>e / ChunkSize</c> at <c>e % ChunkSize</c>.
/// </summary>
public sealed class EventLog
{
    /// <summary>Entries per chunk: 2²⁰ (20 MiB of columns), so a log wastes at most one partly filled chunk.</summary>
    public const int ChunkSize = 1 << 20;

    private readonly List<Chunk> _chunks;

    private EventLog(IdMap userIds, IdMap itemIds, List<Chunk> chunks, int count)
    {
        UserIds = userIds;
        ItemIds = itemIds;
        _chunks = chunks;
        Count = count;
    }

    public IdMap UserIds { get; }
    public IdMap ItemIds { get; }
    public int Count { get; }
    public int UserCount => UserIds.Count;
    public int ItemCount => ItemIds.Count;

    /// <summary>
    /// Lets the entries go (the pairs stage, once it no longer needs them); <see cref="Count"/> and the id maps stay.
    /// </summary>
    internal void Release()
    {
        _chunks.Clear();
        Released = true;
    }

    /// <summary>Whether the entries were released by the pairs stage.</summary>
    public bool Released { get; private set; }

    /// <summary>Chunk <paramref name="c"/>'s entries: columns of equal length (ChunkSize, except the last).</summary>
    public EventChunk ChunkAt(int c)
    {
        if (Released) throw new InvalidOperationException("the event log's entries were released by the pairs stage.");
        int n = Math.Min(ChunkSize, Count - c * ChunkSize);
        var k = _chunks[c];
        return new EventChunk(c * ChunkSize, k.Users.AsMemory(0, n), k.Items.AsMemory(0, n), k.Values.AsMemory(0, n), k.Times.AsMemory(0, n));
    }

    /// <summary>Bytes the entries' arrays take (20 a chunk slot; nothing once released).</summary>
    public long Bytes => (long)_chunks.Count * ChunkSize * EntryBytes;

    /// <summary>Bytes per entry: user and item (int32), value (float32) and time (int64).</summary>
    public const int EntryBytes = 4 + 4 + 4 + 8;

    /// <summary>Number of chunks.</summary>
    public int Chunks => (Count + ChunkSize - 1) / ChunkSize;

    /// <summary>The same events as one contiguous <see cref="InteractionLog"/> (a copy: for small logs and tests).</summary>
    public InteractionLog ToInteractionLog()
    {
        var u = new int[Count]; var i = new int[Count]; var v = new float[Count]; var t = new long[Count];
        for (int c = 0; c < Chunks; c++)
        {
            var k = ChunkAt(c);
            k.Users.Span.CopyTo(u.AsSpan(k.Start)); k.Items.Span.CopyTo(i.AsSpan(k.Start));
            k.Values.Span.CopyTo(v.AsSpan(k.Start)); k.Times.Span.CopyTo(t.AsSpan(k.Start));
        }
        return new InteractionLog(UserIds, ItemIds, u, i, v, t);
    }

    /// <summary>An event log holding a copy of <paramref name="log"/>'s entries.</summary>
    public static EventLog From(InteractionLog log)
    {
        var b = new Builder();
        for (int e = 0; e < log.Count; e++) b.Add(log.Users[e], log.Items[e], log.Values[e], log.Times[e]);
        return b.Finish(log.UserIds, null, log.ItemIds, null);
    }

    private sealed record Chunk(int[] Users, int[] Items, float[] Values, long[] Times)
    {
        public static Chunk New() => new(new int[ChunkSize], new int[ChunkSize], new float[ChunkSize], new long[ChunkSize]);
    }

    private static readonly IdMap NoIds = IdMap.FromInt64([]);

    /// <summary>A log of no events and no ids.</summary>
    public static EventLog Empty => new(NoIds, NoIds, [], 0);

    /// <summary>
    /// Appends events with provisional dense ids (a reader interns ids in the order it meets them), and finishes by mapping
    /// the provisional ids onto the final sorted maps.
    /// </summary>
    public sealed class Builder
    {
        private readonly List<Chunk> _chunks = [];
        private Chunk? _tail;
        private int _tailCount = ChunkSize;

        /// <summary>Events appended so far.</summary>
        public int Count { get; private set; }

        public void Add(int user, int item, float value, long time)
        {
            if (_tailCount == ChunkSize)
            {
                if (Count == Array.MaxLength - ChunkSize) throw new InvalidOperationException("an event log holds at most about 2.1 billion events.");
                _tail = Chunk.New();
                _chunks.Add(_tail);
                _tailCount = 0;
            }
            var t = _tail!;
            t.Users[_tailCount] = user; t.Items[_tailCount] = item; t.Values[_tailCount] = value; t.Times[_tailCount] = time;
            _tailCount++;
            Count++;
        }

        /// <summary>
        /// The finished log: provisional indices become <c>userRemap[u]</c> and <c>itemRemap[i]</c> (null: already
        /// final), in place and in parallel over chunks. The builder must not be used afterwards.
        /// </summary>
        /// <param name="userIds">the final user map.</param>
        /// <param name="userRemap">provisional → final user index, or null.</param>
        /// <param name="itemIds">the final item map.</param>
        /// <param name="itemRemap">provisional → final item index, or null.</param>
        public EventLog Finish(IdMap userIds, int[]? userRemap, IdMap itemIds, int[]? itemRemap)
        {
            int count = Count;
            Parallel.For(0, _chunks.Count, c =>
            {
                int n = Math.Min(ChunkSize, count - c * ChunkSize);
                var k = _chunks[c];
                if (userRemap is not null) for (int e = 0; e < n; e++) k.Users[e] = userRemap[k.Users[e]];
                if (itemRemap is not null) for (int e = 0; e < n; e++) k.Items[e] = itemRemap[k.Items[e]];
            });
            return new EventLog(userIds, itemIds, _chunks, count);
        }

        /// <summary>
        /// The finished log of a slice of a read task's events, ids the task's own and without maps: it is combined through
        /// the task's remaps (<see cref="PairSource"/>), which a shard task reads with it.
        /// </summary>
        public EventLog FinishSlice() => new(NoIds, NoIds, _chunks, Count);
    }
}

/// <summary>One chunk of an <see cref="EventLog"/>: entries <c>Start … Start + Users.Length − 1</c>.</summary>
/// <param name="Start">the log position of the chunk's first entry.</param>
/// <param name="Users">dense user index per entry.</param>
/// <param name="Items">dense item index per entry.</param>
/// <param name="Values">strength per entry.</param>
/// <param name="Times">event time per entry (Unix microseconds, UTC).</param>
public readonly record struct EventChunk(int Start, ReadOnlyMemory<int> Users, ReadOnlyMemory<int> Items, ReadOnlyMemory<float> Values, ReadOnlyMemory<long> Times);
