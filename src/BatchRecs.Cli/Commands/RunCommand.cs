using BatchRecs.Core.Errors;
using System.CommandLine;
using System.Globalization;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using BatchRecs.Hangfire.Distributed;
using BatchRecs.Lake.Output;

namespace BatchRecs.Cli.Commands;

internal static class RunCommand
{
    public static Command Create(TestHooks hooks)
    {
        var input = new Option<string>("--input") { Description = "input directory of Parquet interaction logs", Required = true };
        var lake = new Option<string>("--lake") { Description = "lake directory to publish into", Required = true };
        var job = new Option<string?>("--job") { Description = "job file (JSON), e.g. jobs/nightly.json" };
        var runDate = new Option<string?>("--run-date") { Description = "run date YYYY-MM-DD (default: today in the job's time zone)" };
        var set = new Option<string[]>("--set") { Description = "setting override key=value (repeatable)", AllowMultipleArgumentsPerToken = false };
        var skipBad = new Option<bool>("--skip-bad-files") { Description = "skip unreadable or invalid input files (listed in the manifest) instead of failing" };
        var allowFuture = new Option<bool>("--allow-future-date") { Description = "accept a run date more than one day after today (a backfill of a date that is not over yet)" };
        var executor = new Option<string>("--executor") { Description = "local (this process, all cores) or hangfire (block tasks on `batchrecs worker` processes; needs --db)", DefaultValueFactory = _ => "local" };
        var storage = new HangfireOptions();
        var cmd = new Command("run", "Run a job once: read, fit, evaluate, score and publish.") { input, lake, job, runDate, set, skipBad, allowFuture, executor };
        storage.AddTo(cmd);
        cmd.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            string lakeDir = p.GetValue(lake)!;
            var jobDef = await JobFileFailure.LoadOrRecordAsync(p.GetValue(job), lakeDir, DemoDataCommand.ParseDate(p.GetValue(runDate)), ct);
            var date = DemoDataCommand.ParseDate(p.GetValue(runDate)) ?? RunDates.Today(jobDef.Zone);
            bool hangfire = p.GetValue(executor) switch
            {
                "local" => false,
                "hangfire" => true,
                var e => throw new BadInputException($"--executor must be local or hangfire (got '{e}')."),
            };
            var storageOptions = hangfire ? storage.Resolve(p) : null;
            string[] overrides = [.. p.GetValue(set) ?? [], .. p.GetValue(skipBad) ? ["skip_bad_files=true"] : Array.Empty<string>()];
            DistributedStats? stats = null;
            var summary = await RunProgress.RunAsync(async log =>
            {
                // Connected inside the progress display, so the executor's events (blocks done/running/queued, no worker) reach it.
                using var distributed = storageOptions is null ? null : DistributedExecutorFactory.Connect(storageOptions, lakeDir, jobDef, overrides, log, ct);
                stats = distributed?.Executor.Stats;
                return await new NightlyRun(log, new Reporting.HtmlRunReporter()).ExecuteAsync(new RunRequest(p.GetValue(input)!, lakeDir, date, jobDef, overrides, distributed?.Executor, p.GetValue(allowFuture)) { Faults = hooks.Faults }, ct);
            });
            PrintSummary(summary);
            if (stats is not null)
                Console.WriteLine($"  hangfire  {stats.HalfSteps} half-steps, {stats.BytesWritten / 1e6:F1} MB written, " +
                    $"{stats.BytesRead / 1e6:F1} MB read, {stats.WaitSeconds:F1} s enqueue→gathered, {stats.BlocksReenqueued} block(s) re-enqueued");
            return 0;
        }));
        return cmd;
    }

    public static void PrintSummary(RunSummary s)
    {
        var m = s.Run.Metrics;
        Console.WriteLine();
        Console.WriteLine($"run {s.Run.RunId}: {s.Run.Status} in {(s.Run.FinishedUtc - s.Run.StartedUtc).TotalSeconds:F1} s");
        Console.WriteLine($"  input     {m.GetValueOrDefault(MetricNames.InputRowsInWindow):N0} events, {s.Run.Users:N0} users, {s.Run.Items:N0} items");
        int? k = m.Keys.Select(x => MetricNames.TryParseAtK(x, MetricNames.ModelRanker, MetricNames.Ndcg, out int at) ? at : (int?)null).FirstOrDefault(at => at is not null);
        if (k is { } atK)
        {
            Console.WriteLine($"  {"metric @" + atK.ToString(CultureInfo.InvariantCulture),-22} {"model",8} {"popular",8}");
            foreach (var name in MetricNames.Headline)
            {
                string F(string ranker) => m.TryGetValue(MetricNames.AtK(ranker, name, atK), out var v)
                    ? v.ToString(name == MetricNames.MeanPopularityRank ? "F1" : "F4", CultureInfo.InvariantCulture) : "-";
                Console.WriteLine($"  {name,-22} {F(MetricNames.ModelRanker),8} {F(MetricNames.PopularRanker),8}");
            }
        }
        if (s.Published is { } pub)
        {
            Console.WriteLine($"  parquet   {pub.Remote?.RunFolder ?? pub.PartitionDir} ({pub.Manifest.Rows:N0} rows in {pub.Manifest.Files.Count} file(s))");
            Console.WriteLine($"  duckdb    {pub.Remote?.Snapshot ?? pub.DatabasePath}{(pub.Remote is null ? "" : $" (snapshot; working copy {pub.DatabasePath})")}");
            Console.WriteLine($"  report    {Reporting.RunReport.PathFor(Path.GetDirectoryName(pub.DatabasePath)!, s.Run.RunId)}");
        }
    }
}
