using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;

namespace BatchRecs.Core.Tests.Als;

/// <summary>
/// Keeps the transposed entries to itself, as an executor whose blocks run elsewhere does: the fit holds only its rows,
/// and the half-steps get the whole matrix back here.
/// </summary>
internal sealed class EntriesElsewhereExecutor : IExecutor
{
    private readonly LocalExecutor _local = new(2);
    private readonly Dictionary<CsrMatrix, (CsrMatrix Whole, float[]? Pref)> _held = new(ReferenceEqualityComparer.Instance);

    public string Name => "elsewhere";
    public int Blocks(CsrMatrix rows) => _local.Blocks(rows);
    public BatchRecs.Core.Index.TopNResult Score(ScoringStep step, CancellationToken cancellationToken = default) => _local.Score(step, cancellationToken);

    public (CsrMatrix Matrix, float[]? Pref) Transpose(CsrMatrix m, float[]? pref)
    {
        var whole = ((IExecutor)_local).Transpose(m, pref);
        var rows = CsrMatrix.RowsOnly(whole.Matrix.Rows, whole.Matrix.Cols, whole.Matrix.RowPtr);
        _held[rows] = whole;
        return (rows, null);
    }

    public void RunHalfStep(HalfStep step, CancellationToken cancellationToken = default) =>
        _local.RunHalfStep(_held.TryGetValue(step.Conf, out var whole) ? step with { Conf = whole.Whole, Pref = whole.Pref } : step, cancellationToken);
}
