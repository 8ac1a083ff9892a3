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
    public int UserCount => UserIds.Count;
    public int ItemCount => ItemIds.Count;

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
        return new InteractionLog(UserIds, ItemIds, u, i, v, t);
    }

    public CsrMatrix ToUserItemMatrix() => CsrMatrix.FromEntries(UserCount, ItemCount, Users, Items, Values);
}
