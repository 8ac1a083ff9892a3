using BatchRecs.Core.Data;

namespace BatchRecs.Core.Evaluation;

/// <summary>What the pairs stage keeps of the combined pairs: the hold-out and the times later stages need.</summary>
/// <param name="HoldoutFraction">per-user share of the latest pairs held out (0: no hold-out, every pair is training).</param>
/// <param name="LastTimes">keep each pair's last event time (the popularity fallback's recency weights).</param>
/// <param name="FirstTimes">keep each pair's first event time (the off-policy estimate's history).</param>
/// <param name="Cuts">keep each user's first held-out time (a fit that trains on exposures sees those before it).</param>
public sealed record PairSplit(double HoldoutFraction, bool LastTimes = false, bool FirstTimes = false, bool Cuts = false)
{
    /// <summary>Every pair, with its last time (and first, when asked): the whole log, unsplit.</summary>
    public static PairSplit Whole(bool firstTimes) => new(0, LastTimes: true, firstTimes);
}

/// <summary>Rows of consecutive users: each user's pair count, then their pairs in (user, item) order.</summary>
/// <param name="PerUser">pairs of each user.</param>
/// <param name="Items">each pair's item.</param>
/// <param name="Values">each pair's strength.</param>
/// <param name="Times">each pair's last event time, when kept.</param>
/// <param name="FirstTimes">each pair's first event time, when kept.</param>
public sealed record ShardRows(int[] PerUser, int[] Items, float[] Values, long[]? Times, long[]? FirstTimes)
{
    public int Pairs => Items.Length;

    /// <summary>The rows as a matrix of the shard's users (row j = its user lo + j) × <paramref name="items"/>, sharing the arrays.</summary>
    public CsrMatrix Matrix(int items)
    {
        var rowPtr = new int[PerUser.Length + 1];
        for (int u = 0; u < PerUser.Length; u++) rowPtr[u + 1] = rowPtr[u] + PerUser[u];
        return new CsrMatrix(PerUser.Length, items, rowPtr, Items, Values);
    }

    /// <summary>The rows of <paramref name="rows"/> (a shard's users × items) with their kept times.</summary>
    public static ShardRows Of(CsrMatrix rows, long[]? times, long[]? firstTimes) => new(rows.RowLengths(), rows.ColIdx, rows.Values, times, firstTimes);
}

/// <summary>One shard of the pairs stage, split: its users' training rows and held-out rows, and each user's first held-out time.</summary>
/// <param name="Lo">the shard's first user (run index).</param>
/// <param name="Train">the users' training pairs (every pair without a hold-out).</param>
/// <param name="HeldOut">their held-out pairs, or null without a hold-out.</param>
/// <param name="Cuts">each user's first held-out time (<see cref="long.MaxValue"/>: none), when kept.</param>
public sealed record SplitShard(int Lo, ShardRows Train, ShardRows? HeldOut, long[]? Cuts)
{
    public int Users => Train.PerUser.Length;

    /// <summary>The shard's pairs sorted into training (<paramref name="isTrain"/>) and held-out rows, keeping what <paramref name="spec"/> asks.</summary>
    public static SplitShard Of(PairShardView shard, ReadOnlySpan<bool> isTrain, PairSplit spec, long[]? cuts)
    {
        if (spec.FirstTimes && !shard.HasFirstTimes) throw new ArgumentException("the shard has no first times.", nameof(shard));
        return new SplitShard(shard.Lo, Rows(shard, isTrain, true, spec), spec.HoldoutFraction > 0 ? Rows(shard, isTrain, false, spec) : null, cuts);
    }

    private static ShardRows Rows(PairShardView shard, ReadOnlySpan<bool> isTrain, bool keep, PairSplit spec)
    {
        var perUser = new int[shard.PairsPerUser.Length];
        int n = 0;
        for (int u = 0, e = 0; u < perUser.Length; u++)
            for (int end = e + shard.PairsPerUser[u]; e < end; e++)
                if (isTrain[e] == keep) { perUser[u]++; n++; }
        var items = new int[n]; var values = new float[n];
        var times = spec.LastTimes ? new long[n] : null;
        var first = spec.FirstTimes ? new long[n] : null;
        for (int e = 0, w = 0; e < isTrain.Length; e++)
        {
            if (isTrain[e] != keep) continue;
            items[w] = shard.Items[e]; values[w] = shard.Values[e];
            if (times is not null) times[w] = shard.Times[e];
            if (first is not null) first[w] = shard.FirstTimes[e];
            w++;
        }
        return new ShardRows(perUser, items, values, times, first);
    }
}

