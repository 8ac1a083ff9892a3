using BatchRecs.Core.Als;

namespace BatchRecs.Engine.Settings;

/// <summary>Where a fit starts (<c>warm_start</c>).</summary>
public enum WarmStart
{
    /// <summary>From seeded random factors.</summary>
    None,
    /// <summary>From the last published factors (ids matched by external id; new ids random).</summary>
    LastRun,
}

/// <summary>Whether fits checkpoint every iteration (<c>checkpoints</c>).</summary>
public enum CheckpointMode
{
    /// <summary>On when blocks run outside this process (a distributed executor).</summary>
    Auto,
    On,
    Off,
}

/// <summary>The ALS fit: the model, the solver, the block layout and where the fit starts.</summary>
/// <param name="Factors"><c>factors</c>: latent dimension k.</param>
/// <param name="Regularization"><c>regularization</c>: λ.</param>
/// <param name="Alpha"><c>alpha</c>: confidence slope.</param>
/// <param name="Iterations"><c>iterations</c>.</param>
/// <param name="RefitIterations"><c>refit_iterations</c>: iterations of the full-window refit.</param>
/// <param name="WarmStart"><c>warm_start</c>.</param>
/// <param name="Seed"><c>seed</c>.</param>
/// <param name="Solver"><c>solver</c>.</param>
/// <param name="CgSteps"><c>cg_steps</c>.</param>
/// <param name="Confidence"><c>confidence</c>.</param>
/// <param name="Mode"><c>mode</c>.</param>
/// <param name="ScaleRegularization"><c>scale_regularization</c>.</param>
/// <param name="UserBlocks"><c>user_blocks</c>; 0 = auto.</param>
/// <param name="ItemBlocks"><c>item_blocks</c>; 0 = auto.</param>
/// <param name="Checkpoints"><c>checkpoints</c>.</param>
public sealed record FitSettings(
    int Factors,
    double Regularization,
    double Alpha,
    int Iterations,
    int RefitIterations,
    WarmStart WarmStart,
    int Seed,
    AlsSolver Solver,
    int CgSteps,
    ConfidenceKind Confidence,
    AlsMode Mode,
    bool ScaleRegularization,
    int UserBlocks,
    int ItemBlocks,
    CheckpointMode Checkpoints);
