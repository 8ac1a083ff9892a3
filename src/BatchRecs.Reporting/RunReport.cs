using BatchRecs.Core.Errors;
using System.Text;
using BatchRecs.Lake.Output;

namespace BatchRecs.Reporting;

/// <summary>
/// The run report: one self-contained <c>report.html</c> (inline SVG charts made with ScottPlot, inline CSS, no
/// scripts, no network) that shows what a run did and whether it is healthy. Everything comes from the lake:
/// <c>LAKE/batchrecs.duckdb</c> (read-only) and the run's <c>manifest.json</c>, so a report can be regenerated
/// for any run still in the <c>runs</c> table (<c>batchrecs report --run ID</c>).
/// </summary>
public static class RunReport
{
    public const string FileName = "report.html";

    /// <summary>Runs on the trend charts (this one and the job's earlier runs).</summary>
    public const int TrendRuns = 30;

    /// <summary>The HTML of a run's report. <paramref name="runId"/> must be in the lake's <c>runs</c> table.</summary>
    public static string Build(string lakeDir, string runId)
    {
        ArgumentException.ThrowIfNullOrEmpty(lakeDir);
        ArgumentException.ThrowIfNullOrEmpty(runId);
        var data = ReportDataReader.Read(lakeDir, runId);
        return HtmlReport.Render(data, ReportCharts.Build(data), ReportDataReader.DatabasePath(lakeDir));
    }

    /// <summary>
    /// Writes a run's report to <paramref name="outputPath"/> (default: <see cref="DefaultPath(string, string)"/>),
    /// by write-to-temp-and-rename so a reader never sees half a file; returns the path written.
    /// </summary>
    public static string Write(string lakeDir, string runId, string? outputPath = null)
    {
        string html = Build(lakeDir, runId);
        string path = Path.GetFullPath(outputPath ?? DefaultPath(lakeDir, runId));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = path + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, html, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        File.Move(temp, path, overwrite: true);
        return path;
    }

    /// <summary>Where reports are written: <c>LAKE/reports/</c>.</summary>
    public const string ReportsDir = "reports";

    /// <summary>
    /// Where a run's report belongs: <c>LAKE/reports/RUN_ID.html</c>, for every run. Never inside a published partition:
    /// a partition holds exactly what its manifest lists and is not written after it is swapped in.
    /// </summary>
    public static string DefaultPath(string lakeDir, string runId)
    {
        if (ReportDataReader.RunDateOf(lakeDir, runId) is null)
            throw new BadInputException($"run '{runId}' is not in the runs table of {ReportDataReader.DatabasePath(lakeDir)}.");
        return PathFor(lakeDir, runId);
    }

    /// <summary><c>LAKE/reports/RUN_ID.html</c> (unchecked).</summary>
    public static string PathFor(string lakeDir, string runId) => Path.Combine(lakeDir, ReportsDir, SafeFileName(runId) + ".html");

    /// <summary>
    /// <paramref name="runIdOrLatest"/> itself, or for <c>latest</c> the most recently started run (of <paramref name="job"/>, if given).
    /// </summary>
    public static string ResolveRunId(string lakeDir, string runIdOrLatest, string? job = null) =>
        !string.Equals(runIdOrLatest, "latest", StringComparison.OrdinalIgnoreCase) ? runIdOrLatest
            : ReportDataReader.LatestRunId(lakeDir, job)
              ?? throw new BadInputException($"the runs table of {ReportDataReader.DatabasePath(lakeDir)} has no run{(job is null ? "" : $" of job '{job}'")} yet.");

    /// <summary><c>LAKE/recommendations/run_date=YYYY-MM-DD</c>.</summary>
    public static string PartitionDir(string lakeDir, DateOnly runDate) =>
        Path.Combine(lakeDir, LakePublisher.RecommendationsDir, LakePublisher.PartitionName(runDate));

    private static string SafeFileName(string runId) =>
        string.Concat(runId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}
