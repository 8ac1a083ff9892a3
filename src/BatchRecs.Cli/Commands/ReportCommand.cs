using System.CommandLine;
using BatchRecs.Reporting;

namespace BatchRecs.Cli.Commands;

/// <summary><c>batchrecs report --run ID|latest [--lake DIR] [--out FILE]</c>: (re)writes a run's self-contained HTML report.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "run id (see the runs table), or 'latest' for the most recently started run", Required = true };
        var lake = new Option<string>("--lake") { Description = "lake directory (reads LAKE/batchrecs.duckdb and the run's manifest.json)", DefaultValueFactory = _ => Path.Combine("demo-out", "lake") };
        var job = new Option<string?>("--job") { Description = "with --run latest: the latest run of this job" };
        var output = new Option<string?>("--out") { Description = "output file (default: report.html next to the run's manifest; LAKE/reports/RUN_ID.html for a run that published nothing)" };
        var cmd = new Command("report", "Write a run's report: an HTML page with charts (loss, quality vs baseline and trend, IVF index, long tail, IPW, stage timings, input per day).")
            { run, lake, job, output };
        cmd.SetAction((p, ct) => CliErrors.Guard(() =>
        {
            string lakeDir = BatchRecs.Lake.Output.RemoteLake.ForReading(p.GetValue(lake)!);
            string runId = RunReport.ResolveRunId(lakeDir, p.GetValue(run)!, p.GetValue(job));
            string path = RunReport.Write(lakeDir, runId, p.GetValue(output));
            Console.WriteLine($"report for run {runId}: {path}");
            return Task.FromResult(0);
        }));
        return cmd;
    }
}
