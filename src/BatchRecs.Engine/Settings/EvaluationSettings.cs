namespace BatchRecs.Engine.Settings;

/// <summary>How a run is evaluated, and whether a worse run is rejected.</summary>
/// <param name="HoldoutFraction"><c>holdout_fraction</c>: per-user share of the latest pairs held out (0 = off).</param>
/// <param name="QualityGate"><c>quality_gate</c>.</param>
/// <param name="GateTolerance"><c>gate_tolerance</c>: allowed relative drop of model NDCG@top_n.</param>
/// <param name="UnbiasedInput"><c>unbiased_input</c>: the unbiased validation log the gate and tuning judge by, or null.</param>
public sealed record EvaluationSettings(double HoldoutFraction, bool QualityGate, double GateTolerance, string? UnbiasedInput);
