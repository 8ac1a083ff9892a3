namespace BatchRecs.Core.Index;

/// <summary>
/// Vectors by descending norm, ties by index: the order every scan lays its vectors out in. Large-norm vectors
/// tend to score high, so each user's threshold rises early and later panels rarely produce candidates; the
/// order never changes a result (ties between scores are decided by item index, not by position).
/// </summary>
/// <remarks>
/// The norm is <see cref="ScoreKey.Dot"/> of a row with itself, and (norm, index) is packed into one
/// <see cref="ScoreKey"/>: a total order, so every layout built on it is deterministic. Example, squared norms
/// [1, 4, 1, 9] → [3, 1, 0, 2].
/// </remarks>
internal static class NormOrder
{
    /// <summary>Row indices of <paramref name="rows"/> (count × dim, row-major), largest norm first.</summary>
    public static int[] Descending(ReadOnlySpan<float> rows, int count, int dim)
    {
        var keys = new ulong[count];
        for (int i = 0; i < count; i++)
        {
            var row = rows.Slice(i * dim, dim);
            keys[i] = ScoreKey.Encode(ScoreKey.Dot(row, row), i);
        }
        Array.Sort(keys);
        var order = new int[count];
        for (int r = 0; r < count; r++) order[r] = ScoreKey.Item(keys[count - 1 - r]);
        return order;
    }
}
