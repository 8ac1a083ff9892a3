namespace BatchRecs.Core.Als;

/// <summary>
/// Per-call options of <see cref="ImplicitAls.Fit"/>: where the fit starts, how it is split into blocks, what it
/// reports and saves. The model itself (k, λ, α, iterations, solver, seed) is in <see cref="AlsSettings"/>.
/// </summary>
public sealed record AlsFitOptions
{
    /// <summary>No warm start, automatic blocks, loss tracked, all users.</summary>
    public static AlsFitOptions Default { get; } = new();

    /// <summary>User blocks per half-step; 0 = from the data size and the cores.</summary>
    public int UserBlocks { get; init; }

    /// <summary>Item blocks per half-step; 0 = from the data size and the cores.</summary>
    public int ItemBlocks { get; init; }

    /// <summary>Start user factors (row-major, users × k), replacing the seeded random start; not modified (the fit copies) unless <see cref="WarmInPlace"/>.</summary>
    public float[]? WarmUsers { get; init; }

    /// <summary>Start item factors (row-major, items × k), replacing the seeded random start; not modified (the fit copies) unless <see cref="WarmInPlace"/>.</summary>
    public float[]? WarmItems { get; init; }

    /// <summary>
    /// The warm start's arrays become the fit's factors, solved in place, instead of being copied: for a caller with no
    /// further use for them (a run's refit starts from its evaluated fit; at 100M interactions the copy was 0.3 GB held
    /// from the refit to the publish).
    /// </summary>
    public bool WarmInPlace { get; init; }

    /// <summary>Called after every completed iteration.</summary>
    public Action<IterationStats>? OnIteration { get; init; }

    /// <summary>Where the fit saves its state after every iteration and resumes from, or null.</summary>
    public IFitCheckpoint? Checkpoint { get; init; }

    /// <summary>
    /// Compute the training loss after every iteration (recorded in the history; NaN when off). Off, the item Gram
    /// matrix after the last iteration is not computed either, and divergence is still caught: from the user Gram
    /// matrix (finite exactly when every user factor is) and the sum of the item factors' magnitudes.
    /// </summary>
    public bool TrackLoss { get; init; } = true;

    /// <summary>
    /// The share of the users the problem holds (a uniform sample; the others are empty rows), in (0, 1]. Below 1 the
    /// item side's λ is scaled by it, so each item's solve is an unbiased estimate of its full-data solve (the sampled
    /// data term is about that share of the full one) and settings tried on a sample rank as on all users. With
    /// <c>ScaleRegularization</c> the per-row λ already shrinks with the sample, and nothing is scaled.
    /// </summary>
    public double UserSample { get; init; } = 1.0;
}
