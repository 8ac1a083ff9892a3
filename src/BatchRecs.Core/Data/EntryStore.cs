namespace BatchRecs.Core.Data;

/// <summary>
/// Where a matrix's entries are kept outside this process by the executor that laid the matrix out (a distributed
/// pairs stage keeps each shard's rows in the scratch area, where its shard task wrote them): that executor's block tasks
/// read a block's rows there instead of being sent them (<see cref="Execution.IExecutor.StoredSides"/>). Only the
/// executor that wrote a store reads it; to anyone else it is an opaque tag on the matrix (<see cref="CsrMatrix.Store"/>).
/// </summary>
public abstract record EntryStore
{
    /// <summary>
    /// The store of the union of a matrix stored here with one stored in <paramref name="other"/> (<see cref="CsrMatrix.Union"/>:
    /// e.g. a hold-out split's two parts put back together), or null when this store cannot read them as one.
    /// </summary>
    public virtual EntryStore? Union(EntryStore other) => null;
}
