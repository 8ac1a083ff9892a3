using BatchRecs.Core.Data;
using BatchRecs.Core.Debias;

namespace BatchRecs.Core.Als;

/// <summary>
/// How a fit weighs each entry from its interaction strength r: the confidence c = confidence(r) (plain HKV), or with item
/// propensities Rel-MF's confidence c′ and preference p′ (<see cref="RelMf"/>). One definition serves the problem built in
/// one process (<see cref="AlsProblem.Build"/>, <see cref="AlsProblem.BuildRelMf"/>) and block tasks that weigh their own
/// rows where the strengths are stored (<see cref="Execution.IExecutor.StoredSides"/>), so both solve the same bits.
/// </summary>
/// <param name="Settings">the confidence function (α, linear or log).</param>
/// <param name="Propensity">θ_i per item, clipped into (0, 1], for Rel-MF; null: plain.</param>
public sealed record EntryWeights(AlsSettings Settings, float[]? Propensity = null)
{
    /// <summary>Whether entries carry preferences (Rel-MF) besides confidences.</summary>
    public bool HasPreferences => Propensity is not null;

    /// <summary>
    /// The confidences (and preferences, under Rel-MF) of <paramref name="strengths"/>' entries, sharing its pattern. Its rows
    /// are users (<paramref name="side"/> = users: an entry's item is its column) or items from item
    /// <paramref name="firstRow"/> on (side = items: a row's item is firstRow + row), as a block task reads them.
    /// </summary>
    /// <param name="strengths">the rows' strengths.</param>
    /// <param name="side">what the rows are.</param>
    /// <param name="firstRow">the first row's index on its side.</param>
    /// <param name="inPlace">write the confidences over the strengths (a block task's own copy, read for this): no second
    /// array of values; the strengths matrix then holds confidences and is the one returned.</param>
    public (CsrMatrix Conf, float[]? Pref) Weigh(CsrMatrix strengths, Side side, int firstRow = 0, bool inPlace = false)
    {
        var values = strengths.Values;
        var conf = inPlace ? values : new float[values.Length];
        var pref = Propensity is null ? null : new float[values.Length];
        for (int r = 0; r < strengths.Rows; r++)
            for (int e = strengths.RowPtr[r]; e < strengths.RowPtr[r + 1]; e++)
            {
                float c = Settings.ConfidenceOf(values[e]);
                if (Propensity is null) { conf[e] = c; continue; }
                float theta = Propensity[side == Side.Users ? strengths.ColIdx[e] : firstRow + r];
                conf[e] = RelMf.Confidence(c, theta);
                pref![e] = RelMf.Preference(c, theta);
            }
        return (inPlace ? strengths : new CsrMatrix(strengths.Rows, strengths.Cols, strengths.RowPtr, strengths.ColIdx, conf), pref);
    }
}
