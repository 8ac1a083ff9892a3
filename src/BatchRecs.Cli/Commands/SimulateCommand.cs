using System.CommandLine;
using System.Globalization;
using BatchRecs.Core.Errors;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Simulation;

namespace BatchRecs.Cli.Commands;

/// <summary><c>batchrecs simulate</c>: the closed feedback loop, baseline vs explore, night by night (<see cref="ClosedLoop"/>).</summary>
internal static class SimulateCommand
{
    public static Command Create()
    {
        var nights = new Option<int>("--nights") { Description = "nights to simulate per policy", Required = true };
        var output = new Option<string>("--out") { Description = "directory for nights.parquet, report.html and each policy's input, lake and feedback", Required = true };
        var users = new Option<int>("--users") { Description = "users of the simulated world", DefaultValueFactory = _ => 2000 };
        var items = new Option<int>("--items") { Description = "items of the simulated world", DefaultValueFactory = _ => 400 };
        var seed = new Option<int>("--seed") { Description = "seed of the world, traffic and clicks", DefaultValueFactory = _ => 1 };
        var set = new Option<string[]>("--set") { Description = "run setting for both policies key=value, or for one: explore.key=value / baseline.key=value (repeatable)" };
        var newItems = new Option<double>("--new-items") { Description = "share of the items that arrive during the nights, evenly, at random popularity ranks (0: a fixed catalogue)", DefaultValueFactory = _ => SimulationSpec.DefaultNewItems };
        var cmd = new Command("simulate", "Closed-loop simulation: nightly runs train on their own served traffic; baseline vs exploring policy.") { nights, output, users, items, seed, set, newItems };
        cmd.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            int n = p.GetValue(nights), u = p.GetValue(users), i = p.GetValue(items);
            if (n < 1 || u < 10 || i < 20) throw new BadInputException("simulate needs --nights ≥ 1, --users ≥ 10 and --items ≥ 20.");
            double arriving = p.GetValue(newItems);
            if (arriving is < 0 or >= 1 || double.IsNaN(arriving)) throw new BadInputException("simulate needs 0 ≤ --new-items < 1.");
            string outDir = Path.GetFullPath(p.GetValue(output)!);
            var results = await new ClosedLoop(new SimulationSpec(n, u, i, p.GetValue(seed), p.GetValue(set) ?? [], arriving), outDir, RunLog.Null).RunAsync(ct);
            string report = Reporting.SimulationReport.Write(outDir, results);
            Console.WriteLine("| policy | night | true_ctr | true_ctr_model | true_recall_at_n | ope_ctr [95 %] | ope_true_ctr | coverage | gini | log_gini |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
            foreach (var r in results)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {r.Policy} | {r.Night} | {r.TrueCtr:F4} | {r.TrueCtrModel:F4} | {r.TrueRecallAtN:F4} | {(r.OpeCtr is { } o ? $"{o:F4} [{r.OpeCtrLow:F4}, {r.OpeCtrHigh:F4}]" : "–")} | {(r.OpeTrueCtr is { } t ? $"{t:F4}" : "–")} | {r.Coverage:F3} | {r.Gini:F3} | {r.LogGini:F3} |"));
            foreach (var line in SimulationVerdict.Of(results).Lines()) Console.WriteLine(line);
            Console.WriteLine($"wrote {Path.Combine(outDir, "nights.parquet")} and {report}");
            return 0;
        }));
        return cmd;
    }
}
