namespace BatchRecs.Engine.Pipeline;

/// <summary>The index's canary recall fell under <c>recall_floor</c>: the run fails, publishes nothing, and is not retried.</summary>
public sealed class RecallSloException(string message) : Exception(message);
