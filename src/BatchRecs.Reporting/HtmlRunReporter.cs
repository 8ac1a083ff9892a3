using BatchRecs.Engine.Pipeline;

namespace BatchRecs.Reporting;

/// <summary>The pipeline's <see cref="IRunReporter"/>: <see cref="RunReport"/> written to <c>LAKE/reports/RUN_ID.html</c>.</summary>
public sealed class HtmlRunReporter : IRunReporter
{
    public string Write(string lakeDir, string runId) => RunReport.Write(lakeDir, runId);
}
