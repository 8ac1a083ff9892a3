namespace BatchRecs.Core.Data;

/// <summary>
/// Where a matrix's entries are kept outside this process by the executor that laid the matrix out (a distributed pairs
/// stage keeps each shard's rows in the scratch area, where its shard task wrote them), and how to read them back. The
/// executor's block tasks read a block's rows there instead of being sent them (<see cref="Execution.IExecutor.StoredSides"/>);
/// a process that holds the matrix's rows only (<see cref="CsrMatrix.RowsOnly"/>) reads what it needs of it here: some
/// rows (<see cref="CsrMatrix.RowsOf"/>), all of them a chunk at a time (<see cref="CsrMatrix.ForEachRowChunk"/>), the column
/// counts, or the whole matrix for a feature that needs it whole (<see cref="CsrMatrix.WithEntries"/>).
/// </summary>
public abstract record EntryStore
{
    /// <summary>
    /// The store of the union of a matrix stored here with one stored in <paramref name="other"/> (<see cref="CsrMatrix.Union"/>:
    /// e.g. a hold-out split's two parts put back together), or null when this store cannot read them as one.
    /// </summary>
    public virtual EntryStore? Union(EntryStore other) => null;

    /// <summary>Rows [<paramref name="start"/>, <paramref name="end"/>) of the stored matrix (row j = row start + j) with its <paramref name="cols"/> columns.</summary>
    public abstract CsrMatrix ReadRows(int start, int end, int cols);

    /// <summary>
    /// The rows <paramref name="rows"/> (ascending, distinct) of the stored matrix, at their places in a matrix of
    /// <paramref name="rowCount"/> × <paramref name="cols"/> whose other rows are empty.
    /// </summary>
    public abstract CsrMatrix ReadRowsOf(int[] rows, int rowCount, int cols);

    /// <summary>The stored matrix's entries per column (of <paramref name="cols"/>).</summary>
    public abstract int[] ColumnCounts(int cols);

    /// <summary>A fingerprint of the stored entries: equal entries give equal values wherever and whenever they are stored.</summary>
    public abstract ulong ContentHash { get; }
}
