namespace BatchRecs.Engine.Pipeline;

/// <summary>
/// Writes the report of a run that has been recorded in the lake (succeeded or failed). <see cref="NightlyRun"/> calls
/// it best-effort at the end of every run whose settings resolved; the hosts (the CLI, the scheduler and workers) pass
/// the HTML report (<c>BatchRecs.Reporting.HtmlRunReporter</c>), so the Engine, and every process that only runs block
/// tasks, does not carry the charting libraries.
/// </summary>
public interface IRunReporter
{
    /// <summary>Writes the report of <paramref name="runId"/>, recorded in <paramref name="lakeDir"/>'s <c>runs</c> table;
    /// returns the path written (<c>LAKE/reports/RUN_ID.html</c>).</summary>
    string Write(string lakeDir, string runId);
}
