using BatchRecs.Engine.Pipeline;
using Spectre.Console;

namespace BatchRecs.Cli.Commands;

/// <summary>
/// How a run shows itself on the console: progress bars with rates and time left when attached to a terminal
/// (Spectre.Console), plain structured log lines otherwise (under the scheduler, in CI, piped to a file).
/// </summary>
internal static class RunProgress
{
    public static bool Interactive => !Console.IsOutputRedirected && !Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    public static async Task<T> RunAsync<T>(Func<RunLog, Task<T>> body)
    {
        if (!Interactive) return await body(new RunLog(Console.Out));
        var log = new RunLog(null);
        return await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                int iterations = 1, refitIterations = 1;
                ProgressTask Task(string stage, double max) =>
                    tasks.TryGetValue(stage, out var t) ? t : tasks[stage] = ctx.AddTask(stage, maxValue: max);
                log.Observed += (name, fields) =>
                {
                    var f = fields.ToDictionary(x => x.Key, x => x.Value);
                    switch (name)
                    {
                        case "run.settings":
                            iterations = Convert.ToInt32(f["iterations"]);
                            refitIterations = Convert.ToInt32(f["refit_iterations"]);
                            break;
                        case "run.iteration" when f["stage"] is string stage:
                            Task(stage == "fit" ? "fit (whole window)" : "fit (evaluated)", stage == "fit" ? refitIterations : iterations).Increment(1);
                            break;
                        case "run.stage_start" when f["stage"] is string stage && !stage.StartsWith("fit", StringComparison.Ordinal):
                            Task(stage, 1).IsIndeterminate = true;
                            break;
                        case "run.stage" when f["stage"] is string stage && !stage.StartsWith("fit", StringComparison.Ordinal):
                            var t = Task(stage, 1);
                            t.IsIndeterminate = false;
                            t.Value = t.MaxValue;
                            break;
                        case "executor.blocks":
                            // A distributed step that waits: its blocks done of all, and what the rest are doing.
                            var b = Task("blocks", 1);
                            b.MaxValue = Convert.ToDouble(f["total"]);
                            b.Value = Convert.ToDouble(f["done"]);
                            b.Description = $"blocks: {f["done"]} done, {f["running"]} running, {f["queued"]} queued";
                            break;
                        case "executor.no_worker" or "executor.block_requeued" when f["message"] is string message:
                            // Said once, not a bar: what the operator must know (start a worker) or what was recovered.
                            AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(message)}[/]");
                            break;
                        case "run.failed" or "run.rejected":
                            foreach (var open in tasks.Values) open.StopTask();
                            break;
                    }
                };
                return await body(log);
            });
    }
}
