using BatchRecs.Core.Errors;
namespace BatchRecs.Core.Als;

public enum AlsSolver { ConjugateGradient, Cholesky }

public enum ConfidenceKind { Linear, Log }

/// <summary>Implicit feedback (confidence-weighted, all pairs) or explicit ratings (observed pairs only, with biases).</summary>
public enum AlsMode { Implicit, Explicit }

/// <summary>The settings of one ALS fit. Validated by <see cref="Validate"/> before any work starts.</summary>
/// <param name="Factors">k, the latent dimension.</param>
/// <param name="Regularization">λ, added as λ·I to every row's normal equation (as the <c>implicit</c> library does).</param>
/// <param name="Alpha">confidence slope: c = 1 + α·r (linear) or 1 + α·log(1 + r/ε) (log).</param>
/// <param name="Iterations">full iterations (a user half-step then an item half-step).</param>
/// <param name="Solver">CG with <see cref="CgSteps"/> warm-started steps per row, or exact Cholesky.</param>
/// <param name="ScaleRegularization">multiply λ by the row's number of entries, as Spark's ALS does.</param>
/// <param name="Mode">implicit (<see cref="ImplicitAls"/>) or explicit biased MF on ratings (<see cref="ExplicitAls"/>).</param>
/// <param name="CgSteps">conjugate-gradient steps per row and half-step (with the CG solver).</param>
/// <param name="Confidence">how a strength r becomes a confidence: linear or log (see <paramref name="Alpha"/>).</param>
/// <param name="LogEpsilon">ε of the log confidence, &gt; 0.</param>
/// <param name="Seed">seed of the random starting factors.</param>
public sealed record AlsSettings(
    int Factors = 64,
    float Regularization = 0.01f,
    float Alpha = 1f,
    int Iterations = 15,
    AlsSolver Solver = AlsSolver.ConjugateGradient,
    int CgSteps = 3,
    ConfidenceKind Confidence = ConfidenceKind.Linear,
    float LogEpsilon = 1f,
    bool ScaleRegularization = false,
    ulong Seed = 42,
    AlsMode Mode = AlsMode.Implicit)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (Factors <= 0) throw new BadInputException($"factors must be positive (got {Factors}).");
        if (!(Regularization >= 0) || float.IsInfinity(Regularization)) throw new BadInputException($"regularization must be a finite number ≥ 0 (got {Regularization}).");
        if (!(Alpha >= 0) || float.IsInfinity(Alpha)) throw new BadInputException($"alpha must be a finite number ≥ 0 (got {Alpha}).");
        if (Iterations <= 0) throw new BadInputException($"iterations must be positive (got {Iterations}).");
        if (CgSteps <= 0) throw new BadInputException($"cg_steps must be positive (got {CgSteps}).");
        if (!(LogEpsilon > 0)) throw new BadInputException($"log epsilon must be positive (got {LogEpsilon}).");
    }

    /// <summary>The confidence c_ui for an interaction strength r_ui (Hu, Koren &amp; Volinsky 2008, eq. 2 and 6).</summary>
    public float ConfidenceOf(float r) => Confidence == ConfidenceKind.Linear
        ? 1f + Alpha * r
        : 1f + Alpha * MathF.Log(1f + r / LogEpsilon);
}
