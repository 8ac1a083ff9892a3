using BatchRecs.Core.Data;

namespace BatchRecs.Core.Index;

/// <summary>
/// Items a user must not get: the user's own row of a user × item CSR (sorted columns, e.g. their history)
/// and a global ban list, both looked up by binary search, so no dense users × items mask is ever built.
/// Only candidates that already beat a user's current top-N threshold are looked up. Immutable; shared between threads.
/// </summary>
internal sealed class ItemExclusions
{
    public static readonly ItemExclusions None = new(null, null);

    private readonly CsrMatrix? _seen;
    private readonly int[] _banned;

    public ItemExclusions(CsrMatrix? seen, IEnumerable<int>? banned)
    {
        _seen = seen;
        _banned = banned is null ? [] : banned.Distinct().Order().ToArray();
    }

    public bool IsEmpty => _seen is null && _banned.Length == 0;

    /// <summary>Number of distinct items in [0, items) that user <paramref name="user"/> may get.</summary>
    public int EligibleCount(int user, int items)
    {
        int excluded = 0;
        var seen = _seen is null || user >= _seen.Rows ? ReadOnlySpan<int>.Empty : _seen.RowCols(user);
        foreach (int i in seen)
            if ((uint)i < (uint)items && Array.BinarySearch(_banned, i) < 0) excluded++;
        foreach (int i in _banned)
            if ((uint)i < (uint)items) excluded++;
        return items - excluded;
    }

    /// <summary>The user's sorted row as (array, start, length), so a buffer can cache it for the user's scan.</summary>
    public (int[] Cols, int Start, int Length) RowOf(int user)
    {
        if (_seen is null || user >= _seen.Rows) return ([], 0, 0);
        int s = _seen.RowPtr[user];
        return (_seen.ColIdx, s, _seen.RowPtr[user + 1] - s);
    }

    /// <summary>An upper bound on the items excluded for <paramref name="user"/>: their row length plus the bans.</summary>
    public int ExcludedBound(int user) => RowOf(user).Length + _banned.Length;

    public bool HasBans => _banned.Length != 0;

    public bool IsBanned(int item) => Array.BinarySearch(_banned, item) >= 0;

    public bool Excludes(int user, int item)
    {
        if (_banned.Length != 0 && Array.BinarySearch(_banned, item) >= 0) return true;
        if (_seen is null || user >= _seen.Rows) return false;
        return _seen.RowCols(user).BinarySearch(item) >= 0;
    }
}
