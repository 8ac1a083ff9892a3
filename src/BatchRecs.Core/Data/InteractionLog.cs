namespace BatchRecs.Core.Data;

/// <summary>
/// Interactions in columnar form after id mapping: entry e says that user <c>Users[e]</c> met item
/// <c>Items[e]</c> at <c>Times[e]</c> (Unix microseconds, UTC) with strength <c>Values[e]</c>
/// (an event weight, a rating or a count, already decayed and combined by the reader).
/// </summary>
/// <remarks>All arrays have length <see cref="Count"/>. Duplicate (user, item) pairs are allowed
/// here; <see cref="CsrMatrix.FromEntries"/> sums them.</remarks>
public sealed class InteractionLog
{
    public InteractionLog(IdMap userIds, IdMap itemIds, int[] users, int[] items, float[] values, long[] times)
    {
        if (items.Length != users.Length || values.Length != users.Length || times.Length != users.Length)
            throw new ArgumentException("users, items, values and times must have the same length.");
        UserIds = userIds;
        ItemIds = itemIds;
        Users = users;
        Items = items;
        Values = values;
        Times = times;
    }

    public IdMap UserIds { get; }
    public IdMap ItemIds { get; }
    public int[] Users { get; }
    public int[] Items { get; }
    public float[] Values { get; }
    public long[] Times { get; }
    public int Count => Users.Length;

    /// <summary>Bytes the entries' arrays take (<see cref="EventLog.EntryBytes"/> each).</summary>
    public long Bytes => (long)Count * EventLog.EntryBytes;
    public int UserCount => UserIds.Count;
    public int ItemCount => ItemIds.Count;

    /// <summary>
    /// True when the entries are sorted by (user, item) with each pair once, as <see cref="PairAggregator"/> leaves
    /// them: a user's entries are then one contiguous range, and the user × item matrix is laid out without sorting.
    /// </summary>
    public bool SortedPairs { get; init; }

    /// <summary>Combined pairs only, when asked for: each pair's first event time (<see cref="Times"/> holds its last).</summary>
    public long[]? FirstTimes { get; init; }

    /// <summary>The sub-log of the entries whose mask is true (same id maps).</summary>
    public InteractionLog Where(ReadOnlySpan<bool> keep)
    {
        int n = 0;
        foreach (bool k in keep) if (k) n++;
        var u = new int[n]; var i = new int[n]; var v = new float[n]; var t = new long[n];
        int j = 0;
        for (int e = 0; e < keep.Length; e++)
        {
            if (!keep[e]) continue;
            u[j] = Users[e]; i[j] = Items[e]; v[j] = Values[e]; t[j] = Times[e]; j++;
        }
        return new InteractionLog(UserIds, ItemIds, u, i, v, t) { SortedPairs = SortedPairs };
    }

    public CsrMatrix ToUserItemMatrix() => SortedPairs ? Matrix(null, true) : CsrMatrix.FromEntries(UserCount, ItemCount, Users, Items, Values);

    /// <summary>
    /// The user × item matrix of the entries whose <paramref name="mask"/> equals <paramref name="keep"/> (a hold-out
    /// split's training or held-out part) without building the sub-log first.
    /// </summary>
    /// <param name="mask">one flag per entry.</param>
    /// <param name="keep">which entries to take: those whose flag is true, or those whose flag is false.</param>
    public CsrMatrix ToUserItemMatrix(bool[] mask, bool keep)
    {
        if (mask.Length != Count) throw new ArgumentException("the mask must have one flag per entry.", nameof(mask));
        return SortedPairs ? Matrix(mask, keep) : Where(keep ? mask : mask.Select(m => !m).ToArray()).ToUserItemMatrix();
    }

    /// <summary>The columns a matrix is laid out from (sorted pairs only): the entries without their times.</summary>
    public PairColumns Columns => SortedPairs ? new(UserCount, ItemCount, Users, Items, Values)
        : throw new InvalidOperationException("only sorted, distinct pairs are laid out from their columns.");

    private CsrMatrix Matrix(bool[]? mask, bool keep) => Columns.Matrix(mask, keep);
}

/// <summary>
/// Sorted, distinct (user, item) pairs without their times: what a user × item matrix is laid out from. Holding these
/// and not the log lets its times (8 bytes a pair) go before the matrices take their place.
/// </summary>
public sealed record PairColumns(int UserCount, int ItemCount, int[] Users, int[] Items, float[] Values)
{
    /// <summary>
    /// The user × item matrix of the entries whose <paramref name="mask"/> equals <paramref name="keep"/> (all of them
    /// when it is null). Sorted pairs are already in CSR order: count the rows and copy the kept entries.
    /// </summary>
    public CsrMatrix Matrix(bool[]? mask, bool keep)
    {
        var rowPtr = new int[UserCount + 1];
        int n = 0;
        for (int e = 0; e < Users.Length; e++)
            if (mask is null || mask[e] == keep) { rowPtr[Users[e] + 1]++; n++; }
        for (int u = 0; u < UserCount; u++) rowPtr[u + 1] += rowPtr[u];
        var cols = new int[n]; var values = new float[n];
        for (int e = 0, w = 0; e < Users.Length; e++)
            if (mask is null || mask[e] == keep) { cols[w] = Items[e]; values[w] = Values[e]; w++; }
        return new CsrMatrix(UserCount, ItemCount, rowPtr, cols, values);
    }
}
