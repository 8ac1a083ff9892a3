using BatchRecs.Core.Errors;
using BatchRecs.Core.Data;

namespace BatchRecs.Core.Als;

/// <summary>
/// The fixed inputs of a fit, built once and shared by every iteration (and by every tuning trial
/// with the same confidence function): the confidence matrix in both orientations and, for
/// debiased training, the per-entry preferences.
/// </summary>
public sealed class AlsProblem
{
    private AlsProblem(CsrMatrix userItem, CsrMatrix itemUser, float[]? userPref, float[]? itemPref)
    {
        UserItemConf = userItem;
        ItemUserConf = itemUser;
        UserItemPref = userPref;
        ItemUserPref = itemPref;
    }

    public CsrMatrix UserItemConf { get; }
    public CsrMatrix ItemUserConf { get; }
    public float[]? UserItemPref { get; }
    public float[]? ItemUserPref { get; }
    /// <summary>
    /// Bytes the problem holds beyond the strengths it was built from: confidences in both orientations (the user × item
    /// orientation shares the strengths' row pointers and columns) and preferences when given.
    /// </summary>
    public long Bytes => 4L * UserItemConf.Values.Length + ItemUserConf.Bytes + 4L * (UserItemPref?.Length ?? 0) + 4L * (ItemUserPref?.Length ?? 0);

    public int Users => UserItemConf.Rows;
    public int Items => UserItemConf.Cols;

    /// <summary>
    /// Builds the problem from interaction strengths r (user × item CSR): c = confidence(r), p = 1,
    /// or p = <paramref name="preference"/>[entry] when given (aligned with <c>strengths.Values</c>).
    /// </summary>
    public static AlsProblem Build(CsrMatrix strengths, AlsSettings settings, float[]? preference = null)
    {
        for (int e = 0; e < strengths.Values.Length; e++)
        {
            float v = strengths.Values[e];
            if (!float.IsFinite(v) || v < 0)
            {
                int row = Array.FindLastIndex(strengths.RowPtr, p => p <= e);
                throw new BadInputException($"interaction strength must be a finite number ≥ 0; got {v} for user index {row}, item index {strengths.ColIdx[e]}.");
            }
        }
        if (preference is not null && preference.Length != strengths.NonZeros)
            throw new ArgumentException("preference must have one value per stored entry.", nameof(preference));
        var conf = strengths.MapValues(settings.ConfidenceOf);
        var confT = conf.Transpose();
        float[]? prefT = preference is null ? null
            : new CsrMatrix(strengths.Rows, strengths.Cols, strengths.RowPtr, strengths.ColIdx, preference).Transpose().Values;
        return new AlsProblem(conf, confT, preference, prefT);
    }
}
