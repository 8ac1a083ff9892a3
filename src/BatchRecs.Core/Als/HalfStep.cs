using BatchRecs.Core.Data;

namespace BatchRecs.Core.Als;

/// <summary>Which side an ALS half-step solves.</summary>
public enum Side { Users, Items }

/// <summary>
/// One ALS half-step, described in src/dst terms so the same routine solves users given items and
/// items given users: every src row x is solved from its entries (confidence, preference) against the
/// fixed dst factors Y and their Gram matrix G = YᵀY.
/// </summary>
/// <param name="Conf">src × dst confidences cᵢ (CSR; shared, read-only).</param>
/// <param name="Pref">preferences pᵢ aligned with <c>Conf.Values</c>, or null for all ones.</param>
/// <param name="Blocks">the row blocks of <paramref name="Conf"/>; each is an independent task.</param>
/// <param name="DstFactors">dst rows × k, row-major (shared, read-only).</param>
/// <param name="Gram">YᵀY of <paramref name="DstFactors"/>, k×k (shared, read-only).</param>
/// <param name="SrcFactors">src rows × k, row-major: in = warm start, out = solution. Block b writes only its rows.</param>
/// <param name="Iteration">0-based number of the iteration the half-step belongs to.</param>
/// <param name="Side">which side is src: users (solved given items) or items.</param>
/// <param name="Settings">the fit's settings for this side (the item side's λ may be scaled for a user sample).</param>
/// <param name="RowLoss">null, or one value per src row to fill with the row's share of the training loss's observed
/// part, Σ over its entries of c(p − s)² − s² with s the solved row times its dst row (<see cref="TrainingLoss"/>): the
/// item half-step of a fit that tracks its loss asks for it, while each row's dst rows are in the solver's cache.</param>
public sealed record HalfStep(
    int Iteration,
    Side Side,
    CsrMatrix Conf,
    float[]? Pref,
    RowBlock[] Blocks,
    float[] DstFactors,
    float[] Gram,
    float[] SrcFactors,
    AlsSettings Settings,
    double[]? RowLoss = null);
