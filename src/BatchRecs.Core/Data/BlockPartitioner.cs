namespace BatchRecs.Core.Data;

/// <summary>A contiguous range of rows [Start, End) of a CSR matrix: the unit of work an executor runs.</summary>
public readonly record struct RowBlock(int Index, int Start, int End)
{
    public int Length => End - Start;
}

/// <summary>
/// Splits the rows of a CSR matrix into contiguous blocks with balanced work.
/// </summary>
/// <remarks>
/// The cost of solving a row is about k² (the Gram part) plus k·nnz (its entries), so blocks are
/// balanced on <c>rows·k + nnz</c> rather than on rows alone. Example with 5 rows of
/// 4, 1, 1, 1, 1 entries (k-weight 1) and 2 blocks: weights 5, 2, 2, 2, 2; total 13, so the
/// cut falls after the second row: blocks [0, 2) and [2, 5).
/// Contiguous ranges keep every block a zero-copy slice of the CSR, and since a row's solution
/// never depends on which block it is in, any partition gives the same factors.
/// </remarks>
public static class BlockPartitioner
{
    public static RowBlock[] Partition(CsrMatrix m, int blocks, int rowWeight = 64)
    {
        if (blocks <= 0) throw new ArgumentOutOfRangeException(nameof(blocks), "the number of blocks must be positive.");
        blocks = Math.Max(1, Math.Min(blocks, Math.Max(1, m.Rows)));
        long total = (long)m.Rows * rowWeight + m.NonZeros;
        var result = new List<RowBlock>(blocks);
        int start = 0;
        long acc = 0;
        for (int r = 0; r < m.Rows; r++)
        {
            acc += rowWeight + m.RowLength(r);
            int blocksLeft = blocks - result.Count - 1;   // blocks still to open after this one
            int rowsLeft = m.Rows - (r + 1);
            long target = total * (result.Count + 1) / blocks;
            // Cut at the balance point, or when only one row per remaining block is left.
            if (blocksLeft > 0 && (acc >= target || rowsLeft == blocksLeft))
            {
                result.Add(new RowBlock(result.Count, start, r + 1));
                start = r + 1;
            }
        }
        if (start < m.Rows || result.Count == 0) result.Add(new RowBlock(result.Count, start, m.Rows));
        return result.ToArray();
    }

    /// <summary>A default block count: a few blocks per core so stragglers even out, more for big sides.</summary>
    public static int DefaultBlocks(CsrMatrix m, int cores)
    {
        long work = (long)m.Rows * 64 + m.NonZeros;
        int bySize = (int)Math.Clamp(work / 250_000, 1, 4096);
        return Math.Max(1, Math.Min(Math.Max(4 * cores, bySize), Math.Max(1, m.Rows)));
    }
}
