using BatchRecs.Core.Errors;

namespace BatchRecs.Engine.Pipeline;

/// <summary>The index's canary recall fell under <c>recall_floor</c>: the run fails, publishes nothing, and is not
/// retried (the same factors would miss again); exit code 1.</summary>
public sealed class RecallSloException(string message) : PermanentFailureException(message);
