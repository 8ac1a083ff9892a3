using BatchRecs.Core.Errors;
using System.CommandLine;
using BatchRecs.Lake.Storage;
using System.Globalization;
using BatchRecs.Core.Data;
using BatchRecs.Lake.Input;

namespace BatchRecs.Cli.Commands;

/// <summary>
/// <c>batchrecs demo-data</c>: a synthetic interaction log as Hive-partitioned Parquet. <see cref="WriteAsync"/> is
/// public for the read benchmark (bench/BatchRecs.Bench), which times the readers on the same files.
/// </summary>
public static class DemoDataCommand
{
    public static Command Create()
    {
        var outOpt = new Option<string>("--out") { Description = "output directory (Hive partitions dt=YYYY-MM-DD)", Required = true };
        var users = new Option<int>("--users") { Description = "number of users", DefaultValueFactory = _ => 5_000 };
        var items = new Option<int>("--items") { Description = "number of items", DefaultValueFactory = _ => 2_000 };
        var interactions = new Option<int>("--interactions") { Description = "number of events", DefaultValueFactory = _ => 200_000 };
        var days = new Option<int>("--days") { Description = "days of events", DefaultValueFactory = _ => 28 };
        var seed = new Option<int>("--seed") { Description = "random seed", DefaultValueFactory = _ => 42 };
        var end = new Option<string?>("--end-date") { Description = "last day of events, YYYY-MM-DD (default: yesterday, UTC)" };
        var exposures = new Option<string?>("--exposures") { Description = "also write an impression log (user_id, item_id, event_time) here, biased toward popular items" };
        var cmd = new Command("demo-data", "Write a synthetic interaction log (power-law items, users with latent tastes) as Hive-partitioned Parquet.")
        { outOpt, users, items, interactions, days, seed, end, exposures };
        cmd.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            var spec = new SyntheticSpec(p.GetValue(users), p.GetValue(items), p.GetValue(interactions), p.GetValue(days),
                (ulong)p.GetValue(seed), ParseDate(p.GetValue(end)) ?? DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1));
            var result = await WriteAsync(p.GetValue(outOpt)!, spec, ct, p.GetValue(exposures));
            Console.WriteLine($"wrote {spec.Interactions:N0} events of {spec.Users:N0} users × {spec.Items:N0} items in {result} daily partitions " +
                $"({spec.FirstDay:yyyy-MM-dd} .. {spec.EndDay:yyyy-MM-dd}) to {StagedOutput.Shown(p.GetValue(outOpt)!)}");
            return 0;
        }));
        return cmd;
    }

    public static async Task<int> WriteAsync(string outDir, SyntheticSpec spec, CancellationToken ct, string? exposureDir = null)
    {
        var log = SyntheticInteractions.Generate(spec);
        var types = log.EventTypes.Select(t => SyntheticLog.EventTypeNames[t]).ToArray();
        var cols = new InteractionColumns(log.UserIds, null, log.ItemIds, null, log.TimesMicros, types, null);
        int parts = await StagedOutput.WriteAsync(outDir, dir =>
        {
            Directory.CreateDirectory(dir);
            return InteractionWriter.WriteByDayAsync(dir, cols, ct);
        }, ct);
        if (exposureDir is not null)
        {
            var exp = SyntheticInteractions.Exposures(spec, log);
            await StagedOutput.WriteAsync(exposureDir, dir =>
            {
                Directory.CreateDirectory(dir);
                return InteractionWriter.WriteByDayAsync(dir, new InteractionColumns(exp.UserIds, null, exp.ItemIds, null, exp.TimesMicros), ct);
            }, ct);
        }
        return parts;
    }

    public static DateOnly? ParseDate(string? s) =>
        s is null ? null
        : DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d
        : throw new BadInputException($"'{s}' is not a date of the form YYYY-MM-DD.");
}