/// <summary>What a split of rows only keeps of one shard: its first user, its users' training and held-out row lengths, their cuts.</summary>
/// <param name="Lo">the shard's first user (run index).</param>
/// <param name="Train">each user's training pairs.</param>
/// <param name="HeldOut">each user's held-out pairs, or null without a hold-out.</param>
/// <param name="Cuts">each user's first held-out time, when kept.</param>
public sealed record ShardLengths(int Lo, int[] Train, int[]? HeldOut, long[]? Cuts);

/// <summary>Per-entry times of a split's two matrices.</summary>
/// <param name="Train">aligned with the training matrix's entries.</param>
/// <param name="HeldOut">aligned with the held-out matrix's entries (null without a hold-out).</param>
public sealed record PartTimes(long[] Train, long[]? HeldOut)
{
    /// <summary>The times aligned with <c>train.Union(heldOut)</c>'s entries (the training part's own without a hold-out).</summary>
    public long[] Of(CsrMatrix train, CsrMatrix? heldOut) =>
        heldOut is null ? Train : train.UnionAligned(heldOut, Train, HeldOut ?? throw new InvalidOperationException("no held-out times."));
}

/// <summary>
/// The pairs stage's outcome: the hold-out split done where the pairs were combined (each user's latest pairs held out,
/// <see cref="TemporalSplit.Split"/>), laid out straight into the training and held-out matrices, 8 bytes a pair. No
/// place holds the combined pairs as a log (20 bytes a pair) or both the log and the split's matrices.
/// </summary>
public sealed class SplitPairs
{
    private SplitPairs(IdMap userIds, IdMap itemIds, CsrMatrix train, CsrMatrix? heldOut, PartTimes? times, PartTimes? firstTimes, long[]? cuts) =>
        (UserIds, ItemIds, Train, HeldOut, Times, FirstTimes, Cuts) = (userIds, itemIds, train, heldOut, times, firstTimes, cuts);

    public IdMap UserIds { get; }
    public IdMap ItemIds { get; }
    /// <summary>The training pairs (every pair without a hold-out), users × items.</summary>
    public CsrMatrix Train { get; }
    /// <summary>The held-out pairs (each user's latest), or null without a hold-out.</summary>
    public CsrMatrix? HeldOut { get; }
    /// <summary>Each entry's last event time, when kept.</summary>
    public PartTimes? Times { get; }
    /// <summary>Each entry's first event time, when kept.</summary>
    public PartTimes? FirstTimes { get; }
    /// <summary>Each user's first held-out time (Unix µs; <see cref="long.MaxValue"/>: none), when kept.</summary>
    public long[]? Cuts { get; }
    public long Count => (long)Train.NonZeros + (HeldOut?.NonZeros ?? 0);

    /// <summary>Bytes of the matrices and kept arrays: 8 a pair (+ 8 per kind of time kept), 4 a user per matrix (+ 8 with cuts).</summary>
    public long Bytes => Train.Bytes + (HeldOut?.Bytes ?? 0) + 8L * Count * ((Times is null ? 0 : 1) + (FirstTimes is null ? 0 : 1)) + 8L * (Cuts?.Length ?? 0);

