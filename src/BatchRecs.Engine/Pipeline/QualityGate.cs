using System.Globalization;
using BatchRecs.Core.Errors;
using BatchRecs.Lake.Output;

namespace BatchRecs.Engine.Pipeline;

/// <summary>A run refused by the quality gate: recorded as <c>rejected</c>, nothing published, not retried; exit code 3.</summary>
public sealed class QualityGateException(string message) : BatchRecsException(message)
{
    /// <inheritdoc />
    public override bool IsPermanent => true;

    /// <inheritdoc />
    public override int ExitCode => ExitCodes.Rejected;
}

/// <summary>
/// Refuses to publish a run that is silently worse: its model must beat the popularity baseline on NDCG@K,
/// and must not fall more than a relative tolerance below the job's last accepted run.
/// </summary>
public static class QualityGate
{
    /// <returns>null when the run passes, else the reason.</returns>
    public static string? Check(IReadOnlyDictionary<string, double> current, IReadOnlyDictionary<string, double>? previous, int k, double tolerance)
    {
        string key = MetricNames.ModelNdcg(k), pop = MetricNames.PopularNdcg(k);
        if (!current.TryGetValue(key, out double ndcg)) return null; // evaluation off: nothing to judge
        if (current.TryGetValue(pop, out double popular) && ndcg <= popular)
            return string.Create(CultureInfo.InvariantCulture, $"model NDCG@{k} {ndcg:F4} does not beat the popularity baseline ({popular:F4}).");
        if (previous is not null && previous.TryGetValue(key, out double last) && ndcg < last * (1 - tolerance))
            return string.Create(CultureInfo.InvariantCulture,
                $"model NDCG@{k} {ndcg:F4} is {(1 - ndcg / last) * 100:F1}% below the last accepted run ({last:F4}); gate_tolerance is {tolerance * 100:F0}%.");
        return null;
    }
}
