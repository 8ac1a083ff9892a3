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
        var queues = new Option<string[]>("--queues") { Description = "queues to take work from", DefaultValueFactory = _ => [NightlyJobs.Queue], AllowMultipleArgumentsPerToken = true };
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
