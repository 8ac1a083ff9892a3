namespace BatchRecs.Core.Data;

/// <summary>
/// The (user, item) pairs an exposure log says were shown, as a users × items matrix (values 1), with each pair's first
/// exposure time (Unix microseconds, aligned with the matrix's entries). A fit that must not see the future of its own
/// data (an evaluation's hold-out, a tuning validation split, the off-policy window) takes the exposures before its cut.
/// </summary>
public sealed record ExposureLog(CsrMatrix Pairs, long[] FirstMicros)
{
    /// <summary>Builds the log from exposure events (duplicates of a pair keep their earliest time).</summary>
    public static ExposureLog FromEvents(int users, int items, ReadOnlySpan<int> u, ReadOnlySpan<int> i, ReadOnlySpan<long> micros)
    {
        var keys = new long[u.Length];
        var times = micros.ToArray();
        for (int e = 0; e < keys.Length; e++) keys[e] = (long)u[e] * items + i[e];
        Array.Sort(keys, times);
        int n = 0;
        for (int e = 0; e < keys.Length; e++)
        {
            if (n > 0 && keys[n - 1] == keys[e]) { times[n - 1] = Math.Min(times[n - 1], times[e]); continue; }
            keys[n] = keys[e];
            times[n++] = times[e];
        }
        var rowPtr = new int[users + 1];
        var cols = new int[n];
        for (int e = 0; e < n; e++)
        {
            rowPtr[keys[e] / items + 1]++;
            cols[e] = (int)(keys[e] % items);
        }
        for (int r = 0; r < users; r++) rowPtr[r + 1] += rowPtr[r];
        var pairs = new CsrMatrix(users, items, rowPtr, cols, Enumerable.Repeat(1f, n).ToArray());
        return new ExposureLog(pairs, times.AsSpan(0, n).ToArray());
    }

    /// <summary>The pairs first shown before each user's cut (<paramref name="userCut"/>[u], Unix microseconds).</summary>
    public CsrMatrix Before(long[] userCut)
    {
        var keep = new bool[FirstMicros.Length];
        for (int u = 0; u < Pairs.Rows; u++)
            for (int e = Pairs.RowPtr[u]; e < Pairs.RowPtr[u + 1]; e++) keep[e] = FirstMicros[e] < userCut[u];
        return Pairs.WhereEntries(e => keep[e]);
    }

    /// <summary>The pairs first shown before <paramref name="cut"/> (Unix microseconds), for every user.</summary>
    public CsrMatrix Before(long cut) => Pairs.WhereEntries(e => FirstMicros[e] < cut);
}
