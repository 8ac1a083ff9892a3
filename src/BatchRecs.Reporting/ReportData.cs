namespace BatchRecs.Reporting;

/// <summary>
/// Everything a run report shows, read once from the lake (the <c>runs</c>, <c>run_metrics</c>, <c>item_propensity</c>
/// and <c>recommendations</c> tables, and the run's <c>manifest.json</c>); the charts only format it.
/// </summary>
/// <param name="Run">the run's row of <c>runs</c>.</param>
/// <param name="Metrics">the run's <c>run_metrics</c>, by name (empty for a run that failed before measuring anything).</param>
/// <param name="Settings">the run's settings (the <c>runs.settings</c> JSON object), by key.</param>
/// <param name="History">runs of the same job up to and including this one, in run-date order (at most <see cref="RunReport.TrendRuns"/>).</param>
/// <param name="LongTail">item popularity in the input against popularity in the lists, or null when the lake no longer has
/// the run's <c>item_propensity</c> or <c>recommendations</c> rows (they are kept for the newest run and the retention window).</param>
/// <param name="InputDays">rows read per input day (from the manifest's inputs), oldest first; empty when the run has no manifest.</param>
/// <param name="ManifestPath">the manifest the inputs came from, or null.</param>
/// <param name="Tuning">the tuning the run's settings came from (<c>tuned_from</c>), or null.</param>
public sealed record ReportData(
    RunRow Run,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Settings,
    IReadOnlyList<HistoryPoint> History,
    LongTail? LongTail,
    IReadOnlyList<InputDay> InputDays,
    string? ManifestPath,
    TuningSearch? Tuning = null)
{
    public double? Metric(string name) => Metrics.TryGetValue(name, out var v) && double.IsFinite(v) ? v : null;

    public string? Setting(string key) => Settings.TryGetValue(key, out var v) ? v : null;
}

/// <summary>The tuning whose settings the run used (its <c>tuned_from</c>): the search's trials and outcome.</summary>
public sealed record TuningSearch(string TuningId, string Metric, double TunedValue, double CurrentValue, bool Adopted, double CostInFits,
    IReadOnlyList<(int Trial, int Rung, double Metric)> Trials);

/// <summary>One row of the <c>runs</c> table.</summary>
public sealed record RunRow(string RunId, string Job, DateOnly RunDate, string Status, DateTime? StartedUtc, DateTime? FinishedUtc,
    double? Seconds, long? InputRows, int? Users, int? Items, string? Reason);

/// <summary>One earlier (or this) run of the job on the trend chart, with the metrics the trend draws.</summary>
public sealed record HistoryPoint(string RunId, DateOnly RunDate, string Status, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// Items ranked by interactions in the run's input, cut into <see cref="Bins"/> equal groups (most popular first),
/// with each group's share of the input interactions and of the recommendation slots.
/// </summary>
public sealed record LongTail(int Items, int ItemsRecommended, long Interactions, long Slots, IReadOnlyList<LongTailBin> Bins);

/// <summary>A popularity group: items ranked [<paramref name="FirstRank"/>, <paramref name="LastRank"/>] (1 = most popular).</summary>
public sealed record LongTailBin(int FirstRank, int LastRank, long Interactions, long Slots);

/// <summary>Rows the run read from one input day (the <c>dt=</c> partition; files outside partitions are dated null).</summary>
public sealed record InputDay(DateOnly? Day, long Rows, int Files);
