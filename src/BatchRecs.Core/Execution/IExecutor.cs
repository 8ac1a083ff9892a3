using BatchRecs.Core.Als;

namespace BatchRecs.Core.Execution;

/// <summary>
/// The engine boundary: runs the block tasks of an ALS half-step. Implementations decide where
/// blocks run (threads of this process, Hangfire workers on other hosts, ...); they must produce
/// exactly what <see cref="BlockSolver.Solve(HalfStep, BatchRecs.Core.Data.RowBlock, SparseRowInverses?)"/> produces
/// for every block, so the factors are bit-identical whatever the executor.
/// </summary>
public interface IExecutor
{
    string Name { get; }

    /// <summary>
    /// How many blocks a half-step (or a scoring step) over the rows of <paramref name="rows"/> is cut into when the job
    /// does not say (<c>user_blocks</c>, <c>item_blocks</c>): what keeps this executor's threads busy at the least
    /// coordination. Any count gives the same factors and lists.
    /// </summary>
    int Blocks(Data.CsrMatrix rows);

    /// <summary>
    /// The transpose of a fit's matrix and its per-entry preferences (the item side's half-steps solve over it), kept where
    /// those half-steps read it. An executor that solves in this process keeps it whole (this default); one whose block
    /// tasks run elsewhere may hand it to them and return <see cref="Data.CsrMatrix.RowsOnly"/> and no preferences: the
    /// fit needs only the rows here (blocks, the loss's row lengths), and the coordinator then holds none of its entries.
    /// </summary>
    /// <param name="m">the users × items matrix (confidences).</param>
    /// <param name="pref">preferences aligned with <paramref name="m"/>'s entries, or null.</param>
    (Data.CsrMatrix Matrix, float[]? Pref) Transpose(Data.CsrMatrix m, float[]? pref) => (m.Transpose(), pref is null ? null : m.TransposeValues(pref));

    /// <summary>
    /// The two sides of a fit over <paramref name="strengths"/>, weighed by <paramref name="weights"/> where the block tasks
    /// that solve them read the strengths' stored entries (<see cref="Data.CsrMatrix.Store"/>), as rows only: the coordinator
    /// then computes, writes and holds none of the fit's entries. Null (this default, and for strengths this executor did
    /// not store): the problem is weighed in this process.
    /// </summary>
    (Data.CsrMatrix UserItem, Data.CsrMatrix ItemUser)? StoredSides(Data.CsrMatrix strengths, EntryWeights weights) => null;

    /// <summary>Solves every block of <paramref name="step"/>, writing into <c>step.SrcFactors</c>.</summary>
    void RunHalfStep(HalfStep step, CancellationToken cancellationToken = default);

    /// <summary>Scores every user block of <paramref name="step"/>; the lists equal <see cref="ScoringStep.ScoreBlock"/>'s for every block.</summary>
    Index.TopNResult Score(ScoringStep step, CancellationToken cancellationToken = default);
}
