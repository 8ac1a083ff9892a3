using BatchRecs.Core.Data;

namespace BatchRecs.Tests;

/// <summary>
/// An entry store in this process: a whole matrix (one part of it, <paramref name="Parts"/> a bit per part, as a pairs
/// stage's shards hold a split's two parts), read back by rows as the distributed store is, counting the rows read. For
/// tests of what reads a matrix that holds its rows only; the distributed store itself is tested on real shard files.
/// </summary>
public sealed record MemoryStore(CsrMatrix Whole, int Parts = 1) : EntryStore
{
    private long _rowsRead;

    /// <summary>Rows read from this store so far.</summary>
    public long RowsRead => Interlocked.Read(ref _rowsRead);

    /// <summary>The matrix as a process that holds its rows only sees it: row pointers, stored here.</summary>
    public static CsrMatrix RowsOnly(CsrMatrix whole, int parts = 1) =>
        CsrMatrix.RowsOnly(whole.Rows, whole.Cols, whole.RowPtr).StoredIn(new MemoryStore(whole, parts));

    public override EntryStore? Union(EntryStore other) =>
        other is MemoryStore o && (o.Parts & Parts) == 0 ? new MemoryStore(Whole.Union(o.Whole), Parts | o.Parts) : null;

    public override CsrMatrix ReadRows(int start, int end, int cols)
    {
        Interlocked.Add(ref _rowsRead, end - start);
        int first = Whole.RowPtr[start], n = Whole.RowPtr[end] - first;
        return new CsrMatrix(end - start, cols, Whole.RowPtr[start..(end + 1)].Select(p => p - first).ToArray(),
            Whole.ColIdx.AsSpan(first, n).ToArray(), Whole.Values.AsSpan(first, n).ToArray());
    }

    public override CsrMatrix ReadRowsOf(int[] rows, int rowCount, int cols)
    {
        Interlocked.Add(ref _rowsRead, rows.Length);
        var keep = rows.ToHashSet();
        return Whole.WhereEntries(e => keep.Contains(RowOf(e)));
    }

    /// <summary>The row an entry is in (the last row starting at or before it: empty rows share their start).</summary>
    private int RowOf(int entry)
    {
        int lo = 0, hi = Whole.Rows;
        while (hi - lo > 1) { int mid = (lo + hi) / 2; if (Whole.RowPtr[mid] <= entry) lo = mid; else hi = mid; }
        return lo;
    }

    public override int[] ColumnCounts(int cols)
    {
        var counts = new int[cols];
        foreach (int i in Whole.ColIdx) counts[i]++;
        return counts;
    }

    public override ulong ContentHash => Whole.EntryHash();
}
