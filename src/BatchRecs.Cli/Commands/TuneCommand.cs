using BatchRecs.Core.Errors;
using System.CommandLine;
using System.Globalization;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using BatchRecs.Engine.Tuning;
using BatchRecs.Hangfire.Distributed;

namespace BatchRecs.Cli.Commands;

internal static class TuneCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = "input directory of Parquet interaction logs", Required = true };
        var lake = new Option<string>("--lake") { Description = "lake directory (tuned settings are recorded there)", Required = true };
        var job = new Option<string?>("--job") { Description = "job file (JSON); its search_space, if any, is searched" };
        var runDate = new Option<string?>("--run-date") { Description = "run date YYYY-MM-DD (default: today in the job's time zone)" };
        var set = new Option<string[]>("--set") { Description = "setting override key=value (repeatable)" };
        var budget = new Option<int?>("--budget") { Description = "settings to try (default: tune_budget, 30)" };
        var limit = new Option<string?>("--time-limit") { Description = "stop starting new trials after this long: 90s, 10m, 1h" };
        var executor = new Option<string>("--executor") { Description = "local, or hangfire (trial fits as block tasks on `batchrecs worker` processes; needs --db)", DefaultValueFactory = _ => "local" };
        var storage = new HangfireOptions();
        var cmd = new Command("tune", "Search the ALS settings by successive halving on a temporal validation split; adopt the best if it beats the current settings.")
        { input, lake, job, runDate, set, budget, limit, executor };
        storage.AddTo(cmd);
        cmd.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            var jobDef = p.GetValue(job) is { } path ? JobDefinition.Load(path) : JobDefinition.Default;
            var date = DemoDataCommand.ParseDate(p.GetValue(runDate)) ?? RunDates.Today(jobDef.Zone);
            string lakeDir = p.GetValue(lake)!;
            var log = new RunLog(Console.Out);
            using var distributed = p.GetValue(executor) switch
            {
                "local" => null,
                "hangfire" => DistributedExecutorFactory.Connect(storage.Resolve(p), lakeDir, jobDef, p.GetValue(set) ?? [], log, ct),
                var e => throw new BadInputException($"--executor must be local or hangfire (got '{e}')."),
            };
            var result = await new TuningRun(log).ExecuteAsync(new TuneRequest(p.GetValue(input)!, lakeDir, date, jobDef,
                p.GetValue(set) ?? [], p.GetValue(budget), ParseDuration(p.GetValue(limit)), distributed?.Executor), ct);
            Console.WriteLine();
            Console.WriteLine($"tuning {result.TuningId}: {result.Metric} {result.TunedValue:F4} vs current {result.CurrentValue:F4} → {(result.Adopted ? "adopted" : "not adopted (no better than the current settings)")}");
            Console.WriteLine($"  settings  {string.Join(", ", result.Settings.Select(kv => $"{kv.Key}={kv.Value}"))}");
            Console.WriteLine($"  cost      {result.CostInFits:F1} × one full fit ({result.Trials} settings tried)");
            return 0;
        }));
        return cmd;
    }

    public static TimeSpan? ParseDuration(string? s)
    {
        if (string.IsNullOrEmpty(s)) return null;
        char unit = s[^1];
        string number = char.IsLetter(unit) ? s[..^1] : s;
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v <= 0)
            throw new BadInputException($"--time-limit '{s}' is not a duration like 90s, 10m or 1h.");
        return unit switch { 'h' => TimeSpan.FromHours(v), 'm' => TimeSpan.FromMinutes(v), _ => TimeSpan.FromSeconds(v) };
    }
}
