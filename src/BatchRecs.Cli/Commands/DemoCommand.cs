using System.CommandLine;
using BatchRecs.Core.Data;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;

namespace BatchRecs.Cli.Commands;

/// <summary>The one-command demo: synthetic data, then a full run into a lake (a local folder, or object storage).</summary>
internal static class DemoCommand
{
    public static Command Create(TestHooks hooks)
    {
        var outOpt = new Option<string>("--out") { Description = "demo directory (input/ and lake/ go inside), or az://CONTAINER/PREFIX", DefaultValueFactory = _ => "demo-out" };
        var job = new Option<string?>("--job") { Description = "job file (default: jobs/nightly.json when present)" };
        var set = new Option<string[]>("--set") { Description = "setting override key=value (repeatable)" };
        var cmd = new Command("demo", "Generate demo data and run the whole nightly job on it (local engine, Parquet and DuckDB outputs).") { outOpt, job, set };
        cmd.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            var (store, root) = Lake.Storage.LakeLocation.Open(p.GetValue(outOpt)!);
            string input = store.Describe(root + "input"), lake = store.Describe(root + "lake");
            var jobPath = p.GetValue(job) ?? (File.Exists(Path.Combine("jobs", "nightly.json")) ? Path.Combine("jobs", "nightly.json") : null);
            var jobDef = jobPath is null ? JobDefinition.Default : JobDefinition.Load(jobPath);
            var spec = new SyntheticSpec(LastDay: DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1));
            await store.DeleteFolderAsync(root + "input/", ct);
            int parts = await DemoDataCommand.WriteAsync(input, spec, ct);
            Console.WriteLine($"demo data: {spec.Interactions:N0} events, {spec.Users:N0} users, {spec.Items:N0} items, {parts} days in {input}");
            var summary = await RunProgress.RunAsync(log => new NightlyRun(log, new Reporting.HtmlRunReporter()).ExecuteAsync(new RunRequest(input, lake, spec.EndDay.AddDays(1), jobDef, p.GetValue(set) ?? []) { Faults = hooks.Faults }, ct));
            RunCommand.PrintSummary(summary);
            Console.WriteLine();
            Console.WriteLine($"query it: ./batchrecs sql --lake {lake} \"SELECT metric, value FROM run_metrics WHERE metric LIKE '%@%'\"");
            return 0;
        }));
        return cmd;
    }
}
