namespace BatchRecs.Core.Index;

/// <summary>
/// One user's best-N candidates while items are being scanned: an unsorted reservoir of packed
/// <see cref="ScoreKey"/>s with room for about 2N. Every key that beats the threshold is appended; when the
/// reservoir is full, a quickselect keeps the best N and raises the threshold to the N-th best. This costs O(1)
/// per accepted candidate (a heap costs O(log N)), and the threshold lags a little, which only admits a few
/// more candidates. Items may arrive in any order; ties are resolved by the key (lower item index wins).
/// Not thread-safe: owned by one worker, reused for one user after another.
/// </summary>
internal sealed class CandidateBuffer
{
    private readonly ulong[] _keys;
    private ulong _thresholdKey;
    private int[] _seen = [];
    private int _seenStart, _seenLength;
    private int[] _rules = [];
    private int _rulesStart, _rulesLength;
    // Candidates a business rule rejected while they beat the threshold: the best N are kept, so that the drain can
    // count exactly how many of the user's unfiltered top N (among the items scanned) the rules removed.
    private ulong[]? _rejected;
    private int _rejectedCount;

    public CandidateBuffer(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), "N must be positive.");
        N = n;
        _keys = new ulong[2 * n + 16];
        Reset(0);
    }

    public int N { get; }

    /// <summary>The user whose exclusions apply.</summary>
    public int User { get; private set; }

    /// <summary>Distinct eligible items held (may exceed N until the next compaction).</summary>
    public int Count { get; private set; }

    /// <summary>A candidate scoring below this cannot enter the top N (at equal score the item index decides).</summary>
    public float ThresholdScore { get; private set; }

    /// <summary>
    /// Over the users drained so far: items of a user's unfiltered top N (among the items offered) that a business rule
    /// (a ban, a per-user rule exclusion) removed. The user's own history is not counted.
    /// </summary>
    public long RuleRemoved { get; private set; }

    /// <summary>Starts a new user; <paramref name="exclusions"/> supplies the user's excluded items.</summary>
    public void Reset(int user, ItemExclusions exclusions)
    {
        Reset(user);
        (_seen, _seenStart, _seenLength) = exclusions.RowOf(user);
        (_rules, _rulesStart, _rulesLength) = exclusions.RuleRowOf(user);
    }

    /// <summary>Starts a new user with no excluded items of their own.</summary>
    public void Reset(int user)
    {
        User = user;
        _seenLength = 0;
        _rulesLength = 0;
        _rejectedCount = 0;
        Count = 0;
        _thresholdKey = 0;
        ThresholdScore = float.NegativeInfinity;
    }

    /// <summary>
    /// Offers an item; it is kept when it beats the threshold and is not excluded for this user (the row given to
    /// <see cref="Reset(int, ItemExclusions)"/>, and the bans of <paramref name="exclusions"/>).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void Offer(float score, int item, ItemExclusions exclusions)
    {
        // Branch-light: the key is always written to the free slot and only counted when it qualifies, because
        // "beats the threshold" is unpredictable while the threshold lags.
        ulong key = ScoreKey.Encode(score, item);
        _keys[Count] = key;
        bool keep = key > _thresholdKey;
        if ((_seenLength != 0) | (_rulesLength != 0) | exclusions.HasBans)
            keep = keep && Admits(item, key, exclusions);
        Count += keep ? 1 : 0;
        if (Count == _keys.Length) Compact();
    }

    /// <summary>Whether a candidate that beats the threshold is eligible; a rule's rejection is remembered for the count.</summary>
    private bool Admits(int item, ulong key, ItemExclusions exclusions)
    {
        if (_seenLength != 0 && Contains(_seen, _seenStart, _seenLength, item)) return false;
        if (!(exclusions.HasBans && exclusions.IsBanned(item)) && !(_rulesLength != 0 && Contains(_rules, _rulesStart, _rulesLength, item))) return true;
        _rejected ??= new ulong[_keys.Length];
        _rejected[_rejectedCount++] = key;
        if (_rejectedCount == _rejected.Length)
        {
            ScoreKey.SelectLargest(_rejected, N);
            _rejectedCount = N;
        }
        return false;
    }

    private static bool Contains(int[] cols, int start, int length, int item)
    {
        // lower-bound binary search over the user's sorted row
        int lo = start, n = length;
        while (n > 1)
        {
            int half = n >> 1;
            lo = cols[lo + half - 1] < item ? lo + half : lo;
            n -= half;
        }
        return cols[lo] == item;
    }


    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void Compact()
    {
        var keys = _keys.AsSpan(0, Count);
        ScoreKey.SelectLargest(keys, N);
        Count = N;
        ulong min = ulong.MaxValue;
        foreach (ulong k in keys[..N]) min = Math.Min(min, k);
        _thresholdKey = min;
        ThresholdScore = ScoreKey.Score(min);
    }

    /// <summary>Writes the best min(N, Count) items best-first and returns how many; the buffer is left empty.</summary>
    public int Drain(Span<int> items, Span<float> scores)
    {
        var keys = _keys.AsSpan(0, Count);
        int n = Math.Min(N, Count);
        ScoreKey.SelectLargest(keys, n);
        var best = keys[..n];
        best.Sort();
        for (int r = 0; r < n; r++)
        {
            ulong key = best[n - 1 - r];
            items[r] = ScoreKey.Item(key);
            scores[r] = ScoreKey.Score(key);
        }
        if (_rejectedCount > 0) RuleRemoved += CountRejectedInTop(best);
        Count = 0;
        _rejectedCount = 0;
        return n;
    }

    /// <summary>How many rejected keys the top N of (kept ∪ rejected) holds; <paramref name="kept"/> is sorted ascending.</summary>
    private int CountRejectedInTop(Span<ulong> kept)
    {
        var rejected = _rejected.AsSpan(0, _rejectedCount);
        int m = Math.Min(N, rejected.Length);
        ScoreKey.SelectLargest(rejected, m);
        rejected = rejected[..m];
        rejected.Sort();
        int k = kept.Length - 1, j = m - 1, taken = 0;
        for (int slot = 0; slot < N && j >= 0; slot++)
        {
            if (k >= 0 && kept[k] > rejected[j]) k--;
            else { j--; taken++; }
        }
        return taken;
    }
}
