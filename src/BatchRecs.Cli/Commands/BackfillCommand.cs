using BatchRecs.Core.Errors;
using System.CommandLine;
using BatchRecs.Hangfire;
using Hangfire;

namespace BatchRecs.Cli.Commands;

internal static class BackfillCommand
{
    public static Command Create()
    {
        var storage = new HangfireOptions();
        var job = new Option<string>("--job") { Description = "job name (jobs/NAME.json) or a job file path", Required = true };
        var jobs = new Option<string>("--jobs") { Description = "folder of job files", DefaultValueFactory = _ => "jobs" };
        var from = new Option<string>("--from") { Description = "first run date YYYY-MM-DD", Required = true };
        var to = new Option<string>("--to") { Description = "last run date YYYY-MM-DD (inclusive)", Required = true };
        var force = new Option<bool>("--force") { Description = "re-run dates that already succeeded" };
        var cmd = new Command("backfill", "Enqueue one run per date, in date order, for the scheduler's workers.") { job, jobs, from, to, force };
        storage.AddTo(cmd);
        cmd.SetAction((p, ct) => CliErrors.Guard(() =>
        {
            string name = p.GetValue(job)!;
            string file = File.Exists(name) ? Path.GetFullPath(name) : Path.GetFullPath(Path.Combine(p.GetValue(jobs)!, name + ".json"));
            if (!File.Exists(file)) throw new BadInputException($"no job '{name}': neither a file nor {file}.");
            var s = storage.Resolve(p);
            if (s.InMemory) throw new BadInputException("backfill needs the scheduler's PostgreSQL (--db): memory storage is private to one process.");
            var config = GlobalConfiguration.Configuration;
            s.Apply(config);
            var ids = Backfill.Enqueue(new BackgroundJobClient(JobStorage.Current), file,
                DemoDataCommand.ParseDate(p.GetValue(from))!.Value, DemoDataCommand.ParseDate(p.GetValue(to))!.Value, p.GetValue(force));
            Console.WriteLine($"enqueued {ids.Count} run(s) of {file}: Hangfire jobs {string.Join(", ", ids)}");
            return Task.FromResult(0);
        }));
        return cmd;
    }
}