    /// <summary>
    /// Lays the shards out, in user order, into the split's matrices: each shard is copied once and may be let go as soon
    /// as the enumeration moves past it (a distributed coordinator reads one shard file at a time).
    /// </summary>
    /// <param name="users">the run's user map; the shards cover its users in order.</param>
    /// <param name="items">the run's item map.</param>
    /// <param name="spec">what the shards were split with.</param>
    /// <param name="trainPairs">the shards' training pairs in all.</param>
    /// <param name="heldPairs">their held-out pairs in all.</param>
    /// <param name="shards">the shards, by user.</param>
    public static SplitPairs Layout(IdMap users, IdMap items, PairSplit spec, long trainPairs, long heldPairs, IEnumerable<SplitShard> shards)
    {
        bool split = spec.HoldoutFraction > 0;
        var train = new Part(users.Count, checked((int)trainPairs), spec);
        var held = split ? new Part(users.Count, checked((int)heldPairs), spec) : null;
        var cuts = spec.Cuts ? new long[users.Count] : null;
        int next = 0;
        foreach (var shard in shards)
        {
            CheckFollows(shard.Lo, next, shard.HeldOut is not null, shard.Cuts is not null, spec);
            train.Add(shard.Lo, shard.Train);
            held?.Add(shard.Lo, shard.HeldOut!);
            shard.Cuts?.CopyTo(cuts!, shard.Lo);
            next += shard.Users;
        }
        CheckCovers(next, users);
        var trainMatrix = train.Matrix(items.Count);
        var heldMatrix = held?.Matrix(items.Count);
        return new SplitPairs(users, items, trainMatrix, heldMatrix, TimesOf(train, held, p => p.Times), TimesOf(train, held, p => p.First), cuts);
    }

    /// <summary><see cref="Layout(IdMap, IdMap, PairSplit, long, long, IEnumerable{SplitShard})"/> of shards in memory, each let go once laid out.</summary>
    public static SplitPairs Layout(IdMap users, IdMap items, PairSplit spec, SplitShard[] shards)
    {
        long trainPairs = shards.Sum(s => (long)s.Train.Pairs), heldPairs = shards.Sum(s => (long)(s.HeldOut?.Pairs ?? 0));
        return Layout(users, items, spec, trainPairs, heldPairs, Releasing(shards));
    }

    private static IEnumerable<SplitShard> Releasing(SplitShard[] shards)
    {
        for (int s = 0; s < shards.Length; s++)
        {
            var shard = shards[s];
            shards[s] = null!;
            yield return shard;
        }
    }

    private static PartTimes? TimesOf(Part train, Part? held, Func<Part, long[]?> of) => of(train) is { } t ? new PartTimes(t, held is null ? null : of(held)) : null;

    /// <summary>
    /// A split whose matrices hold their rows only (<see cref="CsrMatrix.RowsOnly"/>: 4 bytes a user each), their entries
    /// where <paramref name="train"/> and <paramref name="heldOut"/> say (a distributed pairs stage's shards): what a
    /// coordinator keeps when no stage needs the pairs' times. The shards' row lengths are laid out in user order.
    /// </summary>
    /// <param name="users">the run's user map; the shards cover its users in order.</param>
    /// <param name="items">the run's item map.</param>
    /// <param name="spec">what the shards were split with (it keeps no times).</param>
    /// <param name="shards">each shard's row lengths (and cuts), by user.</param>
    /// <param name="train">where the training rows are stored.</param>
    /// <param name="heldOut">where the held-out rows are stored (null without a hold-out).</param>
    public static SplitPairs Stored(IdMap users, IdMap items, PairSplit spec, IEnumerable<ShardLengths> shards, EntryStore train, EntryStore? heldOut)
    {
        bool split = spec.HoldoutFraction > 0;
        if (spec.LastTimes || spec.FirstTimes) throw new ArgumentException("a split of rows only keeps no pair's time.", nameof(spec));
        if (split != heldOut is not null) throw new ArgumentException("a held-out part's store is needed exactly when there is a hold-out.", nameof(heldOut));
        var trainPtr = new int[users.Count + 1];
        var heldPtr = split ? new int[users.Count + 1] : null;
        var cuts = spec.Cuts ? new long[users.Count] : null;
        int next = 0;
        foreach (var shard in shards)
        {
            CheckFollows(shard.Lo, next, shard.HeldOut is not null, shard.Cuts is not null, spec);
            if (shard.HeldOut is { } h && h.Length != shard.Train.Length)
                throw new InvalidDataException($"shard of users from {shard.Lo}: {shard.Train.Length} users' training rows, {h.Length} users' held-out rows.");
            for (int j = 0; j < shard.Train.Length; j++) trainPtr[next + j + 1] = checked(trainPtr[next + j] + shard.Train[j]);
            if (heldPtr is not null) for (int j = 0; j < shard.Train.Length; j++) heldPtr[next + j + 1] = checked(heldPtr[next + j] + shard.HeldOut![j]);
            shard.Cuts?.CopyTo(cuts!, next);
            next += shard.Train.Length;
        }
        CheckCovers(next, users);
        return new SplitPairs(users, items, CsrMatrix.RowsOnly(users.Count, items.Count, trainPtr).StoredIn(train),
            heldPtr is null ? null : CsrMatrix.RowsOnly(users.Count, items.Count, heldPtr).StoredIn(heldOut!), null, null, cuts);
    }

