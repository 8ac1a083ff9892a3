using BatchRecs.Core.Errors;
using BatchRecs.Core.Data;
using BatchRecs.Core.Debias;
using BatchRecs.Core.Execution;

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

    /// <summary>Builds the plain problem from interaction strengths r (user × item CSR): c = confidence(r), p = 1.</summary>
    /// <param name="strengths">users × items interaction strengths r.</param>
    /// <param name="settings">the confidence function (α, linear or log).</param>
    /// <param name="executor">the executor the fit runs on, which may weigh both sides where the strengths are stored
    /// (<see cref="IExecutor.StoredSides"/>) or keep the item × user orientation where its half-steps read it
    /// (<see cref="IExecutor.Transpose"/>); null: whole, in this process.</param>
    public static AlsProblem Build(CsrMatrix strengths, AlsSettings settings, IExecutor? executor = null) =>
        Weighed(strengths, new EntryWeights(settings), executor);

    private static readonly IExecutor Local = new LocalExecutor();

    /// <summary>
    /// Builds the Rel-MF problem (debias=ipw-train): a clicked pair with confidence c = confidence(r) and item propensity
    /// θ_i gets confidence c′ = 1 + (c − 1)/θ_i and preference p′ = c/(θ_i + c − 1) (<see cref="RelMf"/>); unclicked
    /// pairs keep weight 1 and target 0. With every θ_i = 1 this is <see cref="Build"/>'s problem, bit for bit.
    /// </summary>
    /// <param name="strengths">users × items interaction strengths r.</param>
    /// <param name="settings">the confidence function (α, linear or log).</param>
    /// <param name="itemPropensity">θ_i per item (items = <c>strengths.Cols</c>), each in (0, 1]: already clipped (<see cref="Propensity"/>).</param>
    /// <param name="executor">as <see cref="Build"/>'s.</param>
    public static AlsProblem BuildRelMf(CsrMatrix strengths, AlsSettings settings, ReadOnlySpan<float> itemPropensity, IExecutor? executor = null)
    {
        CheckPropensities(itemPropensity, strengths.Cols);
        return Weighed(strengths, new EntryWeights(settings, itemPropensity.ToArray()), executor);
    }

    /// <summary>
    /// The problem of <paramref name="weights"/> over <paramref name="strengths"/>: weighed where the executor's block tasks
    /// read the stored strengths (the problem then holds both sides' rows only, and <see cref="Stored"/>), or here.
    /// </summary>
    private static AlsProblem Weighed(CsrMatrix strengths, EntryWeights weights, IExecutor? executor)
    {
        CheckStrengths(strengths);
        if (executor?.StoredSides(strengths, weights) is { } stored)
            return new AlsProblem(stored.UserItem, stored.ItemUser, null, null) { Stored = (strengths, weights) };
        var (conf, pref) = weights.Weigh(strengths, Side.Users);
        var (itemUser, prefT) = (executor ?? Local).Transpose(conf, pref);
        return new AlsProblem(conf, itemUser, pref, prefT);
    }

    /// <summary>
    /// The strengths and weights of a problem whose sides the executor weighs where the strengths are stored (its
    /// <see cref="UserItemConf"/> and <see cref="ItemUserConf"/> are then rows only), or null.
    /// </summary>
    public (CsrMatrix Strengths, EntryWeights Weights)? Stored { get; private init; }

    /// <summary>
    /// Builds the exposure-aware problem (<c>unexposed_weight</c> &lt; 1 with an exposure log): every pair a user was never
    /// shown weighs w₀ (target 0), a pair shown and not clicked weighs 1/θ_i (target 0), a clicked pair c/θ_i (target 1),
    /// with c = confidence(r) and θ_i the item's exposure propensity (all 1 without <paramref name="itemPropensity"/>:
    /// plain exposure-aware ALS; with it, inverse propensity scoring over the exposures, Schnabel et al. 2016). The loss is
    /// divided by w₀, so unexposed pairs keep the Gram's weight 1 and the entries (clicks and exposures) carry confidences
    /// 1/(θ·w₀) and c/(θ·w₀), all ≥ 1, with preferences 0 and 1. The fit's λ applies to the divided loss: a caller that
    /// wants λ to keep its weight against the shown pairs divides it by w₀ too (ModelPlan does).
    /// </summary>
    /// <param name="strengths">users × items interaction strengths r (the clicks).</param>
    /// <param name="exposures">users × items pairs shown (any value); a click not among them counts as shown.</param>
    /// <param name="settings">the confidence function (α, linear or log).</param>
    /// <param name="unexposedWeight">w₀ in (0, 1].</param>
    /// <param name="itemPropensity">θ_i per item in (0, 1] (clipped), or empty: every θ_i = 1.</param>
    /// <param name="executor">as <see cref="Build"/>'s.</param>
    public static AlsProblem BuildExposureAware(CsrMatrix strengths, CsrMatrix exposures, AlsSettings settings, float unexposedWeight,
        ReadOnlySpan<float> itemPropensity, IExecutor? executor = null)
    {
        CheckStrengths(strengths);
        if (exposures.Rows != strengths.Rows || exposures.Cols != strengths.Cols)
            throw new ArgumentException($"the exposures ({exposures.Rows} × {exposures.Cols}) and the clicks ({strengths.Rows} × {strengths.Cols}) differ in shape.", nameof(exposures));
        if (!(unexposedWeight > 0 && unexposedWeight <= 1)) throw new ArgumentException($"the unexposed weight must be in (0, 1] (got {unexposedWeight}).", nameof(unexposedWeight));
        if (itemPropensity.Length != 0) CheckPropensities(itemPropensity, strengths.Cols);
        // Two passes over the merged rows (clicks ∪ exposures, both in column order): count, then fill arrays of that size.
        var rowPtr = new int[strengths.Rows + 1];
        int[]? cols = null;
        float[]? conf = null, pref = null;
        for (int pass = 0; pass < 2; pass++)
        {
            int w = 0;
            for (int u = 0; u < strengths.Rows; u++)
            {
                int a = strengths.RowPtr[u], aEnd = strengths.RowPtr[u + 1], b = exposures.RowPtr[u], bEnd = exposures.RowPtr[u + 1];
                while (a < aEnd || b < bEnd)
                {
                    int i = b == bEnd || (a < aEnd && strengths.ColIdx[a] <= exposures.ColIdx[b]) ? strengths.ColIdx[a] : exposures.ColIdx[b];
                    bool clicked = a < aEnd && strengths.ColIdx[a] == i;
                    if (cols is not null)
                    {
                        double theta = itemPropensity.Length == 0 ? 1 : itemPropensity[i];
                        double c = clicked ? settings.ConfidenceOf(strengths.Values[a]) : 1;
                        cols[w] = i;
                        conf![w] = (float)(c / (theta * unexposedWeight));
                        pref![w] = clicked ? 1f : 0f;
                    }
                    w++;
                    if (clicked) a++;
                    if (b < bEnd && exposures.ColIdx[b] == i) b++;
                }
                rowPtr[u + 1] = w;
            }
            if (pass == 0) (cols, conf, pref) = (new int[w], new float[w], new float[w]);
        }
        var userItem = new CsrMatrix(strengths.Rows, strengths.Cols, rowPtr, cols!, conf!);
        float[] userPref = pref!;
        var (itemUser, itemPref) = (executor ?? Local).Transpose(userItem, userPref);
        return new AlsProblem(userItem, itemUser, userPref, itemPref);
    }

    private static void CheckPropensities(ReadOnlySpan<float> itemPropensity, int items)
    {
        if (itemPropensity.Length != items)
            throw new ArgumentException($"one propensity per item is needed ({items} items, {itemPropensity.Length} propensities).", nameof(itemPropensity));
        for (int i = 0; i < itemPropensity.Length; i++)
            if (!(itemPropensity[i] > 0 && itemPropensity[i] <= 1))
                throw new ArgumentException($"propensities must be in (0, 1] (item index {i} has {itemPropensity[i]}); clip them first.", nameof(itemPropensity));
    }

    private static void CheckStrengths(CsrMatrix strengths)
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
    }
}
