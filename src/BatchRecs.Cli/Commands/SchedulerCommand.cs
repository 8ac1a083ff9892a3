using BatchRecs.Core.Errors;
using System.CommandLine;
using BatchRecs.Hangfire;
using BatchRecs.Reporting;
using Microsoft.Extensions.Hosting;

namespace BatchRecs.Cli.Commands;

internal static class SchedulerCommand
{
    public static Command Create(TestHooks hooks)
    {
        var storage = new HangfireOptions();
        var jobs = new Option<string>("--jobs") { Description = "folder of job files to schedule", DefaultValueFactory = _ => "jobs" };
        var workers = new Option<int>("--workers") { Description = "concurrent runs in this process", DefaultValueFactory = _ => 1 };
        var cmd = new Command("scheduler", "Run the Hangfire server that schedules every job file in --jobs (cron and time zone from the file) and runs them.") { jobs, workers };
        storage.AddTo(cmd);
        cmd.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            string dir = Path.GetFullPath(p.GetValue(jobs)!);
            if (!Directory.Exists(dir)) throw new BadInputException($"jobs folder '{dir}' does not exist.");
            using var host = SchedulerHost.Build(new SchedulerOptions(storage.Resolve(p), dir, [NightlyJobs.Queue, "default"], p.GetValue(workers), BlockTaskHooks: hooks.BlockTasks, Runs: new NightlyJobsOptions { Reporter = new HtmlRunReporter(), Faults = hooks.Faults }));
            Console.WriteLine($"scheduler: jobs from {dir}; Ctrl+C to stop");
            await host.RunAsync(ct);
            return 0;
        }));
        return cmd;
    }
}
