namespace BatchRecs.Engine.Settings;

/// <summary>How a run is evaluated, and whether a worse run is rejected.</summary>
/// <param name="HoldoutFraction"><c>holdout_fraction</c>: per-user share of the latest pairs held out (0 = off).</param>
/// <param name="QualityGate"><c>quality_gate</c>.</param>
/// <param name="GateTolerance"><c>gate_tolerance</c>: allowed relative drop of model NDCG@top_n.</param>
/// <param name="UnbiasedInput"><c>unbiased_input</c>: the unbiased validation log the gate and tuning judge by, or null.</param>
/// <param name="FeedbackInput"><c>feedback_input</c>: served lists' exposures and outcomes for off-policy estimates, or null.</param>
/// <param name="OpeDays"><c>ope_days</c>: days of feedback before the run date used.</param>
/// <param name="OpeGate"><c>ope_gate</c>: reject a run whose estimated CTR is clearly below the served lists'.</param>
public sealed record EvaluationSettings(double HoldoutFraction, bool QualityGate, double GateTolerance, string? UnbiasedInput,
    string? FeedbackInput, int OpeDays, bool OpeGate);