    /// <summary>A shard must begin where the last one ended and be split as <paramref name="spec"/> says.</summary>
    private static void CheckFollows(int lo, int next, bool heldOut, bool cuts, PairSplit spec)
    {
        if (lo != next || heldOut != spec.HoldoutFraction > 0 || cuts != spec.Cuts)
            throw new InvalidDataException($"shard of users from {lo} does not follow users 0–{next - 1} as split ({spec}).");
    }

    private static void CheckCovers(int next, IdMap users)
    {
        if (next != users.Count) throw new InvalidDataException($"the shards cover {next} of {users.Count} users.");
    }

    /// <summary>
    /// The same split with its matrices tagged as stored (<see cref="CsrMatrix.StoredIn"/>): where the executor that
    /// combined the shards keeps their rows, so its block tasks read their rows there.
    /// </summary>
    public SplitPairs StoredIn(EntryStore train, EntryStore? heldOut) =>
        new(UserIds, ItemIds, Train.StoredIn(train), HeldOut is null || heldOut is null ? HeldOut : HeldOut.StoredIn(heldOut), Times, FirstTimes, Cuts);

    /// <summary>The pairs as a log sorted by (user, item) with their times (no hold-out, last times kept): what tuning reads.</summary>
    public InteractionLog ToLog()
    {
        if (HeldOut is not null || Times is null) throw new InvalidOperationException("only a whole split with its last times is a log.");
        var users = new int[Train.NonZeros];
        for (int u = 0; u < Train.Rows; u++) users.AsSpan(Train.RowPtr[u], Train.RowLength(u)).Fill(u);
        return new InteractionLog(UserIds, ItemIds, users, Train.ColIdx, Train.Values, Times.Train) { SortedPairs = true, FirstTimes = FirstTimes?.Train };
    }

    /// <summary>One matrix being laid out from the shards' rows.</summary>
    private sealed class Part(int users, int pairs, PairSplit spec)
    {
        private readonly int[] _rowPtr = new int[users + 1];
        private readonly int[] _cols = new int[pairs];
        private readonly float[] _values = new float[pairs];
        public long[]? Times { get; } = spec.LastTimes ? new long[pairs] : null;
        public long[]? First { get; } = spec.FirstTimes ? new long[pairs] : null;

        public void Add(int lo, ShardRows rows)
        {
            int at = _rowPtr[lo];
            if (at + rows.Pairs > _cols.Length) throw new InvalidDataException($"the shards hold more than the {_cols.Length} pairs counted.");
            for (int u = 0; u < rows.PerUser.Length; u++) _rowPtr[lo + u + 1] = _rowPtr[lo + u] + rows.PerUser[u];
            rows.Items.CopyTo(_cols, at);
            rows.Values.CopyTo(_values, at);
            if (Times is not null) (rows.Times ?? throw new InvalidDataException("a shard without its last times.")).CopyTo(Times, at);
            if (First is not null) (rows.FirstTimes ?? throw new InvalidDataException("a shard without its first times.")).CopyTo(First, at);
        }

        public CsrMatrix Matrix(int items)
        {
            if (_rowPtr[^1] != _cols.Length) throw new InvalidDataException($"the shards hold {_rowPtr[^1]} of the {_cols.Length} pairs counted.");
            return new CsrMatrix(users, items, _rowPtr, _cols, _values);
        }
    }
}
