namespace BatchRecs.Core.Als;

/// <summary>The state of a fit after some completed iterations: enough to resume it exactly.</summary>
public sealed record FitState(int CompletedIterations, float[] UserFactors, float[] ItemFactors, IReadOnlyList<IterationStats> History);

/// <summary>
/// Where a fit saves its state after every iteration, so a coordinator that dies mid-fit resumes from the last
/// completed iteration instead of from zero. Resuming is exact: an iteration depends only on the factors before it.
/// </summary>
public interface IFitCheckpoint
{
    /// <summary>The saved state for this fit, or null to start from the beginning.</summary>
    FitState? Load();

    void Save(FitState state);
}
