namespace BatchRecs.Engine.Settings;

/// <summary>What a tuning maximizes (<c>tune_metric</c>), at top_n on the validation split.</summary>
public enum TuneMetric
{
    Ndcg,
    Recall,
    Map,
}

/// <summary>Tuning, and whether runs apply its result.</summary>
/// <param name="UseTuned"><c>use_tuned</c>.</param>
/// <param name="Budget"><c>tune_budget</c>: settings tried.</param>
/// <param name="FinalFits"><c>tune_final_fits</c>.</param>
/// <param name="Metric"><c>tune_metric</c>.</param>
public sealed record TuningSettings(bool UseTuned, int Budget, double FinalFits, TuneMetric Metric)
{
    /// <summary>The metric as tuning records name it (ndcg, recall, map).</summary>
    public string MetricName => Metric switch { TuneMetric.Recall => "recall", TuneMetric.Map => "map", _ => "ndcg" };
}
