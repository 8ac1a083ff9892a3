using System.CommandLine;
using BatchRecs.Hangfire;

namespace BatchRecs.Cli.Commands;

internal static class DashboardCommand
{
    public static Command Create()
    {
        var storage = new HangfireOptions();
        var port = new Option<int>("--port") { Description = "HTTP port", DefaultValueFactory = _ => 5080 };
        var lake = new Option<string?>("--lake") { Description = "lake whose runs the BatchRecs page lists" };
        var bind = new Option<string>("--bind") { Description = "address to listen on", DefaultValueFactory = _ => "0.0.0.0" };
        var writes = new Option<bool>("--allow-writes") { Description = "let the Hangfire dashboard trigger, retry and delete jobs" };
        var cmd = new Command("dashboard", "Serve the Hangfire dashboard (/hangfire) and the BatchRecs runs page (/). Local requests only unless BATCHRECS_DASHBOARD_USER/PASSWORD or BATCHRECS_DASHBOARD_TOKEN is set.") { port, lake, bind, writes };
        storage.AddTo(cmd);
        cmd.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            var app = DashboardHost.Build(new DashboardSettings(storage.Resolve(p), p.GetValue(port), p.GetValue(lake), p.GetValue(writes), p.GetValue(bind)!));
            Console.WriteLine($"dashboard: http://localhost:{p.GetValue(port)}/ (runs) and /hangfire; Ctrl+C to stop");
            await app.StartAsync(ct);
            try { await Task.Delay(Timeout.Infinite, ct); } catch (OperationCanceledException) { }
            await app.StopAsync(CancellationToken.None);
            return 0;
        }));
        return cmd;
    }
}
