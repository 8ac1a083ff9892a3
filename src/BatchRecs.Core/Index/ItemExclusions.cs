using BatchRecs.Core.Data;

namespace BatchRecs.Core.Index;

/// <summary>
/// Items a user must not get: the user's own row of a user × item CSR (sorted columns, e.g. their history), a global
/// ban list, and the user's row of a second CSR of per-user rule exclusions, all looked up by binary search, so no dense
/// users × items mask is ever built. Only candidates that already beat a user's current top-N threshold are looked up.
/// Bans and rule rows are the business rules: what they remove is counted (<see cref="CandidateBuffer.RuleRemoved"/>);
/// the history is not. Immutable; shared between threads.
/// </summary>
internal sealed class ItemExclusions
{
    public static readonly ItemExclusions None = new(null, null);

    private readonly CsrMatrix? _seen;
    private readonly CsrMatrix? _rules;
    private readonly int[] _banned;
    // The bans as a bitset too: the scan asks about every candidate that beats a threshold (a sorted array's binary
    // search there cost 0.4 s of a 100k-user scoring with 1,200 bans).
    private readonly ulong[] _bannedBits;

    public ItemExclusions(CsrMatrix? seen, IEnumerable<int>? banned, CsrMatrix? rules = null)
    {
        _seen = seen;
        _rules = rules;
        _banned = banned is null ? [] : banned.Distinct().Order().ToArray();
        _bannedBits = _banned.Length == 0 ? [] : new ulong[(_banned[^1] >> 6) + 1];
        foreach (int i in _banned) _bannedBits[i >> 6] |= 1UL << (i & 63);
    }

    public bool IsEmpty => _seen is null && _banned.Length == 0 && _rules is null;

    /// <summary>Number of distinct items in [0, items) that user <paramref name="user"/> may get.</summary>
    public int EligibleCount(int user, int items) => EligibleCount(user, items, BannedBelow(items));

    /// <summary>Banned items in [0, items).</summary>
    public int BannedBelow(int items) => _banned.Count(i => (uint)i < (uint)items);

    /// <summary><see cref="EligibleCount(int, int)"/> with the bans below <paramref name="items"/> counted once for all users.</summary>
    public int EligibleCount(int user, int items, int bannedBelow)
    {
        int excluded = bannedBelow;
        var seen = Row(_seen, user);
        foreach (int i in seen)
            if ((uint)i < (uint)items && !IsBanned(i)) excluded++;
        foreach (int i in Row(_rules, user))
            if ((uint)i < (uint)items && !IsBanned(i) && seen.BinarySearch(i) < 0) excluded++;
        return items - excluded;
    }

    private static ReadOnlySpan<int> Row(CsrMatrix? m, int user) => m is null || user >= m.Rows ? ReadOnlySpan<int>.Empty : m.RowCols(user);

    /// <summary>The user's sorted history row as (array, start, length), so a buffer can cache it for the user's scan.</summary>
    public (int[] Cols, int Start, int Length) RowOf(int user) => RowOf(_seen, user);

    /// <summary>The user's sorted row of rule exclusions as (array, start, length).</summary>
    public (int[] Cols, int Start, int Length) RuleRowOf(int user) => RowOf(_rules, user);

    private static (int[] Cols, int Start, int Length) RowOf(CsrMatrix? m, int user)
    {
        if (m is null || user >= m.Rows) return ([], 0, 0);
        int s = m.RowPtr[user];
        return (m.ColIdx, s, m.RowPtr[user + 1] - s);
    }

    /// <summary>An upper bound on the items excluded for <paramref name="user"/>: their rows' lengths plus the bans.</summary>
    public int ExcludedBound(int user) => RowOf(user).Length + RuleRowOf(user).Length + _banned.Length;

    public bool HasBans => _banned.Length != 0;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool IsBanned(int item) => (uint)(item >> 6) < (uint)_bannedBits.Length && (_bannedBits[item >> 6] & (1UL << (item & 63))) != 0;

    public bool Excludes(int user, int item) =>
        IsBanned(item) || Row(_seen, user).BinarySearch(item) >= 0 || Row(_rules, user).BinarySearch(item) >= 0;
}
