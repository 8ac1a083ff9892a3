using System.CommandLine;
using System.Diagnostics;
using BatchRecs.Core.Index;

namespace BatchRecs.Cli.Commands;

/// <summary><c>batchrecs bench topn</c>: exact top-N vs the IVF index on synthetic or quickly fitted ALS factors.</summary>
internal static class BenchTopNCommand
{
    public static Command Create()
    {
        var users = new Option<int>("--users") { DefaultValueFactory = _ => 100_000 };
        var items = new Option<int>("--items") { DefaultValueFactory = _ => 20_000 };
        var factors = new Option<int>("--factors") { DefaultValueFactory = _ => 64 };
        var n = new Option<int>("--n") { DefaultValueFactory = _ => 100 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 2 };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 42UL };
        var cmd = new Command("topn", "Exact top-N vs the IVF index: times, recall@N over nprobe, auto-tuned nprobe.")
        { users, items, factors, n, threads, seed };
        cmd.SetAction((p, ct) => CliErrors.Guard(() =>
        {
            int u = p.GetValue(users), i = p.GetValue(items), k = p.GetValue(factors), top = p.GetValue(n), t = p.GetValue(threads);
            var sw = Stopwatch.StartNew();
            var f = SyntheticFactors.Generate(u, i, k, p.GetValue(seed));
            Console.WriteLine($"factors: {sw.Elapsed.TotalSeconds:F2} s");
            for (int rep = 0; rep < 3; rep++)
            {
                sw.Restart();
                var r = ExactTopN.Search(f.Users, f.Items, k, new TopNQuery(top, MaxThreads: t));
                Console.WriteLine($"exact: {sw.Elapsed.TotalSeconds:F3} s ({r.TotalRows} rows)");
            }
            return Task.FromResult(0);
        }));
        return cmd;
    }
}
