using System.CommandLine;
using BatchRecs.Hangfire;
using BatchRecs.Reporting;
using Microsoft.Extensions.Hosting;

namespace BatchRecs.Cli.Commands;

internal static class WorkerCommand
{
    public static Command Create(TestHooks hooks)
    {
        var storage = new HangfireOptions();
        // By default a worker takes every kind of BatchRecs work: a run's block tasks wait on the blocks queue, and a
        // worker that served only runs left a distributed run waiting for ever.
        var queues = new Option<string[]>("--queues") { Description = "queues to take work from (default: all: runs and blocks)",
            DefaultValueFactory = _ => [NightlyJobs.Queue, Hangfire.Distributed.BlockTasks.Queue], AllowMultipleArgumentsPerToken = true };
        var threads = new Option<int>("--threads") { Description = "jobs run at once by this process", DefaultValueFactory = _ => Environment.ProcessorCount };
        var lake = new Option<string?>("--lake") { Description = "the shared lake (for block tasks)" };
        var cmd = new Command("worker", "Run a Hangfire server that takes BatchRecs work from the queues (no schedules of its own).") { queues, threads, lake };
        storage.AddTo(cmd);
        cmd.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            using var host = SchedulerHost.Build(new SchedulerOptions(storage.Resolve(p), null, p.GetValue(queues)!, p.GetValue(threads), ServerName: "batchrecs-worker", BlockTaskHooks: hooks.BlockTasks, Runs: new NightlyJobsOptions { Reporter = new HtmlRunReporter(), Faults = hooks.Faults }));
            Console.WriteLine($"worker: queues {string.Join(",", p.GetValue(queues)!)}, {p.GetValue(threads)} thread(s); Ctrl+C to stop");
            await host.RunAsync(ct);
            return 0;
        }));
        return cmd;
    }
}
