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
/// and must not fall more than a relative tolerance below the job's last accepted run. With an unbiased validation log
/// (<c>unbiased_input</c>) the measure is its SNIPS DCG@K instead: the biased hold-out rewards what was shown before.
/// </summary>
public static class QualityGate
{
    /// <returns>null when the run passes, else the reason.</returns>
    public static string? Check(IReadOnlyDictionary<string, double> current, IReadOnlyDictionary<string, double>? previous, int k, double tolerance)
    {
        bool unbiased = current.ContainsKey(MetricNames.UnbiasedModel(MetricNames.SnipsDcg, k));
        var (key, pop, what) = unbiased
            ? (MetricNames.UnbiasedModel(MetricNames.SnipsDcg, k), MetricNames.UnbiasedPopular(MetricNames.SnipsDcg, k), $"unbiased_input SNIPS DCG@{k}")
            : (MetricNames.ModelNdcg(k), MetricNames.PopularNdcg(k), $"NDCG@{k}");
        if (!current.TryGetValue(key, out double value)) return null; // evaluation off: nothing to judge
        if (current.TryGetValue(pop, out double popular) && value <= popular)
            return string.Create(CultureInfo.InvariantCulture, $"model {what} {value:F4} does not beat the popularity baseline ({popular:F4}).");
        if (previous is not null && previous.TryGetValue(key, out double last) && value < last * (1 - tolerance))
            return string.Create(CultureInfo.InvariantCulture,
                $"model {what} {value:F4} is {(1 - value / last) * 100:F1}% below the last accepted run ({last:F4}); gate_tolerance is {tolerance * 100:F0}%.");
        return null;
    }
}
